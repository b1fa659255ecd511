package org.tfport.formats.tflite;

import java.util.HashMap;
import java.util.Map;
import org.tensorflow.lite.schema.BuiltinOperator;

/** Names and numbers of the TFLite {@code BuiltinOperator} enum. */
public final class TfliteOps {
  /** The op code every custom and Flex op uses. */
  public static final int CUSTOM = 32;
  /** Old readers see this for every code above 127 (deprecated_builtin_code is a byte). */
  public static final int PLACEHOLDER_FOR_GREATER_OP_CODES = 127;
  /** Custom ops whose name starts with this run through the Flex (select TF ops) delegate. */
  public static final String FLEX_PREFIX = "Flex";

  // The 0.4.4 schema classes end at RIGHT_SHIFT = 161; the StableHLO era added these (current schema.fbs).
  private static final String[] NEWER = {
      "STABLEHLO_LOGISTIC", "STABLEHLO_ADD", "STABLEHLO_DIVIDE", "STABLEHLO_MULTIPLY", "STABLEHLO_MAXIMUM",
      "STABLEHLO_RESHAPE", "STABLEHLO_CLAMP", "STABLEHLO_CONCATENATE", "STABLEHLO_BROADCAST_IN_DIM",
      "STABLEHLO_CONVOLUTION", "STABLEHLO_SLICE", "STABLEHLO_CUSTOM_CALL", "STABLEHLO_REDUCE", "STABLEHLO_ABS",
      "STABLEHLO_AND", "STABLEHLO_COSINE", "STABLEHLO_EXPONENTIAL", "STABLEHLO_FLOOR", "STABLEHLO_LOG",
      "STABLEHLO_MINIMUM", "STABLEHLO_NEGATE", "STABLEHLO_OR", "STABLEHLO_POWER", "STABLEHLO_REMAINDER",
      "STABLEHLO_RSQRT", "STABLEHLO_SELECT", "STABLEHLO_SUBTRACT", "STABLEHLO_TANH", "STABLEHLO_SCATTER",
      "STABLEHLO_COMPARE", "STABLEHLO_CONVERT", "STABLEHLO_DYNAMIC_SLICE", "STABLEHLO_DYNAMIC_UPDATE_SLICE",
      "STABLEHLO_PAD", "STABLEHLO_IOTA", "STABLEHLO_DOT_GENERAL", "STABLEHLO_REDUCE_WINDOW", "STABLEHLO_SORT",
      "STABLEHLO_WHILE", "STABLEHLO_GATHER", "STABLEHLO_TRANSPOSE", "DILATE", "STABLEHLO_RNG_BIT_GENERATOR",
      "REDUCE_WINDOW", "STABLEHLO_COMPOSITE", "STABLEHLO_SHIFT_LEFT", "STABLEHLO_CBRT", "STABLEHLO_CASE"};

  private static final String[] NAMES;
  private static final Map<String, Integer> CODES = new HashMap<>();

  static {
    int old = BuiltinOperator.names.length;
    NAMES = new String[old + NEWER.length];
    System.arraycopy(BuiltinOperator.names, 0, NAMES, 0, old);
    System.arraycopy(NEWER, 0, NAMES, old, NEWER.length);
    for (int i = 0; i < NAMES.length; i++) {
      CODES.put(NAMES[i], i);
    }
  }

  private TfliteOps() {}

  /** The largest builtin code this code has a name for. */
  public static int maxKnownCode() {
    return NAMES.length - 1;
  }

  /** {@code CONV_2D} for 3, ...; {@code BUILTIN_<n>} for codes newer than this table. */
  public static String name(int code) {
    return code >= 0 && code < NAMES.length ? NAMES[code] : "BUILTIN_" + code;
  }

  /** The code of a builtin name, or -1. */
  public static int code(String name) {
    Integer c = CODES.get(name);
    return c == null ? -1 : c;
  }
}
