package org.tfport.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.TfportException.UsageException;

/**
 * Outputs are as readable as anything the user creates (the umask decides, not the owner-only modes
 * of temporary files), an earlier conversion in the output folder is replaced whole, and a folder
 * holding other files is refused by name unless overwriting is asked for.
 */
class AtomicOutputTest {
  @TempDir Path tmp;

  private static String tfportModelJson(String... shards) {
    StringBuilder paths = new StringBuilder();
    for (String s : shards) {
      paths.append(paths.isEmpty() ? "" : ",").append('"').append(s).append('"');
    }
    return "{\"format\":\"graph-model\",\"convertedBy\":\"tfport v0.1.0\",\"weightsManifest\":"
        + "[{\"paths\":["
        + paths
        + "],\"weights\":[]}]}";
  }

  private void write(Path dir, String... files) throws Exception {
    try (AtomicOutput out = AtomicOutput.modelFolder(dir, false)) {
      for (String f : files) {
        Files.writeString(
            out.dir().resolve(f),
            f.equals("model.json") ? tfportModelJson(shardsOf(files)) : "weights");
      }
      out.commit();
    }
  }

  private static String[] shardsOf(String... files) {
    return Stream.of(files).filter(f -> f.endsWith(".bin")).toArray(String[]::new);
  }

  private static List<String> list(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void outputsFollowTheUmask() throws Exception {
    Assumptions.assumeTrue(
        tmp.getFileSystem().supportedFileAttributeViews().contains("posix"), "no POSIX modes");
    // What the umask gives a file and a folder created plainly (0644 and 0755 under umask 022).
    Set<PosixFilePermission> fileMode =
        Files.getPosixFilePermissions(Files.createFile(tmp.resolve("plain")));
    Set<PosixFilePermission> dirMode =
        Files.getPosixFilePermissions(Files.createDirectory(tmp.resolve("plainDir")));
    assertThat(fileMode).contains(PosixFilePermission.OWNER_READ);

    Path out = tmp.resolve("out");
    try (AtomicOutput o = AtomicOutput.modelFolder(out, false)) {
      // Temporary files and folders are owner-only: what tfport must not leave that way.
      Path t = Files.createTempFile(o.dir(), "shard", ".bin");
      Files.move(t, o.dir().resolve("group1-shard1of1.bin"));
      Files.createDirectory(o.dir().resolve("assets"));
      Files.writeString(o.dir().resolve("model.json"), tfportModelJson("group1-shard1of1.bin"));
      o.commit();
    }
    assertThat(Files.getPosixFilePermissions(out)).isEqualTo(dirMode);
    assertThat(Files.getPosixFilePermissions(out.resolve("assets"))).isEqualTo(dirMode);
    assertThat(Files.getPosixFilePermissions(out.resolve("group1-shard1of1.bin")))
        .isEqualTo(fileMode);
    assertThat(Files.getPosixFilePermissions(out.resolve("model.json"))).isEqualTo(fileMode);

    Path single = Files.createTempFile(tmp, "model", ".tflite");
    AtomicOutput.followUmask(single);
    assertThat(Files.getPosixFilePermissions(single)).isEqualTo(fileMode);
  }

  @Test
  void anEarlierConversionIsReplacedWhole() throws Exception {
    Path out = tmp.resolve("out");
    write(
        out, "model.json", "group1-shard1of3.bin", "group1-shard2of3.bin", "group1-shard3of3.bin");
    write(out, "model.json", "group1-shard1of1.bin");
    assertThat(list(out)).containsExactly("group1-shard1of1.bin", "model.json");
    assertThat(Files.readString(out.resolve("model.json"))).contains("group1-shard1of1.bin");
    // No staging folder is left beside it.
    assertThat(list(tmp)).containsExactly("out");
  }

  @Test
  void otherFilesAreRefusedByNameUnlessOverwriting() throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    Files.writeString(out.resolve("notes.txt"), "mine");
    Files.writeString(
        out.resolve("model.json"),
        "{\"convertedBy\":\"TensorFlow.js Converter\","
            + "\"weightsManifest\":[{\"paths\":[\"old.bin\",\"../outside.bin\"]}]}");
    Files.writeString(out.resolve("old.bin"), "old");
    Files.writeString(tmp.resolve("outside.bin"), "not in the folder");

    assertThatThrownBy(() -> AtomicOutput.modelFolder(out, false))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("model.json, notes.txt, old.bin")
        .hasMessageContaining("TfjsOutputOptions.overwrite");
    assertThat(list(tmp)).containsExactly("out", "outside.bin");

    try (AtomicOutput o = AtomicOutput.modelFolder(out, true)) {
      Files.writeString(o.dir().resolve("model.json"), tfportModelJson("new.bin"));
      Files.writeString(o.dir().resolve("new.bin"), "new");
      o.commit();
    }
    // The old model goes, the user's file stays, and a manifest path never reaches outside.
    assertThat(list(out)).containsExactly("model.json", "new.bin", "notes.txt");
    assertThat(tmp.resolve("outside.bin")).exists();
  }
}
