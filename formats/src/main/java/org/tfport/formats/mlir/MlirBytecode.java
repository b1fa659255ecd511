package org.tfport.formats.mlir;

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
   * Decodes the whole file; {@code fileName} names it in errors. Every length, index and offset
   * is checked against the bytes present.
   *
   * @throws org.tfport.core.TfportException.CorruptModelException naming the file, the section
   *     and the byte offset of what is wrong
   */
  public static MlirModule read(byte[] bytes, String fileName) {
    return BytecodeReader.read(bytes, fileName);
  }
}
