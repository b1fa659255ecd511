package org.tfport.graph.optimize;

import org.tfport.core.Permutation;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.StridedSliceSpec;

/**
 * CPU kernels for the ops constant folding evaluates, written to give TensorFlow's results bit for bit: float32
 * arithmetic is done in float (never widened to double), integer arithmetic wraps as TensorFlow's does, and
 * anything TensorFlow would reject (a division by zero, an index out of range) or leaves to the platform (a
 * float out of an integer's range, NaN in a maximum) makes the op unfoldable instead of guessing. TensorFlow
 * runs its kernels with denormals flushed to zero, in inputs, comparisons and results alike; arithmetic that
 * meets a denormal is left to it rather than modelled. Ops whose TensorFlow kernel rounds differently from a
 * straightforward evaluation (transcendentals, {@code Reciprocal}, float sums whose order Eigen chooses) are
 * absent, with one exception: {@code Rsqrt} is folded correctly rounded, which is what TF.js computes;
 * TensorFlow's own result comes from the CPU's reciprocal square root estimate and may differ in the last bit.
 */
public final class Kernels {
  /** Every op {@link #evaluate} knows; it may still decline a node for its types or values. */
  public static final Set<String> OPS = Set.of("Identity", "Snapshot", "StopGradient", "PreventGradient",
      "Shape", "Size", "Rank", "Reshape", "ExpandDims", "Squeeze", "Transpose", "ConcatV2", "Concat", "Pack",
      "Slice", "StridedSlice", "GatherV2", "Gather", "Tile", "Fill", "Range", "BroadcastTo", "ZerosLike",
      "OnesLike", "Cast", "Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "TruncateDiv", "FloorDiv", "FloorMod",
      "Mod", "Maximum", "Minimum", "SquaredDifference", "BiasAdd", "Neg", "Abs", "Square", "Sqrt", "Rsqrt",
      "Floor", "Ceil", "Round", "Rint", "Sign", "Relu", "Relu6", "Equal", "NotEqual",
      "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr", "LogicalNot", "SelectV2",
      "Sum", "Prod", "Max", "Min", "All", "Any");

  /** No folded tensor is larger; callers normally cap far lower. */
  static final int MAX_ELEMENTS = 1 << 26;

  private static final Set<DType> FIXED_WIDTH = Set.of(DType.FLOAT32, DType.FLOAT64, DType.FLOAT16,
      DType.BFLOAT16, DType.INT8, DType.INT16, DType.INT32, DType.INT64, DType.UINT8, DType.UINT16, DType.BOOL,
      DType.COMPLEX64);

  private Kernels() {}

  /** Thrown inside a kernel to give up on a node; never escapes {@link #evaluate}. */
  private static final class NotFoldable extends RuntimeException {
    NotFoldable() {
      super(null, null, false, false);
    }
  }

  private static final NotFoldable NO = new NotFoldable();

  /**
   * The single output of {@code n} given its data inputs' values, or null when the op, a type or a value is
   * outside what this class reproduces exactly.
   */
  public static Tensor evaluate(Node n, List<Tensor> in) {
    if (!OPS.contains(n.op())) {
      return null;
    }
    for (Tensor t : in) {
      if (t == null || !FIXED_WIDTH.contains(t.dtype())) {
        return null;
      }
    }
    try {
      return eval(n, in);
    } catch (RuntimeException e) {
      // Values TensorFlow itself would reject (a bad shape, an index out of range) are not folded either.
      return null;
    }
  }

  private static Tensor eval(Node n, List<Tensor> in) {
    String op = n.op();
    switch (op) {
      case "Identity", "Snapshot", "StopGradient", "PreventGradient" -> {
        return in.get(0);
      }
      case "Shape" -> {
        return shapeTensor(outType(n, "out_type"), dims(in.get(0)));
      }
      case "Size" -> {
        return scalar(outType(n, "out_type"), in.get(0).size());
      }
      case "Rank" -> {
        return scalar(DType.INT32, in.get(0).shape().rank());
      }
      case "Reshape" -> {
        return reshape(in.get(0), ints(in.get(1)));
      }
      case "ExpandDims" -> {
        long[] d = dims(in.get(0));
        long[] axis = ints(in.get(1));
        need(axis.length == 1);
        int a = (int) axis[0];
        need(a >= -d.length - 1 && a <= d.length);
        a = a < 0 ? a + d.length + 1 : a;
        long[] out = new long[d.length + 1];
        for (int i = 0, j = 0; i < out.length; i++) {
          out[i] = i == a ? 1 : d[j++];
        }
        return withShape(in.get(0), out);
      }
      case "Squeeze" -> {
        return squeeze(n, in.get(0));
      }
      case "Transpose" -> {
        return transpose(in.get(0), ints(in.get(1)));
      }
      case "ConcatV2" -> {
        return concat(in.subList(0, in.size() - 1), in.get(in.size() - 1));
      }
      case "Concat" -> {
        return concat(in.subList(1, in.size()), in.get(0));
      }
      case "Pack" -> {
        return pack(n, in);
      }
      case "Slice" -> {
        return slice(in.get(0), ints(in.get(1)), ints(in.get(2)));
      }
      case "StridedSlice" -> {
        return stridedSlice(n, in.get(0), ints(in.get(1)), ints(in.get(2)), ints(in.get(3)));
      }
      case "GatherV2" -> {
        need(intAttr(n, "batch_dims", 0) == 0);
        long[] axis = ints(in.get(2));
        need(axis.length == 1);
        return gather(in.get(0), in.get(1), (int) axis[0]);
      }
      case "Gather" -> {
        return gather(in.get(0), in.get(1), 0);
      }
      case "Tile" -> {
        return tile(in.get(0), ints(in.get(1)));
      }
      case "Fill" -> {
        long[] d = ints(in.get(0));
        need(in.get(1).size() == 1);
        return broadcastTo(withShape(in.get(1), new long[0]), d);
      }
      case "BroadcastTo" -> {
        long[] d = ints(in.get(1));
        need(Arrays.equals(broadcastShape(dims(in.get(0)), d), d));
        return broadcastTo(in.get(0), d);
      }
      case "ZerosLike", "OnesLike" -> {
        return broadcastTo(scalar(in.get(0).dtype(), op.equals("OnesLike") ? 1 : 0), dims(in.get(0)));
      }
      case "Range" -> {
        return range(in.get(0), in.get(1), in.get(2));
      }
      case "Cast" -> {
        return cast(in.get(0), outType(n, "DstT"));
      }
      case "SelectV2" -> {
        return select(in.get(0), in.get(1), in.get(2));
      }
      case "Sum", "Prod", "Max", "Min", "All", "Any" -> {
        return reduce(n, in.get(0), ints(in.get(1)));
      }
      case "BiasAdd" -> {
        String format = n.stringAttr("data_format");
        need(format == null || format.equals("NHWC"));
        need(in.get(1).shape().rank() == 1 && in.get(0).shape().rank() >= 1
            && dims(in.get(0))[in.get(0).shape().rank() - 1] == dims(in.get(1))[0]);
        return binary("Add", in.get(0), in.get(1));
      }
      default -> {
        if (in.size() == 1) {
          return unary(op, in.get(0));
        }
        need(in.size() == 2);
        return binary(op, in.get(0), in.get(1));
      }
    }
  }

