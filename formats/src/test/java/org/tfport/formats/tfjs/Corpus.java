package org.tfport.formats.tfjs;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Finds the shared model corpus, which tests read in place and never copy. */
final class Corpus {
  private Corpus() {}

  static Path root() {
    String prop = System.getProperty("tfport.corpus");
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop).toAbsolutePath().normalize();
    }
    String repo = System.getProperty("tfport.root");
    Path root = repo != null && !repo.isBlank() ? Path.of(repo) : findRepoRoot();
    return root.resolve("../shared/corpus").toAbsolutePath().normalize();
  }

  /** The corpus's tfjs folder; skips the calling test when the corpus is not there. */
  static Path tfjs() {
    Path p = root().resolve("tfjs");
    Assumptions.assumeTrue(Files.isDirectory(p),
        "model corpus not found at " + p + " (set -Dtfport.corpus=/path/to/corpus to run corpus tests); skipping");
    return p;
  }

  private static Path findRepoRoot() {
    Path p = Path.of("").toAbsolutePath();
    for (Path q = p; q != null; q = q.getParent()) {
      if (Files.exists(q.resolve("mvnw"))) {
        return q;
      }
    }
    return p;
  }
}
