package org.tfport.runtime.ops;

import java.util.concurrent.ThreadLocalRandom;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;

/**
 * Random ops on TensorFlow's Philox stream, so seeded ones give TensorFlow's numbers. Stateless ops
 * derive the generator from their seed input on every run. Stateful ops ({@code seed}/{@code seed2}
 * attributes) keep their generator in the session, reserving 256 draws per output element per run
 * as TensorFlow does, so a session's successive runs continue TensorFlow's sequence; with both
 * seeds 0 the stream is seeded at random.
 */
final class RandomOps implements OpFamily {
  /**
   * Philox calls reserved per group of a variable-sample distribution (truncated normal): 256 words
   * per element.
   */
  private static final int RESERVED_WORDS_PER_OUTPUT = 256;

  @Override
  public void register(KernelRegistry r) {
    r.reference("StatelessRandomUniform", b -> stateless(b, Dist.UNIFORM));
    r.reference("StatelessRandomNormal", b -> stateless(b, Dist.NORMAL));
    r.reference("StatelessTruncatedNormal", b -> stateless(b, Dist.TRUNCATED));
    r.reference("StatelessRandomUniformInt", b -> stateless(b, Dist.INT));
    r.reference("RandomUniform", b -> stateful(b, Dist.UNIFORM));
    r.reference("RandomStandardNormal", b -> stateful(b, Dist.NORMAL));
    r.reference("TruncatedNormal", b -> stateful(b, Dist.TRUNCATED));
    r.reference("RandomUniformInt", b -> stateful(b, Dist.INT));
  }

  private enum Dist {
    UNIFORM,
    NORMAL,
    TRUNCATED,
    INT
  }

  /** A stateful op's generator, advanced by every run. */
  private static final class Stream {
    private final Philox generator;

    Stream(long seed, long seed2) {
      if (seed == 0 && seed2 == 0) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        seed = r.nextLong();
        seed2 = r.nextLong();
      }
      generator = Philox.fromSeeds(seed, seed2);
    }

