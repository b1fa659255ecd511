package org.tfport.formats.tfjs;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;

/**
 * The converter's weight quantization and the loaders' dequantization, reproduced to the bit:
 * float16 by IEEE round-to-nearest-even, uint8/uint16 by TF-Lite-style affine quantization with a
 * nudged zero point, everything computed in double and rounded half-to-even as numpy does.
 */
final class QuantMath {
  private QuantMath() {}

  /**
   * Reads element i of some float tensor as float32; lets quantization run over any source dtype.
   */
  @FunctionalInterface
  interface FloatAt {
    float get(int i);
  }

  /**
   * Affine parameters for one tensor.
   *
   * @param min the nudged minimum, written to the manifest as {@code min}
   * @param max the nudged maximum, the upper clip bound
   * @param constant every element equals {@code min}: all quantize to 0 and {@code scale} is 1
   */
  record Affine(double min, double max, double scale, int qmax, boolean constant) {
    int quantize(float x) {
      if (constant) {
        return 0;
      }
      double c = Math.max(min, Math.min(max, (double) x));
      double q = Math.rint((c - min) / scale);
      // The clip keeps q within [0, qmax] up to rounding; the guard makes an off-by-one impossible.
      return (int) Math.max(0, Math.min(qmax, q));
    }

    Quantization metadata(DType qdtype) {
      return Quantization.affine(qdtype, min, scale);
    }
  }

  static int qmax(DType qdtype) {
    return switch (qdtype) {
      case UINT8 -> 255;
      case UINT16 -> 65535;
      default -> throw new IllegalArgumentException("not an affine quantization dtype: " + qdtype);
    };
  }

  /** Parameters from a tensor's range, as the converter derives them. */
  static Affine affine(double min, double max, DType qdtype) {
    int qmax = qmax(qdtype);
    if (min == max) {
      return new Affine(min, max, 1.0, qmax, true);
    }
    double scale = (max - min) / qmax;
    if (min <= 0 && 0 <= max) {
      // Nudge the range so that 0 lands exactly on an integer level and zero weights stay exactly
      // zero.
      double zeroPoint = Math.rint((0 - min) / scale);
      double nudgedMin = -zeroPoint * scale;
      double nudgedMax = qmax * scale + nudgedMin;
      return new Affine(nudgedMin, nudgedMax, scale, qmax, false);
    }
    return new Affine(min, max, scale, qmax, false);
  }

