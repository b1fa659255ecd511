package org.tfport.graph;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.tfport.core.TfportException;

/**
 * Fuzz target (issue 16) for the TF.js graph model reader: model.json, a zero byte, then the bytes
 * of the shard {@code group1-shard1of1.bin} its manifest should name. Every input must give a graph
 * or a {@link TfportException}, within 10 s; anything else thrown is a finding. Regression inputs:
 * {@code TfjsGraphFuzzTestInputs/tfjsGraph/}; campaigns: {@code bin/fuzz --target tfjsGraph}.
 */
class TfjsGraphFuzzTest {
  private static Path scratch;

  @FuzzTest
  void tfjsGraph(byte[] data) throws IOException {
    // Over 10 s counts only if a second, warm run is as slow (class loading, a busy machine).
    if (timed(data) > 10_000_000_000L && data.length < 1 << 20 && timed(data) > 10_000_000_000L) {
      throw new AssertionError("an input of " + data.length + " bytes took over 10 s, twice");
    }
  }

  private static long timed(byte[] data) throws IOException {
    long start = System.nanoTime();
    Path dir = freshDir();
    int cut = 0;
    while (cut < data.length && data[cut] != 0) {
      cut++;
    }
    Path json = Files.write(dir.resolve("model.json"), Arrays.copyOf(data, cut));
    if (cut < data.length) {
      Files.write(
          dir.resolve("group1-shard1of1.bin"), Arrays.copyOfRange(data, cut + 1, data.length));
    }
    try {
      TfjsGraphReader.TfjsGraph g = TfjsGraphReader.read(json);
      TfjsGraphReader.initializer(g);
    } catch (TfportException expected) {
      // A refusal that names the problem is the right answer to a damaged model.
    }
    return System.nanoTime() - start;
  }

  private static synchronized Path freshDir() throws IOException {
    if (scratch == null) {
      scratch = Files.createTempDirectory("tfport-fuzz-graph");
      scratch.toFile().deleteOnExit();
    }
    for (String f : new String[] {"model.json", "group1-shard1of1.bin"}) {
      Files.deleteIfExists(scratch.resolve(f));
    }
    return scratch;
  }
}
