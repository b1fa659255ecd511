package org.tfport.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.tfport.testkit.TfjsOracle.Installation;

/**
 * The Node.js side of the TF.js oracle: finds {@code node} and {@code npm}, checks Node's version,
 * and installs {@code testkit/node}'s locked packages once per lock file, under a file lock shared
 * by parallel test JVMs.
 */
final class NodeInstall {
  private static final String MARKER = ".tfport-installed";
  private static final int MIN_NODE_MAJOR = 18;
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(15);

  private static Installation installation;

  private NodeInstall() {}

  /** See {@link TfjsOracle#ensureInstalled()}. */
  static synchronized Installation ensure() {
    if (installation != null) {
      return installation;
    }
    Path dir = Repo.root().resolve("testkit/node");
    Path node = executable("node", "tfport.node");
    checkNodeVersion(node);
    Path lockfile = dir.resolve("package-lock.json");
    if (!Files.isRegularFile(lockfile) || !Files.isRegularFile(dir.resolve("tfjs_oracle.js"))) {
      throw new IllegalStateException(dir + " lacks package-lock.json or tfjs_oracle.js");
    }
    String want;
    try {
      want =
          sha256(Files.readAllBytes(lockfile))
              + " "
              + sha256(Files.readAllBytes(dir.resolve("package.json")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path marker = dir.resolve("node_modules").resolve(MARKER);
    if (!want.equals(readQuietly(marker))) {
      Path npm = executable("npm", "tfport.npm");
      try (FileChannel ch =
              FileChannel.open(
                  dir.resolve(".npm-install.lock"),
                  StandardOpenOption.CREATE,
                  StandardOpenOption.WRITE);
          FileLock ignored = ch.lock()) {
        if (!want.equals(readQuietly(marker))) {
          npmCi(npm, dir);
          Files.writeString(marker, want);
        }
      } catch (IOException e) {
        throw new IllegalStateException(
            "installing the tfjs oracle in " + dir + " failed: " + e, e);
      }
    }
    installation = new Installation(node, dir);
    return installation;
  }

  private static void npmCi(Path npm, Path dir) throws IOException {
    Path log = dir.resolve("npm-install.log");
    ProcessBuilder pb =
        new ProcessBuilder(npm.toString(), "ci", "--no-audit", "--no-fund")
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("npm_config_update_notifier", "false");
    long t0 = System.nanoTime();
    System.err.println(
        "[tfport testkit] installing @tensorflow/tfjs "
            + TfjsOracle.TFJS_VERSION
            + " with npm ci in "
            + dir);
    Process p = pb.start();
    boolean done;
    try {
      done = p.waitFor(INSTALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during npm ci in " + dir, e);
    }
    if (!done) {
      p.destroyForcibly();
      throw new IllegalStateException(
          "npm ci in "
              + dir
              + " timed out after "
              + INSTALL_TIMEOUT.toMinutes()
              + " min; its output:\n"
              + TfjsOracle.tail(log, 10_000));
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(
          "npm ci in "
              + dir
              + " failed (exit "
              + p.exitValue()
              + "); is the npm registry reachable? Its output ("
              + log
              + "):\n"
              + TfjsOracle.tail(log, 10_000));
    }
    if (!Files.isRegularFile(dir.resolve("node_modules/@tensorflow/tfjs/package.json"))
        || !Files.isRegularFile(
            dir.resolve("node_modules/@tensorflow/tfjs-backend-wasm/package.json"))) {
      throw new IllegalStateException(
          "npm ci in "
              + dir
              + " succeeded but @tensorflow/tfjs is not installed:\n"
              + TfjsOracle.tail(log, 10_000));
    }
    System.err.printf(
        Locale.ROOT, "[tfport testkit] npm ci took %.1f s%n", (System.nanoTime() - t0) / 1e9);
  }

  private static void checkNodeVersion(Path node) {
    String v;
    try {
      Process p =
          new ProcessBuilder(node.toString(), "--version").redirectErrorStream(true).start();
      v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(node + " --version failed: " + v);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + node + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    int major;
    try {
      major = Integer.parseInt(v.replaceFirst("^v", "").split("\\.")[0]);
    } catch (NumberFormatException e) {
      throw new IllegalStateException("cannot read the version of " + node + ": " + v, e);
    }
    if (major < MIN_NODE_MAJOR) {
      throw new IllegalStateException(
          "the tfjs oracle needs Node " + MIN_NODE_MAJOR + "+, " + node + " is " + v);
    }
  }

  /** The executable from system property {@code prop}, else {@code name} on the PATH. */
  static Path executable(String name, String prop) {
    String override = System.getProperty(prop);
    if (override != null && !override.isBlank()) {
      Path p = Path.of(override);
      if (!Files.isExecutable(p)) {
        throw new IllegalStateException(
            "-D" + prop + "=" + override + " is not an executable file");
      }
      return p;
    }
    boolean windows =
        System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
    List<String> names = windows ? List.of(name + ".exe", name + ".cmd", name) : List.of(name);
    String path = System.getenv("PATH");
    if (path != null) {
      for (String entry : path.split(java.io.File.pathSeparator)) {
        if (entry.isEmpty()) {
          continue;
        }
        for (String n : names) {
          Path p = Path.of(entry).resolve(n);
          if (Files.isRegularFile(p) && Files.isExecutable(p)) {
            return p;
          }
        }
      }
    }
    throw new IllegalStateException(
        "the tfjs oracle needs '"
            + name
            + "' (Node.js "
            + MIN_NODE_MAJOR
            + "+ with npm) but it is not on the PATH ("
            + path
            + "); install Node.js or set -D"
            + prop
            + "=<path>");
  }

  private static String readQuietly(Path p) {
    try {
      return Files.isRegularFile(p) ? Files.readString(p) : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
