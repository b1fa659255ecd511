package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.convert.Converter;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.formats.ModelFormat;
import org.tfport.formats.graphdef.GraphDefWriter;
import org.tfport.formats.keras.KerasH5Writer;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasWeight;
import org.tfport.graph.keras.KerasGraph;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * A hand-written Keras model (a Keras 2 .h5 saved by tfport's own writer, a Keras 3 .keras or a
 * TF.js layers model.json), run on one feed by every target the Keras graph reaches: tfport's
 * runtime (from that file), TensorFlow 2.18 (the built graph as a GraphDef), the TF.js graph model
 * in TF.js 4.22 and the .tflite in TFLite 2.18.
 */
final class GraphTargets {
  static final double ATOL = 1e-5;
  static final double RTOL = 1e-4;

  private GraphTargets() {}

  record Outputs(
      List<float[]> runtime, List<float[]> tensorflow, List<float[]> tfjs, List<float[]> tflite) {}

  static KerasWeight weight(String name, long[] shape, float... values) {
    Tensor t = Tensor.ofFloats(Shape.of(shape), values);
    return new KerasWeight(name, DType.FLOAT32, t.shape(), () -> t);
  }

  static Path writeH5(Path dir, String name, String modelConfig, List<KerasLayerWeights> weights) {
    Path h5 = dir.resolve(name + ".h5");
    KerasH5Writer.write(
        h5, "2.11.0", "tensorflow", Json.MAPPER.readTree(modelConfig), null, weights);
    return h5;
  }

  /**
   * Runs the .h5, .keras or layers model.json on {@code feed} (inputs in the model's order) in
   * every target.
   */
  static Outputs run(Path dir, Path h5, Map<String, Tensor> feed) {
    String file = h5.getFileName().toString();
    ModelFormat format =
        file.endsWith(".json")
            ? ModelFormat.TFJS_LAYERS_MODEL
            : file.endsWith(".keras") ? ModelFormat.KERAS_KERAS : ModelFormat.KERAS;
    KerasGraph kg = KerasGraphSource.build(h5, format);
    assertThat(kg.inputs()).containsExactlyElementsOf(feed.keySet());
    List<float[]> ours = new ArrayList<>();
    try (Model m = Model.load(h5);
        Session s = m.newSession()) {
      Map<String, Tensor> out = s.run(feed);
      out.values().forEach(t -> ours.add(t.toFloatArray()));
    }
    List<String> fetches = kg.graph().outputs();
    List<float[]> tf = new ArrayList<>();
    for (Tensor t : TensorFlowOracle.run(GraphDefWriter.write(kg.graph()), feed, fetches)) {
      tf.add(t.toFloatArray());
    }
    String stem = file.replaceAll("\\.(h5|keras|json)$", "");
    Path graph = dir.resolve(stem + "_graph");
    Path tflite = dir.resolve(stem + ".tflite");
    Converter.from(h5, format).to(ModelFormat.TFJS_GRAPH_MODEL).convert(graph);
    Converter.from(h5, format).to(ModelFormat.TFLITE).convert(tflite);
    List<TfjsOracle.Input> inputs = new ArrayList<>();
    List<TfliteOracle.Tensor> tin = new ArrayList<>();
    feed.forEach(
        (k, v) -> {
          inputs.add(TfjsOracle.Input.f32(k, v.shape().dims(), v.toFloatArray()));
          tin.add(
              TfliteOracle.Tensor.f32(
                  java.util.Arrays.stream(v.shape().dims()).mapToInt(Math::toIntExact).toArray(),
                  v.toFloatArray()));
        });
    TfjsOracle.Result g =
        TfjsOracle.run(TfjsOracle.Job.graph(graph.resolve("model.json"), inputs, List.of()));
    assertThat(g.ok()).as("TF.js graph model runs: %s", g.error()).isTrue();
    List<float[]> js = g.outputs().stream().map(TfjsOracle.Output::data).toList();
    List<float[]> lite =
        TfliteOracle.run(tflite, tin).stream().map(TfliteOracle.Tensor::floats).toList();
    return new Outputs(ours, tf, js, lite);
  }

  /** Every target's output {@code i} against {@code expected}; the worst difference. */
  static double check(Outputs o, int i, float[] expected, String what) {
    double worst = 0;
    Map<String, List<float[]>> all = new LinkedHashMap<>();
    all.put("runtime", o.runtime());
    all.put("TensorFlow 2.18", o.tensorflow());
    all.put("TF.js graph model", o.tfjs());
    all.put("TFLite", o.tflite());
    for (Map.Entry<String, List<float[]>> e : all.entrySet()) {
      assertThat(e.getValue()).as("%s outputs of %s", e.getKey(), what).hasSizeGreaterThan(i);
      Comparison c = Comparison.of(expected, e.getValue().get(i), ATOL, RTOL);
      c.assertOk(what + " output " + i + " in " + e.getKey());
      worst = Math.max(worst, c.maxAbs());
    }
    return worst;
  }

  static Map<String, Tensor> feed(String name, long[] shape, float... v) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put(name, Tensor.ofFloats(Shape.of(shape), v));
    return m;
  }
}
