package org.tfport.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
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

  /** Files of an earlier model in the target, removed at commit when no new file replaces them. */
  private final Set<String> replaced = new LinkedHashSet<>();

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

  /**
   * A folder for a converted model. An earlier model in it is replaced whole: tfport's model.json
   * and the weight files its manifest lists are removed at commit unless a new file of the same
   * name replaces them, so no shard of the old model stays. Any other file (or a model.json tfport
   * did not write) is refused by name before any work, unless {@code overwrite}: then the old
   * model.json and its weight files are replaced and the other files are left alone.
   */
  public static AtomicOutput modelFolder(Path target, boolean overwrite) {
    Path abs = target.toAbsolutePath().normalize();
    Set<String> earlier = new LinkedHashSet<>();
    List<String> foreign = new ArrayList<>();
    if (Files.isDirectory(abs)) {
      boolean ours = earlierModel(abs, earlier);
      try (Stream<Path> s = Files.list(abs)) {
        s.map(p -> p.getFileName().toString())
            .sorted()
            .filter(n -> !(ours && earlier.contains(n)))
            .forEach(foreign::add);
      } catch (IOException e) {
        throw new OutputException(target + ": cannot list the output folder (" + e + ")", e);
      }
      if (!foreign.isEmpty() && !overwrite) {
        throw new UsageException(
            target
                + ": the output folder holds files tfport did not write ("
                + String.join(", ", foreign.subList(0, Math.min(5, foreign.size())))
                + (foreign.size() > 5 ? ", and " + (foreign.size() - 5) + " more" : "")
                + "); give a new or empty folder, or set TfjsOutputOptions.overwrite to replace the"
                + " model in it");
      }
    }
    AtomicOutput out = folder(target);
    out.replaced.addAll(earlier);
    return out;
  }

  /**
   * Adds {@code dir/model.json} and the weight files its manifest lists to {@code files}; returns
   * whether tfport wrote that model.json (its {@code convertedBy}).
   */
  private static boolean earlierModel(Path dir, Set<String> files) {
    Path mj = dir.resolve("model.json");
    if (!Files.isRegularFile(mj)) {
      return false;
    }
    files.add("model.json");
    try {
      tools.jackson.databind.JsonNode root =
          new tools.jackson.databind.ObjectMapper().readTree(Files.readString(mj));
      for (tools.jackson.databind.JsonNode group : root.path("weightsManifest")) {
        for (tools.jackson.databind.JsonNode p : group.path("paths")) {
          String name = p.asString("");
          // Only plain names in this folder: a manifest never makes tfport delete elsewhere.
          if (!name.isEmpty()
              && !name.contains("/")
              && !name.contains("\\")
              && !name.equals("..")
              && !name.equals(".")) {
            files.add(name);
          }
        }
      }
      return root.path("convertedBy").asString("").startsWith("tfport");
    } catch (IOException | RuntimeException e) {
      // Not a model.json tfport can read, so not one it wrote.
      return false;
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
      followUmask(staging);
      if (!Files.exists(target) || isEmptyDir(target)) {
        Files.deleteIfExists(target);
        move(staging, target);
      } else {
        Set<String> written = new java.util.HashSet<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(staging)) {
          for (Path f : files) {
            written.add(f.getFileName().toString());
            Path dest = target.resolve(f.getFileName().toString());
            if (Files.isDirectory(dest)) {
              throw new OutputException(
                  dest + ": a folder is in the way of an output file; remove it", null);
            }
            move(f, dest);
          }
        }
        Files.deleteIfExists(staging);
        // The new files are in place; what is left of the earlier model goes.
        for (String name : replaced) {
          Path old = target.resolve(name);
          if (!written.contains(name) && Files.isRegularFile(old)) {
            Files.deleteIfExists(old);
          }
        }
      }
      committed = true;
    } catch (IOException e) {
      throw new OutputException(target + ": cannot move the output into place (" + e + ")", e);
    }
  }

  /**
   * Gives {@code path} (a file, or a folder and everything in it) the permissions a file or folder
   * created plainly would have under the process's umask: temporary files and folders are created
   * owner-only, and outputs must be readable by whoever the umask lets read them (0644 and 0755
   * under umask 022). Does nothing on file systems without POSIX permissions.
   */
  public static void followUmask(Path path) {
    if (Files.getFileAttributeView(path, PosixFileAttributeView.class) == null) {
      return;
    }
    try {
      Path probeDir = path.toAbsolutePath().getParent();
      Set<PosixFilePermission>[] modes = umaskModes(probeDir);
      try (Stream<Path> s = Files.walk(path)) {
        for (Path p : (Iterable<Path>) s::iterator) {
          Files.setPosixFilePermissions(p, Files.isDirectory(p) ? modes[1] : modes[0]);
        }
      }
    } catch (IOException | UnsupportedOperationException e) {
      throw new OutputException(path + ": cannot set the output's permissions (" + e + ")", e);
    }
  }

  private static Set<PosixFilePermission>[] umaskModes;

  /**
   * The modes a new file and a new folder get, found once by creating one of each in {@code dir}:
   * Java cannot read the umask, but the file system applies it.
   */
  @SuppressWarnings("unchecked")
  private static synchronized Set<PosixFilePermission>[] umaskModes(Path dir) throws IOException {
    if (umaskModes == null) {
      Path probe =
          dir.resolve(".tfport-umask-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
      Set<PosixFilePermission> file;
      Set<PosixFilePermission> folder;
      try {
        Files.createFile(probe);
        file = Files.getPosixFilePermissions(probe);
      } finally {
        Files.deleteIfExists(probe);
      }
      try {
        Files.createDirectory(probe);
        folder = Files.getPosixFilePermissions(probe);
      } finally {
        Files.deleteIfExists(probe);
      }
      umaskModes = new Set[] {file, folder};
    }
    return umaskModes;
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
    // A walk fails with UncheckedIOException when a file goes while it runs (Jetty removes a
    // refused upload's part files on its own thread); walk again over what is left.
    for (int attempt = 0; attempt < 3 && Files.exists(root); attempt++) {
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
        return;
      } catch (IOException | UncheckedIOException e) {
        // Same, unless the next walk gets further.
      }
    }
  }
}
