package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.server.TestServer.Reply;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;

/**
 * Models uploaded through the upload API (zipped SavedModels, TF.js saves) answer {@code :predict}
 * as TensorFlow 2.18 and TF.js 4.22 compute on the same inputs, within 1e-5 + 1e-4·|b|, in both
 * request formats. The inputs are read from the served metadata, a free batch dimension taking 3.
 */
@OracleTest
class ServingOracleTest {
  private static final int BATCH = 3;

  @TempDir Path tmp;

  /** One input as metadata describes it, with the random values fed. */
  private record Fed(String name, DType dtype, long[] shape, TfjsOracle.Input value) {}

  @Test
  void savedModelsAnswerAsTensorFlow() throws Exception {
    List<String> models =
        List.of(
            "savedmodel/serving_saved_model_half_plus_two_cpu",
            "savedmodel/tfjs-node_times_three_float",
            "savedmodel/tfjs-node_times_two_int",
            "savedmodel/tfjs-node_model_multi_output",
            "savedmodel/tfjs-node_model_single_input_multi_output",
            "keras_savedmodel/scisharp_simple_dense",
            "savedmodel/tfjs-node_int64_multiply",
            "savedmodel/tfjs-node_uint8_multiply");
    int compared = 0;
    int rowCalls = 0;
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      for (String rel : models) {
        if (!Corpus.has(rel)) {
          continue;
        }
        Path dir = Corpus.require(rel);
        String name = "m" + compared;
        ServingFixtures.uploadSavedModel(s, name, dir, null);
        List<Fed> fed = inputs(s, name, new Random(rel.hashCode()));
        Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
        for (Fed f : fed) {
          feeds.put(f.name(), new TensorFlowOracle.Feed(f.value(), f.dtype().tfEnum()));
        }
        Map<String, float[]> expected =
            TensorFlowOracle.runSavedModel(dir, "serve", "serving_default", feeds);
        // The row format needs a batch dimension on every input.
        boolean batched = fed.stream().allMatch(f -> f.shape().length > 0 && f.shape()[0] == -1);
        rowCalls += batched ? 1 : 0;
        for (boolean row : batched ? new boolean[] {true, false} : new boolean[] {false}) {
          Map<String, float[]> got = predict(s, name, fed, row, expected.keySet());
          for (var e : expected.entrySet()) {
            ServingFixtures.assertClose(
                rel + (row ? " instances " : " inputs ") + e.getKey(),
                got.get(e.getKey()),
                e.getValue());
          }
        }
        compared++;
      }
    }
    assertThat(compared).as("SavedModels compared").isGreaterThanOrEqualTo(5);
    assertThat(rowCalls).as("SavedModels compared in the row format too").isGreaterThanOrEqualTo(2);
  }

  @Test
  void tfjsGraphModelsAnswerAsTfjs() throws Exception {
    // The load test's CNN first, so the answers it compares are TF.js's too.
    Path cnn = SmallCnn.write(tmp.resolve("cnn"));
    List<String> models =
        List.of(
            cnn.toString(),
            "tfjs/graph/tfjs-examples_predictive_prefetching/model.json",
            "tfjs/graph/tfjs-rn_graph_model/model.json",
            "tfjs/graph/tfjs-e2e_dense_model/model.json",
            "tfjs/graph/tfjs_facemesh_prelu/model.json");
    int compared = 0;
    try (TestServer s = new TestServer(tmp.resolve("store"), null)) {
      for (String rel : models) {
        if (!rel.equals(cnn.toString()) && !Corpus.has(rel)) {
          continue;
        }
        Path json = rel.equals(cnn.toString()) ? cnn : Corpus.require(rel);
        String name = "g" + compared;
        ServingFixtures.uploadTfjs(s, name, json, null);
        List<Fed> fed = inputs(s, name, new Random(rel.hashCode()));
        List<TfjsOracle.Input> ins = new ArrayList<>();
        for (Fed f : fed) {
          ins.add(f.value());
        }
        TfjsOracle.Result r = TfjsOracle.run(TfjsOracle.Job.graph(json, ins, List.of())).orThrow();
        List<String> outNames = ServingFixtures.outputNames(s, name);
        assertThat(r.outputs()).as(rel + " outputs").hasSize(outNames.size());
        Map<String, float[]> expected = new LinkedHashMap<>();
        for (int i = 0; i < outNames.size(); i++) {
          TfjsOracle.Output o = r.output(i);
          expected.put(outNames.get(i), o.data() != null ? o.data() : toFloats(o.ints()));
        }
        boolean batched = fed.stream().allMatch(f -> f.shape().length > 0 && f.shape()[0] == -1);
        for (boolean row : batched ? new boolean[] {true, false} : new boolean[] {false}) {
          Map<String, float[]> got = predict(s, name, fed, row, expected.keySet());
          for (var e : expected.entrySet()) {
            ServingFixtures.assertClose(
                rel + (row ? " instances " : " inputs ") + e.getKey(),
                got.get(e.getKey()),
                e.getValue());
          }
        }
        compared++;
      }
    }
    assertThat(compared).as("TF.js graph models compared").isGreaterThanOrEqualTo(4);
  }

  private static float[] toFloats(int[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = v[i];
    }
    return f;
  }

  private static List<Fed> inputs(TestServer s, String name, Random rnd) {
    List<Fed> out = new ArrayList<>();
    JsonNode infos = ServingFixtures.signature(s, name).path("inputs");
    for (var e : ServingFixtures.declaredShapes(s, name).entrySet()) {
      DType t = ServingFixtures.dtype(infos.path(e.getKey()).path("dtype").asString(""));
      long[] declared = e.getValue();
      out.add(
          new Fed(
              e.getKey(),
              t,
              declared,
              TensorFlowOracle.random(
                  e.getKey(), ServingFixtures.concrete(declared, BATCH), t.tfEnum(), rnd)));
    }
    return out;
  }

  /** Calls :predict in one format and returns each output flattened, by name. */
  private static Map<String, float[]> predict(
      TestServer s, String name, List<Fed> fed, boolean row, java.util.Set<String> outputs) {
    StringBuilder b = new StringBuilder();
    if (row) {
      b.append("{\"instances\": [");
      for (int i = 0; i < BATCH; i++) {
        b.append(i > 0 ? ", " : "").append('{');
        for (int k = 0; k < fed.size(); k++) {
          Fed f = fed.get(k);
          b.append(k > 0 ? ", " : "").append('"').append(f.name()).append("\": ");
          long[] shape = f.value().shape();
          long per = 1;
          for (int d = 1; d < shape.length; d++) {
            per *= shape[d];
          }
          ServingFixtures.nested(b, values(f.value()), shape, 1, new int[] {(int) (i * per)});
        }
        b.append('}');
      }
      b.append("]}");
    } else {
      b.append("{\"inputs\": {");
      for (int k = 0; k < fed.size(); k++) {
        Fed f = fed.get(k);
        b.append(k > 0 ? ", " : "").append('"').append(f.name()).append("\": ");
        b.append(ServingFixtures.nested(values(f.value()), f.value().shape()));
      }
      b.append("}}");
    }
    Reply r = ServingFixtures.predict(s, "/v1/models/" + name + ":predict", b.toString());
    assertThat(r.status()).as(name + ": " + r.text()).isEqualTo(200);
    JsonNode body = ServingFixtures.json(r);
    Map<String, float[]> out = new LinkedHashMap<>();
    JsonNode top = body.get(row ? "predictions" : "outputs");
    for (String o : outputs) {
      float[] f;
      if (outputs.size() == 1) {
        f = ServingFixtures.flatten(top);
      } else if (row) {
        ArrayNode items = Json.MAPPER.createArrayNode();
        top.forEach(item -> items.add(item.get(o)));
        f = ServingFixtures.flatten(items);
      } else {
        f = ServingFixtures.flatten(top.get(o));
      }
      out.put(o, f);
    }
    return out;
  }

  /** The fed values as JSON numbers, by flat index. */
  private static IntFunction<String> values(TfjsOracle.Input in) {
    return i -> in.data() != null ? Float.toString(in.data()[i]) : Integer.toString(in.ints()[i]);
  }
}
