package org.tfport.io;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UsageException;

/**
 * TF Hub modules given by URL, as {@code tensorflow_hub} resolves them: downloaded once into a
 * cache folder ({@code TFHUB_CACHE_DIR}, else {@code ~/.cache/tfport/tfhub_modules}), in a
 * subfolder named by the SHA-1 of the URL, from a compressed {@code .tar.gz} (a URL without a query
 * gets {@code ?tf-hub-format=compressed}, as tfhub.dev and Kaggle serve modules). The archive is
 * unpacked into a staging folder beside the cache entry, refusing absolute paths, {@code ..}, links
 * and anything past the size limits, then moved into place whole.
 */
public final class HubModules {
  /** The limits an archive is held to. */
  public record Limits(long maxDownloadBytes, long maxUnpackedBytes, int maxEntries) {
    public static final Limits DEFAULT = new Limits(8L << 30, 16L << 30, 100_000);
  }

  private static final int BLOCK = 512;

  private HubModules() {}

  /** Whether {@code input} is an http(s) URL rather than a path. */
  public static boolean isUrl(String input) {
    String s = input.toLowerCase(Locale.ROOT);
    return s.startsWith("https://") || s.startsWith("http://");
  }

  /** The cache folder: {@code TFHUB_CACHE_DIR}, else {@code ~/.cache/tfport/tfhub_modules}. */
  public static Path defaultCache() {
    String env = System.getenv("TFHUB_CACHE_DIR");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base =
        xdg != null && !xdg.isBlank()
            ? Path.of(xdg)
            : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("tfport").resolve("tfhub_modules");
  }

  /**
   * The module folder for {@code url}, downloading and unpacking it unless the cache has it.
   *
   * @param client the HTTP client, or null for one that follows redirects
   */
  public static Path fetch(String url, Path cache, HttpClient client, Limits limits) {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new UsageException(url + ": not a valid URL (" + e.getMessage() + ")");
    }
    Path dir = cache.resolve(sha1(url));
    Path descriptor = cache.resolve(dir.getFileName() + ".descriptor");
    if (Files.isDirectory(dir) && Files.isRegularFile(descriptor)) {
      return moduleRoot(dir, url);
    }
    URI download = downloadUri(uri);
    Path staging = null;
    try {
      Files.createDirectories(cache);
      staging = Files.createTempDirectory(cache, dir.getFileName() + ".tmp-");
      Path archive = staging.resolve("module.tar.gz");
      get(client, download, archive, limits);
      Path unpacked = Files.createDirectory(staging.resolve("module"));
      untar(archive, unpacked, limits, url);
      Files.delete(archive);
      moduleRoot(unpacked, url);
      try {
        Files.move(unpacked, dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
        // Another process unpacked the same module first; its copy is as good as ours.
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(unpacked, dir);
      }
      Files.writeString(
          descriptor,
          "Module: " + url + "\nDownloaded from: " + download + "\n",
          StandardCharsets.UTF_8);
      return moduleRoot(dir, url);
    } catch (IOException e) {
      throw new TfportException(
          url + ": downloading the TF Hub module into " + cache + " failed (" + e + ")", e);
    } finally {
      if (staging != null) {
        deleteTree(staging);
      }
    }
  }

  /** A module URL without a query is asked for in its compressed form. */
  static URI downloadUri(URI uri) {
    String path = uri.getPath() == null ? "" : uri.getPath().toLowerCase(Locale.ROOT);
    if (uri.getRawQuery() != null || path.endsWith(".tar.gz") || path.endsWith(".tgz")) {
      return uri;
    }
    return URI.create(uri + "?tf-hub-format=compressed");
  }

