package org.tfport.formats.tflite;

import org.tfport.core.DType;

/**
 * The TFLite {@code TensorType} enum of the current schema (0–22). The 0.4.4 schema classes stop at
 * INT4 = 17; the newer ids are kept so such files can still be read and analysed.
 */
public enum TfliteType {
  FLOAT32(0, 32, DType.FLOAT32),
  FLOAT16(1, 16, DType.FLOAT16),
  INT32(2, 32, DType.INT32),
  UINT8(3, 8, DType.UINT8),
  INT64(4, 64, DType.INT64),
  /** Variable-length: a header of offsets, then the bytes (spec 1.5). */
  STRING(5, 0, DType.STRING),
  BOOL(6, 8, DType.BOOL),
  INT16(7, 16, DType.INT16),
  COMPLEX64(8, 64, DType.COMPLEX64),
  INT8(9, 8, DType.INT8),
  FLOAT64(10, 64, DType.FLOAT64),
  COMPLEX128(11, 128, null),
  UINT64(12, 64, null),
  RESOURCE(13, 0, null),
  VARIANT(14, 0, null),
  UINT32(15, 32, null),
  UINT16(16, 16, DType.UINT16),
  /** Two values per byte. */
  INT4(17, 4, null),
  BFLOAT16(18, 16, DType.BFLOAT16),
  INT2(19, 2, null),
  UINT4(20, 4, null),
  FLOAT8_E4M3FN(21, 8, null),
  FLOAT8_E5M2(22, 8, null);

  private static final TfliteType[] BY_ID = values();

  private final int id;
  private final int bits;
  private final DType dtype;

  TfliteType(int id, int bits, DType dtype) {
    this.id = id;
    this.bits = bits;
    this.dtype = dtype;
  }

  /** The number stored in {@code Tensor.type}. */
  public int id() {
    return id;
  }

  /** Bits per element; 0 for types without a fixed width (STRING, RESOURCE, VARIANT). */
  public int bits() {
    return bits;
  }

  /** The matching tfport dtype, or null when there is none. */
  public DType dtype() {
    return dtype;
  }

  /**
   * Bytes a dense tensor of {@code elements} values takes (sub-byte types are packed), or -1
   * without a fixed width.
   */
  public long byteSize(long elements) {
    if (bits == 0) {
      return -1;
    }
    // Saturates, like TfliteTensor.elementCount, so an overflowing size never matches a buffer.
    return elements > (Long.MAX_VALUE - 7) / bits ? Long.MAX_VALUE : (elements * bits + 7) / 8;
  }

  /** The type with this id, or null when the id is not in the schema this code knows. */
  public static TfliteType fromId(int id) {
    return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
  }

  /** The TFLite type for a tfport dtype. */
  public static TfliteType of(DType dtype) {
    for (TfliteType t : BY_ID) {
      if (t.dtype == dtype) {
        return t;
      }
    }
    throw new IllegalArgumentException("no TFLite tensor type for " + dtype);
  }
}
