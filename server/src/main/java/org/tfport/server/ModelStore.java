package org.tfport.server;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.tfport.core.AtomicOutput;
import org.tfport.core.Json;
import org.tfport.core.TfportException.OutputException;
import tools.jackson.databind.JsonNode;

/**
 * The models on disk: {@code STORE/NAME/versions/N/} holds one immutable upload (model.json, its
 * shards and {@code .version.json}). An upload is assembled under {@code STORE/.tmp/} and becomes
 * visible in one directory rename, so a reader sees a version whole or not at all, and a server
 * killed mid-upload leaves only a staging folder that the next start deletes. Version numbers are
 * taken under a lock (in this JVM and, through a file lock, across processes sharing the store).
 */
final class ModelStore {
  static final String META = ".version.json";

  private final Path root;
  private final Path tmp;
  private final Map<String, Object> locks = new ConcurrentHashMap<>();
  private final Map<String, JsonNode> metaCache = new ConcurrentHashMap<>();
  private final long maxBytes;
  private final boolean durable;

  /** Bytes of every committed version, counted at start and grown by each commit. */
  private final AtomicLong used = new AtomicLong();

  ModelStore(Path root) {
    this(root, Long.MAX_VALUE);
  }

  /** {@code maxBytes}: the quota all versions together must fit (--max-store-bytes). */
  ModelStore(Path root, long maxBytes) {
    this(root, maxBytes, true);
  }

  /**
   * {@code durable}: whether a commit waits for its files and the rename to reach the disk. Only
   * the upload fuzz target turns it off: its versions are deleted right after, and a flush per
   * input would cap a campaign at the disk's rate rather than the parsers'.
   */
  ModelStore(Path root, long maxBytes, boolean durable) {
    this.maxBytes = maxBytes;
    this.durable = durable;
    this.root = root.toAbsolutePath().normalize();
    this.tmp = this.root.resolve(".tmp");
    try {
      Files.createDirectories(this.root);
      if (Files.exists(tmp)) {
        deleteTree(tmp);
      }
      Files.createDirectories(tmp);
      for (String n : names()) {
        used.addAndGet(treeBytes(root.resolve(n).resolve("versions")));
      }
    } catch (IOException e) {
      throw new OutputException("cannot prepare the model store " + this.root + " (" + e + ")", e);
    }
  }

  Path root() {
    return root;
  }

  /**
   * A fresh folder for one upload, on the store's file system so that committing it is a rename.
   */
  Path newStaging() {
    try {
      return Files.createTempDirectory(tmp, "upload-");
    } catch (IOException e) {
      throw new HttpError(
          507, "cannot create a staging folder in " + tmp + " (" + e.getMessage() + ")", e);
    }
  }

  /** Bytes the store quota still allows. */
  long remaining() {
    return maxBytes - used.get();
  }

  /** Makes {@code modelDir} version N of {@code name}, N one more than the newest; returns N. */
  int commit(String name, Path modelDir) {
    long bytes;
    try {
      bytes = treeBytes(modelDir);
    } catch (IOException e) {
      throw new HttpError(507, "cannot measure the upload (" + e.getMessage() + ")", e);
    }
    reserve(name, bytes);
    boolean committed = false;
    try {
      int v = move(name, modelDir);
      committed = true;
      return v;
    } finally {
      if (!committed) {
        used.addAndGet(-bytes);
      }
    }
  }

  /** Takes {@code bytes} of the quota, or refuses the upload when they do not fit. */
  private void reserve(String name, long bytes) {
    while (true) {
      long u = used.get();
      if (bytes > maxBytes - u) {
        throw new HttpError(
            507,
            "storing "
                + name
                + " needs "
                + bytes
                + " bytes but the store has "
                + Math.max(0, maxBytes - u)
                + " left of its quota of "
                + maxBytes
                + " (tfport serve --max-store-bytes)");
      }
      if (used.compareAndSet(u, u + bytes)) {
        return;
      }
    }
  }