  private static void get(HttpClient client, URI uri, Path target, Limits limits)
      throws IOException {
    HttpClient c =
        client != null
            ? client
            : HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(30))
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
    HttpResponse<InputStream> r;
    try {
      r =
          c.send(
              HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    try (InputStream in = r.body()) {
      if (r.statusCode() != 200) {
        throw new UsageException(
            uri
                + " answered HTTP "
                + r.statusCode()
                + "; check the module URL (a TF Hub module page, or its .tar.gz)");
      }
      long declared = r.headers().firstValueAsLong("Content-Length").orElse(-1);
      if (declared > limits.maxDownloadBytes()) {
        throw new UsageException(
            uri + " is " + declared + " bytes, over the limit of " + limits.maxDownloadBytes());
      }
      copy(in, target, limits.maxDownloadBytes(), uri + " is over the download limit of ");
    }
  }

  private static void copy(InputStream in, Path target, long limit, String overMessage)
      throws IOException {
    byte[] buf = new byte[64 * 1024];
    long total = 0;
    try (OutputStream out = Files.newOutputStream(target)) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        total += n;
        if (total > limit) {
          throw new CorruptModelException(overMessage + limit + " bytes");
        }
        out.write(buf, 0, n);
      }
    }
  }

  /**
   * Unpacks a gzipped tar (ustar, GNU long names, pax paths) into {@code root}: regular files and
   * folders only, every path inside {@code root}.
   */
  static void untar(Path archive, Path root, Limits limits, String what) throws IOException {
    byte[] magic = new byte[2];
    try (InputStream in = Files.newInputStream(archive)) {
      if (in.readNBytes(magic, 0, 2) != 2
          || (magic[0] & 0xff) != 0x1f
          || (magic[1] & 0xff) != 0x8b) {
        throw new CorruptModelException(
            what
                + ": the download is not a .tar.gz (a TF Hub module in compressed form); check"
                + " the URL");
      }
    }
    long budget = limits.maxUnpackedBytes();
    int entries = 0;
    byte[] header = new byte[BLOCK];
    String longName = null;
    try (InputStream in =
        new BufferedInputStream(new GZIPInputStream(Files.newInputStream(archive), 64 * 1024))) {
      while (true) {
        int got = in.readNBytes(header, 0, BLOCK);
        if (got == 0 || got == BLOCK && allZero(header)) {
          return;
        }
        if (got != BLOCK) {
          throw new CorruptModelException(what + ": the tar archive is truncated");
        }
        if (++entries > limits.maxEntries()) {
          throw new CorruptModelException(
              what + ": the archive has more than " + limits.maxEntries() + " entries");
        }
        long size = octal(header, 124, 12, what);
        char type = (char) header[156];
        if (type == 'L' || type == 'x') {
          if (size > 1 << 20) {
            throw new CorruptModelException(what + ": a tar header record is over 1 MiB");
          }
          byte[] data = in.readNBytes((int) size);
          skip(in, padding(size));
          if (data.length != size) {
            throw new CorruptModelException(what + ": the tar archive is truncated");
          }
          longName = type == 'L' ? cString(data, 0, data.length) : paxPath(data, longName);
          continue;
        }
        if (type == 'g') {
          skip(in, size + padding(size));
          continue;
        }
        String name = longName != null ? longName : ustarName(header);
        longName = null;
        if (type == '1' || type == '2') {
          throw new CorruptModelException(
              what
                  + ": the archive holds a link ("
                  + name
                  + "); a TF Hub module holds only files and folders");
        }
        Path target = inside(root, name, what);
        if (type == '5') {
          Files.createDirectories(target);
          continue;
        }
        if (type != '0' && type != '\0' && type != '7') {
          throw new CorruptModelException(
              what + ": the archive entry " + name + " is of tar type '" + type + "', not a file");
        }
        budget -= size;
        if (budget < 0) {
          throw new CorruptModelException(
              what + ": the archive unpacks to more than " + limits.maxUnpackedBytes() + " bytes");
        }
        if (!target.equals(root)) {
          Files.createDirectories(target.getParent());
          try (OutputStream out = Files.newOutputStream(target)) {
            long left = size;
            byte[] buf = new byte[64 * 1024];
            while (left > 0) {
              int n = in.read(buf, 0, (int) Math.min(buf.length, left));
              if (n < 0) {
                throw new CorruptModelException(what + ": the tar archive is truncated in " + name);
              }
              out.write(buf, 0, n);
              left -= n;
            }
          }
        }
        skip(in, padding(size));
      }
    }
  }

  /** The path an entry names, refused when it is absolute or climbs out of {@code root}. */
  private static Path inside(Path root, String name, String what) {
    String n = name;
    while (n.startsWith("./")) {
      n = n.substring(2);
    }
    Path target = root.resolve(n).normalize();
    if (n.startsWith("/") || n.contains("\\") || n.contains(":") || !target.startsWith(root)) {
      throw new CorruptModelException(
          what + ": the archive entry '" + name + "' points outside the module folder");
    }
    return target;
  }

  /** Where the SavedModel is: the folder itself, or its only subfolder. */
  private static Path moduleRoot(Path dir, String what) {
    if (isModule(dir)) {
      return dir;
    }
    try (var s = Files.list(dir)) {
      var subs = s.filter(Files::isDirectory).toList();
      if (subs.size() == 1 && isModule(subs.get(0))) {
        return subs.get(0);
      }
    } catch (IOException e) {
      throw new TfportException(what + ": cannot list " + dir + " (" + e + ")", e);
    }
    throw new CorruptModelException(
        what + ": the archive holds no saved_model.pb or tfhub_module.pb; is it a TF Hub module?");
  }

  private static boolean isModule(Path dir) {
    return Files.isRegularFile(dir.resolve("saved_model.pb"))
        || Files.isRegularFile(dir.resolve("tfhub_module.pb"));
  }

  private static String ustarName(byte[] h) {
    String name = cString(h, 0, 100);
    boolean ustar = new String(h, 257, 5, StandardCharsets.US_ASCII).equals("ustar");
    String prefix = ustar ? cString(h, 345, 155) : "";
    return prefix.isEmpty() ? name : prefix + "/" + name;
  }

  private static String paxPath(byte[] data, String fallback) {
    String text = new String(data, StandardCharsets.UTF_8);
    for (String rec : text.split("\n")) {
      int sp = rec.indexOf(' ');
      if (sp > 0 && rec.startsWith("path=", sp + 1)) {
        return rec.substring(sp + 6);
      }
    }
    return fallback;
  }

  private static long octal(byte[] h, int off, int len, String what) {
    long v = 0;
    boolean any = false;
    for (int i = off; i < off + len; i++) {
      int c = h[i] & 0xff;
      if (c == 0 || c == ' ') {
        if (any) {
          break;
        }
        continue;
      }
      if (c < '0' || c > '7') {
        throw new CorruptModelException(what + ": a tar header has a malformed size field");
      }
      v = v * 8 + (c - '0');
      any = true;
      if (v > Long.MAX_VALUE / 16) {
        throw new CorruptModelException(what + ": a tar header's size is out of range");
      }
    }
    return v;
  }

  private static String cString(byte[] b, int off, int len) {
    int end = off;
    while (end < off + len && b[end] != 0) {
      end++;
    }
    return new String(b, off, end - off, StandardCharsets.UTF_8);
  }

  private static long padding(long size) {
    return (BLOCK - size % BLOCK) % BLOCK;
  }

  private static void skip(InputStream in, long n) throws IOException {
    in.skipNBytes(n);
  }

  private static boolean allZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  private static String sha1(String s) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void deleteTree(Path p) {
    try (var s = Files.walk(p)) {
      for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    } catch (IOException e) {
      // Staging left behind is harmless: its name never matches a cache entry.
    }
  }
}
