package org.tfport.formats.tfjs;

import org.tfport.core.DType;

/**
 * The {@code quantization} object of a weights-manifest entry: how a weight is stored, as opposed
 * to the logical dtype recorded in the entry itself.
 *
 * @param dtype the stored element type: {@link DType#UINT8}, {@link DType#UINT16} or {@link
 *     DType#FLOAT16}
 * @param min the dequantization offset; null for float16 (and possibly in damaged files, which fail
 *     on read)
 * @param scale the dequantization step; null for float16
 * @param originalDtype what the converter quantized from; null in files from old converters, which
 *     omit it
 */
public record Quantization(DType dtype, Double min, Double scale, DType originalDtype) {
  public Quantization {
    if (dtype != DType.UINT8 && dtype != DType.UINT16 && dtype != DType.FLOAT16) {
      throw new IllegalArgumentException(
          "TF.js quantizes only to uint8, uint16 or float16, not " + dtype);
    }
  }

  /**
   * float16 storage; it needs no min or scale because the conversion is bit-exact in both
   * directions.
   */
  public static Quantization float16() {
    return new Quantization(DType.FLOAT16, null, null, DType.FLOAT32);
  }

  /** Affine uint8/uint16 storage of a float32 weight. */
  public static Quantization affine(DType dtype, double min, double scale) {
    return new Quantization(dtype, min, scale, DType.FLOAT32);
  }

  /** Bytes per stored element. */
  public int bytesPerElement() {
    return dtype.byteSize();
  }
}
