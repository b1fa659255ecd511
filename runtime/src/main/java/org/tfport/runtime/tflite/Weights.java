package org.tfport.runtime.tflite;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.formats.tflite.TfliteQuantization;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.formats.tflite.TfliteType;

/**
 * Constant tensors of a {@code .tflite} file as tfport tensors: the raw buffer re-read in tfport's
 * layout (strings re-encoded, float16 widened), quantized weights dequantized to float32 ({@code
 * real = scale·(q − zp)}, per channel along {@code quantized_dimension}), and the filter re-layouts
 * the importer needs.
 */
final class Weights {
  private Weights() {}

  /** Whether the constant carries affine quantization parameters (scale and, maybe, zero point). */
  static boolean isQuantized(TfliteTensor t) {
    TfliteQuantization q = t.quantization();
    return q != null && !q.scale().isEmpty();
  }

  static long[] dims(TfliteTensor t) {
    return t.shape().stream().mapToLong(Integer::longValue).toArray();
  }

  /**
   * The buffer of {@code t} as a tensor of its own type.
   *
   * @throws CorruptModelException when the buffer's size does not match the shape
   */
  static Tensor raw(TfliteTensor t, ByteBuffer data, String where) {
    long[] dims = dims(t);
    Shape shape = Shape.of(dims);
    long n = elementCount(t, dims, where);
    if (t.type() == TfliteType.STRING) {
      return strings(t, data, n, where);
    }
    DType d = t.type().dtype();
    if (d == null) {
      throw new org.tfport.core.TfportException.UnsupportedModelException(
          where + ": constant '" + t.name() + "' is " + t.type() + ", a type tfport cannot hold");
    }
    long want = t.type().byteSize(n);
    if (data.remaining() != want) {
      throw new CorruptModelException(
          where
              + ": constant '"
              + t.name()
              + "' "
              + t.type()
              + t.shape()
              + " needs "
              + want
              + " bytes, its buffer has "
              + data.remaining());
    }
    ByteBuffer copy = ByteBuffer.allocate(data.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    copy.put(data.duplicate()).flip();
    return new Tensor(d, shape, copy);
  }

  /**
   * The element count of a constant's shape, refused when a dimension is negative or the product
   * overflows a long (a damaged shape, found by fuzzing), before anything is sized from it.
   */
  private static long elementCount(TfliteTensor t, long[] dims, String where) {
    String bad = where + ": constant '" + t.name() + "' has shape " + t.shape() + ", ";
    long n = 1;
    for (long d : dims) {
      if (d < 0) {
        throw new CorruptModelException(bad + "with a negative dimension");
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        throw new CorruptModelException(
            bad + "more elements than a file can hold; the file is damaged");
      }
    }
    return n;
  }

  /** TFLite strings: int32 count, count+1 int32 offsets from the buffer start, then the bytes. */
  private static Tensor strings(TfliteTensor t, ByteBuffer data, long n, String where) {
    ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int size = b.remaining();
    String bad = where + ": string constant '" + t.name() + "' is damaged: ";
    if (size < 4 || b.getInt(0) != n) {
      throw new CorruptModelException(bad + "it should start with its element count " + n);
    }
    if ((long) 4 * (n + 2) > size) {
      throw new CorruptModelException(bad + "its offset table does not fit in " + size + " bytes");
    }
    ByteBuffer out =
        ByteBuffer.allocate(Math.toIntExact(size + 4 * n)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      int from = b.getInt(4 * (i + 1));
      int to = b.getInt(4 * (i + 2));
      if (from < 4 * (n + 2) || to < from || to > size) {
        throw new CorruptModelException(
            bad + "element " + i + " spans bytes [" + from + ", " + to + ") of " + size);
      }
      out.putInt(to - from);
      for (int k = from; k < to; k++) {
        out.put(b.get(k));
      }
    }
    return new Tensor(DType.STRING, Shape.of(dims(t)), out.flip());
  }

  /** A float32 copy of a float16 constant. */
  static float[] widenHalf(Tensor half) {
    int n = Math.toIntExact(half.size());
    float[] out = new float[n];
    ByteBuffer b = half.bytes();
    for (int i = 0; i < n; i++) {
      out[i] = Float.float16ToFloat(b.getShort(2 * i));
    }
    return out;
  }

  /**
   * The real values of an integer constant with quantization parameters: one scale and zero point
   * for the whole tensor, or one per index of {@code quantized_dimension}.
   */
  static float[] dequantize(TfliteTensor t, Tensor q, String where) {
    TfliteQuantization p = t.quantization();
    long[] dims = dims(t);
    int n = Math.toIntExact(q.size());
    int channels = p.scale().size();
    int axis = p.quantizedDimension();
    int stride = 1;
    int extent = 1;
    if (channels > 1) {
      if (axis < 0 || axis >= dims.length || dims[axis] != channels) {
        throw new CorruptModelException(
            where
                + ": constant '"
                + t.name()
                + "' "
                + t.shape()
                + " has "
                + channels
                + " scales along dimension "
                + axis
                + ", which does not match its shape");
      }
      extent = channels;
      for (int k = axis + 1; k < dims.length; k++) {
        stride *= (int) dims[k];
      }
    }
    float[] scale = new float[channels];
    long[] zero = new long[channels];
    for (int c = 0; c < channels; c++) {
      scale[c] = p.scale().get(c);
      zero[c] =
          p.zeroPoint().isEmpty() ? 0 : p.zeroPoint().get(Math.min(c, p.zeroPoint().size() - 1));
    }
    ByteBuffer b = q.bytes();
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      long v =
          switch (q.dtype()) {
            case INT8 -> b.get(i);
            case UINT8 -> b.get(i) & 0xff;
            case INT16 -> b.getShort(2 * i);
            case INT32 -> b.getInt(4 * i);
            case INT64 -> b.getLong(8 * i);
            default ->
                throw new org.tfport.core.TfportException.UnsupportedModelException(
                    where
                        + ": constant '"
                        + t.name()
                        + "' is quantized "
                        + t.type()
                        + ", which tfport does not dequantize");
          };
      int c = channels > 1 ? (i / stride) % extent : 0;
      // TFLite dequantizes in float: scale * (float) (q - zero_point).
      out[i] = scale[c] * (float) (v - zero[c]);
    }
    return out;
  }

