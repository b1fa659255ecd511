package org.tfport.core;

import java.util.Locale;

/**
 * Element types known to TensorFlow, TF.js and TFLite. {@link #byteSize()} is the width of one
 * element in the little-endian encodings every format here uses; it is 0 for {@link #STRING}, whose
 * elements are length-prefixed.
 */
public enum DType {
  FLOAT32(4, "float32", 1),
  FLOAT16(2, "float16", 19),
  FLOAT64(8, "float64", 2),
  BFLOAT16(2, "bfloat16", 14),
  INT8(1, "int8", 6),
  INT16(2, "int16", 5),
  INT32(4, "int32", 3),
  INT64(8, "int64", 9),
  UINT8(1, "uint8", 4),
  UINT16(2, "uint16", 17),
  BOOL(1, "bool", 10),
  STRING(0, "string", 7),
  COMPLEX64(8, "complex64", 8);

  private final int byteSize;
  private final String jsName;
  private final int tfEnum;

  DType(int byteSize, String jsName, int tfEnum) {
    this.byteSize = byteSize;
    this.jsName = jsName;
    this.tfEnum = tfEnum;
  }

  /** Bytes per element, 0 for strings. */
  public int byteSize() {
    return byteSize;
  }

  /** The lower-case name TF.js, numpy and Keras use: {@code float32}, {@code int64}, ... */
  public String jsName() {
    return jsName;
  }

  /** The number of TensorFlow's {@code DataType} enum ({@code DT_FLOAT} = 1, ...). */
  public int tfEnum() {
    return tfEnum;
  }

  /** {@code DT_FLOAT}, {@code DT_INT32}, ...: the protobuf enum name. */
  public String tfName() {
    return switch (this) {
      case FLOAT32 -> "DT_FLOAT";
      case FLOAT16 -> "DT_HALF";
      case FLOAT64 -> "DT_DOUBLE";
      default -> "DT_" + name();
    };
  }

  public boolean isFloating() {
    return this == FLOAT32 || this == FLOAT16 || this == FLOAT64 || this == BFLOAT16;
  }

  /** Parses a numpy/TF.js dtype name ({@code float32}, {@code int32}, ...), or returns null. */
  public static DType fromJsName(String name) {
    if (name == null) {
      return null;
    }
    String n = name.toLowerCase(Locale.ROOT);
    for (DType t : values()) {
      if (t.jsName.equals(n)) {
        return t;
      }
    }
    return switch (n) {
      case "float", "half" -> n.equals("half") ? FLOAT16 : FLOAT32;
      case "double" -> FLOAT64;
      default -> null;
    };
  }

  /**
   * The dtype of a number of TensorFlow's {@code DataType} enum, or null for the types tfport
   * cannot hold in a {@link Tensor} (resource, variant, quantized, ...) and for reference types:
   * strip their flag first with {@link org.tfport.core.graph.DataTypes#base}.
   */
  public static DType fromTfEnum(int code) {
    for (DType t : values()) {
      if (t.tfEnum == code) {
        return t;
      }
    }
    return null;
  }

  /** Parses a protobuf enum name ({@code DT_FLOAT}, ...), or returns null. */
  public static DType fromTfName(String name) {
    for (DType t : values()) {
      if (t.tfName().equals(name)) {
        return t;
      }
    }
    return null;
  }
}
