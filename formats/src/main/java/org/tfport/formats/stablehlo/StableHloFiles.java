package org.tfport.formats.stablehlo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.mlir.MlirBytecode;

/** The files that hold StableHLO programs, and reading one into a {@link StableHloModule}. */
public final class StableHloFiles {
  /** The first bytes of MLIR bytecode ({@code .mlirbc}, a VHLO portable artifact): {@code MLïR}. */
  public static final byte[] BYTECODE_MAGIC = {'M', 'L', (byte) 0xEF, 'R'};

  private StableHloFiles() {}

  /** Whether the name says StableHLO: {@code .mlir}, {@code .mlirbc}, {@code .mlir.bc}. */
  public static boolean hasStableHloName(Path path) {
    String name =
        path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.endsWith(".mlir")
        || name.endsWith(".mlirbc")
        || name.endsWith(".mlir.bc")
        || name.equals("mlir_module_text.txt");
  }

  public static boolean isBytecode(byte[] head, int n) {
    if (n < BYTECODE_MAGIC.length) {
      return false;
    }
    for (int i = 0; i < BYTECODE_MAGIC.length; i++) {
      if (head[i] != BYTECODE_MAGIC[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * The platforms a {@code jax.export} file was lowered for ({@code cpu}, {@code cuda}, ...), in
   * the order its platform index counts them; empty for MLIR text and bare bytecode.
   */
  public static java.util.List<String> platforms(Path path) {
    try {
      byte[] bytes = Files.readAllBytes(path);
      if (isBytecode(bytes, bytes.length) || !MlirBytecode.isBinaryStableHlo(bytes)) {
        return java.util.List.of();
      }
      return org.tfport.formats.mlir.JaxExport.read(bytes, path.toString()).platforms();
    } catch (IOException e) {
      throw new UsageException(path + ": cannot read (" + e.getMessage() + ")");
    }
  }

  /**
   * Reads a StableHLO program: MLIR text, MLIR bytecode (a VHLO portable artifact) or a {@code
   * jax.export} serialization; the binary forms go through {@link MlirBytecode}'s generic text.
   *
   * @throws TfportException naming the file (and the line of text) when it cannot be read
   */
  public static StableHloModule read(Path path) {
    if (!Files.isRegularFile(path)) {
      throw new UsageException(path + ": no such file");
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (IOException e) {
      throw new UsageException(path + ": cannot read (" + e.getMessage() + ")");
    }
    if (MlirBytecode.isBinaryStableHlo(bytes)) {
      return StableHloText.parse(
          MlirBytecode.toGenericText(bytes, path.toString()), path + " (decoded)");
    }
    return StableHloText.parse(new String(bytes, StandardCharsets.UTF_8), path.toString());
  }
}
