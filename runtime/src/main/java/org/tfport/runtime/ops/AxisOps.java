package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.Elements.FloatUnary;

/**
 * Ops along one axis, seen as [outer, n, inner]: ArgMax and ArgMin (first index on ties), Cumsum
 * and Cumprod (exclusive, reverse; accumulated in the element type step by step, as Eigen's scan
 * does, so float32 results equal TensorFlow's), Softmax and LogSoftmax over the last axis (the
 * maximum subtracted first; computed in double).
 */
final class AxisOps implements OpFamily {
  /** An axis split of a shape: element (o, j, i) is at {@code (o * n + j) * inner + i}. */
  record Split(int outer, int n, int inner) {
    static Split of(long[] dims, int axis) {
      int outer = 1;
      int inner = 1;
      for (int d = 0; d < axis; d++) {
        outer *= (int) dims[d];
      }
      for (int d = axis + 1; d < dims.length; d++) {
        inner *= (int) dims[d];
      }
      return new Split(outer, (int) dims[axis], inner);
    }
  }

  /** The axis given by a scalar int input, checked against the rank and made non-negative. */
  static int axis(Value v, int rank, String what) {
    if (v.size() != 1 || (v.dtype() != DType.INT32 && v.dtype() != DType.INT64)) {
      throw new KernelException(what + " must be an int32 or int64 scalar, not " + v);
    }
    long a = v.longAt(0);
    if (a < -rank || a >= rank) {
      throw new KernelException(what + " " + a + " is out of range for a tensor of rank " + rank);
    }
    return (int) (a < 0 ? a + rank : a);
  }

  @Override
  public void register(KernelRegistry r) {
    java.util.Set<DType> any = Elements.with(Elements.NUMBERS, DType.BOOL);
    for (String op : new String[] {"ArgMax", "ArgMin"}) {
      boolean max = op.equals("ArgMax");
      r.reference(
          op,
          node -> {
            DType t = Elements.type(node, "T", any);
            DType out = node.typeAttr("output_type", DType.INT64);
            if (out != DType.INT32 && out != DType.INT64) {
              throw new KernelException("output_type must be int32 or int64, not " + out.jsName());
            }
            return (in, ctx) -> {
              Elements.check(in[0], t, "input");
              long[] dims = in[0].shape();
              int axis = axis(in[1], dims.length, "dimension");
              if (dims[axis] == 0) {
                throw new KernelException(
                    "Reduction axis "
                        + axis
                        + " is empty in shape "
                        + java.util.Arrays.toString(dims));
              }
              long[] shape = new long[dims.length - 1];
              for (int d = 0, k = 0; d < dims.length; d++) {
                if (d != axis) {
                  shape[k++] = dims[d];
                }
              }
              long[] idx = argExtremum(in[0], Split.of(dims, axis), max);
              if (out == DType.INT64) {
                return new Value[] {Value.of(out, shape, idx)};
              }
              int[] i32 = new int[idx.length];
              for (int i = 0; i < idx.length; i++) {
                i32[i] = (int) idx[i];
              }
              return new Value[] {Value.of(out, shape, i32)};
            };
          });
    }
    for (String op : new String[] {"Cumsum", "Cumprod"}) {
      boolean sum = op.equals("Cumsum");
      r.reference(
          op,
          node -> {
            DType t = Elements.type(node, "T", Elements.NUMBERS);
            boolean exclusive = node.boolAttr("exclusive", false);
            boolean reverse = node.boolAttr("reverse", false);
            return (in, ctx) -> {
              Elements.check(in[0], t, "x");
              long[] dims = in[0].shape();
              int axis = axis(in[1], Math.max(dims.length, 1), "axis");
              Split s = dims.length == 0 ? new Split(1, 1, 1) : Split.of(dims, axis);
              return new Value[] {
                Elements.ofLanes(
                    t, dims, scan(t, Elements.lanes(in[0]), s, sum, exclusive, reverse))
              };
            };
          });
    }
    for (String op : new String[] {"Softmax", "LogSoftmax"}) {
      boolean log = op.equals("LogSoftmax");
      r.reference(
          op,
          node -> {
            DType t = Elements.type(node, "T", Elements.FLOATS);
            return (in, ctx) -> {
              Elements.check(in[0], t, "logits");
              long[] dims = in[0].shape();
              if (dims.length == 0) {
                throw new KernelException("logits must have >= 1 dimension, got " + in[0]);
              }
              Split s = Split.of(dims, dims.length - 1);
              if (t == DType.FLOAT64) {
                double[] x = in[0].doubles();
                double[] y = new double[x.length];
                softmax(x, y, s.outer(), s.n(), log);
                return new Value[] {Value.of(t, dims, y)};
              }
              float[] x = Elements.floats(in[0]);
              double[] wide = new double[x.length];
              for (int i = 0; i < x.length; i++) {
                wide[i] = x[i];
              }
              double[] y = new double[x.length];
              softmax(wide, y, s.outer(), s.n(), log);
              float[] f = new float[x.length];
              for (int i = 0; i < x.length; i++) {
                f[i] = (float) y[i];
              }
              return new Value[] {Elements.ofFloats(t, dims, f)};
            };
          });
    }
  }