  /**
   * What {@code t} stored, for a float32 constant made of its dequantized values with the same
   * re-layout ({@code perm}: axes permuted, as {@link #permute}; {@code reshaped}: the same
   * elements in another shape), or null when {@code t} is not an 8/16-bit quantized weight or its
   * channels do not map onto the new layout.
   */
  static QuantizedConstant kept(
      String function, String node, TfliteTensor t, Tensor raw, int[] perm, long[] reshaped) {
    if (t.type() == TfliteType.FLOAT16) {
      // float16 weights widen exactly: the kept form is the half bits and a Cast, scale 1.
      Tensor halves = raw;
      if (perm != null) {
        halves =
            new Tensor(raw.dtype(), Shape.of(permuted(dims(t), perm)), relaid(raw, dims(t), perm));
      } else if (reshaped != null) {
        halves = new Tensor(raw.dtype(), Shape.of(reshaped), raw.bytes());
      }
      return new QuantizedConstant(
          function, node, t.name(), halves, new float[] {1f}, new long[] {0}, new long[0]);
    }
    if (!isQuantized(t)
        || (t.type() != TfliteType.INT8
            && t.type() != TfliteType.UINT8
            && t.type() != TfliteType.INT16)) {
      return null;
    }
    TfliteQuantization p = t.quantization();
    long[] dims = dims(t);
    int channels = p.scale().size();
    float[] scales = new float[channels];
    long[] zeros = new long[channels];
    for (int c = 0; c < channels; c++) {
      scales[c] = p.scale().get(c);
      zeros[c] =
          p.zeroPoint().isEmpty() ? 0 : p.zeroPoint().get(Math.min(c, p.zeroPoint().size() - 1));
    }
    long[] scaleShape = new long[0];
    if (channels > 1) {
      // Validated against the shape by dequantize(), which made the float values first.
      scaleShape = new long[dims.length];
      java.util.Arrays.fill(scaleShape, 1);
      scaleShape[p.quantizedDimension()] = channels;
    }
    Tensor ints = raw;
    if (perm != null) {
      ints = new Tensor(raw.dtype(), Shape.of(permuted(dims, perm)), relaid(raw, dims, perm));
      if (channels > 1) {
        scaleShape = permuted(scaleShape, perm);
      }
    } else if (reshaped != null) {
      ints = new Tensor(raw.dtype(), Shape.of(reshaped), raw.bytes());
      if (channels > 1) {
        // Channels along the last dimension split over the trailing dimensions that hold them
        // (a depthwise filter's C*M into C, M).
        if (p.quantizedDimension() != dims.length - 1) {
          return null;
        }
        long product = 1;
        int k = reshaped.length;
        while (k > 0 && product < channels) {
          product *= reshaped[--k];
        }
        if (product != channels) {
          return null;
        }
        scaleShape = new long[reshaped.length];
        for (int i = 0; i < reshaped.length; i++) {
          scaleShape[i] = i < k ? 1 : reshaped[i];
        }
      }
    }
    return new QuantizedConstant(function, node, t.name(), ints, scales, zeros, scaleShape);
  }