  // ------------------------------------------------------------------ element access

  private static void need(boolean ok) {
    if (!ok) {
      throw NO;
    }
  }

  static long[] dims(Tensor t) {
    return t.shape().dims();
  }

  static int count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      need(d >= 0);
      n = Math.multiplyExact(n, d);
      need(n <= MAX_ELEMENTS);
    }
    return (int) n;
  }

  private static int[] strides(long[] shape) {
    int[] s = new int[shape.length];
    int acc = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      s[i] = acc;
      acc *= (int) shape[i];
    }
    return s;
  }

  static float[] floats(Tensor t) {
    float[] v = new float[(int) t.size()];
    t.bytes().asFloatBuffer().get(v);
    return v;
  }

  static double[] doubles(Tensor t) {
    double[] v = new double[(int) t.size()];
    t.bytes().asDoubleBuffer().get(v);
    return v;
  }

  static int[] int32s(Tensor t) {
    int[] v = new int[(int) t.size()];
    t.bytes().asIntBuffer().get(v);
    return v;
  }

  static long[] int64s(Tensor t) {
    long[] v = new long[(int) t.size()];
    t.bytes().asLongBuffer().get(v);
    return v;
  }

  static boolean[] bools(Tensor t) {
    boolean[] v = new boolean[(int) t.size()];
    ByteBuffer b = t.bytes();
    for (int i = 0; i < v.length; i++) {
      v[i] = b.get(i) != 0;
    }
    return v;
  }

  /** An int32 or int64 tensor's values (an index or shape argument). */
  static long[] ints(Tensor t) {
    if (t.dtype() == DType.INT32) {
      int[] v = int32s(t);
      long[] out = new long[v.length];
      for (int i = 0; i < v.length; i++) {
        out[i] = v[i];
      }
      return out;
    }
    need(t.dtype() == DType.INT64);
    return int64s(t);
  }

  private static ByteBuffer alloc(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  static Tensor of(long[] shape, float[] v) {
    ByteBuffer b = alloc(v.length * 4);
    b.asFloatBuffer().put(v);
    return new Tensor(DType.FLOAT32, Shape.of(shape), b);
  }

  static Tensor of(long[] shape, double[] v) {
    ByteBuffer b = alloc(v.length * 8);
    b.asDoubleBuffer().put(v);
    return new Tensor(DType.FLOAT64, Shape.of(shape), b);
  }

  static Tensor of(long[] shape, int[] v) {
    ByteBuffer b = alloc(v.length * 4);
    b.asIntBuffer().put(v);
    return new Tensor(DType.INT32, Shape.of(shape), b);
  }

  static Tensor of(long[] shape, long[] v) {
    ByteBuffer b = alloc(v.length * 8);
    b.asLongBuffer().put(v);
    return new Tensor(DType.INT64, Shape.of(shape), b);
  }

  static Tensor of(long[] shape, boolean[] v) {
    ByteBuffer b = alloc(v.length);
    for (boolean x : v) {
      b.put((byte) (x ? 1 : 0));
    }
    return new Tensor(DType.BOOL, Shape.of(shape), b.flip());
  }

  private static Tensor withShape(Tensor t, long[] shape) {
    need(count(shape) == t.size());
    return new Tensor(t.dtype(), Shape.of(shape), t.bytes());
  }

  /** Element {@code i} of the output is element {@code src[i]} of {@code t}: every structural op. */
  private static Tensor take(Tensor t, long[] shape, int[] src) {
    int w = t.dtype().byteSize();
    ByteBuffer in = t.bytes();
    byte[] out = new byte[src.length * w];
    for (int i = 0; i < src.length; i++) {
      in.get(src[i] * w, out, i * w, w);
    }
    return new Tensor(t.dtype(), Shape.of(shape), ByteBuffer.wrap(out));
  }

  private static Tensor scalar(DType dt, long v) {
    return switch (dt) {
      case INT32 -> of(new long[0], new int[] {Math.toIntExact(v)});
      case INT64 -> of(new long[0], new long[] {v});
      case FLOAT32 -> of(new long[0], new float[] {v});
      case FLOAT64 -> of(new long[0], new double[] {v});
      case BOOL -> of(new long[0], new boolean[] {v != 0});
      default -> cast(of(new long[0], new long[] {v}), dt);
    };
  }

  private static Tensor shapeTensor(DType dt, long[] d) {
    if (dt == DType.INT64) {
      return of(new long[] {d.length}, d);
    }
    int[] v = new int[d.length];
    for (int i = 0; i < d.length; i++) {
      v[i] = Math.toIntExact(d[i]);
    }
    return of(new long[] {d.length}, v);
  }

  private static DType outType(Node n, String attr) {
    AttrValue v = n.attr(attr);
    int code = v instanceof AttrValue.Type t ? t.value() : attr.equals("out_type") ? DType.INT32.tfEnum() : -1;
    DType dt = DataTypes.toDType(code);
    need(dt != null && FIXED_WIDTH.contains(dt));
    return dt;
  }

  static long intAttr(Node n, String key, long dflt) {
    return n.attr(key) instanceof AttrValue.Int i ? i.value() : dflt;
  }

  // ------------------------------------------------------------------ broadcasting

  /** numpy broadcasting of two fully known shapes. */
  static long[] broadcastShape(long[] a, long[] b) {
    int r = Math.max(a.length, b.length);
    long[] out = new long[r];
    for (int i = 0; i < r; i++) {
      long x = i < r - a.length ? 1 : a[i - (r - a.length)];
      long y = i < r - b.length ? 1 : b[i - (r - b.length)];
      need(x == y || x == 1 || y == 1);
      out[i] = x == 1 ? y : x;
    }
    return out;
  }

  /** For each element of a tensor of shape {@code out}, the element of a tensor of shape {@code in} it reads. */
  private static int[] broadcastMap(long[] out, long[] in) {
    int n = count(out);
    int r = out.length;
    int k = in.length;
    int[] inStrides = strides(in);
    int[] map = new int[n];
    int[] idx = new int[r];
    for (int i = 0; i < n; i++) {
      int s = 0;
      for (int d = 0; d < k; d++) {
        if (in[d] != 1) {
          s += idx[r - k + d] * inStrides[d];
        }
      }
      map[i] = s;
      for (int d = r - 1; d >= 0; d--) {
        if (++idx[d] < out[d]) {
          break;
        }
        idx[d] = 0;
      }
    }
    return map;
  }

  private static Tensor broadcastTo(Tensor t, long[] shape) {
    return take(t, shape, broadcastMap(shape, dims(t)));
  }

  // ------------------------------------------------------------------ elementwise

  private static Tensor unary(String op, Tensor t) {
    long[] s = dims(t);
    switch (t.dtype()) {
      case FLOAT32 -> {
        float[] v = floats(t);
        for (int i = 0; i < v.length; i++) {
          float x = normal(v[i]);
          v[i] = normal(switch (op) {
            case "Neg" -> -x;
            case "Abs" -> Math.abs(x);
            case "Square" -> x * x;
            // A float's square root, rounded once from the exact double result, is correctly rounded.
            case "Sqrt" -> (float) Math.sqrt(x);
            case "Rsqrt" -> (float) (1 / Math.sqrt(x));
            case "Floor" -> (float) Math.floor(x);
            case "Ceil" -> (float) Math.ceil(x);
            // TensorFlow rounds half to even.
            case "Round", "Rint" -> (float) Math.rint(x);
            case "Sign" -> nan(x) ? x : Math.signum(x);
            // Eigen's vector and scalar paths disagree on -0 and NaN.
            case "Relu" -> {
              need(!nan(x) && !negativeZero(x));
              yield x > 0 ? x : 0f;
            }
            case "Relu6" -> {
              need(!nan(x) && !negativeZero(x));
              yield x > 0 ? Math.min(x, 6f) : 0f;
            }
            default -> throw NO;
          });
        }
        return of(s, v);
      }
      case FLOAT64 -> {
        double[] v = doubles(t);
        for (int i = 0; i < v.length; i++) {
          double x = normal(v[i]);
          v[i] = normal(switch (op) {
            case "Neg" -> -x;
            case "Abs" -> Math.abs(x);
            case "Square" -> x * x;
            case "Sqrt" -> Math.sqrt(x);
            case "Rsqrt" -> 1 / Math.sqrt(x);
            case "Floor" -> Math.floor(x);
            case "Ceil" -> Math.ceil(x);
            case "Round", "Rint" -> Math.rint(x);
            case "Sign" -> Double.isNaN(x) ? x : Math.signum(x);
            case "Relu" -> {
              need(!Double.isNaN(x) && !negativeZero(x));
              yield x > 0 ? x : 0;
            }
            case "Relu6" -> {
              need(!Double.isNaN(x) && !negativeZero(x));
              yield x > 0 ? Math.min(x, 6) : 0;
            }
            default -> throw NO;
          });
        }
        return of(s, v);
      }
      case INT32 -> {
        int[] v = int32s(t);
        for (int i = 0; i < v.length; i++) {
          int x = v[i];
          v[i] = switch (op) {
            case "Neg" -> -x;
            case "Abs" -> Math.abs(x);
            case "Square" -> x * x;
            case "Sign" -> Integer.signum(x);
            case "Relu" -> Math.max(x, 0);
            case "Relu6" -> Math.min(Math.max(x, 0), 6);
            case "Floor", "Ceil", "Round", "Rint" -> x;
            default -> throw NO;
          };
        }
        return of(s, v);
      }
      case INT64 -> {
        long[] v = int64s(t);
        for (int i = 0; i < v.length; i++) {
          long x = v[i];
          v[i] = switch (op) {
            case "Neg" -> -x;
            case "Abs" -> Math.abs(x);
            case "Square" -> x * x;
            case "Sign" -> Long.signum(x);
            case "Relu" -> Math.max(x, 0);
            case "Relu6" -> Math.min(Math.max(x, 0), 6);
            case "Floor", "Ceil", "Round", "Rint" -> x;
            default -> throw NO;
          };
        }
        return of(s, v);
      }
      case BOOL -> {
        need(op.equals("LogicalNot"));
        boolean[] v = bools(t);
        for (int i = 0; i < v.length; i++) {
          v[i] = !v[i];
        }
        return of(s, v);
      }
      default -> throw NO;
    }
  }

  private static boolean nan(float x) {
    return Float.isNaN(x);
  }

  /** {@code x}, unless it is a denormal, which TensorFlow would have flushed to zero somewhere. */
  private static float normal(float x) {
    need(x == 0 || !(Math.abs(x) < Float.MIN_NORMAL));
    return x;
  }

  private static double normal(double x) {
    need(x == 0 || !(Math.abs(x) < Double.MIN_NORMAL));
    return x;
  }

  private static boolean negativeZero(double x) {
    return x == 0 && Double.doubleToRawLongBits(x) != 0;
  }

  private static boolean isComparison(String op) {
    return switch (op) {
      case "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual" -> true;
      default -> false;
    };
  }

  private static Tensor binary(String op, Tensor a, Tensor b) {
    need(a.dtype() == b.dtype());
    long[] s = broadcastShape(dims(a), dims(b));
    int[] ia = broadcastMap(s, dims(a));
    int[] ib = broadcastMap(s, dims(b));
    int n = ia.length;
    if (isComparison(op)) {
      boolean[] out = new boolean[n];
      switch (a.dtype()) {
        case FLOAT32 -> {
          float[] x = floats(a);
          float[] y = floats(b);
          for (int i = 0; i < n; i++) {
            out[i] = compare(op, normal(x[ia[i]]), normal(y[ib[i]]));
          }
        }
        case FLOAT64 -> {
          double[] x = doubles(a);
          double[] y = doubles(b);
          for (int i = 0; i < n; i++) {
            out[i] = compare(op, normal(x[ia[i]]), normal(y[ib[i]]));
          }
        }
        case INT32, INT64 -> {
          long[] x = ints(a);
          long[] y = ints(b);
          for (int i = 0; i < n; i++) {
            out[i] = compare(op, x[ia[i]], y[ib[i]]);
          }
        }
        case BOOL -> {
          need(op.equals("Equal") || op.equals("NotEqual"));
          boolean[] x = bools(a);
          boolean[] y = bools(b);
          for (int i = 0; i < n; i++) {
            out[i] = (x[ia[i]] == y[ib[i]]) == op.equals("Equal");
          }
        }
        default -> throw NO;
      }
      return of(s, out);
    }
    switch (a.dtype()) {
      case FLOAT32 -> {
        float[] x = floats(a);
        float[] y = floats(b);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
          out[i] = normal(f32(op, normal(x[ia[i]]), normal(y[ib[i]])));
        }
        return of(s, out);
      }
      case FLOAT64 -> {
        double[] x = doubles(a);
        double[] y = doubles(b);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
          out[i] = normal(f64(op, normal(x[ia[i]]), normal(y[ib[i]])));
        }
        return of(s, out);
      }
      case INT32 -> {
        int[] x = int32s(a);
        int[] y = int32s(b);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
          out[i] = i32(op, x[ia[i]], y[ib[i]]);
        }
        return of(s, out);
      }
      case INT64 -> {
        long[] x = int64s(a);
        long[] y = int64s(b);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
          out[i] = i64(op, x[ia[i]], y[ib[i]]);
        }
        return of(s, out);
      }
      case BOOL -> {
        need(op.equals("LogicalAnd") || op.equals("LogicalOr"));
        boolean[] x = bools(a);
        boolean[] y = bools(b);
        boolean[] out = new boolean[n];
        for (int i = 0; i < n; i++) {
          out[i] = op.equals("LogicalAnd") ? x[ia[i]] && y[ib[i]] : x[ia[i]] || y[ib[i]];
        }
        return of(s, out);
      }
      default -> throw NO;
    }
  }

  private static boolean compare(String op, double x, double y) {
    return switch (op) {
      case "Equal" -> x == y;
      case "NotEqual" -> x != y;
      case "Less" -> x < y;
      case "LessEqual" -> x <= y;
      case "Greater" -> x > y;
      default -> x >= y;
    };
  }

  private static boolean compare(String op, long x, long y) {
    return switch (op) {
      case "Equal" -> x == y;
      case "NotEqual" -> x != y;
      case "Less" -> x < y;
      case "LessEqual" -> x <= y;
      case "Greater" -> x > y;
      default -> x >= y;
    };
  }

  private static float f32(String op, float x, float y) {
    return switch (op) {
      case "Add", "AddV2" -> x + y;
      case "Sub" -> x - y;
      case "Mul" -> x * y;
      case "RealDiv", "Div" -> x / y;
      case "FloorDiv" -> (float) Math.floor(normal(x / y));
      case "FloorMod" -> {
        float m = normal(x % y);
        yield m != 0 && (y < 0) != (m < 0) ? m + y : m;
      }
      case "Mod" -> x % y;
      // NaN handling and the sign of zero differ between Eigen's scalar and vector paths: left to TensorFlow.
      case "Maximum" -> {
        need(!nan(x) && !nan(y) && !(x == 0 && y == 0));
        yield Math.max(x, y);
      }
      case "Minimum" -> {
        need(!nan(x) && !nan(y) && !(x == 0 && y == 0));
        yield Math.min(x, y);
      }
      case "SquaredDifference" -> normal(x - y) * (x - y);
      default -> throw NO;
    };
  }

  private static double f64(String op, double x, double y) {
    return switch (op) {
      case "Add", "AddV2" -> x + y;
      case "Sub" -> x - y;
      case "Mul" -> x * y;
      case "RealDiv", "Div" -> x / y;
      case "FloorDiv" -> Math.floor(normal(x / y));
      case "FloorMod" -> {
        double m = normal(x % y);
        yield m != 0 && (y < 0) != (m < 0) ? m + y : m;
      }
      case "Mod" -> x % y;
      case "Maximum" -> {
        need(!Double.isNaN(x) && !Double.isNaN(y) && !(x == 0 && y == 0));
        yield Math.max(x, y);
      }
      case "Minimum" -> {
        need(!Double.isNaN(x) && !Double.isNaN(y) && !(x == 0 && y == 0));
        yield Math.min(x, y);
      }
      case "SquaredDifference" -> normal(x - y) * (x - y);
      default -> throw NO;
    };
  }

  private static int i32(String op, int x, int y) {
    return switch (op) {
      case "Add", "AddV2" -> x + y;
      case "Sub" -> x - y;
      case "Mul" -> x * y;
      // TensorFlow refuses integer division by zero; MIN / -1 is undefined in C++.
      case "Div", "TruncateDiv" -> {
        need(y != 0 && !(x == Integer.MIN_VALUE && y == -1));
        yield x / y;
      }
      case "FloorDiv" -> {
        need(y != 0 && !(x == Integer.MIN_VALUE && y == -1));
        yield Math.floorDiv(x, y);
      }
      case "FloorMod" -> {
        need(y != 0);
        yield Math.floorMod(x, y);
      }
      case "Mod" -> {
        need(y != 0);
        yield x % y;
      }
      case "Maximum" -> Math.max(x, y);
      case "Minimum" -> Math.min(x, y);
      case "SquaredDifference" -> (x - y) * (x - y);
      default -> throw NO;
    };
  }

  private static long i64(String op, long x, long y) {
    return switch (op) {
      case "Add", "AddV2" -> x + y;
      case "Sub" -> x - y;
      case "Mul" -> x * y;
      case "Div", "TruncateDiv" -> {
        need(y != 0 && !(x == Long.MIN_VALUE && y == -1));
        yield x / y;
      }
      case "FloorDiv" -> {
        need(y != 0 && !(x == Long.MIN_VALUE && y == -1));
        yield Math.floorDiv(x, y);
      }
      case "FloorMod" -> {
        need(y != 0);
        yield Math.floorMod(x, y);
      }
      case "Mod" -> {
        need(y != 0);
        yield x % y;
      }
      case "Maximum" -> Math.max(x, y);
      case "Minimum" -> Math.min(x, y);
      case "SquaredDifference" -> (x - y) * (x - y);
      default -> throw NO;
    };
  }

  private static Tensor select(Tensor c, Tensor t, Tensor e) {
    need(c.dtype() == DType.BOOL && t.dtype() == e.dtype());
    long[] s = broadcastShape(broadcastShape(dims(c), dims(t)), dims(e));
    int[] ic = broadcastMap(s, dims(c));
    int[] it = broadcastMap(s, dims(t));
    int[] ie = broadcastMap(s, dims(e));
    boolean[] cv = bools(c);
    // Both branches have one type, so picking elements of their concatenation is exact for any type.
    Tensor both = concat(List.of(withShape(t, new long[] {t.size()}), withShape(e, new long[] {e.size()})),
        scalar(DType.INT32, 0));
    int[] src = new int[ic.length];
    for (int i = 0; i < src.length; i++) {
      src[i] = cv[ic[i]] ? it[i] : (int) t.size() + ie[i];
    }
    return take(both, s, src);
  }

  // ------------------------------------------------------------------ casts

  private static Tensor cast(Tensor t, DType to) {
    DType from = t.dtype();
    if (from == to) {
      return t;
    }
    int n = (int) t.size();
    long[] s = dims(t);
    boolean fromFloat = from == DType.FLOAT32 || from == DType.FLOAT64;
    need(fromFloat || isInt(from) || from == DType.BOOL);
    double[] fv = fromFloat ? (from == DType.FLOAT32 ? widen(floats(t)) : doubles(t)) : null;
    if (fv != null) {
      for (double x : fv) {
        normal(x);
      }
    }
    long[] iv = fromFloat ? null : from == DType.BOOL ? boolsAsLongs(t) : intValues(t);
    switch (to) {
      case FLOAT32 -> {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
          out[i] = normal(fromFloat ? (float) fv[i] : (float) iv[i]);
        }
        return of(s, out);
      }
      case FLOAT64 -> {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
          out[i] = fromFloat ? fv[i] : (double) iv[i];
        }
        return of(s, out);
      }
      case BOOL -> {
        boolean[] out = new boolean[n];
        for (int i = 0; i < n; i++) {
          out[i] = fromFloat ? fv[i] != 0 : iv[i] != 0;
        }
        return of(s, out);
      }
      default -> {
        need(isInt(to));
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
          if (fromFloat) {
            // C++ leaves a float outside the target's range undefined.
            double x = fv[i];
            need(!Double.isNaN(x) && (to == DType.INT64 ? x >= -0x1p63 && x < 0x1p63
                : x > minOf(to) - 1 && x < maxOf(to) + 1));
            v[i] = (long) x;
          } else {
            v[i] = iv[i];
          }
        }
        return fromLongs(to, s, v);
      }
    }
  }

  private static boolean isInt(DType t) {
    return switch (t) {
      case INT8, INT16, INT32, INT64, UINT8, UINT16 -> true;
      default -> false;
    };
  }

  private static double minOf(DType t) {
    return switch (t) {
      case INT8 -> Byte.MIN_VALUE;
      case INT16 -> Short.MIN_VALUE;
      case INT32 -> Integer.MIN_VALUE;
      default -> 0;
    };
  }

  private static double maxOf(DType t) {
    return switch (t) {
      case INT8 -> Byte.MAX_VALUE;
      case INT16 -> Short.MAX_VALUE;
      case INT32 -> Integer.MAX_VALUE;
      case UINT8 -> 255;
      default -> 65535;
    };
  }

  /**
   * A float sum whose every partial sum is exact: integer values whose magnitudes add up to less than 2^24
   * (float32) or 2^53 (float64). Then the order TensorFlow's reduction adds in cannot change the result, so it is
   * folded; any other float sum is not.
   */
  private static Tensor exactSum(DType type, double[] v, int[] dest, int m, long[] out) {
    double limit = type == DType.FLOAT32 ? 0x1p24 : 0x1p53;
    double total = 0;
    double[] acc = new double[m];
    for (int i = 0; i < v.length; i++) {
      need(v[i] == Math.rint(v[i]) && !Double.isInfinite(v[i]));
      total += Math.abs(v[i]);
      need(total < limit);
      acc[dest[i]] += v[i];
    }
    // A zero result is +0 in any order: exact sums that cancel round to +0, and the reduction starts from +0.
    if (type == DType.FLOAT64) {
      return of(out, acc);
    }
    float[] r = new float[m];
    for (int i = 0; i < m; i++) {
      r[i] = (float) acc[i];
    }
    return of(out, r);
  }

  private static double[] widen(float[] v) {
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i];
    }
    return out;
  }

  private static long[] boolsAsLongs(Tensor t) {
    boolean[] b = bools(t);
    long[] out = new long[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = b[i] ? 1 : 0;
    }
    return out;
  }

  private static long[] intValues(Tensor t) {
    int n = (int) t.size();
    ByteBuffer b = t.bytes();
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = switch (t.dtype()) {
        case INT8 -> b.get(i);
        case UINT8 -> b.get(i) & 0xff;
        case INT16 -> b.getShort(2 * i);
        case UINT16 -> b.getShort(2 * i) & 0xffff;
        case INT32 -> b.getInt(4 * i);
        default -> b.getLong(8 * i);
      };
    }
    return out;
  }

  /** Integers narrowed modulo the target width, as a C++ integral conversion does. */
  private static Tensor fromLongs(DType to, long[] shape, long[] v) {
    ByteBuffer b = alloc(v.length * to.byteSize());
    for (long x : v) {
      switch (to) {
        case INT8, UINT8 -> b.put((byte) x);
        case INT16, UINT16 -> b.putShort((short) x);
        case INT32 -> b.putInt((int) x);
        default -> b.putLong(x);
      }
    }
    return new Tensor(to, Shape.of(shape), b.flip());
  }

  // ------------------------------------------------------------------ structure

  private static Tensor reshape(Tensor t, long[] target) {
    long[] out = target.clone();
    int unknown = -1;
    long known = 1;
    for (int i = 0; i < out.length; i++) {
      if (out[i] == -1) {
        need(unknown < 0);
        unknown = i;
      } else {
        need(out[i] >= 0);
        known = Math.multiplyExact(known, out[i]);
      }
    }
    if (unknown >= 0) {
      need(known > 0 && t.size() % known == 0);
      out[unknown] = t.size() / known;
    }
    return withShape(t, out);
  }

  private static Tensor squeeze(Node n, Tensor t) {
    long[] d = dims(t);
    List<Long> axes = n.attr("squeeze_dims") instanceof AttrValue.ListAttr l ? l.i()
        : n.attr("axis") instanceof AttrValue.ListAttr l2 ? l2.i() : List.of();
    boolean[] drop = new boolean[d.length];
    if (axes.isEmpty()) {
      for (int i = 0; i < d.length; i++) {
        drop[i] = d[i] == 1;
      }
    } else {
      for (long a : axes) {
        need(a >= -d.length && a < d.length);
        int ax = (int) (a < 0 ? a + d.length : a);
        need(d[ax] == 1);
        drop[ax] = true;
      }
    }
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < d.length; i++) {
      if (!drop[i]) {
        out.add(d[i]);
      }
    }
    return withShape(t, out.stream().mapToLong(Long::longValue).toArray());
  }

  private static Tensor transpose(Tensor t, long[] perm) {
    long[] d = dims(t);
    need(Permutation.isValid(perm, d.length));
    int[] p = new int[perm.length];
    for (int i = 0; i < p.length; i++) {
      p[i] = (int) perm[i];
    }
    count(d);
    return take(t, Permutation.apply(d, p), Permutation.sourceIndices(d, p));
  }

  private static Tensor concat(List<Tensor> parts, Tensor axisT) {
    need(!parts.isEmpty());
    long[] ax = ints(axisT);
    need(ax.length == 1);
    Tensor first = parts.get(0);
    int r = first.shape().rank();
    need(ax[0] >= -r && ax[0] < r);
    int axis = (int) (ax[0] < 0 ? ax[0] + r : ax[0]);
    long[] out = dims(first);
    out[axis] = 0;
    for (Tensor p : parts) {
      need(p.dtype() == first.dtype() && p.shape().rank() == r);
      long[] d = dims(p);
      for (int i = 0; i < r; i++) {
        need(i == axis || d[i] == out[i]);
      }
      out[axis] += d[axis];
    }
    int n = count(out);
    long outer = 1;
    for (int i = 0; i < axis; i++) {
      outer *= out[i];
    }
    int w = first.dtype().byteSize();
    ByteBuffer b = alloc(n * w);
    for (long o = 0; o < outer; o++) {
      for (Tensor p : parts) {
        int chunk = (int) (p.size() / Math.max(outer, 1)) * w;
        if (chunk > 0) {
          byte[] bytes = new byte[chunk];
          p.bytes().get((int) o * chunk, bytes);
          b.put(bytes);
        }
      }
    }
    return new Tensor(first.dtype(), Shape.of(out), b.flip());
  }

  private static Tensor pack(Node n, List<Tensor> parts) {
    need(!parts.isEmpty());
    long[] d = dims(parts.get(0));
    long a = intAttr(n, "axis", 0);
    need(a >= -d.length - 1 && a <= d.length);
    int axis = (int) (a < 0 ? a + d.length + 1 : a);
    long[] expanded = new long[d.length + 1];
    for (int i = 0, j = 0; i < expanded.length; i++) {
      expanded[i] = i == axis ? 1 : d[j++];
    }
    List<Tensor> ex = new ArrayList<>();
    for (Tensor p : parts) {
      need(Arrays.equals(dims(p), d));
      ex.add(withShape(p, expanded));
    }
    return concat(ex, scalar(DType.INT32, axis));
  }

  private static Tensor slice(Tensor t, long[] begin, long[] size) {
    long[] d = dims(t);
    need(begin.length == d.length && size.length == d.length);
    long[] out = new long[d.length];
    long[] strides = new long[d.length];
    for (int i = 0; i < d.length; i++) {
      long s = size[i] == -1 ? d[i] - begin[i] : size[i];
      need(begin[i] >= 0 && s >= 0 && begin[i] + s <= d[i]);
      out[i] = s;
      strides[i] = 1;
    }
    return strided(t, begin, strides, out);
  }

  /** Elements {@code begin + j * stride} along every axis, giving shape {@code out}. */
  private static Tensor strided(Tensor t, long[] begin, long[] stride, long[] out) {
    int[] inStrides = strides(dims(t));
    int n = count(out);
    int[] src = new int[n];
    int[] idx = new int[out.length];
    for (int i = 0; i < n; i++) {
      long s = 0;
      for (int k = 0; k < out.length; k++) {
        s += (begin[k] + idx[k] * stride[k]) * inStrides[k];
      }
      src[i] = (int) s;
      for (int k = out.length - 1; k >= 0; k--) {
        if (++idx[k] < out[k]) {
          break;
        }
        idx[k] = 0;
      }
    }
    return take(t, out, src);
  }

  private static Tensor stridedSlice(Node n, Tensor t, long[] begin, long[] end, long[] strides) {
    StridedSliceSpec s = StridedSliceSpec.of(n, dims(t), begin, end, strides);
    need(s != null);
    Tensor sliced = strided(t, s.begin(), s.strides(), s.processingShape());
    return withShape(sliced, s.finalShape());
  }

  private static Tensor gather(Tensor params, Tensor indices, int axisArg) {
    long[] p = dims(params);
    need(axisArg >= -p.length && axisArg < p.length);
    int axis = axisArg < 0 ? axisArg + p.length : axisArg;
    long[] idx = ints(indices);
    long[] id = dims(indices);
    long[] out = new long[p.length - 1 + id.length];
    int o = 0;
    for (int i = 0; i < axis; i++) {
      out[o++] = p[i];
    }
    for (long d : id) {
      out[o++] = d;
    }
    for (int i = axis + 1; i < p.length; i++) {
      out[o++] = p[i];
    }
    long outer = 1;
    for (int i = 0; i < axis; i++) {
      outer *= p[i];
    }
    long inner = 1;
    for (int i = axis + 1; i < p.length; i++) {
      inner *= p[i];
    }
    int n = count(out);
    int[] src = new int[n];
    int at = 0;
    for (long a = 0; a < outer; a++) {
      for (long j : idx) {
        // TensorFlow's CPU kernel refuses out-of-range indices.
        need(j >= 0 && j < p[axis]);
        for (long c = 0; c < inner; c++) {
          src[at++] = (int) ((a * p[axis] + j) * inner + c);
        }
      }
    }
    return take(params, out, src);
  }

  private static Tensor tile(Tensor t, long[] multiples) {
    long[] d = dims(t);
    need(multiples.length == d.length);
    long[] out = new long[d.length];
    for (int i = 0; i < d.length; i++) {
      need(multiples[i] >= 0);
      out[i] = Math.multiplyExact(d[i], multiples[i]);
    }
    int[] inStrides = strides(d);
    int n = count(out);
    int[] src = new int[n];
    int[] idx = new int[out.length];
    for (int i = 0; i < n; i++) {
      int s = 0;
      for (int k = 0; k < out.length; k++) {
        s += (int) (idx[k] % d[k]) * inStrides[k];
      }
      src[i] = s;
      for (int k = out.length - 1; k >= 0; k--) {
        if (++idx[k] < out[k]) {
          break;
        }
        idx[k] = 0;
      }
    }
    return take(t, out, src);
  }

  /** TensorFlow's {@code RangeOp}: the size from the bounds, then {@code start + i * delta} in the type. */
  private static Tensor range(Tensor start, Tensor limit, Tensor delta) {
    need(start.size() == 1 && limit.size() == 1 && delta.size() == 1);
    need(start.dtype() == limit.dtype() && start.dtype() == delta.dtype());
    switch (start.dtype()) {
      case INT32, INT64 -> {
        long s = ints(start)[0];
        long l = ints(limit)[0];
        long d = ints(delta)[0];
        need(d != 0 && (d > 0 ? s <= l : s >= l));
        long size = (Math.abs(l - s) + Math.abs(d) - 1) / Math.abs(d);
        int n = count(new long[] {size});
        if (start.dtype() == DType.INT32) {
          int[] v = new int[n];
          int val = (int) s;
          for (int i = 0; i < n; i++) {
            v[i] = val;
            val += (int) d;
          }
          return of(new long[] {n}, v);
        }
        long[] v = new long[n];
        long val = s;
        for (int i = 0; i < n; i++) {
          v[i] = val;
          val += d;
        }
        return of(new long[] {n}, v);
      }
      case FLOAT32 -> {
        float s = normal(floats(start)[0]);
        float l = normal(floats(limit)[0]);
        float d = normal(floats(delta)[0]);
        need(d != 0 && (d > 0 ? s <= l : s >= l));
        int n = count(new long[] {(long) Math.ceil(Math.abs(normal(normal(l - s) / d)))});
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
          v[i] = normal(s + normal(i * d));
        }
        return of(new long[] {n}, v);
      }
      case FLOAT64 -> {
        double s = normal(doubles(start)[0]);
        double l = normal(doubles(limit)[0]);
        double d = normal(doubles(delta)[0]);
        need(d != 0 && (d > 0 ? s <= l : s >= l));
        int n = count(new long[] {(long) Math.ceil(Math.abs(normal(normal(l - s) / d)))});
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
          v[i] = normal(s + normal(i * d));
        }
        return of(new long[] {n}, v);
      }
      default -> throw NO;
    }
  }

  /**
   * Integer sums and products (exact in any order), maxima and minima (order-free), and boolean all/any.
   * Float sums are left to TensorFlow, whose summation order is Eigen's to choose.
   */
  private static Tensor reduce(Node n, Tensor t, long[] axesArg) {
    String op = n.op();
    long[] d = dims(t);
    boolean[] reduced = new boolean[d.length];
    for (long a : axesArg) {
      need(a >= -d.length && a < d.length);
      int ax = (int) (a < 0 ? a + d.length : a);
      need(!reduced[ax]);
      reduced[ax] = true;
    }
    boolean keep = n.attr("keep_dims") instanceof AttrValue.Bool b && b.value();
    List<Long> outList = new ArrayList<>();
    long[] kept = new long[d.length];
    for (int i = 0; i < d.length; i++) {
      kept[i] = reduced[i] ? 1 : d[i];
      if (!reduced[i]) {
        outList.add(d[i]);
      } else if (keep) {
        outList.add(1L);
      }
    }
    long[] out = outList.stream().mapToLong(Long::longValue).toArray();
    int m = count(kept);
    // For each input element, the output element it folds into.
    int[] dest = new int[(int) t.size()];
    int[] outStrides = strides(kept);
    int[] idx = new int[d.length];
    for (int i = 0; i < dest.length; i++) {
      int s = 0;
      for (int k = 0; k < d.length; k++) {
        if (!reduced[k]) {
          s += idx[k] * outStrides[k];
        }
      }
      dest[i] = s;
      for (int k = d.length - 1; k >= 0; k--) {
        if (++idx[k] < d[k]) {
          break;
        }
        idx[k] = 0;
      }
    }
    switch (t.dtype()) {
      case INT32, INT64 -> {
        long[] v = ints(t);
        long[] acc = new long[m];
        Arrays.fill(acc, switch (op) {
          case "Sum" -> 0L;
          case "Prod" -> 1L;
          case "Max" -> t.dtype() == DType.INT32 ? Integer.MIN_VALUE : Long.MIN_VALUE;
          case "Min" -> t.dtype() == DType.INT32 ? Integer.MAX_VALUE : Long.MAX_VALUE;
          default -> throw NO;
        });
        for (int i = 0; i < v.length; i++) {
          long a = acc[dest[i]];
          acc[dest[i]] = switch (op) {
            case "Sum" -> a + v[i];
            case "Prod" -> a * v[i];
            case "Max" -> Math.max(a, v[i]);
            default -> Math.min(a, v[i]);
          };
        }
        if (t.dtype() == DType.INT64) {
          return of(out, acc);
        }
        int[] r = new int[m];
        for (int i = 0; i < m; i++) {
          r[i] = (int) acc[i];
        }
        return of(out, r);
      }
      case FLOAT32, FLOAT64 -> {
        double[] v = t.dtype() == DType.FLOAT32 ? widen(floats(t)) : doubles(t);
        if (op.equals("Sum")) {
          return exactSum(t.dtype(), v, dest, m, out);
        }
        need(op.equals("Max") || op.equals("Min"));
        double[] acc = new double[m];
        Arrays.fill(acc, op.equals("Max") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY);
        for (int i = 0; i < v.length; i++) {
          need(!Double.isNaN(normal(v[i])));
          acc[dest[i]] = op.equals("Max") ? Math.max(acc[dest[i]], v[i]) : Math.min(acc[dest[i]], v[i]);
        }
        for (double a : acc) {
          // Which zero wins a tie between -0 and +0 is up to Eigen's evaluation order.
          need(a != 0);
        }
        if (t.dtype() == DType.FLOAT64) {
          return of(out, acc);
        }
        float[] r = new float[m];
        for (int i = 0; i < m; i++) {
          r[i] = (float) acc[i];
        }
        return of(out, r);
      }
      case BOOL -> {
        need(op.equals("All") || op.equals("Any"));
        boolean[] v = bools(t);
        boolean[] acc = new boolean[m];
        Arrays.fill(acc, op.equals("All"));
        for (int i = 0; i < v.length; i++) {
          acc[dest[i]] = op.equals("All") ? acc[dest[i]] && v[i] : acc[dest[i]] || v[i];
        }
        return of(out, acc);
      }
      default -> throw NO;
    }
  }
}
