package org.tfport.formats.tflite;

import java.util.Optional;

/**
 * {@code OperatorCode}. {@code builtinCode} is the resolved code: files store it twice (a byte for
 * old runtimes, capped at 127, and an int32) and readers take the larger. It stays a number so that
 * a file using a code newer than {@link TfliteBuiltin} still reads and writes back unchanged.
 *
 * @param customCode the custom op name when {@code builtinCode} is {@link TfliteBuiltin#CUSTOM},
 *     else null
 */
public record TfliteOperatorCode(int builtinCode, String customCode, int version) {
  /** Custom ops whose name starts with this run through the Flex (select TF ops) delegate. */
  public static final String FLEX_PREFIX = "Flex";

  public TfliteOperatorCode {
    if (builtinCode < 0) {
      throw new IllegalArgumentException("builtin code must be >= 0, got " + builtinCode);
    }
  }

  public static TfliteOperatorCode of(TfliteBuiltin op, int version) {
    return new TfliteOperatorCode(op.code(), null, version);
  }

  public static TfliteOperatorCode custom(String name) {
    return new TfliteOperatorCode(TfliteBuiltin.CUSTOM.code(), name, 1);
  }

  /** The builtin operator; empty for a code newer than {@link TfliteBuiltin}. */
  public Optional<TfliteBuiltin> builtin() {
    return Optional.ofNullable(TfliteBuiltin.ofCode(builtinCode));
  }

  public boolean isCustom() {
    return builtinCode == TfliteBuiltin.CUSTOM.code();
  }

  /** A custom op run by the Flex delegate (a TensorFlow op, {@code Flex<Op>}). */
  public boolean isFlex() {
    return isCustom() && customCode != null && customCode.startsWith(FLEX_PREFIX);
  }

  /** {@code CONV_2D}, or the custom op's name. */
  public String name() {
    return isCustom() && customCode != null ? customCode : TfliteBuiltin.nameOf(builtinCode);
  }
}
