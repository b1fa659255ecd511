package org.tfport.formats.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.tfport.core.TfportException;

/**
 * What every fuzz target shares: the readers take paths, so each input is written to a scratch
 * folder first, and a reader's own refusal (a {@link TfportException}) is the expected outcome for
 * a damaged input, while anything else thrown is a finding.
 */
public final class FuzzFiles {
  private static final Path SCRATCH = makeScratch();

  private FuzzFiles() {}

  private static Path makeScratch() {
    try {
      Path dir = Files.createTempDirectory("tfport-fuzz");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The files {@link #write} made in each folder, which the next {@link #freshDir} removes. */
  private static final Map<Path, List<Path>> WRITTEN = new ConcurrentHashMap<>();

  /**
   * A folder under the scratch folder holding none of the previous input's files. Only the files
   * {@link #write} made are removed (the readers write nothing): walking and recreating the folder
   * for every input cost a campaign more than some parsers do.
   */
  public static Path freshDir(String name) {
    Path dir = SCRATCH.resolve(name);
    List<Path> previous = WRITTEN.remove(dir);
    try {
      if (previous == null) {
        deleteTree(dir);
        return Files.createDirectories(dir);
      }
      for (Path p : previous) {
        Files.deleteIfExists(p);
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes {@code bytes} as {@code dir/name}. */
  public static Path write(Path dir, String name, byte[] bytes) {
    try {
      Path p = dir.resolve(name);
      if (!p.getParent().equals(dir)) {
        Files.createDirectories(p.getParent());
      }
      WRITTEN.computeIfAbsent(dir, k -> new ArrayList<>()).add(p);
      return Files.write(p, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Issue 16: an input under 1 MB must be answered within 10 s. */
  static final long MAX_NANOS = 10_000_000_000L;

  static final int SMALL_INPUT = 1 << 20;

  /**
   * Runs {@code body} on {@code input}; a tfport refusal is a correct answer to a damaged input. A
   * JUnit {@code @Timeout} would also bound the whole campaign (one JUnit invocation), so time is
   * checked here. An input over the limit runs once more, warm, before it counts: the first run of
   * a campaign pays for class loading and instrumentation, and a shared machine for its neighbours.
   */
  public static void check(byte[] input, ThrowingRunnable body) {
    if (timed(body) > MAX_NANOS && input.length < SMALL_INPUT) {
      long again = timed(body);
      if (again > MAX_NANOS) {
        throw new AssertionError(
            "an input of "
                + input.length
                + " bytes took "
                + again / 1_000_000
                + " ms (limit 10 s)");
      }
    }
  }

  private static long timed(ThrowingRunnable body) {
    long start = System.nanoTime();
    expectRefusalOrSuccess(body);
    return System.nanoTime() - start;
  }

  /** Runs {@code body}; a tfport refusal is a correct answer to a damaged input. */
  public static void expectRefusalOrSuccess(ThrowingRunnable body) {
    try {
      body.run();
    } catch (TfportException expected) {
      // The reader named the problem; that is what a hostile input should get.
    } catch (Exception e) {
      throw new AssertionError("not a tfport refusal: " + e, e);
    }
  }

  /** A body that may throw checked exceptions (closing a model). */
  @FunctionalInterface
  public interface ThrowingRunnable {
    void run() throws Exception;
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
