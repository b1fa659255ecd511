package org.tfport.core.graph;

import org.tfport.core.DType;

/**
 * TensorFlow's {@code DataType} enum by number, without the generated proto class: the IR carries the raw
 * number so that types tfport has no {@link DType} for (resource, variant, ref types, quantized) survive a
 * read and a write unchanged.
 */
public final class DataTypes {
  public static final int DT_INVALID = 0;
  public static final int DT_FLOAT = 1;
  public static final int DT_DOUBLE = 2;
  public static final int DT_INT32 = 3;
  public static final int DT_UINT8 = 4;
  public static final int DT_INT16 = 5;
  public static final int DT_INT8 = 6;
  public static final int DT_STRING = 7;
  public static final int DT_COMPLEX64 = 8;
  public static final int DT_INT64 = 9;
  public static final int DT_BOOL = 10;
  public static final int DT_BFLOAT16 = 14;
  public static final int DT_UINT16 = 17;
  public static final int DT_HALF = 19;
  public static final int DT_RESOURCE = 20;
  public static final int DT_VARIANT = 21;
  /** Reference types are the base type plus this (TF1 {@code VariableV2} outputs {@code DT_FLOAT_REF}). */
  public static final int REF_OFFSET = 100;

  private static final String[] NAMES = {"DT_INVALID", "DT_FLOAT", "DT_DOUBLE", "DT_INT32", "DT_UINT8",
      "DT_INT16", "DT_INT8", "DT_STRING", "DT_COMPLEX64", "DT_INT64", "DT_BOOL", "DT_QINT8", "DT_QUINT8",
      "DT_QINT32", "DT_BFLOAT16", "DT_QINT16", "DT_QUINT16", "DT_UINT16", "DT_COMPLEX128", "DT_HALF",
      "DT_RESOURCE", "DT_VARIANT", "DT_UINT32", "DT_UINT64", "DT_FLOAT8_E5M2", "DT_FLOAT8_E4M3FN",
      "DT_INT4", "DT_UINT4"};

  private DataTypes() {}

  /** {@code DT_FLOAT}, {@code DT_FLOAT_REF}, ...; an unknown number gives {@code DT_<number>}. */
  public static String name(int code) {
    if (code > REF_OFFSET && code - REF_OFFSET < NAMES.length) {
      return NAMES[code - REF_OFFSET] + "_REF";
    }
    return code >= 0 && code < NAMES.length ? NAMES[code] : "DT_" + code;
  }

  /** The number of a {@code DT_...} name, or -1. */
  public static int code(String name) {
    boolean ref = name.endsWith("_REF");
    String base = ref ? name.substring(0, name.length() - 4) : name;
    for (int i = 0; i < NAMES.length; i++) {
      if (NAMES[i].equals(base)) {
        return ref ? i + REF_OFFSET : i;
      }
    }
    return -1;
  }

  /** The type without its reference flag. */
  public static int base(int code) {
    return code > REF_OFFSET ? code - REF_OFFSET : code;
  }

  /** The tfport element type, or null for types tfport cannot hold in a {@link org.tfport.core.Tensor}. */
  public static DType toDType(int code) {
    return switch (base(code)) {
      case DT_FLOAT -> DType.FLOAT32;
      case DT_DOUBLE -> DType.FLOAT64;
      case DT_INT32 -> DType.INT32;
      case DT_UINT8 -> DType.UINT8;
      case DT_INT16 -> DType.INT16;
      case DT_INT8 -> DType.INT8;
      case DT_STRING -> DType.STRING;
      case DT_COMPLEX64 -> DType.COMPLEX64;
      case DT_INT64 -> DType.INT64;
      case DT_BOOL -> DType.BOOL;
      case DT_BFLOAT16 -> DType.BFLOAT16;
      case DT_UINT16 -> DType.UINT16;
      case DT_HALF -> DType.FLOAT16;
      default -> null;
    };
  }

  public static int fromDType(DType t) {
    return t.tfEnum();
  }
}
