package org.tfport.formats.mlir;

import org.tfport.core.TfportException.CorruptModelException;

/**
 * MLIR bytecode files ({@code .mlirbc}, magic {@code ML\xEFR}): StableHLO portable artifacts (VHLO
 * dialect) as JAX writes them for {@code jax.export} and jax2tf's {@code XlaCallModule}.
 */
public final class MlirBytecode {
  private MlirBytecode() {}

  /** Whether {@code bytes} start with the MLIR bytecode magic number. */
  public static boolean isBytecode(byte[] bytes) {
    return bytes.length >= 4
        && bytes[0] == 'M'
        && bytes[1] == 'L'
        && (bytes[2] & 0xFF) == 0xEF
        && bytes[3] == 'R';
  }

  /**
   * Decodes the whole file; {@code fileName} names it in errors. Every length, index and offset is
   * checked against the bytes present.
   *
   * @throws org.tfport.core.TfportException.CorruptModelException naming the file, the section and
   *     the byte offset of what is wrong
   */
  public static MlirModule read(byte[] bytes, String fileName) {
    try {
      return BytecodeReader.read(bytes, fileName);
    } catch (CorruptModelException e) {
      throw named(e, fileName);
    } catch (IndexOutOfBoundsException | ArithmeticException | NumberFormatException e) {
      // Every length and index is checked as it is read; this is the net under those checks.
      throw new CorruptModelException(fileName + ": MLIR bytecode is malformed (" + e + ")");
    } catch (StackOverflowError e) {
      throw new CorruptModelException(
          fileName + ": MLIR bytecode nests attributes or regions too deeply to read");
    }
  }

  private static CorruptModelException named(CorruptModelException e, String fileName) {
    return e.getMessage() != null && e.getMessage().startsWith(fileName + ": ")
        ? e
        : new CorruptModelException(fileName + ": " + e.getMessage(), e);
  }

  /**
   * The module of a bytecode file or of a {@code jax.export} serialization as MLIR text: {@code
   * module} and {@code func.func} in their usual form, every other operation in the generic syntax,
   * VHLO operations written as the StableHLO ({@code stablehlo.*}) and {@code func.*} operations
   * they version, types and attributes in their builtin/StableHLO spelling. Locations are left out.
   */
  public static String toGenericText(byte[] bytes, String fileName) {
    MlirModule m = read(moduleBytes(bytes, fileName), fileName);
    try {
      return toGenericText(m);
    } catch (CorruptModelException e) {
      throw named(e, fileName);
    }
  }

  /** {@link #toGenericText(byte[], String)} of an already decoded module. */
  public static String toGenericText(MlirModule module) {
    return toGenericText(module, false);
  }

  /** As {@link #toGenericText(MlirModule)}, with each operation's {@code loc(...)} if asked. */
  public static String toGenericText(MlirModule module, boolean locations) {
    return GenericPrinter.print(toStablehlo(module).operations(), locations);
  }

  /** The module with VHLO operations and attributes mapped to their StableHLO forms. */
  public static MlirModule toStablehlo(MlirModule module) {
    return new MlirModule(
        module.bytecodeVersion(),
        module.producer(),
        module.dialects(),
        VhloToStablehlo.convert(module.operations(), ""));
  }

  /**
   * The MLIR bytecode of a StableHLO file as JAX writes it: the file itself when it is bytecode
   * ({@code .mlirbc}, {@code .mlir.bc}), else the module inside a {@code jax.export} serialization.
   */
  public static byte[] moduleBytes(byte[] file, String fileName) {
    return isBytecode(file) ? file : JaxExport.read(file, fileName).mlirModule();
  }

  /**
   * Whether {@code file} is a StableHLO program in binary form: MLIR bytecode, or a {@code
   * jax.export} serialization (a FlatBuffer without a magic number, so it is recognized by reading
   * it).
   */
  public static boolean isBinaryStableHlo(byte[] file) {
    if (isBytecode(file)) {
      return true;
    }
    try {
      JaxExport.read(file, "probe");
      return true;
    } catch (CorruptModelException | org.tfport.core.TfportException.UnsupportedModelException e) {
      return false;
    }
  }
}
