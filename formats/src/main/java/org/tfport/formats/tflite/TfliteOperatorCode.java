package org.tfport.formats.tflite;

/**
 * {@code OperatorCode}. {@code builtinCode} is the resolved code: files store it twice (a byte for
 * old runtimes, capped at 127, and an int32) and readers take the larger.
 *
 * @param customCode the custom op name when {@code builtinCode} is CUSTOM (32), else null
 */
public record TfliteOperatorCode(int builtinCode, String customCode, int version) {
  public TfliteOperatorCode {
    if (builtinCode < 0) {
      throw new IllegalArgumentException("builtin code must be >= 0, got " + builtinCode);
    }
  }

  public static TfliteOperatorCode builtin(int code, int version) {
    return new TfliteOperatorCode(code, null, version);
  }

  public static TfliteOperatorCode custom(String name) {
    return new TfliteOperatorCode(TfliteOps.CUSTOM, name, 1);
  }

  public boolean isCustom() {
    return builtinCode == TfliteOps.CUSTOM;
  }

  /** A custom op run by the Flex delegate (a TensorFlow op, {@code Flex<Op>}). */
  public boolean isFlex() {
    return isCustom() && customCode != null && customCode.startsWith(TfliteOps.FLEX_PREFIX);
  }

  /** {@code CONV_2D}, or the custom op's name. */
  public String name() {
    return isCustom() && customCode != null ? customCode : TfliteOps.name(builtinCode);
  }
}
