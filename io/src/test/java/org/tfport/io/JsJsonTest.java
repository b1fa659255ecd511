package org.tfport.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tfport.core.Json;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import tools.jackson.databind.JsonNode;

/** JsJson writes what JavaScript's JSON.stringify writes. */
class JsJsonTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "0, 0",
    "-0.0, 0",
    "1.0, 1",
    "100, 100",
    "0.1, 0.1",
    "1e21, 1e+21",
    "1e20, 100000000000000000000",
    "123456789012345678901234, 1.2345678901234569e+23",
    "1.5e-7, 1.5e-7",
    "0.000001, 0.000001",
    "1e-7, 1e-7",
    "-2.5e-10, -2.5e-10",
    "3.4028234663852886e38, 3.4028234663852886e+38",
    "1152921504606846976, 1152921504606847000",
    "0.30000000000000004, 0.30000000000000004",
    "4.9e-324, 5e-324",
    "9.9e-324, 1e-323",
    "2e-323, 2e-323",
    "1e23, 1e+23",
    "3e-5, 0.00003",
    "12345.678, 12345.678"
  })
  void numbersAsJavaScriptPrintsThem(double value, String js) {
    assertThat(JsJson.number(value)).isEqualTo(js);
  }

  @Test
  void stringsKeysAndSpecials() {
    JsonNode n =
        Json.MAPPER.readTree(
            "{\"b\":1,\"10\":2,\"a\":\"x\\u0001\\n\\\"\\\\/é😀\",\"2\":[1.0,null,true],"
                + "\"01\":3}");
    assertThat(JsJson.stringify(n))
        .isEqualTo(
            "{\"2\":[1,null,true],\"10\":2,\"b\":1,\"a\":\"x\\u0001\\n\\\"\\\\/é😀\","
                + "\"01\":3}");
    assertThat(JsJson.stringify(Json.MAPPER.readTree("\"\\ud800x\""))).isEqualTo("\"\\ud800x\"");
  }

  /**
   * The byte counts TF.js stores (ModelArtifactsInfo) for every corpus model.json, checked with
   * Node itself.
   */
  @OracleTest
  @Test
  void artifactInfoBytesMatchNodeForTheCorpus() throws IOException, InterruptedException {
    Path root = Corpus.require("tfjs");
    List<Path> files;
    try (Stream<Path> s = Files.walk(root)) {
      files = s.filter(p -> p.getFileName().toString().equals("model.json")).sorted().toList();
    }
    assertThat(files).hasSizeGreaterThan(5);
    Path list = tmp.resolve("files.txt");
    Files.write(list, files.stream().map(Path::toString).toList());
    String script =
        "const fs=require('fs');for(const f of fs.readFileSync(process.argv[1],'utf8').split('\\n')){"
            + "if(!f)continue;const j=JSON.parse(fs.readFileSync(f,'utf8'));const specs=[];"
            + "for(const g of j.weightsManifest||[])specs.push(...g.weights);"
            + "console.log(Buffer.byteLength(JSON.stringify(j.modelTopology))+' '+Buffer.byteLength(JSON.stringify(specs)));}";
    Process p =
        new ProcessBuilder(
                TfjsOracle.ensureInstalled().node().toString(), "-e", script, list.toString())
            .redirectErrorStream(true)
            .start();
    List<String> lines =
        new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(lines).hasSize(files.size());
    List<String> ours = new ArrayList<>();
    for (Path f : files) {
      ModelArtifacts a = Models.load("file://" + f);
      ModelArtifactsInfo i = a.info();
      ours.add(i.modelTopologyBytes() + " " + i.weightSpecsBytes());
    }
    assertThat(ours).isEqualTo(lines);
  }
}
