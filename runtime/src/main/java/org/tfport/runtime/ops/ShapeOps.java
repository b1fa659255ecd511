package org.tfport.runtime.ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Memory;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Shapes as values (Shape, Size, Rank, BroadcastArgs), ops that only relabel a tensor's shape
 * (Reshape, Squeeze, ExpandDims: the storage is shared) and tensors made from a shape (Fill,
 * ZerosLike, OnesLike, Range, LinSpace, BroadcastTo).
 */
final class ShapeOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("Shape", ShapeOps::shape);
    r.reference("ShapeN", ShapeOps::shapeN);
    r.reference("Size", ShapeOps::size);
    r.reference("EnsureShape", ShapeOps::ensureShape);
    r.reference("Rank", b -> (in, ctx) -> new Value[] {Value.scalar(in[0].rank())});
    r.reference("Reshape", b -> (in, ctx) -> new Value[] {reshape(in[0], in[1])});
    r.reference("Squeeze", ShapeOps::squeeze);
    r.reference("ExpandDims", b -> (in, ctx) -> new Value[] {expandDims(in[0], in[1])});
    r.reference("BroadcastTo", b -> (in, ctx) -> new Value[] {broadcastTo(in[0], in[1])});
    r.reference("BroadcastArgs", ShapeOps::broadcastArgs);
    r.reference("Fill", b -> (in, ctx) -> new Value[] {fill(in[0], in[1])});
    r.reference(
        "ZerosLike", b -> (in, ctx) -> new Value[] {Value.zeros(in[0].dtype(), in[0].shape())});
    r.reference("OnesLike", b -> (in, ctx) -> new Value[] {onesLike(in[0])});
    r.reference("Range", b -> (in, ctx) -> new Value[] {range(in[0], in[1], in[2])});
    r.reference("LinSpace", b -> (in, ctx) -> new Value[] {linSpace(in[0], in[1], in[2])});
  }

  private static DType outType(BindContext b) {
    DType t = b.typeAttr("out_type", DType.INT32);
    if (t != DType.INT32 && t != DType.INT64) {
      throw new KernelException("out_type must be int32 or int64, not " + t.jsName());
    }
    return t;
  }

  private static Kernel shape(BindContext b) {
    DType t = outType(b);
    return (in, ctx) -> new Value[] {Layout.shapeValue(in[0].shape(), t)};
  }

  private static Kernel shapeN(BindContext b) {
    DType t = outType(b);
    return (in, ctx) -> {
      Value[] out = new Value[in.length];
      for (int i = 0; i < in.length; i++) {
        out[i] = Layout.shapeValue(in[i].shape(), t);
      }
      return out;
    };
  }

  private static Kernel size(BindContext b) {
    DType t = outType(b);
    return (in, ctx) -> new Value[] {Layout.integerScalar(in[0].size(), t)};
  }

  /**
   * TensorFlow's rule: at most one -1, inferred from the other sizes (zero sizes left out of the
   * product).
   */
  static Value reshape(Value x, Value shapeInput) {
    long[] sizes = Layout.vector(shapeInput, "shape");
    int unknown = -1;
    long product = 1;
    boolean hasZero = false;
    for (int i = 0; i < sizes.length; i++) {
      long s = sizes[i];
      if (s == -1) {
        if (unknown >= 0) {
          throw new KernelException(
              "Only one input size may be -1, not both " + unknown + " and " + i);
        }
        unknown = i;
      } else if (s < 0) {
        throw new KernelException("Size " + i + " must be non-negative, not " + s);
      } else if (s == 0) {
        hasZero = true;
      } else if (Math.multiplyHigh(product, s) != 0 || product * s < 0) {
        throw new KernelException(
            "the shape "
                + java.util.Arrays.toString(sizes)
                + " has more elements than a tensor can hold");
      } else {
        product *= s;
      }
    }
    long n = x.size();
    long[] out = sizes.clone();
    if (unknown >= 0) {
      // Like TensorFlow, zero input dimensions are left out when the requested shape has a zero
      // too, so
      // [0, 6] -> [0, -1] still infers 6.
      long known = 1;
      for (long d : x.shape()) {
        if (d > 0 || !hasZero) {
          known *= d;
        }
      }
      long missing = known / product;
      if (missing * product != known) {
        throw new KernelException(
            "Input to reshape is a tensor with "
                + known
                + " values, but the requested shape requires a multiple of "
                + product);
      }
      out[unknown] = missing;
    } else {
      long total = hasZero ? 0 : product;
      if (total != n) {
        throw new KernelException(
            "Input to reshape is a tensor with "
                + n
                + " values, but the requested shape has "
                + total
                + " ("
                + Layout.shape(sizes)
                + ")");
      }
    }
    if (Value.elementCount(out) != n) {
      throw new KernelException(
          "Input to reshape is a tensor with "
              + n
              + " values, but the requested shape "
              + Layout.shape(sizes)
              + " has "
              + Value.elementCount(out));
    }
    return x.reshaped(out);
  }

  private static Kernel squeeze(BindContext b) {
    long[] dims = squeezeDims(b);
    return (in, ctx) -> {
      long[] s = in[0].shape();
      boolean[] drop = new boolean[s.length];
      if (dims.length == 0) {
        for (int i = 0; i < s.length; i++) {
          drop[i] = s[i] == 1;
        }
      }
      for (long d : dims) {
        if (d < -s.length || d >= s.length) {
          throw new KernelException(
              "Tried to squeeze dim index " + d + " for tensor with " + s.length + " dimensions");
        }
        int a = (int) (d < 0 ? d + s.length : d);
        if (s[a] != 1) {
          throw new KernelException(
              "Can not squeeze dim[" + a + "], expected a dimension of 1, got " + s[a]);
        }
        drop[a] = true;
      }
      List<Long> out = new ArrayList<>();
      for (int i = 0; i < s.length; i++) {
        if (!drop[i]) {
          out.add(s[i]);
        }
      }
      return new Value[] {in[0].reshaped(out.stream().mapToLong(Long::longValue).toArray())};
    };
  }

  /**
   * TensorFlow's op names the axes {@code squeeze_dims}; TF.js's op list also accepts {@code axis}
   * (graphs written by other tools use it), so a node may carry either, but not two that disagree.
   */
  private static long[] squeezeDims(BindContext b) {
    long[] dims = b.node().attr("squeeze_dims") != null ? b.intsAttr("squeeze_dims", null) : null;
    long[] axis = b.node().attr("axis") != null ? b.intsAttr("axis", null) : null;
    if (dims != null && axis != null && dims.length > 0 && !Arrays.equals(dims, axis)) {
      throw new KernelException(
          "squeeze_dims "
              + Arrays.toString(dims)
              + " and axis "
              + Arrays.toString(axis)
              + " disagree; keep one");
    }
    if (dims != null && dims.length > 0) {
      return dims;
    }
    return axis != null ? axis : b.intsAttr("squeeze_dims", new long[0]);
  }

  static Value expandDims(Value x, Value dim) {
    long d = Layout.scalar(dim, "dim");
    int r = x.rank();
    if (d < -r - 1 || d > r) {
      throw new KernelException(
          "Tried to expand dim index " + d + " for tensor with " + r + " dimensions");
    }
    int a = (int) (d < 0 ? d + r + 1 : d);
    long[] out = new long[r + 1];
    for (int i = 0, j = 0; i <= r; i++) {
      out[i] = i == a ? 1 : x.dim(j++);
    }
    return x.reshaped(out);
  }

  private static long[] dims(Value v, String what) {
    long[] dims = Layout.vector(v, what);
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] < 0) {
        throw new KernelException(what + "[" + i + "] = " + dims[i] + " must be non-negative");
      }
    }
    return dims;
  }

  static Value broadcastTo(Value x, Value shapeInput) {
    long[] to = dims(shapeInput, "shape");
    long[] b = Layout.broadcast(x.shape(), to);
    if (b == null || b.length != to.length || !java.util.Arrays.equals(b, to)) {
      throw new KernelException(
          "Unable to broadcast tensor of shape "
              + Layout.shape(x.shape())
              + " to tensor of shape "
              + Layout.shape(to));
    }
    Memory.reserve(x.dtype(), to);
    return Layout.take(x, to, Layout.broadcastMap(x.shape(), to), null);
  }

  private static Kernel broadcastArgs(BindContext b) {
    return (in, ctx) -> {
      long[] s0 = Layout.vector(in[0], "s0");
      long[] s1 = Layout.vector(in[1], "s1");
      long[] out = Layout.broadcast(s0, s1);
      if (out == null) {
        throw new KernelException(
            "Incompatible shapes: " + Layout.shape(s0) + " vs. " + Layout.shape(s1));
      }
      return new Value[] {Layout.shapeValue(out, in[0].dtype())};
    };
  }

  static Value fill(Value dimsInput, Value value) {
    long[] dims = dims(dimsInput, "dims");
    if (value.rank() != 0) {
      throw new KernelException("value must be a scalar, got shape " + Layout.shape(value.shape()));
    }
    Memory.reserve(value.dtype(), dims);
    int n = Math.toIntExact(Value.elementCount(dims));
    return Value.of(value.dtype(), dims, Layout.repeat(value.dtype(), value.data(), 0, n));
  }

  private static Value onesLike(Value x) {
    DType t = x.dtype();
    Object one =
        switch (t) {
          case FLOAT32 -> new float[] {1};
          case COMPLEX64 -> new float[] {1, 0};
          case FLOAT64 -> new double[] {1};
          case INT32 -> new int[] {1};
          case INT64 -> new long[] {1};
          case INT8, UINT8, BOOL -> new byte[] {1};
          case INT16, UINT16 -> new short[] {1};
          case FLOAT16 -> new short[] {Float.floatToFloat16(1f)};
          case BFLOAT16 -> new short[] {(short) (Float.floatToIntBits(1f) >>> 16)};
          case STRING -> throw new KernelException("OnesLike is not defined for string tensors");
        };
    return Value.of(t, x.shape(), Layout.repeat(t, one, 0, x.size()));
  }

  private static void checkScalar(Value v, String what) {
    if (v.rank() != 0) {
      throw new KernelException(what + " must be a scalar, not shape " + Layout.shape(v.shape()));
    }
  }

  static Value range(Value start, Value limit, Value delta) {
    checkScalar(start, "start");
    checkScalar(limit, "limit");
    checkScalar(delta, "delta");
    DType t = start.dtype();
    return switch (t) {
      case INT32, INT64 -> {
        long s = start.longAt(0);
        long l = limit.longAt(0);
        long d = delta.longAt(0);
        checkRange(s, l, d, Long.toString(s), Long.toString(l), Long.toString(d));
        long n = (Math.abs(l - s) + Math.abs(d) - 1) / Math.abs(d);
        long[] shape = {n};
        Memory.reserve(t, shape);
        if (t == DType.INT32) {
          int[] out = new int[Math.toIntExact(n)];
          for (int i = 0; i < out.length; i++) {
            out[i] = (int) (s + i * d);
          }
          yield Value.ints(shape, out);
        }
        long[] out = new long[Math.toIntExact(n)];
        for (int i = 0; i < out.length; i++) {
          out[i] = s + i * d;
        }
        yield Value.longs(shape, out);
      }
      case FLOAT32 -> {
        float s = start.floats()[0];
        float l = limit.floats()[0];
        float d = delta.floats()[0];
        checkRange(Float.compare(s, l), d, s + "", l + "", d + "");
        // TensorFlow computes the count in the element type: ceil(|(limit - start) / delta|).
        long n = (long) Math.ceil(Math.abs((l - s) / d));
        Memory.reserve(t, new long[] {n});
        float[] out = new float[Math.toIntExact(n)];
        for (int i = 0; i < out.length; i++) {
          out[i] = s + i * d;
        }
        yield Value.floats(new long[] {n}, out);
      }
      case FLOAT64 -> {
        double s = start.doubles()[0];
        double l = limit.doubles()[0];
        double d = delta.doubles()[0];
        checkRange(Double.compare(s, l), d, s + "", l + "", d + "");
        long n = (long) Math.ceil(Math.abs((l - s) / d));
        Memory.reserve(t, new long[] {n});
        double[] out = new double[Math.toIntExact(n)];
        for (int i = 0; i < out.length; i++) {
          out[i] = s + i * d;
        }
        yield Value.doubles(new long[] {n}, out);
      }
      default -> throw new KernelException("Range is not defined for " + t.jsName());
    };
  }

  private static void checkRange(long s, long l, long d, String ss, String ls, String ds) {
    checkRange(Long.compare(s, l), d, ss, ls, ds);
  }

  private static void checkRange(int startVsLimit, double d, String s, String l, String ds) {
    if (d == 0) {
      throw new KernelException("Requires delta != 0: " + ds);
    }
    if (d > 0 && startVsLimit > 0) {
      throw new KernelException("Requires start <= limit when delta > 0: " + s + "/" + l);
    }
    if (d < 0 && startVsLimit < 0) {
      throw new KernelException("Requires start >= limit when delta < 0: " + s + "/" + l);
    }
  }

  static Value linSpace(Value start, Value stop, Value numInput) {
    checkScalar(start, "start");
    checkScalar(stop, "stop");
    checkScalar(numInput, "num");
    long num = numInput.longAt(0);
    if (num <= 0) {
      throw new KernelException("Requires num > 0: " + num);
    }
    int n = Math.toIntExact(num);
    long[] shape = {num};
    // TensorFlow: start + i * step for all but the last, which is stop itself.
    return switch (start.dtype()) {
      case FLOAT32 -> {
        float s = start.floats()[0];
        float e = stop.floats()[0];
        float[] out = new float[n];
        out[0] = s;
        if (n > 1) {
          float step = (e - s) / (n - 1);
          for (int i = 0; i < n - 1; i++) {
            out[i] = s + step * i;
          }
          out[n - 1] = e;
        }
        yield Value.floats(shape, out);
      }
      case FLOAT64 -> {
        double s = start.doubles()[0];
        double e = stop.doubles()[0];
        double[] out = new double[n];
        out[0] = s;
        if (n > 1) {
          double step = (e - s) / (n - 1);
          for (int i = 0; i < n - 1; i++) {
            out[i] = s + step * i;
          }
          out[n - 1] = e;
        }
        yield Value.doubles(shape, out);
      }
      default -> throw new KernelException("LinSpace is not defined for " + start.dtype().jsName());
    };
  }

  /**
   * Passes the input through after checking it against the {@code shape} attribute (-1 matches any
   * size).
   */
  private static Kernel ensureShape(BindContext b) {
    org.tfport.core.graph.TensorShape want =
        b.attr("shape") instanceof org.tfport.core.graph.AttrValue.Shape s
            ? s.value()
            : org.tfport.core.graph.TensorShape.UNKNOWN;
    return (in, ctx) -> {
      if (!want.unknownRank()) {
        long[] dims = want.dims();
        boolean ok = dims.length == in[0].rank();
        for (int i = 0; ok && i < dims.length; i++) {
          ok = dims[i] < 0 || dims[i] == in[0].dim(i);
        }
        if (!ok) {
          throw new KernelException(
              "Shape of tensor "
                  + Layout.shape(in[0].shape())
                  + " is not compatible with expected shape "
                  + Layout.shape(dims).replace("-1", "?")
                  + ".");
        }
      }
      return new Value[] {in[0]};
    };
  }
}
