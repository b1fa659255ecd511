package org.tfport.runtime.ops;

/**
 * TensorFlow's random stream: the Philox4x32-10 counter-based generator (Salmon et al., "Parallel
 * random numbers: as easy as 1, 2, 3"), a 128-bit counter and a 64-bit key, each call giving four
 * 32-bit words and advancing the counter by one. TensorFlow's seeding and its conversions of words
 * to floats are reproduced here, since the same seed must give the same numbers as TensorFlow.
 */
final class Philox {
  private static final int W32A = 0x9E3779B9;
  private static final int W32B = 0xBB67AE85;
  private static final long M4X32A = 0xD2511F53L;
  private static final long M4X32B = 0xCD9E8D57L;

  private final int[] counter = new int[4];
  private final int[] key = new int[2];

  Philox(int[] counter, int[] key) {
    System.arraycopy(counter, 0, this.counter, 0, 4);
    System.arraycopy(key, 0, this.key, 0, 2);
  }

  /**
   * Stateful ops' seeding from the {@code seed} and {@code seed2} attributes: key from seed,
   * counter high from seed2.
   */
  static Philox fromSeeds(long seed, long seed2) {
    return new Philox(
        new int[] {0, 0, (int) seed2, (int) (seed2 >>> 32)},
        new int[] {(int) seed, (int) (seed >>> 32)});
  }

  /**
   * Stateless ops' seeding from their two-element seed: one Philox call on the seed as counter
   * under a fixed key gives the key (its first two words) and the counter's high half (the other
   * two); the low half starts at zero.
   */
  static Philox fromStatelessSeed(long seed0, long seed1) {
    Philox mix =
        new Philox(
            new int[] {(int) seed0, (int) (seed0 >>> 32), (int) seed1, (int) (seed1 >>> 32)},
            new int[] {0x3ec8f720, 0x02461e29});
    int[] words = mix.next();
    return new Philox(new int[] {0, 0, words[2], words[3]}, new int[] {words[0], words[1]});
  }

  Philox copy() {
    return new Philox(counter, key);
  }

  /** Advances the counter by {@code count} calls (a 128-bit add). */
  void skip(long count) {
    long lo = (counter[0] & 0xffffffffL) + (count & 0xffffffffL);
    counter[0] = (int) lo;
    long mid = (counter[1] & 0xffffffffL) + (count >>> 32) + (lo >>> 32);
    counter[1] = (int) mid;
    if (mid >>> 32 != 0) {
      if (++counter[2] == 0) {
        ++counter[3];
      }
    }
  }

  /** The next four words. */
  int[] next() {
    int c0 = counter[0];
    int c1 = counter[1];
    int c2 = counter[2];
    int c3 = counter[3];
    int k0 = key[0];
    int k1 = key[1];
    for (int round = 0; round < 10; round++) {
      long p0 = M4X32A * (c0 & 0xffffffffL);
      long p1 = M4X32B * (c2 & 0xffffffffL);
      int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
      int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
      c1 = (int) p1;
      c3 = (int) p0;
      c0 = n0;
      c2 = n2;
      k0 += W32A;
      k1 += W32B;
    }
    skip(1);
    return new int[] {c0, c1, c2, c3};
  }

  /** A word in [1, 2) as float mantissa bits, minus one: uniform in [0, 1). */
  static float uniformFloat(int x) {
    return Float.intBitsToFloat(x & 0x7fffff | 0x3f800000) - 1.0f;
  }

  /** Two words as double mantissa bits (20 from the first, 32 from the second), minus one. */
  static double uniformDouble(int x0, int x1) {
    long mantissa = (long) (x0 & 0xfffff) << 32 | x1 & 0xffffffffL;
    return Double.longBitsToDouble(0x3ff0000000000000L | mantissa) - 1.0;
  }

  /**
   * Box-Muller on two words into two standard normal floats, written at {@code out[at]} and {@code
   * out[at + 1]}.
   */
  static void boxMullerFloat(int x0, int x1, float[] out, int at) {
    float u1 = uniformFloat(x0);
    if (u1 < 1.0e-7f) {
      u1 = 1.0e-7f;
    }
    float v1 = (float) (2.0 * Math.PI * uniformFloat(x1));
    float u2 = (float) Math.sqrt(-2.0f * (float) Math.log(u1));
    out[at] = (float) Math.sin(v1) * u2;
    out[at + 1] = (float) Math.cos(v1) * u2;
  }

  /** Box-Muller on four words into two standard normal doubles. */
  static void boxMullerDouble(int x0, int x1, int x2, int x3, double[] out, int at) {
    double u1 = uniformDouble(x0, x1);
    if (u1 < 1.0e-7) {
      u1 = 1.0e-7;
    }
    double v1 = 2.0 * Math.PI * uniformDouble(x2, x3);
    double u2 = Math.sqrt(-2.0 * Math.log(u1));
    out[at] = Math.sin(v1) * u2;
    out[at + 1] = Math.cos(v1) * u2;
  }
}
