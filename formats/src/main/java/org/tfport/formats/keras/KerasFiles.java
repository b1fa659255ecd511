package org.tfport.formats.keras;

import io.jhdf.HdfFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HexFormat;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.ModelFormat;

/** Tells a Keras HDF5 file from a Keras 3 zip by its first bytes, whatever its name. */
final class KerasFiles {
  private KerasFiles() {}

  static KerasModel open(Path file) {
    if (Files.isDirectory(file)) {
      throw new UsageException(
          file
              + ": is a folder; a Keras input is one .h5 or .keras file"
              + (Files.exists(file.resolve("saved_model.pb"))
                  ? " (this folder is a SavedModel: use ModelFormat.TF_SAVED_MODEL)"
                  : ""));
    }
    byte[] head = new byte[8];
    int n;
    try (InputStream in = Files.newInputStream(file)) {
      n = in.readNBytes(head, 0, 8);
    } catch (NoSuchFileException e) {
      throw new UsageException(file + ": no such file");
    } catch (IOException e) {
      throw new UsageException(file + ": cannot read (" + e.getMessage() + ")");
    }
    ModelFormat format = ModelFormat.ofSignature(head, n).orElse(null);
    if (format == ModelFormat.KERAS_KERAS) {
      return KerasV3Reader.read(file);
    }
    if (format != ModelFormat.KERAS) {
      throw new CorruptModelException(
          file
              + ": not a Keras file: it starts with bytes "
              + HexFormat.ofDelimiter(" ").formatHex(head, 0, n)
              + " instead of the HDF5 signature 89 48 44 46 (.h5) or a zip header (.keras)");
    }
    HdfFile h5;
    try {
      h5 = H5Access.open(file);
    } catch (IOException e) {
      throw new UsageException(file + ": cannot read (" + e.getMessage() + ")");
    } catch (RuntimeException e) {
      // jhdf reports a damaged file as any runtime exception (IllegalStateException,
      // BufferUnderflowException, ...), from wherever it notices.
      throw new CorruptModelException(
          file + ": damaged HDF5 file (" + e.getMessage() + "); it may be truncated: copy it again",
          e);
    }
    return KerasH5Reader.read(file, h5, null);
  }
}
