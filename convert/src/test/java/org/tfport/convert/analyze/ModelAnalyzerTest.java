package org.tfport.convert.analyze;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.convert.keras.KerasToTfjs;
import org.tfport.convert.tfjs.TfGraphToTfjs;
import org.tfport.convert.tflite.TfjsGraphToTflite;
import org.tfport.convert.tflite.TfliteConverter;
import org.tfport.convert.tflite.TfliteOptions;
import org.tfport.core.Json;
import org.tfport.core.ProgressListener;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.formats.graphdef.GraphDefReader;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.formats.tflite.TfliteAnalysis;
import org.tfport.formats.tflite.TfliteAnalyzer;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;

/** {@code tfport analyze} checked against what the converters actually do on the same files. */
class ModelAnalyzerTest {
  @TempDir Path tmp;

  /**
   * Ops in a converter refusal: "... no TFLite builtin: Op (node), Op (node); convert with ...".
   */
  private static Map<String, Set<String>> refused(String message) {
    Map<String, Set<String>> out = new java.util.TreeMap<>();
    String list =
        message.substring(message.indexOf("builtin: ") + 9, message.indexOf("; convert with"));
    Matcher m = Pattern.compile("(\\w+) \\(([^()]*)\\)").matcher(list);
    while (m.find()) {
      out.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(m.group(2));
    }
    return out;
  }

  private static Map<String, Set<String>> unsupported(ModelAnalysis a, String target) {
    Map<String, Set<String>> out = new java.util.TreeMap<>();
    target(a, target).unsupported().forEach((k, v) -> out.put(k, new TreeSet<>(v)));
    return out;
  }

  private static ModelAnalysis.Target target(ModelAnalysis a, String name) {
    return a.targets().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
  }

  private static long weightElements(Path modelJson) {
    return TfjsReader.read(modelJson).weightsByName().values().stream()
        .mapToLong(Tensor::size)
        .sum();
  }

  @Test
  void savedModelParametersMatchTheTfjsOutputAndTfliteConverts() {
    for (String name :
        List.of(
            "tf2onnx_regression",
            "serving_saved_model_half_plus_two_cpu",
            "tfjs-node_model_multi_output",
            "tfjs-node_times_three_float")) {
      Path dir = Corpus.require("savedmodel/" + name);
      ModelAnalysis a = ModelAnalyzer.analyze(dir);
      assertThat(a.format()).isEqualTo("tf_saved_model");
      assertThat(a.counts()).isNotEmpty();
      Path out = tmp.resolve(name);
      TfGraphToTfjs.convertSavedModel(
          dir,
          out,
          new GraphOptions(null, null, true, false, false, List.of()),
          TfjsOutputOptions.defaults(),
          ProgressListener.NONE);
      assertThat(a.parameters()).as(name).isEqualTo(weightElements(out.resolve("model.json")));
      assertThat(target(a, ModelAnalyzer.TFJS).unsupported()).isEmpty();
      // Builtins verdict = what the TFLite converter does.
      boolean ok = target(a, ModelAnalyzer.TFLITE).unsupported().isEmpty();
      try {
        TfliteConverter.convertSavedModel(
            dir,
            tmp.resolve(name + ".tflite"),
            new GraphOptions(null, null, true, false, false, List.of()),
            List.of(),
            false,
            TfliteOptions.defaults());
        assertThat(ok).as(name).isTrue();
      } catch (TfportException e) {
        assertThat(unsupported(a, ModelAnalyzer.TFLITE))
            .as(name)
            .isEqualTo(refused(e.getMessage()));
      }
      System.out.println(a.toText());
    }
  }

  @Test
  void frozenGraphWithRandomUniformListsWhatTfliteRefuses() {
    Path pb = Corpus.require("frozen_pb/tf2onnx/lstm.pb");
    ModelAnalysis a = ModelAnalyzer.analyze(pb);
    assertThat(a.format()).isEqualTo("tf_frozen_model");
    assertThat(a.counts()).containsKey("RandomUniform");
    assertThat(unsupported(a, ModelAnalyzer.TFLITE)).containsKey("RandomUniform");
    assertThat(target(a, ModelAnalyzer.TFLITE_SELECT).unsupported()).isEmpty();
    List<String> outs = ModelAnalyzer.sinks(GraphDefReader.read(pb));
    GraphOptions go = GraphOptions.defaults().withOutputNodeNames(outs);
    assertThatThrownBy(
            () ->
                TfliteConverter.convertFrozen(
                    pb,
                    tmp.resolve("lstm.tflite"),
                    go,
                    List.of(),
                    Map.of(),
                    TfliteOptions.defaults()))
        .isInstanceOf(TfportException.class)
        .satisfies(
            e ->
                assertThat(refused(e.getMessage()))
                    .isEqualTo(unsupported(a, ModelAnalyzer.TFLITE)));
    TfliteConverter.convertFrozen(
        pb,
        tmp.resolve("lstm_flex.tflite"),
        go,
        List.of(),
        Map.of(),
        TfliteOptions.defaults().withOps(false, true));
    Path js = tmp.resolve("lstm_js");
    TfGraphToTfjs.convertFrozen(pb, js, go, TfjsOutputOptions.defaults(), ProgressListener.NONE);
    assertThat(a.parameters()).isEqualTo(weightElements(js.resolve("model.json")));
    System.out.println(a.toText());
  }

