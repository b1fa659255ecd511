package org.tfport.server;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.tfport.testkit.Repo;
import org.tfport.testkit.TfjsOracle;

/**
 * Node scripts for the server tests. TF.js comes from the testkit's locked npm install;
 * playwright-core from this module's own {@code src/test/node} (its package-lock.json is
 * committed), and the browser is Debian's chromium, installed with apt-get when missing and the
 * tests run as root, else the browser test is skipped with the reason.
 */
final class NodeTools {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  private NodeTools() {}

  static Path scripts() {
    return Repo.root().resolve("server/src/test/node");
  }

  /** node_modules holding @tensorflow/tfjs, for NODE_PATH. */
  static Path tfjsModules() {
    return TfjsOracle.ensureInstalled().dir().resolve("node_modules");
  }

  static Path tfMinJs() {
    return tfjsModules().resolve("@tensorflow/tfjs/dist/tf.min.js");
  }

  /**
   * Runs {@code node script args} with TF.js on NODE_PATH; returns the JSON its last stdout line
   * holds.
   */
  static String run(String script, long timeoutSeconds, String... args)
      throws IOException, InterruptedException {
    return run(java.util.Map.of(), script, timeoutSeconds, args);
  }

  /** As {@link #run(String, long, String...)}, with extra environment variables. */
  static String run(
      java.util.Map<String, String> env, String script, long timeoutSeconds, String... args)
      throws IOException, InterruptedException {
    Path node = TfjsOracle.ensureInstalled().node();
    List<String> cmd =
        new ArrayList<>(List.of(node.toString(), scripts().resolve(script).toString()));
    cmd.addAll(List.of(args));
    Path log = Files.createTempFile("node-" + script, ".log");
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(scripts().toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    String nodePath =
        tfjsModules() + java.io.File.pathSeparator + scripts().resolve("node_modules");
    pb.environment().put("NODE_PATH", nodePath);
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(script + " timed out; its output:\n" + Files.readString(log));
    }
    String out = Files.readString(log, StandardCharsets.UTF_8);
    Files.deleteIfExists(log);
    List<String> lines = out.lines().filter(l -> l.startsWith("{")).toList();
    if (lines.isEmpty()) {
      throw new AssertionError(script + " exited " + p.exitValue() + " without a result:\n" + out);
    }
    return lines.get(lines.size() - 1);
  }

  /** Installs playwright-core from the committed lock (once per checkout, under a file lock). */
  static synchronized void ensurePlaywright() throws IOException, InterruptedException {
    Path dir = scripts();
    Path marker = dir.resolve("node_modules/.tfport-installed");
    String want = Files.readString(dir.resolve("package-lock.json"));
    String stamp = Integer.toHexString(want.hashCode());
    if (Files.isRegularFile(marker) && Files.readString(marker).equals(stamp)) {
      return;
    }
    Path npm = npm();
    try (FileChannel ch =
        FileChannel.open(
            dir.resolve(".npm-install.lock"),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE)) {
      FileLock lock = ch.lock();
      if (Files.isRegularFile(marker) && Files.readString(marker).equals(stamp)) {
        return;
      }
      System.err.println("[server tests] npm ci (playwright-core) in " + dir);
      Process p =
          new ProcessBuilder(npm.toString(), "ci", "--no-audit", "--no-fund")
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new AssertionError("npm ci in " + dir + " failed:\n" + out);
      }
      Files.writeString(marker, stamp);
      lock.release();
    }
  }

  private static Path npm() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      Path p = Path.of(dir, "npm");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    throw new AssertionError("npm is not on the PATH; the browser test needs Node.js 20+ with npm");
  }

  /**
   * Debian's chromium: present, or installed now when running as root (as on CI), or the calling
   * test is skipped saying why.
   */
  static synchronized void ensureChromium() throws IOException, InterruptedException {
    if (Files.isExecutable(CHROMIUM)) {
      return;
    }
    boolean root = "root".equals(System.getProperty("user.name"));
    Assumptions.assumeTrue(
        root && Files.isExecutable(Path.of("/usr/bin/apt-get")),
        "browser test skipped: /usr/bin/chromium is missing and this is not root with apt-get; install it with"
            + " 'apt-get install -y --no-install-recommends chromium'");
    System.err.println(
        "[server tests] installing Debian chromium with apt-get (not a downloaded browser)");
    aptGet("update");
    aptGet("install", "-y", "--no-install-recommends", "chromium");
    if (!Files.isExecutable(CHROMIUM)) {
      throw new AssertionError("apt-get install chromium finished but " + CHROMIUM + " is missing");
    }
  }

  private static void aptGet(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("apt-get"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(15, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new AssertionError(
          "apt-get "
              + String.join(" ", args)
              + " failed:\n"
              + out.substring(Math.max(0, out.length() - 4000)));
    }
  }
}
