package org.tfport.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.tfport.core.TfportException.OutputException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.io.ModelArtifacts;
import org.tfport.io.Models;

/**
 * Models named by URL: a local one is loaded in place; another is fetched with the io module's
 * handlers (TF.js artifacts), written to a temporary folder as model.json and weights.bin, loaded
 * from there like any model.json, and the folder deleted.
 */
final class UrlLoader {
  private UrlLoader() {}

  static Model load(String url, LoadOptions options) {
    int scheme = url.indexOf("://");
    if (scheme < 0) {
      return Model.load(Path.of(url), options);
    }
    if (url.regionMatches(true, 0, "file://", 0, 7)) {
      return Model.load(localPath(url), options);
    }
    ModelArtifacts artifacts = Models.load(url);
    Path dir;
    try {
      dir = Files.createTempDirectory("tfport-model-");
    } catch (IOException e) {
      throw new OutputException(
          url + ": cannot make a temporary folder for the model (" + e.getMessage() + ")", e);
    }
    try {
      Path folder = dir.resolve("model");
      Models.save(artifacts, "file://" + folder.toAbsolutePath());
      // The folder is deleted below: the model cannot read it again.
      return Model.load(folder.resolve("model.json"), options.withSourceWeightsDropped(false));
    } finally {
      deleteTree(dir);
    }
  }

  /** {@code file:///abs/path} as a URI would give it, and {@code file://relative/path} too. */
  private static Path localPath(String url) {
    String rest = url.substring(7);
    if (rest.isEmpty()) {
      throw new UsageException("'" + url + "' names no path; use file:///abs/path or file://path");
    }
    if (rest.startsWith("/")) {
      try {
        return Path.of(new URI("file", null, rest, null));
      } catch (URISyntaxException | IllegalArgumentException e) {
        return Path.of(rest);
      }
    }
    return Path.of(rest);
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      // A leftover temporary folder is the system's to clean; the model is loaded.
    }
  }
}
