package org.tfport.formats.tflite;

/**
 * The op-name lookups the runtime's TFLite importer still calls, kept as delegates so that it compiles while it
 * moves to {@link TfliteBuiltin} and {@link TfliteOperatorCode}; holds no table of its own.
 *
 * @deprecated use {@link TfliteBuiltin#nameOf}, {@link TfliteBuiltin} and {@link TfliteOperatorCode#FLEX_PREFIX}
 */
@Deprecated
public final class TfliteOps {
  /** Custom ops whose name starts with this run through the Flex (select TF ops) delegate. */
  public static final String FLEX_PREFIX = TfliteOperatorCode.FLEX_PREFIX;

  private TfliteOps() {}

  /** {@code CONV_2D} for 3, ...; {@code BUILTIN_<n>} for codes newer than {@link TfliteBuiltin}. */
  public static String name(int code) {
    return TfliteBuiltin.nameOf(code);
  }
}
