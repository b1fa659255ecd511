package org.tfport.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** The shared third-party model corpus (made by the real tools); tests skip when it is absent. */
public final class Corpus {
  private Corpus() {}

  /**
   * The corpus root: system property {@code tfport.corpus} (surefire sets it), else
   * {@code <repo root>/../shared/corpus}. The directory need not exist.
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
    Assumptions.assumeTrue(Files.exists(p),
        () -> "corpus file " + relative + " absent: " + p + " (set -Dtfport.corpus=<dir> to point at the corpus)");
    return p;
  }
}