  @Test
  void tfliteFileUsesTheFileAnalyzer() {
    Path f = Corpus.require("tflite/tflite-support/mobilenet_v1_0.25_224_1_metadata_1.tflite");
    ModelAnalysis a = ModelAnalyzer.analyze(f);
    TfliteAnalysis t = TfliteAnalyzer.analyze(f);
    assertThat(a.format()).isEqualTo("tflite");
    assertThat(a.counts()).containsAllEntriesOf(t.builtinOps());
    assertThat(a.parameters()).isEqualTo(t.parameters());
    assertThat(target(a, ModelAnalyzer.TFLITE).ok()).isTrue();
    assertThat(a.estimates()).hasSize(t.estimates().size());
    assertThat(Json.MAPPER.writeValueAsString(a.toJson())).contains("\"tflite\"");
  }

  @OracleTest
  @Test
  void kerasLayerClassesMatchTheTfjsConverter() {
    // LocallyConnected2D: TF.js has no such layer; the converter refuses or TF.js fails to load the
    // result.
    Path bad = Corpus.require("keras_h5/dl4j-konduit/tfkeras/cnn2d_35.h5");
    ModelAnalysis a = ModelAnalyzer.analyze(bad);
    assertThat(a.unit()).isEqualTo("layer");
    assertThat(target(a, ModelAnalyzer.TFJS).unsupported()).containsOnlyKeys("LocallyConnected2D");
    String refusal;
    try {
      KerasToTfjs.convert(
          bad, tmp.resolve("bad"), TfjsOutputOptions.defaults(), ProgressListener.NONE);
      TfjsOracle.Result r =
          TfjsOracle.run(TfjsOracle.Job.load("layers", tmp.resolve("bad/model.json")));
      assertThat(r.ok()).isFalse();
      refusal = r.error();
    } catch (TfportException e) {
      refusal = e.getMessage();
    }
    assertThat(refusal).contains("LocallyConnected2D");
    // SpatialDropout2D: the converter rewrites it to Dropout, so it is supported; parameters =
    // weights written.
    Path good = Corpus.require("keras_h5/dl4j-konduit/tfkeras/cnn2d_67.h5");
    ModelAnalysis g = ModelAnalyzer.analyze(good);
    assertThat(g.counts()).containsKey("SpatialDropout2D");
    assertThat(target(g, ModelAnalyzer.TFJS).unsupported()).isEmpty();
    Path out = tmp.resolve("good");
    KerasToTfjs.convert(good, out, TfjsOutputOptions.defaults(), ProgressListener.NONE);
    assertThat(g.parameters()).isEqualTo(weightElements(out.resolve("model.json")));
    assertThat(TfjsOracle.run(TfjsOracle.Job.load("layers", out.resolve("model.json"))).ok())
        .isTrue();
    // A setting TF.js rejects: analyze words it as the converter's refusal does.
    Path causal = Corpus.require("keras_h5/dl4j-konduit/tfkeras/cnn1d_24.h5");
    ModelAnalysis c = ModelAnalyzer.analyze(causal);
    assertThat(target(c, ModelAnalyzer.TFJS).unsupported()).hasSize(1);
    String key = target(c, ModelAnalyzer.TFJS).unsupported().keySet().iterator().next();
    assertThat(key).startsWith("Conv1D with padding 'causal'");
    assertThatThrownBy(
            () ->
                KerasToTfjs.convert(
                    causal,
                    tmp.resolve("causal"),
                    TfjsOutputOptions.defaults(),
                    ProgressListener.NONE))
        .hasMessageContaining(key);
    System.out.println(a.toText() + g.toText());
  }

  @Test
  void tfjsGraphModelsMatchTheTfliteConverter() {
    Path ok = Corpus.require("tfjs/graph/tfjs-examples_predictive_prefetching/model.json");
    ModelAnalysis a = ModelAnalyzer.analyze(ok);
    assertThat(a.format()).isEqualTo("tfjs_graph_model");
    assertThat(a.parameters()).isEqualTo(weightElements(ok));
    assertThat(a.counts()).containsKeys("MatMul", "BiasAdd").doesNotContainKey("_FusedMatMul");
    assertThat(target(a, ModelAnalyzer.TFLITE).unsupported()).isEmpty();
    TfjsGraphToTflite.convert(ok, tmp.resolve("pp.tflite"), TfliteOptions.defaults());

    Path lstm = Corpus.require("tfjs/graph/tfjs-benchmarks_move_lstm_model/model.json");
    ModelAnalysis l = ModelAnalyzer.analyze(lstm);
    assertThat(l.parameters()).isEqualTo(weightElements(lstm));
    // Its four Keras LSTMs are StatelessWhile loops over TensorLists: TFLite runs them as WHILE
    // subgraphs over the
    // lists' dense tensors, and the analyzer says so, as the converter does.
    assertThat(target(l, ModelAnalyzer.TFLITE).unsupported()).isEmpty();
    TfjsGraphToTflite.convert(lstm, tmp.resolve("lstm.tflite"), TfliteOptions.defaults());
    assertThat(target(l, ModelAnalyzer.TFJS).unsupported()).isEmpty();
    System.out.println(a.toText() + l.toText());
  }
}
