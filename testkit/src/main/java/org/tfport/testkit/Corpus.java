package org.tfport.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** The shared third-party model corpus (made by the real tools); tests skip when it is absent. */
public final class Corpus {
  private Corpus() {}

  /**
   * The corpus root: system property {@code tfport.corpus} (surefire sets it), else {@code <repo
   * root>/../shared/corpus}. The directory need not exist.
   */
  public static Path root() {
    String prop = System.getProperty("tfport.corpus");
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop).toAbsolutePath().normalize();
    }
    return Repo.root().resolve("../shared/corpus").toAbsolutePath().normalize();
  }

  /** Whether {@code relative} (a file or directory under the corpus root) exists. */
  public static boolean has(String relative) {
    return Files.exists(root().resolve(relative));
  }

  /**
   * Resolves {@code relative} against the corpus root, or aborts the calling test (JUnit
   * assumption: the test is reported as skipped, with the reason) when it is not there.
   */
  public static Path require(String relative) {
    Path p = root().resolve(relative).normalize();
    Assumptions.assumeTrue(
        Files.exists(p),
        () ->
            "corpus file "
                + relative
                + " absent: "
                + p
                + " (set -Dtfport.corpus=<dir> to point at the corpus)");
    return p;
  }

  /** A DL4J {@code *.csv} of flattened values, one per line. */
  public static float[] dl4jCsv(Path p) throws java.io.IOException {
    java.util.List<String> lines =
        java.nio.file.Files.readAllLines(p).stream()
            .map(String::strip)
            .filter(l -> !l.isEmpty())
            .toList();
    float[] v = new float[lines.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = Float.parseFloat(lines.get(i));
    }
    return v;
  }

  /**
   * The {@code .shape} beside a DL4J csv. DL4J writes a scalar's shape as a lone 0, so a shape
   * whose size does not match the values read is taken as a scalar (empty shape).
   */
  public static long[] dl4jShape(Path csv, int values) throws java.io.IOException {
    String base = csv.toString().substring(0, csv.toString().length() - ".csv".length());
    long[] s =
        java.nio.file.Files.readAllLines(Path.of(base + ".shape")).stream()
            .map(String::strip)
            .filter(l -> !l.isEmpty())
            .mapToLong(Long::parseLong)
            .toArray();
    long n = 1;
    for (long d : s) {
      n *= d;
    }
    return n == values ? s : new long[0];
  }
}