  /**
   * Index of the first maximum (minimum) along the split's axis; NaN counts as the extremum, as in
   * Eigen.
   */
  private static long[] argExtremum(Value v, Split s, boolean max) {
    long[] out = new long[s.outer() * s.inner()];
    int size = v.size();
    // Every real type is exact in double and every integer type in long, so one loop of each serves
    // all.
    boolean real = v.dtype().isFloating();
    double[] d = real ? new double[size] : null;
    long[] l = real ? null : new long[size];
    for (int i = 0; i < size; i++) {
      if (real) {
        d[i] = v.doubleAt(i);
      } else {
        l[i] = v.longAt(i);
      }
    }
    for (int o = 0; o < s.outer(); o++) {
      for (int i = 0; i < s.inner(); i++) {
        int base = o * s.n() * s.inner() + i;
        int best = 0;
        if (real) {
          double m = d[base];
          for (int j = 1, at = base + s.inner(); j < s.n() && m == m; j++, at += s.inner()) {
            if (d[at] != d[at] || (max ? d[at] > m : d[at] < m)) {
              m = d[at];
              best = j;
            }
          }
        } else {
          long m = l[base];
          for (int j = 1, at = base + s.inner(); j < s.n(); j++, at += s.inner()) {
            if (max ? l[at] > m : l[at] < m) {
              m = l[at];
              best = j;
            }
          }
        }
        out[o * s.inner() + i] = best;
      }
    }
    return out;
  }

  /**
   * A running sum or product along the axis, in lane arithmetic rounded to the element type at
   * every step.
   */
  private static Object scan(
      DType t, Object x, Split s, boolean sum, boolean exclusive, boolean reverse) {
    int n = s.n();
    int inner = s.inner();
    int step = reverse ? -inner : inner;
    FloatUnary round = Elements.rounding(t);
    Object out =
        switch (Elements.lane(t)) {
          case FLOAT -> new float[((float[]) x).length];
          case DOUBLE -> new double[((double[]) x).length];
          case INT -> new int[((int[]) x).length];
          case LONG -> new long[((long[]) x).length];
        };
    for (int o = 0; o < s.outer(); o++) {
      for (int i = 0; i < inner; i++) {
        int first = o * n * inner + i + (reverse ? (n - 1) * inner : 0);
        switch (out) {
          case float[] y -> {
            float[] a = (float[]) x;
            float acc = sum ? 0 : 1;
            for (int j = 0, at = first; j < n; j++, at += step) {
              float next = round.apply(sum ? acc + a[at] : acc * a[at]);
              y[at] = exclusive ? acc : next;
              acc = next;
            }
          }
          case double[] y -> {
            double[] a = (double[]) x;
            double acc = sum ? 0 : 1;
            for (int j = 0, at = first; j < n; j++, at += step) {
              double next = sum ? acc + a[at] : acc * a[at];
              y[at] = exclusive ? acc : next;
              acc = next;
            }
          }
          case int[] y -> {
            int[] a = (int[]) x;
            int acc = sum ? 0 : 1;
            for (int j = 0, at = first; j < n; j++, at += step) {
              int next = sum ? acc + a[at] : acc * a[at];
              y[at] = exclusive ? acc : next;
              acc = next;
            }
          }
          case long[] y -> {
            long[] a = (long[]) x;
            long acc = sum ? 0 : 1;
            for (int j = 0, at = first; j < n; j++, at += step) {
              long next = sum ? acc + a[at] : acc * a[at];
              y[at] = exclusive ? acc : next;
              acc = next;
            }
          }
          default -> throw new AssertionError();
        }
      }
    }
    return out;
  }

  /** Softmax (or log-softmax) of each of {@code rows} consecutive runs of {@code n} elements. */
  private static void softmax(double[] x, double[] y, int rows, int n, boolean log) {
    for (int r = 0; r < rows; r++) {
      int base = r * n;
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < n; j++) {
        max = Math.max(max, x[base + j]);
      }
      double sum = 0;
      for (int j = 0; j < n; j++) {
        sum += Math.exp(x[base + j] - max);
      }
      for (int j = 0; j < n; j++) {
        double shifted = x[base + j] - max;
        y[base + j] = log ? shifted - Math.log(sum) : Math.exp(shifted) / sum;
      }
    }
  }
}
