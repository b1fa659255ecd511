package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The micro-kernels' requantization of int32 accumulators to 8-bit codes gives TFLite's bytes: the
 * integer form everywhere, the float form wherever it trusts itself.
 */
class RequantizerTest {
  /**
   * The micro-kernels' requantization against {@link Requantizer#row} (TFLite's arithmetic) on
   * accumulators over the whole int range and next to the rounding points (exact halves of both
   * signs), multipliers with left and right shifts up to 31, rows whose width is not a multiple of
   * the vector.
   */
  @Test
  void requantizationMatchesTfliteRoundingOnEveryRange() {
    Random r = new Random(17);
    IntMicrokernel mk = IntMicrokernel.chosen();
    for (int trial = 0; trial < 300; trial++) {
      int n = 1 + r.nextInt(70);
      FixedPoint.Multiplier[] m = new FixedPoint.Multiplier[n];
      for (int c = 0; c < n; c++) {
        m[c] = FixedPoint.Multiplier.of(Math.scalb(0.5 + r.nextDouble() / 2, r.nextInt(36) - 32));
      }
      int[] range = range(r);
      int zp = range[2];
      Requantizer rq = Requantizer.of(m, zp, new int[] {range[0], range[1]});
      int rows = 1 + r.nextInt(4);
      int stride = n + r.nextInt(20);
      int[] acc = new int[rows * stride + IntMicrokernel.SLACK];
      int[] bias = Requantizer.bias(null, n);
      for (int i = 0; i < rows * n; i++) {
        int c = i % n;
        int e = Math.max(-m[c].shift(), 0);
        acc[i / n * stride + c] =
            switch (r.nextInt(3)) {
              case 0 -> r.nextInt();
              case 1 -> r.nextInt(1 << (1 + r.nextInt(24))) - (1 << 12);
              // A value whose product lands on a rounding half, give or take one.
              default -> {
                long target = ((long) (r.nextInt(2001) - 1000) << Math.min(e + 31, 62)) / 2;
                yield (int)
                    Math.max(
                        Integer.MIN_VALUE,
                        Math.min(
                            Integer.MAX_VALUE,
                            target / Math.max(1, m[c].significand()) + r.nextInt(3) - 1));
              }
            };
      }
      // Bytes around the rows must keep their values.
      byte[] expected = new byte[rows * n + 40];
      r.nextBytes(expected);
      byte[] actual = expected.clone();
      byte[] single = expected.clone();
      for (int i = 0; i < rows; i++) {
        rq.row(acc, i * stride, bias, expected, 1 + i * n);
        mk.requantize(rq, acc, i * stride, bias, single, 1 + i * n);
      }
      mk.requantizeRows(rq, rows, acc, 0, stride, bias, actual, 1);
      String what = "trial " + trial + " channels " + n + " rows " + rows;
      assertThat(single).as(what + " one row a call").containsExactly(expected);
      assertThat(actual).as(what).containsExactly(expected);
    }
  }

  /**
   * An 8-bit output's clamp and zero point: the whole int8 or uint8 range, or a random sub-range
   * (fused activations), as {lo, hi, zero point}.
   */
  private static int[] range(Random r) {
    int min = r.nextBoolean() ? -128 : 0;
    int zp = min + r.nextInt(256);
    if (r.nextBoolean()) {
      return new int[] {min, min + 255, zp};
    }
    int lo = min + r.nextInt(256);
    int hi = lo + r.nextInt(min + 256 - lo);
    return new int[] {lo, hi, zp};
  }

  /**
   * The float form of the requantization ({@link Requantizer.FloatForm}) lane by lane: every lane
   * it does not flag is TFLite's byte, over accumulators near the rounding points, small and over
   * the whole int range; and it flags few lanes (so the vector path is the float one), here under 1
   * % of accumulators of the size real layers have.
   */
  @Test
  void floatRequantizationIsTflitesWhereverItIsTrusted() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        IntMicrokernel.chosen() instanceof VectorIntMicrokernel, "needs the Vector API");
    Random r = new Random(23);
    long trusted = 0;
    long typicalFlagged = 0;
    long typical = 0;
    for (int trial = 0; trial < 2000; trial++) {
      int n = 1 + r.nextInt(40);
      FixedPoint.Multiplier[] m = new FixedPoint.Multiplier[n];
      for (int c = 0; c < n; c++) {
        m[c] = FixedPoint.Multiplier.of(Math.scalb(0.5 + r.nextDouble() / 2, r.nextInt(36) - 32));
      }
      int[] range = range(r);
      Requantizer rq = Requantizer.of(m, range[2], new int[] {range[0], range[1]});
      assertThat(rq.floatForm()).as("8-bit ranges have the float form").isNotNull();
      int kind = r.nextInt(3);
      int[] acc = new int[n + IntMicrokernel.SLACK];
      for (int c = 0; c < n; c++) {
        long q = Math.max(1, m[c].significand());
        int e = Math.max(-m[c].shift(), 0);
        int left = Math.max(m[c].shift(), 0);
        acc[c] =
            switch (kind) {
              case 0 -> r.nextInt();
              // Accumulators as a layer's: the real value within a few times the output range.
              case 1 ->
                  (int)
                      Math.max(
                          Integer.MIN_VALUE,
                          Math.min(
                              Integer.MAX_VALUE,
                              Math.scalb((r.nextDouble() - 0.5) * 600, 31 + e - left) / q));
              // Next to a rounding point: x + 1/2 ± 2^-(e+1) an integer, give or take a unit.
              default -> {
                long target = ((long) (r.nextInt(601) - 300) << Math.min(e + 31, 62)) / 2;
                yield (int)
                    Math.max(
                        Integer.MIN_VALUE,
                        Math.min(Integer.MAX_VALUE, (target >> left) / q + r.nextInt(3) - 1));
              }
            };
      }
      int[] bias = Requantizer.bias(null, n);
      byte[] expected = new byte[n];
      rq.row(acc, 0, bias, expected, 0);
      byte[] actual = new byte[n + IntMicrokernel.SLACK];
      for (int ch = 0; ch < n; ch += IntMicrokernel.chosen().lanes()) {
        long flagged =
            VectorIntMicrokernel.floatForm(
                rq, rq.floatForm(), acc, 0, bias, ch, actual, 0, n, actual.length);
        for (int c = ch; c < Math.min(n, ch + IntMicrokernel.chosen().lanes()); c++) {
          boolean isFlagged = (flagged >>> (c - ch) & 1) != 0;
          if (kind == 1) {
            typical++;
            typicalFlagged += isFlagged ? 1 : 0;
          }
          if (!isFlagged) {
            trusted++;
            assertThat(actual[c])
                .as("trial %d channel %d acc %d multiplier %s", trial, c, acc[c], m[c])
                .isEqualTo(expected[c]);
          }
        }
      }
    }
    assertThat(trusted).isGreaterThan(20_000);
    assertThat(typicalFlagged).as("flagged of %d typical", typical).isLessThan(typical / 100);
  }
}
