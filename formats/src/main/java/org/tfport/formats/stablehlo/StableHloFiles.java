package org.tfport.formats.stablehlo;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;

/** The files that hold StableHLO programs, and reading one into a {@link StableHloModule}. */
public final class StableHloFiles {
  /** The first bytes of MLIR bytecode ({@code .mlirbc}, a VHLO portable artifact): {@code MLïR}. */
  public static final byte[] BYTECODE_MAGIC = {'M', 'L', (byte) 0xEF, 'R'};

  private StableHloFiles() {}

  /** Whether the name says StableHLO: {@code .mlir}, {@code .mlirbc}, {@code .mlir.bc}. */
  public static boolean hasStableHloName(Path path) {
    String name =
        path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.endsWith(".mlir") || name.endsWith(".mlirbc") || name.endsWith(".mlir.bc")
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
   * Reads a StableHLO program: MLIR text; bytecode is refused by name until its reader is part of
   * tfport.
   *
   * @throws TfportException naming the file and the line when the text cannot be read
   */
  public static StableHloModule read(Path path) {
    if (!Files.isRegularFile(path)) {
      throw new UsageException(path + ": no such file");
    }
    byte[] head = new byte[4];
    int n;
    try (InputStream in = Files.newInputStream(path)) {
      n = in.readNBytes(head, 0, head.length);
    } catch (IOException e) {
      throw new UsageException(path + ": cannot read (" + e.getMessage() + ")");
    }
    if (isBytecode(head, n)) {
      throw new UnsupportedModelException(
          path + ": MLIR bytecode (a VHLO portable artifact); this build of tfport reads"
              + " StableHLO as MLIR text only: give the module's text (as JAX prints it with"
              + " exported.mlir_module())");
    }
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UsageException(path + ": cannot read (" + e.getMessage() + ")");
    }
    return StableHloText.parse(text, path.toString());
  }
}
