package org.tfport.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.tfport.formats.savedmodel.SavedModelReader;

/** A zip upload: what it holds (a Keras 3 file or zipped SavedModels), and extracting it safely. */
final class UploadZip {
  private static final int MAX_ENTRIES = 100_000;

  private UploadZip() {}

  /**
   * What a zip holds.
   *
   * @param savedModels the folder (with a trailing '/', or "") of each saved_model.pb in it
   * @param keras3 whether it has the config.json of a Keras 3 {@code .keras} file at its root
   */
  record Contents(List<String> savedModels, boolean keras3) {}

  static Contents list(Path body) throws IOException {
    List<String> savedModels = new ArrayList<>();
    boolean keras3 = false;
    try (ZipFile z = new ZipFile(body.toFile())) {
      var it = z.entries();
      int count = 0;
      while (it.hasMoreElements()) {
        if (++count > MAX_ENTRIES) {
          throw new HttpError(413, "the zip has more than " + MAX_ENTRIES + " entries");
        }
        String e = it.nextElement().getName();
        if (e.equals(SavedModelReader.SAVED_MODEL_PB)
            || e.endsWith("/" + SavedModelReader.SAVED_MODEL_PB)) {
          savedModels.add(e.substring(0, e.length() - SavedModelReader.SAVED_MODEL_PB.length()));
        }
        keras3 |= e.equals("config.json");
      }
    } catch (ZipException e) {
      throw new HttpError(
          400, "the upload looks like a zip file but is damaged (" + e.getMessage() + ")");
    }
    return new Contents(savedModels, keras3);
  }

  /**
   * Extracts a zip holding one SavedModel under {@code root} (see {@link #unzip}) and returns the
   * SavedModel's folder; a zip with none or several is refused. What it inflates to may be four
   * times the upload limit.
   */
  static Path extractSavedModel(Path body, Contents zip, Path root, ServerConfig config)
      throws IOException {
    if (zip.savedModels().size() > 1) {
      throw new HttpError(
          400,
          "the zip holds "
              + zip.savedModels().size()
              + " SavedModels ("
              + zip.savedModels()
              + "); upload one at a time");
    }
    if (zip.savedModels().isEmpty()) {
      throw new HttpError(
          415,
          "the zip holds neither a Keras 3 model (config.json) nor a SavedModel"
              + " (saved_model.pb)");
    }
    unzip(body, root, config.maxUploadBytes() * 4);
    return root.resolve(zip.savedModels().get(0)).normalize();
  }

  /**
   * Extracts a zip under {@code root}, refusing entries that would land outside it and counting the
   * bytes actually inflated (entry headers can lie), so a zip bomb stops at {@code budget} bytes.
   */
  static void unzip(Path body, Path root, long budget) throws IOException {
    Files.createDirectories(root);
    long left = budget;
    byte[] buf = new byte[64 * 1024];
    try (ZipFile z = new ZipFile(body.toFile())) {
      var it = z.entries();
      while (it.hasMoreElements()) {
        ZipEntry e = it.nextElement();
        String n = e.getName();
        Path target;
        try {
          target = root.resolve(n).normalize();
        } catch (InvalidPathException bad) {
          // A NUL in an entry name: no file system has such a file.
          throw new HttpError(
              400, "zip entry '" + Names.printable(n) + "' has a name no file can have");
        }
        if (n.startsWith("/")
            || n.contains("\\")
            || n.contains(":")
            || !target.startsWith(root)
            || target.equals(root)) {
          throw new HttpError(
              400, "zip entry '" + Names.printable(n) + "' points outside the archive");
        }
        if (e.isDirectory()) {
          Files.createDirectories(target);
          continue;
        }
        Files.createDirectories(target.getParent());
        try (InputStream in = z.getInputStream(e);
            OutputStream out = Files.newOutputStream(target)) {
          int r;
          while ((r = in.read(buf)) >= 0) {
            left -= r;
            if (left < 0) {
              throw new HttpError(413, "the zip inflates to more than " + budget + " bytes");
            }
            out.write(buf, 0, r);
          }
        }
      }
    }
  }
}
