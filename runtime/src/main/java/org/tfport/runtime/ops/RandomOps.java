package org.tfport.runtime.ops;

import java.util.concurrent.ThreadLocalRandom;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Memory;
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
    r.reference("Multinomial", RandomOps::multinomial);
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
      Memory.reserve(t, shape);
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

  /**
   * Multinomial: per row, the unnormalized CDF of exp(logit − max) in double over the finite
   * logits, and each sample the first class whose CDF exceeds a uniform double times the total. The
   * session stream reserves 256 calls per sample rounded up to 4 per row, and rows draw one after
   * another from it, as TensorFlow's kernel does when it runs in one shard (TensorFlow splits large
   * batches over threads, each shard skipping ahead to its first row, so large batches give other,
   * equally distributed, samples there).
   */
  private static Kernel multinomial(BindContext b) {
    DType out = b.typeAttr("output_dtype", DType.INT64);
    if (out != DType.INT64 && out != DType.INT32) {
      throw new KernelException("output_dtype " + out.jsName() + " is not int32 or int64");
    }
    long seed = b.intAttr("seed", 0);
    long seed2 = b.intAttr("seed2", 0);
    String key = "random:" + b.node().name();
    return (in, ctx) -> {
      Value logits = in[0];
      if ((logits.dtype() != DType.FLOAT32 && logits.dtype() != DType.FLOAT64)
          || logits.rank() != 2) {
        throw new KernelException("logits must be a float32 or float64 matrix, got " + logits);
      }
      long samples = Layout.scalar(in[1], "num_samples");
      if (samples < 0) {
        throw new KernelException("num_samples should be nonnegative, got " + samples);
      }
      int rows = (int) logits.dim(0);
      int classes = (int) logits.dim(1);
      if (classes <= 0) {
        throw new KernelException("num_classes should be positive, got " + classes);
      }
      long total = Math.multiplyExact((long) rows, samples);
      if (total > Integer.MAX_VALUE - 8) {
        throw new KernelException("Multinomial of " + total + " samples is too large");
      }
      int ns = (int) samples;
      Stream s = stream(ctx, key, seed, seed2);
      Words words = new Words(s.reserve((long) rows * ((samples + 3) / 4 * 4)));
      long[] drawn = new long[(int) total];
      double[] cdf = new double[classes];
      for (int r = 0; r < rows; r++) {
        double max = logits.dtype() == DType.FLOAT32 ? -Float.MAX_VALUE : -Double.MAX_VALUE;
        for (int j = 0; j < classes; j++) {
          double v = logits.doubleAt(r * classes + j);
          if (Double.isFinite(v)) {
            max = Math.max(max, v);
          }
        }
        double running = 0;
        for (int j = 0; j < classes; j++) {
          double v = logits.doubleAt(r * classes + j);
          if (Double.isFinite(v)) {
            running += Math.exp(v - max);
          }
          cdf[j] = running;
        }
        for (int k = 0; k < ns; k++) {
          double find = Philox.uniformDouble(words.next(), words.next()) * running;
          int lo = 0;
          int hi = classes;
          while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cdf[mid] > find) {
              hi = mid;
            } else {
              lo = mid + 1;
            }
          }
          drawn[r * ns + k] = lo;
        }
      }
      long[] shape = {rows, ns};
      return new Value[] {
        out == DType.INT64
            ? Value.longs(shape, drawn)
            : Value.ints(shape, java.util.Arrays.stream(drawn).mapToInt(v -> (int) v).toArray())
      };
    };
  }
}
