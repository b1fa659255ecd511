package org.tfport.core;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;
import org.tfport.core.TfportException.OutputException;
import org.tfport.core.TfportException.UsageException;

/**
 * An output folder that appears whole or not at all. Files go into a hidden staging folder beside
 * the target (same file system, so the final move is a rename); {@link #commit()} moves them into
 * place, and {@link #close()} without a commit deletes everything that was staged.
 */
public final class AtomicOutput implements AutoCloseable {
  private final Path target;
  private final Path staging;
  private boolean committed;

  private AtomicOutput(Path target, Path staging) {
    this.target = target;
    this.staging = staging;
  }

  /** Checks the target can become a folder and creates the staging folder beside it. */
  public static AtomicOutput folder(Path target) {
    Path abs = target.toAbsolutePath().normalize();
    if (Files.exists(abs) && !Files.isDirectory(abs)) {
      throw new UsageException(
          target + ": the output path is an existing file; give a folder path");
    }
    Path parent = abs.getParent();
    try {
      Files.createDirectories(parent);
      Path staging = Files.createTempDirectory(parent, "." + abs.getFileName() + ".tfport-");
      return new AtomicOutput(abs, staging);
    } catch (IOException e) {
      throw new OutputException(target + ": cannot create the output folder (" + e + ")", e);
    }
  }

  /** Where to write; nothing here is visible at the target until {@link #commit()}. */
  public Path dir() {
    return staging;
  }

  /**
   * Moves the staged files into place. A missing or empty target folder is replaced in one rename;
   * files in an existing folder are replaced one by one, each atomically, so readers never see a
   * partial file.
   */
  public void commit() {
    try {
      if (!Files.exists(target) || isEmptyDir(target)) {
        Files.deleteIfExists(target);
        move(staging, target);
      } else {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(staging)) {
          for (Path f : files) {
            Path dest = target.resolve(f.getFileName().toString());
            if (Files.isDirectory(dest)) {
              throw new OutputException(
                  dest + ": a folder is in the way of an output file; remove it", null);
            }
            move(f, dest);
          }
        }
        Files.deleteIfExists(staging);
      }
      committed = true;
    } catch (IOException e) {
      throw new OutputException(target + ": cannot move the output into place (" + e + ")", e);
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static boolean isEmptyDir(Path p) throws IOException {
    if (!Files.isDirectory(p)) {
      return false;
    }
    try (Stream<Path> s = Files.list(p)) {
      return s.findAny().isEmpty();
    }
  }

  @Override
  public void close() {
    if (committed) {
      return;
    }
    deleteTree(staging);
  }

  /** Deletes a folder and everything in it, as far as it can; what cannot be removed stays. */
  public static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  // Leave what cannot be removed; it is a hidden staging folder.
                }
              });
    } catch (IOException e) {
      // Same: nothing more can be done.
    }
  }
}
