package org.tfport.runtime.ops;

import java.util.Set;
import java.util.function.Function;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Reductions over a set of axes (the second input, a scalar or vector, negative axes counted from
 * the end, none meaning none): Sum, Mean, Prod, Max, Min, EuclideanNorm, All, Any. An empty
 * reduction gives the identity (0, 1, the type's lowest or highest value, NaN for a float mean, 0
 * for an integer one). Integer reductions wrap in the element type (except Mean of 8- to 32-bit
 * integers, which TensorFlow computes in 64 bits) and equal TensorFlow's exactly; float32 and half
 * sums and products accumulate in double and round once, since Eigen's summation order (tree-shaped
 * and vectorized) cannot be reproduced and this is at least as accurate. Maxima and minima
 * propagate NaN.
 */
final class ReductionOps implements OpFamily {
  @FunctionalInterface
  interface FloatReduce {
    float apply(float[] x, int base, int[] offsets);
  }

  @FunctionalInterface
  interface DoubleReduce {
    double apply(double[] x, int base, int[] offsets);
  }

  @FunctionalInterface
  interface IntReduce {
    int apply(int[] x, int base, int[] offsets);
  }

  @FunctionalInterface
  interface LongReduce {
    long apply(long[] x, int base, int[] offsets);
  }

  /** One reduction's loop per lane, for one element type. */
  record Reducer(FloatReduce f, DoubleReduce d, IntReduce i, LongReduce l) {}

  @Override
  public void register(KernelRegistry r) {
    op(
        r,
        "Sum",
        Elements.NUMBERS,
        t ->
            new Reducer(
                (x, b, off) -> (float) sum(x, b, off),
                ReductionOps::sum,
                (x, b, off) -> {
                  int s = 0;
                  for (int o : off) {
                    s += x[b + o];
                  }
                  return s;
                },
                (x, b, off) -> {
                  long s = 0;
                  for (int o : off) {
                    s += x[b + o];
                  }
                  return s;
                }));
    op(
        r,
        "Mean",
        Elements.NUMBERS,
        t ->
            new Reducer(
                (x, b, off) -> (float) (sum(x, b, off) / off.length),
                (x, b, off) -> sum(x, b, off) / off.length,
                (x, b, off) -> {
                  // TensorFlow averages 8- to 32-bit integers in 64 bits (no wrap) and int64 in 64
                  // bits (wrapping),
                  // dividing as integers; an empty mean is 0.
                  long s = 0;
                  for (int o : off) {
                    s += x[b + o];
                  }
                  return off.length == 0 ? 0 : (int) (s / off.length);
                },
                (x, b, off) -> {
                  long s = 0;
                  for (int o : off) {
                    s += x[b + o];
                  }
                  return off.length == 0 ? 0 : s / off.length;
                }));
    op(
        r,
        "Prod",
        Elements.NUMBERS,
        t ->
            new Reducer(
                (x, b, off) -> {
                  double p = 1;
                  for (int o : off) {
                    p *= x[b + o];
                  }
                  return (float) p;
                },
                (x, b, off) -> {
                  double p = 1;
                  for (int o : off) {
                    p *= x[b + o];
                  }
                  return p;
                },
                (x, b, off) -> {
                  int p = 1;
                  for (int o : off) {
                    p *= x[b + o];
                  }
                  return p;
                },
                (x, b, off) -> {
                  long p = 1;
                  for (int o : off) {
                    p *= x[b + o];
                  }
                  return p;
                }));
    op(r, "Max", Elements.NUMBERS, t -> extremum(t, true));
    op(r, "Min", Elements.NUMBERS, t -> extremum(t, false));
    op(
        r,
        "EuclideanNorm",
        Elements.NUMBERS,
        t ->
            new Reducer(
                (x, b, off) -> {
                  double s = 0;
                  for (int o : off) {
                    s += (double) x[b + o] * x[b + o];
                  }
                  return (float) Math.sqrt(s);
                },
                (x, b, off) -> {
                  double s = 0;
                  for (int o : off) {
                    s += x[b + o] * x[b + o];
                  }
                  return Math.sqrt(s);
                },
                (x, b, off) -> {
                  // Squares and their sum wrap in the element type, then the root truncates, as
                  // TensorFlow's integer kernel.
                  int s = 0;
                  for (int o : off) {
                    s += Elements.narrow(t, x[b + o] * x[b + o]);
                  }
                  // The root of a wrapped negative sum is NaN, which x86 converts to the lowest
                  // int32.
                  double root = Math.sqrt(Elements.narrow(t, s));
                  return root == root ? (int) root : Integer.MIN_VALUE;
                },
                (x, b, off) -> {
                  long s = 0;
                  for (int o : off) {
                    s += x[b + o] * x[b + o];
                  }
                  double root = Math.sqrt(s);
                  return root == root ? (long) root : Long.MIN_VALUE;
                }));
    Set<DType> bool = Set.of(DType.BOOL);
    op(
        r,
        "All",
        bool,
        t ->
            new Reducer(
                null,
                null,
                (x, b, off) -> {
                  for (int o : off) {
                    if (x[b + o] == 0) {
                      return 0;
                    }
                  }
                  return 1;
                },
                null));
    op(
        r,
        "Any",
        bool,
        t ->
            new Reducer(
                null,
                null,
                (x, b, off) -> {
                  for (int o : off) {
                    if (x[b + o] != 0) {
                      return 1;
                    }
                  }
                  return 0;
                },
                null));
  }

