package org.tfport.core.graph;

import java.util.Map;
import org.tfport.core.DType;

/**
 * The numbers of TensorFlow's {@code DataType} enum that {@link DType} has no constant for
 * (resource, variant, reference types, quantized types), without the generated proto class. The IR
 * carries the raw number so that such types survive a read and a write unchanged; for every type
 * tfport holds in a tensor the number is {@link DType#tfEnum()} and {@link DType#fromTfEnum} goes
 * back.
 */
public final class DataTypes {
  public static final int DT_INVALID = 0;

  /**
   * {@link DType#FLOAT32}'s number, kept only because the runtime's model loader (which this change
   * does not touch) names it; new code writes {@code DType.FLOAT32.tfEnum()}.
   */
  public static final int DT_FLOAT = DType.FLOAT32.tfEnum();

  public static final int DT_RESOURCE = 20;
  public static final int DT_VARIANT = 21;

  /**
   * Reference types are the base type plus this (TF1 {@code VariableV2} outputs {@code
   * DT_FLOAT_REF}).
   */
  public static final int REF_OFFSET = 100;

  /** Names of the numbers {@link DType} lacks; the others are {@link DType#tfName()}. */
  private static final Map<Integer, String> OTHER_NAMES =
      Map.ofEntries(
          Map.entry(DT_INVALID, "DT_INVALID"),
          Map.entry(11, "DT_QINT8"),
          Map.entry(12, "DT_QUINT8"),
          Map.entry(13, "DT_QINT32"),
          Map.entry(15, "DT_QINT16"),
          Map.entry(16, "DT_QUINT16"),
          Map.entry(18, "DT_COMPLEX128"),
          Map.entry(DT_RESOURCE, "DT_RESOURCE"),
          Map.entry(DT_VARIANT, "DT_VARIANT"),
          Map.entry(22, "DT_UINT32"),
          Map.entry(23, "DT_UINT64"),
          Map.entry(24, "DT_FLOAT8_E5M2"),
          Map.entry(25, "DT_FLOAT8_E4M3FN"),
          Map.entry(29, "DT_INT4"),
          Map.entry(30, "DT_UINT4"));

  private DataTypes() {}

  /** {@code DT_FLOAT}, {@code DT_FLOAT_REF}, ...; an unknown number gives {@code DT_<number>}. */
  public static String name(int code) {
    if (code > REF_OFFSET) {
      String base = baseName(code - REF_OFFSET);
      if (base != null) {
        return base + "_REF";
      }
    }
    String n = baseName(code);
    return n != null ? n : "DT_" + code;
  }

  private static String baseName(int code) {
    DType t = DType.fromTfEnum(code);
    return t != null ? t.tfName() : OTHER_NAMES.get(code);
  }

  /** The number of a {@code DT_...} name, or -1. */
  public static int code(String name) {
    boolean ref = name.endsWith("_REF");
    String base = ref ? name.substring(0, name.length() - 4) : name;
    DType t = DType.fromTfName(base);
    int code =
        t != null
            ? t.tfEnum()
            : OTHER_NAMES.entrySet().stream()
                .filter(e -> e.getValue().equals(base))
                .mapToInt(Map.Entry::getKey)
                .findFirst()
                .orElse(-1);
    return code < 0 ? -1 : ref ? code + REF_OFFSET : code;
  }

  /** The type without its reference flag. */
  public static int base(int code) {
    return code > REF_OFFSET ? code - REF_OFFSET : code;
  }

  /**
   * The tfport element type of a number, reference types included, or null for types tfport cannot
   * hold in a {@link org.tfport.core.Tensor}.
   */
  public static DType toDType(int code) {
    return DType.fromTfEnum(base(code));
  }

  /** {@link DType#tfEnum()}, for callers that hold IR type numbers. */
  public static int fromDType(DType t) {
    return t.tfEnum();
  }
}
