package org.tfport.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the tfport working copy that tests run in. */
public final class Repo {
  /** A file that only the tfport repository root has beneath it. */
  static final String MARKER = "testkit/node/package.json";

  private static volatile Path root;

  private Repo() {}

  /**
   * The repository root: system property {@code tfport.root} (surefire sets it) when it holds
   * {@value #MARKER}, else the nearest directory at or above the working directory that does.
   *
   * @throws IllegalStateException when neither finds it
   */
  public static Path root() {
    Path r = root;
    if (r == null) {
      r = find();
      root = r;
    }
    return r;
  }

  private static Path find() {
    String prop = System.getProperty("tfport.root");
    if (prop != null && !prop.isBlank()) {
      Path p = Path.of(prop).toAbsolutePath().normalize();
      if (Files.isRegularFile(p.resolve(MARKER))) {
        return p;
      }
    }
    Path cwd = Path.of("").toAbsolutePath().normalize();
    for (Path p = cwd; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve(MARKER))) {
        return p;
      }
    }
    throw new IllegalStateException(
        "cannot find the tfport repository root: system property tfport.root is "
            + (prop == null ? "unset" : "'" + prop + "'")
            + " and no directory at or above "
            + cwd
            + " contains "
            + MARKER);
  }
}