  private int move(String name, Path modelDir) {
    if (durable) {
      fsyncTree(modelDir);
    }
    Object lock = locks.computeIfAbsent(name, k -> new Object());
    synchronized (lock) {
      try {
        Path versions = root.resolve(name).resolve("versions");
        Files.createDirectories(versions);
        try (FileChannel ch =
                FileChannel.open(
                    root.resolve(name).resolve(".lock"),
                    StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock ignored = ch.lock()) {
          int n = versions(name).stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
          Path target = versions.resolve(Integer.toString(n));
          // No REPLACE_EXISTING: should the number be taken after all, fail rather than overwrite.
          Files.move(modelDir, target, StandardCopyOption.ATOMIC_MOVE);
          if (durable) {
            fsync(versions);
          }
          return n;
        }
      } catch (IOException e) {
        throw new HttpError(507, "cannot store the model (" + e + ")", e);
      }
    }
  }

  /** Names with at least one version, sorted. */
  List<String> names() {
    List<String> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (!n.startsWith(".") && Files.isDirectory(p) && !versions(n).isEmpty()) {
          out.add(n);
        }
      }
    } catch (IOException e) {
      throw new HttpError(500, "cannot list the model store (" + e.getMessage() + ")", e);
    }
    Collections.sort(out);
    return out;
  }

  /** The version numbers of {@code name}, ascending; empty when there is no such model. */
  List<Integer> versions(String name) {
    Path versions = root.resolve(name).resolve("versions");
    if (!Files.isDirectory(versions)) {
      return List.of();
    }
    List<Integer> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(versions)) {
      for (Path p : ds) {
        String s = p.getFileName().toString();
        if (s.matches("[1-9][0-9]{0,8}")) {
          out.add(Integer.parseInt(s));
        }
      }
    } catch (IOException e) {
      throw new HttpError(500, "cannot list versions of " + name + " (" + e.getMessage() + ")", e);
    }
    Collections.sort(out);
    return out;
  }

  /** The newest version, or -1. */
  int latest(String name) {
    List<Integer> v = versions(name);
    return v.isEmpty() ? -1 : v.get(v.size() - 1);
  }

  Path dir(String name, int version) {
    return root.resolve(name).resolve("versions").resolve(Integer.toString(version));
  }

  /** The version's {@code .version.json}; versions never change, so it is read once. */
  JsonNode meta(String name, int version) {
    String key = name + "/" + version;
    JsonNode cached = metaCache.get(key);
    if (cached != null) {
      return cached;
    }
    Path f = dir(name, version).resolve(META);
    try {
      JsonNode n = Json.MAPPER.readTree(f);
      if (metaCache.size() > 10_000) {
        metaCache.clear();
      }
      metaCache.put(key, n);
      return n;
    } catch (RuntimeException e) {
      throw new HttpError(
          500,
          "version "
              + version
              + " of "
              + name
              + " has no readable "
              + META
              + " ("
              + e.getMessage()
              + ")",
          e);
    }
  }

  private static long treeBytes(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      long total = 0;
      for (Path p : (Iterable<Path>) s::iterator) {
        if (Files.isRegularFile(p)) {
          total += Files.size(p);
        }
      }
      return total;
    }
  }

  static void fsyncTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        fsync(p);
      }
    } catch (IOException e) {
      throw new HttpError(507, "cannot flush the upload to disk (" + e.getMessage() + ")", e);
    }
  }

  /**
   * Flushes a file or a folder's entries; folders cannot be opened for this everywhere, so that may
   * fail quietly.
   */
  static void fsync(Path p) {
    boolean dir = Files.isDirectory(p);
    try (FileChannel ch =
        FileChannel.open(p, dir ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
      ch.force(true);
    } catch (IOException e) {
      if (!dir) {
        throw new HttpError(
            507, "cannot flush " + p.getFileName() + " to disk (" + e.getMessage() + ")", e);
      }
    }
  }

  /** Best effort: staging leftovers are removed again at the next start. */
  static void deleteTree(Path root) {
    AtomicOutput.deleteTree(root);
  }
}
