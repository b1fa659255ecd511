package org.tfport.runtime.ops;

import java.util.Arrays;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Three-operand elementwise ops: {@code Select} (TensorFlow 1: a condition of the branches' shape,
 * a scalar, or a vector over their first dimension), {@code SelectV2} (three-way broadcasting) and
 * {@code ClipByValue} (bounds that are scalars or of the input's shape).
 */
final class SelectOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    Set<DType> any = Elements.with(Elements.NUMBERS, DType.BOOL);
    r.reference(
        "SelectV2",
        node -> {
          DType t = Elements.type(node, "T", any);
          return (in, ctx) -> new Value[] {select(t, in[0], in[1], in[2])};
        });
    r.reference(
        "Select",
        node -> {
          DType t = Elements.type(node, "T", any);
          return (in, ctx) -> {
            Value c = in[0];
            long[] s = in[1].shape();
            if (!Arrays.equals(s, in[2].shape())) {
              throw new KernelException(
                  "'then' and 'else' must have the same size. but received: "
                      + in[1]
                      + " vs. "
                      + in[2]);
            }
            if (c.rank() == 1 && s.length > 1 && c.dim(0) == s[0]) {
              // A vector picks whole rows: broadcast it as [n, 1, 1, ...].
              long[] rows = new long[s.length];
              Arrays.fill(rows, 1);
              rows[0] = s[0];
              c = c.reshaped(rows);
            } else if (c.rank() != 0 && !Arrays.equals(c.shape(), s)) {
              throw new KernelException(
                  "'condition' "
                      + c
                      + " must be a scalar, a vector of the first dimension, or "
                      + "of the shape of 'then' "
                      + in[1]);
            }
            return new Value[] {select(t, c, in[1], in[2])};
          };
        });
    r.reference(
        "ClipByValue",
        node -> {
          DType t = Elements.type(node, "T", Elements.NUMBERS);
          return (in, ctx) -> {
            for (int i = 1; i < 3; i++) {
              if (in[i].rank() != 0 && !Arrays.equals(in[i].shape(), in[0].shape())) {
                throw new KernelException(
                    "clip_value_"
                        + (i == 1 ? "min " : "max ")
                        + in[i]
                        + " must be a scalar or have the shape of t "
                        + in[0]);
              }
            }
            return new Value[] {clip(t, in[0], in[1], in[2])};
          };
        });
  }

  private static Value select(DType t, Value cond, Value a, Value b) {
    Elements.check(cond, DType.BOOL, "condition");
    Elements.check(a, t, "then");
    Elements.check(b, t, "else");
    Broadcast p = Broadcast.of(cond.shape(), a.shape(), b.shape());
    byte[] c = cond.bytes();
    int sc = p.step(0);
    int sa = p.step(1);
    int sb = p.step(2);
    Object x = Elements.lanes(a);
    Object y = Elements.lanes(b);
    Object z;
    switch (Elements.lane(t)) {
      case FLOAT -> {
        float[] xa = (float[]) x;
        float[] ya = (float[]) y;
        float[] out = new float[p.size()];
        p.forEachRow(
            (o, at, n) -> {
              for (int k = 0, i = at[0], j = at[1], l = at[2];
                  k < n;
                  k++, i += sc, j += sa, l += sb) {
                out[o + k] = c[i] != 0 ? xa[j] : ya[l];
              }
            });
        z = out;
      }
      case DOUBLE -> {
        double[] xa = (double[]) x;
        double[] ya = (double[]) y;
        double[] out = new double[p.size()];
        p.forEachRow(
            (o, at, n) -> {
              for (int k = 0, i = at[0], j = at[1], l = at[2];
                  k < n;
                  k++, i += sc, j += sa, l += sb) {
                out[o + k] = c[i] != 0 ? xa[j] : ya[l];
              }
            });
        z = out;
      }
      case INT -> {
        int[] xa = (int[]) x;
        int[] ya = (int[]) y;
        int[] out = new int[p.size()];
        p.forEachRow(
            (o, at, n) -> {
              for (int k = 0, i = at[0], j = at[1], l = at[2];
                  k < n;
                  k++, i += sc, j += sa, l += sb) {
                out[o + k] = c[i] != 0 ? xa[j] : ya[l];
              }
            });
        z = out;
      }
      case LONG -> {
        long[] xa = (long[]) x;
        long[] ya = (long[]) y;
        long[] out = new long[p.size()];
        p.forEachRow(
            (o, at, n) -> {
              for (int k = 0, i = at[0], j = at[1], l = at[2];
                  k < n;
                  k++, i += sc, j += sa, l += sb) {
                out[o + k] = c[i] != 0 ? xa[j] : ya[l];
              }
            });
        z = out;
      }
      default -> throw new AssertionError();
    }
    return Elements.ofLanes(t, p.shape(), z);
  }

  /** TensorFlow's {@code max(min(x, hi), lo)}: the lower bound wins when the bounds cross. */
  private static Value clip(DType t, Value v, Value lo, Value hi) {
    Elements.check(v, t, "t");
    Elements.check(lo, t, "clip_value_min");
    Elements.check(hi, t, "clip_value_max");
    Broadcast p = Broadcast.of(v.shape(), lo.shape(), hi.shape());
    int sv = p.step(0);
    int sl = p.step(1);
    int sh = p.step(2);
    Object x = Elements.lanes(v);
    Object a = Elements.lanes(lo);
    Object b = Elements.lanes(hi);
    Object z;
    switch (Elements.lane(t)) {
      case FLOAT -> {
        float[] xs = (float[]) x;
        float[] as = (float[]) a;
        float[] bs = (float[]) b;
        float[] out = new float[p.size()];
        p.forEachRow(
            (o, at, n) -> {
              for (int k = 0, i = at[0], j = at[1], l = at[2];
                  k < n;
                  k++, i += sv, j += sl, l += sh) {
                float m = bs[l] < xs[i] ? bs[l] : xs[i];
                out[o + k] = m < as[j] ? as[j] : m;
              }
            });
        z = out;
      }
      case DOUBLE -> {
        double[] xs = (double[]) x;
        double[] as = (double[]) a;
        double[] bs = (double[]) b;
        double[] out = new double[p.size()];
        p.forEachRow(
            (o, at, n) -> {
              for (int k = 0, i = at[0], j = at[1], l = at[2];
                  k < n;
                  k++, i += sv, j += sl, l += sh) {
                double m = bs[l] < xs[i] ? bs[l] : xs[i];
                out[o + k] = m < as[j] ? as[j] : m;
              }
            });
        z = out;
      }
      case INT -> {
        int[] xs = (int[]) x;
        int[] as = (int[]) a;
        int[] bs = (int[]) b;
        int[] out = new int[p.size()];
        p.forEachRow(
            (o, at, n) -> {
              for (int k = 0, i = at[0], j = at[1], l = at[2];
                  k < n;
                  k++, i += sv, j += sl, l += sh) {
                out[o + k] = Math.max(Math.min(xs[i], bs[l]), as[j]);
              }
            });
        z = out;
      }
      case LONG -> {
        long[] xs = (long[]) x;
        long[] as = (long[]) a;
        long[] bs = (long[]) b;
        long[] out = new long[p.size()];
        p.forEachRow(
            (o, at, n) -> {
              for (int k = 0, i = at[0], j = at[1], l = at[2];
                  k < n;
                  k++, i += sv, j += sl, l += sh) {
                out[o + k] = Math.max(Math.min(xs[i], bs[l]), as[j]);
              }
            });
        z = out;
      }
      default -> throw new AssertionError();
    }
    return Elements.ofLanes(t, p.shape(), z);
  }
}