  /**
   * Scans n elements for their range and returns the affine parameters.
   *
   * @throws UnsupportedModelException when an element is NaN or infinite, which has no affine
   *     encoding
   */
  static Affine fit(FloatAt xs, int n, DType qdtype, String weightName) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      float x = xs.get(i);
      if (!Float.isFinite(x)) {
        throw new UnsupportedModelException(
            "weight '"
                + weightName
                + "' holds "
                + x
                + " at element "
                + i
                + ", which "
                + qdtype.jsName()
                + " quantization cannot represent; leave this weight out of the"
                + " QuantizationMap."
                + qdtype.jsName()
                + " patterns or use QuantizationMap.float16");
      }
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    if (n == 0) {
      // numpy fails on the min of an empty array; an empty weight has nothing to scale, so pick a
      // no-op.
      min = 0;
      max = 0;
    }
    return affine(min, max, qdtype);
  }

  static short toFloat16(float x) {
    return Float.floatToFloat16(x);
  }

  static float dequantize(int q, double scale, double min) {
    return (float) (q * scale + min);
  }

  /**
   * The stored value that {@code meta} dequantizes to {@code x}: {@code round((x - min) / scale)}
   * for uint8/uint16, the float16 bits for float16. Exact for values that came from {@code meta}
   * (see {@link #recoverable}).
   */
  static int stored(float x, Quantization meta) {
    if (meta.dtype() == DType.FLOAT16) {
      return toFloat16(x) & 0xffff;
    }
    long q = Math.round((x - meta.min()) / meta.scale());
    return (int) Math.max(0, Math.min(qmax(meta.dtype()), q));
  }

  /** Whether every value of float32 {@code t} is one {@code meta} dequantizes to, bit for bit. */
  static boolean recoverable(Tensor t, Quantization meta) {
    if (meta.dtype() != DType.FLOAT16 && (meta.min() == null || meta.scale() == null)) {
      return false;
    }
    java.nio.ByteBuffer b = t.bytes();
    int n = Math.toIntExact(t.size());
    for (int i = 0; i < n; i++) {
      float x = b.getFloat(i * 4);
      int q = stored(x, meta);
      float back =
          meta.dtype() == DType.FLOAT16
              ? Float.float16ToFloat((short) q)
              : dequantize(q, meta.scale(), meta.min());
      if (Float.floatToRawIntBits(back) != Float.floatToRawIntBits(x)) {
        return false;
      }
    }
    return true;
  }

  /** Affine-quantized values of an array; convenient for tests and small tensors. */
  record AffineResult(int[] q, Quantization metadata) {}

  static AffineResult quantizeAffine(float[] xs, DType qdtype) {
    Affine a = fit(i -> xs[i], xs.length, qdtype, "(array)");
    int[] q = new int[xs.length];
    for (int i = 0; i < xs.length; i++) {
      q[i] = a.quantize(xs[i]);
    }
    return new AffineResult(q, a.metadata(qdtype));
  }

  static float[] dequantizeAffine(int[] q, Quantization meta) {
    float[] out = new float[q.length];
    for (int i = 0; i < q.length; i++) {
      out[i] = dequantize(q[i], meta.scale(), meta.min());
    }
    return out;
  }

  /**
   * Turns stored bytes into the tensor the loaders hand out, as {@code decodeWeights} does.
   *
   * @param where names the file and weight for error messages
   * @throws CorruptModelException when the quantization does not fit the dtype or lacks min/scale
   */
  static Tensor decode(WeightSpec spec, ByteBuffer stored, String where) {
    Quantization q = spec.quantization();
    if (q == null) {
      return new Tensor(spec.dtype(), spec.shape(), stored);
    }
    int n = Math.toIntExact(spec.shape().size());
    ByteBuffer in = stored.slice().order(ByteOrder.LITTLE_ENDIAN);
    if (q.dtype() == DType.FLOAT16) {
      if (spec.dtype() != DType.FLOAT32) {
        throw new CorruptModelException(
            where
                + ": float16 quantization is defined only for float32 weights,"
                + " not "
                + spec.dtype().jsName()
                + "; the manifest is damaged");
      }
      ByteBuffer out = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) {
        out.putFloat(i * 4, Float.float16ToFloat(in.getShort(i * 2)));
      }
      return new Tensor(DType.FLOAT32, spec.shape(), out);
    }
    if (q.min() == null || q.scale() == null) {
      throw new CorruptModelException(
          where
              + ": "
              + q.dtype().jsName()
              + " quantization without 'min' and"
              + " 'scale' cannot be dequantized; the manifest is damaged");
    }
    if (spec.dtype() != DType.FLOAT32 && spec.dtype() != DType.INT32) {
      throw new CorruptModelException(
          where
              + ": "
              + q.dtype().jsName()
              + " quantization is defined only for"
              + " float32 and int32 weights, not "
              + spec.dtype().jsName()
              + "; the manifest is damaged");
    }
    double min = q.min();
    double scale = q.scale();
    boolean wide = q.dtype() == DType.UINT16;
    ByteBuffer out = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      int v = wide ? in.getShort(i * 2) & 0xffff : in.get(i) & 0xff;
      if (spec.dtype() == DType.FLOAT32) {
        out.putFloat(i * 4, dequantize(v, scale, min));
      } else {
        // JS Math.round: halves go up, which Java's Math.round(double) matches.
        out.putInt(i * 4, (int) Math.round(v * scale + min));
      }
    }
    return new Tensor(spec.dtype(), spec.shape(), out);
  }
}