  private static double sum(float[] x, int b, int[] off) {
    double s = 0;
    for (int o : off) {
      s += x[b + o];
    }
    return s;
  }

  private static double sum(double[] x, int b, int[] off) {
    double s = 0;
    for (int o : off) {
      s += x[b + o];
    }
    return s;
  }

  private static Reducer extremum(DType t, boolean max) {
    int intIdentity = max ? Elements.intMin(t) : Elements.intMax(t);
    return new Reducer(
        (x, b, off) -> {
          float m = max ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
          for (int o : off) {
            float v = x[b + o];
            if (v != v) {
              return v;
            }
            m = max ? (v > m ? v : m) : (v < m ? v : m);
          }
          return m;
        },
        (x, b, off) -> {
          double m = max ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
          for (int o : off) {
            double v = x[b + o];
            if (v != v) {
              return v;
            }
            m = max ? (v > m ? v : m) : (v < m ? v : m);
          }
          return m;
        },
        (x, b, off) -> {
          int m = intIdentity;
          for (int o : off) {
            m = max ? Math.max(m, x[b + o]) : Math.min(m, x[b + o]);
          }
          return m;
        },
        (x, b, off) -> {
          long m = max ? Long.MIN_VALUE : Long.MAX_VALUE;
          for (int o : off) {
            m = max ? Math.max(m, x[b + o]) : Math.min(m, x[b + o]);
          }
          return m;
        });
  }

  private static void op(
      KernelRegistry r, String name, Set<DType> types, Function<DType, Reducer> reducers) {
    r.reference(
        name,
        node -> {
          DType t = Elements.type(node, "T", types);
          boolean keep = node.boolAttr("keep_dims", false);
          Reducer red = reducers.apply(t);
          return (in, ctx) -> {
            Elements.check(in[0], t, "input");
            Plan p = Plan.of(in[0].shape(), axes(in[1]), keep);
            Object x = Elements.lanes(in[0]);
            int m = p.bases.length;
            Object out =
                switch (Elements.lane(t)) {
                  case FLOAT -> {
                    float[] y = new float[m];
                    for (int i = 0; i < m; i++) {
                      y[i] = red.f().apply((float[]) x, p.bases[i], p.offsets);
                    }
                    yield y;
                  }
                  case DOUBLE -> {
                    double[] y = new double[m];
                    for (int i = 0; i < m; i++) {
                      y[i] = red.d().apply((double[]) x, p.bases[i], p.offsets);
                    }
                    yield y;
                  }
                  case INT -> {
                    int[] y = new int[m];
                    for (int i = 0; i < m; i++) {
                      y[i] = red.i().apply((int[]) x, p.bases[i], p.offsets);
                    }
                    yield y;
                  }
                  case LONG -> {
                    long[] y = new long[m];
                    for (int i = 0; i < m; i++) {
                      y[i] = red.l().apply((long[]) x, p.bases[i], p.offsets);
                    }
                    yield y;
                  }
                };
            return new Value[] {Elements.ofLanes(t, p.shape, out)};
          };
        });
  }

  static long[] axes(Value v) {
    if (v.dtype() != DType.INT32 && v.dtype() != DType.INT64) {
      throw new KernelException("reduction indices must be int32 or int64, not " + v);
    }
    if (v.rank() > 1) {
      throw new KernelException("reduction indices must be a scalar or a vector, not " + v);
    }
    return v.toLongArray();
  }

  /**
   * Where each output element's inputs are: input element {@code bases[m] + offsets[r]} is the r-th
   * (in C order) of those reduced into output element m.
   */
  record Plan(long[] shape, int[] bases, int[] offsets) {
    static Plan of(long[] dims, long[] axes, boolean keep) {
      int rank = dims.length;
      boolean[] reduced = new boolean[rank];
      for (long a : axes) {
        if (a < -rank || a >= rank) {
          throw new KernelException(
              "Invalid reduction dimension (" + a + " for input with " + rank + " dimension(s)");
        }
        reduced[(int) (a < 0 ? a + rank : a)] = true;
      }
      int[] strides = new int[rank];
      int acc = 1;
      for (int d = rank - 1; d >= 0; d--) {
        strides[d] = acc;
        acc = Math.multiplyExact(acc, (int) dims[d]);
      }
      int kept = 0;
      for (int d = 0; d < rank; d++) {
        kept += reduced[d] && !keep ? 0 : 1;
      }
      long[] shape = new long[kept];
      for (int d = 0, k = 0; d < rank; d++) {
        if (!reduced[d]) {
          shape[k++] = dims[d];
        } else if (keep) {
          shape[k++] = 1;
        }
      }
      return new Plan(
          shape, offsets(dims, strides, reduced, false), offsets(dims, strides, reduced, true));
    }

    /** The offsets of every index over the dimensions {@code reduced[d] == which}, in C order. */
    private static int[] offsets(long[] dims, int[] strides, boolean[] reduced, boolean which) {
      int n = 1;
      for (int d = 0; d < dims.length; d++) {
        n *= reduced[d] == which ? (int) dims[d] : 1;
      }
      int[] out = new int[n];
      int[] idx = new int[dims.length];
      int at = 0;
      for (int i = 0; i < n; i++) {
        out[i] = at;
        for (int d = dims.length - 1; d >= 0; d--) {
          if (reduced[d] != which) {
            continue;
          }
          at += strides[d];
          if (++idx[d] < dims[d]) {
            break;
          }
          at -= strides[d] * (int) dims[d];
          idx[d] = 0;
        }
      }
      return out;
    }
  }
}
