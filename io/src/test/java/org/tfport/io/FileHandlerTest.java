package org.tfport.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.formats.tfjs.WeightSpec;
import org.tfport.testkit.Corpus;
import tools.jackson.databind.JsonNode;

class FileHandlerTest {
  @TempDir Path tmp;

  static ModelArtifacts small() {
    JsonNode topo =
        Json.MAPPER.readTree("{\"class_name\":\"Sequential\",\"config\":{\"layers\":[]}}");
    List<WeightSpec> specs =
        List.of(
            new WeightSpec("a", Shape.of(2), DType.FLOAT32, null, null),
            new WeightSpec("b", Shape.of(3), DType.INT32, null, null));
    ByteBuffer data = ByteBuffer.allocate(20);
    for (int i = 0; i < 20; i++) {
      data.put((byte) i);
    }
    return new ModelArtifacts(
        topo,
        "layers-model",
        "test",
        null,
        null,
        null,
        Json.MAPPER.readTree("{\"k\":1}"),
        null,
        null,
        specs,
        List.of(data.flip()));
  }

  @Test
  void savesAsTfjsNodeAndLoadsBack() throws Exception {
    Path dir = tmp.resolve("m");
    SaveResult r = Models.save(small(), "file://" + dir);
    assertThat(r.modelArtifactsInfo().weightDataBytes()).isEqualTo(20);
    assertThat(dir.resolve("weights.bin")).hasSize(20);
    JsonNode json = Json.MAPPER.readTree(dir.resolve("model.json"));
    assertThat(json.path("weightsManifest").get(0).path("paths").get(0).stringValue())
        .isEqualTo("weights.bin");
    assertThat(json.properties().stream().map(java.util.Map.Entry::getKey).toList())
        .startsWith("modelTopology", "weightsManifest", "format", "generatedBy", "convertedBy");
    assertThat(TfjsReader.read(dir.resolve("model.json")).weightCount()).isEqualTo(2);
    ModelArtifacts back = Models.load("file://" + dir.resolve("model.json"));
    assertThat(back.weightSpecs()).isEqualTo(small().weightSpecs());
    assertThat(back.joinedWeightData()).isEqualTo(small().joinedWeightData());
    assertThat(back.userDefinedMetadata()).isEqualTo(small().userDefinedMetadata());
    // Saving again over the same folder replaces the files.
    Models.save(back, "file://" + dir);
    try (var s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString()).sorted().toList())
          .containsExactly("model.json", "weights.bin");
    }
  }

  @Test
  void loadsTheFolderASaveWrote() throws Exception {
    Path dir = tmp.resolve("saved");
    Models.save(small(), "file://" + dir);
    // As the documentation says: file:///folder is the model.json in it.
    ModelArtifacts back = Models.load("file://" + dir.toAbsolutePath());
    assertThat(back.weightSpecs()).isEqualTo(small().weightSpecs());
    assertThat(back.joinedWeightData()).isEqualTo(small().joinedWeightData());
    assertThat(Models.load("file://" + dir + "/").weightDataBytes()).isEqualTo(20);
  }

  @Test
  void routersFromServiceLoaderTakePart() throws Exception {
    Models.save(small(), "file://" + tmp.resolve("m"));
    Models.copy("file://" + tmp.resolve("m/model.json"), "mem://copy", LoadOptions.defaults());
    assertThat(MemoryRouter.STORE.get("copy").joinedWeightData())
        .isEqualTo(small().joinedWeightData());
    assertThat(Models.load("mem://copy").weightSpecs()).isEqualTo(small().weightSpecs());
    assertThatThrownBy(() -> Models.load("mem://none")).isInstanceOf(ModelIOException.class);
  }

  @Test
  void downloadsNaming() throws Exception {
    Models.save(small(), "file://" + tmp.resolve("my-net.json"));
    assertThat(tmp.resolve("my-net.weights.bin")).hasSize(20);
    JsonNode json = Json.MAPPER.readTree(tmp.resolve("my-net.json"));
    assertThat(json.path("weightsManifest").get(0).path("paths").get(0).stringValue())
        .isEqualTo("./my-net.weights.bin");
    assertThat(json.properties().stream().map(java.util.Map.Entry::getKey).toList())
        .startsWith(
            "modelTopology",
            "format",
            "generatedBy",
            "convertedBy",
            "weightsManifest",
            "userDefinedMetadata");
    assertThat(Models.load("file://" + tmp.resolve("my-net.json")).weightDataBytes()).isEqualTo(20);
  }

  @Test
  void refusals() throws Exception {
    Files.writeString(tmp.resolve("afile"), "x");
    assertThatThrownBy(() -> Models.save(small(), "file://" + tmp.resolve("afile")))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("exists as a file");
    assertThatThrownBy(() -> Models.save(small(), "file://" + tmp.resolve("no/such/dir")))
        .isInstanceOf(ModelIOException.class)
        .hasMessageContaining("parent");
    assertThatThrownBy(() -> Models.load("file://" + tmp))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("folder");
    Models.save(small(), "file://" + tmp.resolve("m"));
    Files.write(tmp.resolve("m/weights.bin"), new byte[19]);
    assertThatThrownBy(() -> Models.load("file://" + tmp.resolve("m/model.json")))
        .isInstanceOf(CorruptModelException.class);
  }

  @Test
  void loadsEveryCorpusModelWithAllShards() throws Exception {
    Path root = Corpus.require("tfjs");
    try (var s = Files.walk(root)) {
      for (Path f : s.filter(p -> p.getFileName().toString().equals("model.json")).toList()) {
        ModelArtifacts a = Models.load("file://" + f);
        long shards = 0;
        for (JsonNode g : Json.MAPPER.readTree(f).path("weightsManifest")) {
          for (JsonNode p : g.path("paths")) {
            shards += Files.size(f.resolveSibling(p.stringValue()));
          }
        }
        assertThat(a.weightDataBytes()).as(f.toString()).isEqualTo(shards);
        assertThat(a.modelTopology()).isNotNull();
      }
    }
  }
}