    synchronized Philox reserve(long elements) {
      Philox at = generator.copy();
      generator.skip(elements * RESERVED_WORDS_PER_OUTPUT);
      return at;
    }
  }

  private static DType outputType(BindContext b, Dist d, String attr) {
    DType t = b.typeAttr(attr);
    boolean ok =
        d == Dist.INT
            ? t == DType.INT32 || t == DType.INT64
            : t == DType.FLOAT32 || t == DType.FLOAT64;
    if (!ok) {
      throw new KernelException(
          b.op()
              + " of "
              + t.jsName()
              + " is not supported by tfport (it computes "
              + (d == Dist.INT ? "int32 and int64" : "float32 and float64")
              + ")");
    }
    return t;
  }

  private static long[] shape(Value v) {
    long[] s = Layout.vector(v, "shape");
    for (long d : s) {
      if (d < 0) {
        throw new KernelException("shape " + Layout.shape(s) + " has a negative dimension");
      }
    }
    return s;
  }

  private static Kernel stateless(BindContext b, Dist d) {
    DType t = outputType(b, d, "dtype");
    return (in, ctx) -> {
      long[] shape = shape(in[0]);
      Value seed = in[1];
      if (seed.rank() != 1 || seed.size() != 2) {
        throw new KernelException("seed must have shape [2], not " + Layout.shape(seed.shape()));
      }
      Philox g = Philox.fromStatelessSeed(seed.longAt(0), seed.longAt(1));
      return new Value[] {
        fill(g, d, t, shape, d == Dist.INT ? in[2] : null, d == Dist.INT ? in[3] : null)
      };
    };
  }

  private static Kernel stateful(BindContext b, Dist d) {
    DType t = outputType(b, d, d == Dist.INT ? "Tout" : "dtype");
    long seed = b.intAttr("seed", 0);
    long seed2 = b.intAttr("seed2", 0);
    String key = "random:" + b.node().name();
    return (in, ctx) -> {
      long[] shape = shape(in[0]);
      Stream s = stream(ctx, key, seed, seed2);
      Philox g = s.reserve(Value.elementCount(shape));
      return new Value[] {
        fill(g, d, t, shape, d == Dist.INT ? in[1] : null, d == Dist.INT ? in[2] : null)
      };
    };
  }

  private static Stream stream(RunContext ctx, String key, long seed, long seed2) {
    return ctx.sessionState(key, () -> new Stream(seed, seed2));
  }

  private static Value fill(Philox g, Dist d, DType t, long[] shape, Value minval, Value maxval) {
    int n = (int) Value.elementCount(shape);
    boolean wide = t == DType.FLOAT64 || t == DType.INT64;
    return switch (d) {
      case UNIFORM ->
          wide
              ? Value.doubles(shape, uniformDoubles(g, n))
              : Value.floats(shape, uniformFloats(g, n));
      case NORMAL ->
          wide
              ? Value.doubles(shape, normalDoubles(g, n))
              : Value.floats(shape, normalFloats(g, n));
      case TRUNCATED ->
          wide
              ? Value.doubles(shape, truncatedDoubles(g, n))
              : Value.floats(shape, truncatedFloats(g, n));
      case INT -> integers(g, t, shape, n, minval, maxval);
    };
  }

  private static float[] uniformFloats(Philox g, int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i += 4) {
      int[] w = g.next();
      for (int j = 0; j < 4 && i + j < n; j++) {
        out[i + j] = Philox.uniformFloat(w[j]);
      }
    }
    return out;
  }

  private static double[] uniformDoubles(Philox g, int n) {
    double[] out = new double[n];
    for (int i = 0; i < n; i += 2) {
      int[] w = g.next();
      out[i] = Philox.uniformDouble(w[0], w[1]);
      if (i + 1 < n) {
        out[i + 1] = Philox.uniformDouble(w[2], w[3]);
      }
    }
    return out;
  }

  private static float[] normalFloats(Philox g, int n) {
    float[] out = new float[n + 4];
    for (int i = 0; i < n; i += 4) {
      int[] w = g.next();
      Philox.boxMullerFloat(w[0], w[1], out, i);
      Philox.boxMullerFloat(w[2], w[3], out, i + 2);
    }
    return java.util.Arrays.copyOf(out, n);
  }

  private static double[] normalDoubles(Philox g, int n) {
    double[] out = new double[n + 2];
    for (int i = 0; i < n; i += 2) {
      int[] w = g.next();
      Philox.boxMullerDouble(w[0], w[1], w[2], w[3], out, i);
    }
    return java.util.Arrays.copyOf(out, n);
  }

  /**
   * Words one at a time from a generator, as TensorFlow's single-sample adapter hands them to
   * distributions that consume a variable number (rejection sampling); leftovers of a call are
   * dropped with the adapter.
   */
  private static final class Words {
    private final Philox g;
    private int[] block;
    private int used = 4;

    Words(Philox g) {
      this.g = g;
    }

    int next() {
      if (used == 4) {
        block = g.next();
        used = 0;
      }
      return block[used++];
    }
  }

  /**
   * Normals with |x| < 2 by rejection. Each group of outputs (4 floats, 2 doubles) starts its own
   * stretch of the stream, {@value #RESERVED_WORDS_PER_OUTPUT} words per output apart, so groups
   * are independent of each other.
   */
  private static float[] truncatedFloats(Philox base, int n) {
    float[] out = new float[n];
    float[] pair = new float[2];
    long groupSkip = 4L * RESERVED_WORDS_PER_OUTPUT / 4;
    for (int group = 0; group * 4 < n; group++) {
      Philox g = base.copy();
      g.skip(group * groupSkip);
      Words words = new Words(g);
      int i = group * 4;
      int end = Math.min(n, i + 4);
      int filled = 0;
      while (filled < 4) {
        Philox.boxMullerFloat(words.next(), words.next(), pair, 0);
        for (int k = 0; k < 2 && filled < 4; k++) {
          if (Math.abs(pair[k]) < 2.0f) {
            if (i + filled < end) {
              out[i + filled] = pair[k];
            }
            filled++;
          }
        }
      }
    }
    return out;
  }

  private static double[] truncatedDoubles(Philox base, int n) {
    double[] out = new double[n];
    double[] pair = new double[2];
    long groupSkip = 2L * RESERVED_WORDS_PER_OUTPUT / 4;
    for (int group = 0; group * 2 < n; group++) {
      Philox g = base.copy();
      g.skip(group * groupSkip);
      Words words = new Words(g);
      int i = group * 2;
      int end = Math.min(n, i + 2);
      int filled = 0;
      while (filled < 2) {
        Philox.boxMullerDouble(words.next(), words.next(), words.next(), words.next(), pair, 0);
        for (int k = 0; k < 2 && filled < 2; k++) {
          if (Math.abs(pair[k]) < 2.0) {
            if (i + filled < end) {
              out[i + filled] = pair[k];
            }
            filled++;
          }
        }
      }
    }
    return out;
  }

  /** lo + (word mod (hi - lo)), in unsigned arithmetic as TensorFlow computes it. */
  private static Value integers(
      Philox g, DType t, long[] shape, int n, Value minval, Value maxval) {
    if (minval.size() != 1 || maxval.size() != 1 || minval.rank() != 0 || maxval.rank() != 0) {
      throw new KernelException(
          "minval and maxval must be scalars, got " + minval + " and " + maxval);
    }
    long lo = minval.longAt(0);
    long hi = maxval.longAt(0);
    if (n > 0 && lo >= hi) {
      throw new KernelException("Need minval < maxval: " + lo + " >= " + hi);
    }
    if (t == DType.INT32) {
      int[] out = new int[n];
      long range = (hi - lo) & 0xffffffffL;
      for (int i = 0; i < n; i += 4) {
        int[] w = g.next();
        for (int j = 0; j < 4 && i + j < n; j++) {
          out[i + j] = (int) lo + (int) ((w[j] & 0xffffffffL) % range);
        }
      }
      return Value.ints(shape, out);
    }
    long[] out = new long[n];
    long range = hi - lo;
    for (int i = 0; i < n; i += 2) {
      int[] w = g.next();
      for (int j = 0; j < 2 && i + j < n; j++) {
        long bits = w[2 * j] & 0xffffffffL | (long) w[2 * j + 1] << 32;
        out[i + j] = lo + Long.remainderUnsigned(bits, range);
      }
    }
    return Value.longs(shape, out);
  }
}
