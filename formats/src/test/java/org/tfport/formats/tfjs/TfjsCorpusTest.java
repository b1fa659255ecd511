package org.tfport.formats.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.IntegrationTest;
import tools.jackson.databind.JsonNode;

/** Every TF.js model.json and weights manifest in the shared corpus, read in place. */
@IntegrationTest
class TfjsCorpusTest {
  @TempDir Path tmp;

  /**
   * JSON files in the corpus that are models or weights manifests (not the test-input files beside
   * them).
   */
  static List<Path> modelFiles(Path tfjs) throws IOException {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.walk(tfjs)) {
      for (Path p : s.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
        JsonNode n = Json.MAPPER.readTree(p);
        boolean model = n.isObject() && (n.has("weightsManifest") || n.has("modelTopology"));
        boolean manifest =
            n.isArray() && !n.isEmpty() && n.get(0).isObject() && n.get(0).has("weights");
        if (model || manifest) {
          out.add(p);
        }
      }
    }
    return out;
  }

  @Test
  void readsEveryModelInTheCorpus() throws IOException {
    List<Path> files = modelFiles(Corpus.require("tfjs"));
    assertThat(files).as("TF.js models in the corpus").hasSizeGreaterThanOrEqualTo(10);
    for (Path f : files) {
      JsonNode root = Json.MAPPER.readTree(f);
      JsonNode manifest = root.isArray() ? root : root.get("weightsManifest");
      TfjsModel m = TfjsReader.read(f);
      assertThat(m.groups()).as(f.toString()).hasSize(manifest.size());
      for (int g = 0; g < manifest.size(); g++) {
        JsonNode entries = manifest.get(g).get("weights");
        List<WeightGroup.Weight> ws = m.groups().get(g).weights();
        assertThat(ws).as(f + " group " + g).hasSize(entries.size());
        long stored = 0;
        for (int i = 0; i < ws.size(); i++) {
          WeightGroup.Weight w = ws.get(i);
          JsonNode e = entries.get(i);
          String what = f + " weight " + w.spec().name();
          assertThat(w.spec().name()).isEqualTo(e.get("name").stringValue());
          List<Long> dims = new ArrayList<>();
          e.get("shape").forEach(d -> dims.add(d.longValue()));
          assertThat(w.value().shape()).as(what).isEqualTo(Shape.of(dims));
          assertThat(w.value().dtype().jsName()).as(what).isEqualTo(e.get("dtype").stringValue());
          if (w.value().dtype() != DType.STRING) {
            assertThat((long) w.value().byteLength())
                .as(what)
                .isEqualTo(w.value().size() * w.value().dtype().byteSize());
          }
          Quantization q = w.spec().quantization();
          if (q != null && q.dtype() != DType.FLOAT16 && w.value().dtype() == DType.FLOAT32) {
            int qmax = q.dtype() == DType.UINT8 ? 255 : 65535;
            // Dequantized values are float32, so allow one float ulp beyond the exact range.
            double lo = q.min() - Math.ulp((float) q.min().doubleValue());
            double hi = q.min() + qmax * q.scale();
            hi += Math.ulp((float) hi);
            for (float v : w.value().toFloatArray()) {
              assertThat((double) v).as(what).isBetween(lo, hi);
            }
          }
          long len = w.spec().storedByteLength();
          stored += len >= 0 ? len : w.value().byteLength();
        }
        long shardBytes = 0;
        for (String p : m.groups().get(g).paths()) {
          shardBytes += Files.size(f.getParent().resolve(p));
        }
        assertThat(stored).as(f + " group " + g + " bytes").isEqualTo(shardBytes);
      }
      if (root.isArray()) {
        assertThat(m.modelJson().modelTopology()).isNull();
      } else {
        assertThat(m.modelJson().modelTopology()).as(f.toString()).isNotNull();
        assertThat(m.modelJson().format())
            .isEqualTo(root.has("format") ? root.get("format").stringValue() : null);
      }
    }
  }

  @Test
  void unquantizedWeightsAreTheShardBytes() throws IOException {
    Path f = Corpus.require("tfjs").resolve("graph/tfjs-benchmarks_move_lstm_model/model.json");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(f), f + " not in this corpus");
    byte[] shard = Files.readAllBytes(f.getParent().resolve("group1-shard1of1.bin"));
    TfjsModel m = TfjsReader.read(f);
    int offset = 0;
    for (WeightGroup.Weight w : m.groups().get(0).weights()) {
      ByteBuffer want =
          ByteBuffer.wrap(shard, offset, w.value().byteLength())
              .slice()
              .order(ByteOrder.LITTLE_ENDIAN);
      assertThat(w.value().bytes()).as(w.spec().name()).isEqualTo(want);
      offset += w.value().byteLength();
    }
    assertThat(offset).isEqualTo(shard.length);
    assertThat(m.modelJson().signature()).isNotNull();
  }

  @Test
  void quantizedOldConverterModelDequantizesFromItsExtensionlessShard() throws IOException {
    Path f = Corpus.require("tfjs").resolve("layers/nsfwjs_mobilenet_v2/model.json");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(f), f + " not in this corpus");
    TfjsModelFiles files = TfjsReader.open(f);
    assertThat(files.paths().get(0)).containsExactly("group1-shard1of1");
    assertThat(files.modelJson().format()).isNull();
    WeightSpec first = files.specs().get(0).get(0);
    assertThat(first.name()).isEqualTo("Conv1/kernel");
    Tensor stored = files.readStored("Conv1/kernel");
    assertThat(stored.dtype()).isEqualTo(DType.UINT8);
    byte[] shard = Files.readAllBytes(f.getParent().resolve("group1-shard1of1"));
    assertThat(stored.bytes()).isEqualTo(ByteBuffer.wrap(shard, 0, 3 * 3 * 3 * 32));
    float[] values = files.read("Conv1/kernel").toFloatArray();
    Quantization q = first.quantization();
    for (int i = 0; i < values.length; i++) {
      assertThat(values[i]).isEqualTo((float) ((shard[i] & 0xff) * q.scale() + q.min()));
    }
  }

  @Test
  void everyCorpusModelSurvivesARewrite() throws IOException {
    List<Path> files = modelFiles(Corpus.require("tfjs"));
    int n = 0;
    for (Path f : files) {
      TfjsModel m = TfjsReader.read(f);
      Path out = Files.createDirectory(tmp.resolve("m" + n++));
      WriteSummary s =
          TfjsWriter.write(
              out, m.modelJson(), m.weightEntries(), new WriteOptions(100_000, null), null);
      assertThat(s.weightCount()).isEqualTo(m.weightCount());
      TfjsModel back = TfjsReader.read(out.resolve("model.json"));
      Map<String, Tensor> want = m.weightsByName();
      Map<String, Tensor> got = back.weightsByName();
      assertThat(got.keySet()).as(f.toString()).containsExactlyElementsOf(want.keySet());
      want.forEach((k, v) -> assertThat(got.get(k).bytes()).as(f + " " + k).isEqualTo(v.bytes()));
      assertThat(back.modelJson().modelTopology()).isEqualTo(m.modelJson().modelTopology());
      assertThat(back.modelJson().signature()).isEqualTo(m.modelJson().signature());
      assertThat(back.modelJson().userDefinedMetadata())
          .isEqualTo(m.modelJson().userDefinedMetadata());
    }
  }
}