  /**
   * The 8- or 16-bit elements of {@code raw} (integers, or float16 bit patterns) with their axes
   * permuted by {@code perm}; every 16-bit value is exact as a float, so the float permute serves.
   */
  private static ByteBuffer relaid(Tensor raw, long[] dims, int[] perm) {
    float[] v = new float[Math.toIntExact(raw.size())];
    for (int i = 0; i < v.length; i++) {
      v[i] = integerAt(raw, i);
    }
    float[] moved = permute(v, dims, perm);
    ByteBuffer b = ByteBuffer.allocate(raw.byteLength()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float x : moved) {
      if (raw.dtype() == DType.INT16 || raw.dtype() == DType.FLOAT16) {
        b.putShort((short) x);
      } else {
        b.put((byte) (int) x);
      }
    }
    return b.flip();
  }

  private static int integerAt(Tensor q, int i) {
    return switch (q.dtype()) {
      case INT8 -> q.bytes().get(i);
      case UINT8 -> q.bytes().get(i) & 0xff;
      default -> q.bytes().getShort(2 * i);
    };
  }

  static Tensor floats(long[] dims, float[] values) {
    return Tensor.ofFloats(Shape.of(dims), values);
  }

  static float[] toFloats(Tensor t) {
    float[] out = new float[Math.toIntExact(t.size())];
    t.bytes().asFloatBuffer().get(out);
    return out;
  }

  /**
   * {@code values} of shape {@code dims} with its axes permuted: output axis k is input axis {@code
   * perm[k]}.
   */
  static float[] permute(float[] values, long[] dims, int[] perm) {
    int rank = dims.length;
    long[] inStrides = new long[rank];
    long s = 1;
    for (int k = rank - 1; k >= 0; k--) {
      inStrides[k] = s;
      s *= dims[k];
    }
    long[] outDims = permuted(dims, perm);
    float[] out = new float[values.length];
    int[] index = new int[rank];
    for (int o = 0; o < out.length; o++) {
      long src = 0;
      for (int k = 0; k < rank; k++) {
        src += index[k] * inStrides[perm[k]];
      }
      out[o] = values[(int) src];
      for (int k = rank - 1; k >= 0; k--) {
        if (++index[k] < outDims[k]) {
          break;
        }
        index[k] = 0;
      }
    }
    return out;
  }

  static long[] permuted(long[] dims, int[] perm) {
    long[] out = new long[perm.length];
    for (int k = 0; k < perm.length; k++) {
      out[k] = dims[perm[k]];
    }
    return out;
  }

  static List<Long> list(long... v) {
    List<Long> out = new ArrayList<>(v.length);
    for (long x : v) {
      out.add(x);
    }
    return out;
  }
}
