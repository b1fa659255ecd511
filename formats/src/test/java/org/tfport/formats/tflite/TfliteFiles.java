package org.tfport.formats.tflite;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.tfport.testkit.Corpus;

/** The corpus's TFLite models (.tflite and the LiteRT test-data .bin files), read in place. */
final class TfliteFiles {
  /** Folder of deliberately broken files (MANIFEST: "INVALID ON PURPOSE"). */
  static final String NEGATIVE = "litert/negative/";

  private TfliteFiles() {}

  static Path root() {
    return Corpus.require("tflite");
  }

  static List<Path> all() {
    Path root = root();
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile)
          .filter(p -> p.toString().endsWith(".tflite") || p.toString().endsWith(".bin"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String rel(Path p) {
    return root().relativize(p).toString().replace('\\', '/');
  }

  static boolean isNegative(Path p) {
    return rel(p).startsWith(NEGATIVE);
  }

  static List<Path> readable() {
    return all().stream().filter(p -> !isNegative(p)).toList();
  }
}
