package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.Converter;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.formats.ModelFormat;
import org.tfport.graph.keras.KerasGraph;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfjsOracle.Input;
import org.tfport.testkit.TfliteOracle;

/**
 * Corpus files TF.js layers cannot load (LocallyConnected1D/2D, TensorFlowOpLayer, Attention,
 * Cropping3D beside 3-D pooling, which the .tflite builds as two 2-D pools): their TF.js graph
 * model (in TF.js 4.22) and .tflite file (in TFLite 2.18) give what tfport's runtime computes from
 * the .h5. The layers' meaning itself is checked by hand in the runtime's KerasRecurrentGraphTest.
 */
@OracleTest
class KerasGraphOnlyTest {
  static final List<String> FILES =
      List.of(
          "keras_h5/dl4j-konduit/tfkeras/cnn2d_32.h5",
          "keras_h5/dl4j-konduit/tfkeras/cnn2d_34.h5",
          "keras_h5/dl4j-konduit/tfkeras/cnn2d_35.h5",
          "keras_h5/dl4j-konduit/tfkeras/cnn2d_92.h5",
          "keras_h5/dl4j-konduit/tfkeras/cnn2d_94.h5",
          "keras_h5/dl4j-konduit/tfkeras/cnn2d_95.h5",
          "keras_h5/dl4j-konduit/tfkeras/cnn3d_16.h5",
          "keras_h5/dl4j-konduit/tfkeras/cnn3d_18.h5",
          "keras_h5/dl4j-konduit/tfkeras/cnn3d_20.h5",
          "keras_h5/dl4j-konduit/tfkeras/cnn3d_22.h5",
          "keras_h5/dl4j-konduit/tfkeras/permute.h5",
          "keras_h5/dl4j-konduit/tfkeras/reshape.h5",
          "keras_h5/dl4j-konduit/tfkeras/tfop_1.h5",
          "keras_h5/dl4j-konduit/weights/keras-attention.h5");

  @Test
  void locallyConnectedAndTfOpLayerFilesAgreeAcrossTargets(@TempDir Path tmp) {
    List<String> problems = new ArrayList<>();
    int graphMatched = 0;
    int tfliteMatched = 0;
    double worst = 0;
    for (int i = 0; i < FILES.size(); i++) {
      Path f = Corpus.require(FILES.get(i));
      KerasGraph kg = KerasGraphSource.build(f, ModelFormat.KERAS);
      Path graph = tmp.resolve("g" + i);
      Path tflite = tmp.resolve("t" + i + ".tflite");
      Converter.from(f, ModelFormat.KERAS).to(ModelFormat.TFJS_GRAPH_MODEL).convert(graph);
      Converter.from(f, ModelFormat.KERAS).to(ModelFormat.TFLITE).convert(tflite);
      SplittableRandom rnd = new SplittableRandom(i);
      Map<String, Tensor> feed = new LinkedHashMap<>();
      List<Input> inputs = new ArrayList<>();
      List<TfliteOracle.Tensor> tin = new ArrayList<>();
      for (String name : kg.inputs()) {
        long[] shape =
            ((AttrValue.Shape) kg.graph().node(name).attr("shape")).value().dims().clone();
        for (int k = 0; k < shape.length; k++) {
          shape[k] = shape[k] > 0 ? shape[k] : 2;
        }
        float[] v = new float[Math.toIntExact(Shape.of(shape).size())];
        for (int k = 0; k < v.length; k++) {
          v[k] = (float) (rnd.nextDouble() * 2 - 1);
        }
        feed.put(name, Tensor.ofFloats(Shape.of(shape), v));
        inputs.add(Input.f32(name, shape, v));
        tin.add(
            TfliteOracle.Tensor.f32(
                java.util.Arrays.stream(shape).mapToInt(Math::toIntExact).toArray(), v));
      }
      List<float[]> ours = new ArrayList<>();
      try (Model m = Model.load(f);
          Session s = m.newSession()) {
        s.run(feed).values().forEach(t -> ours.add(t.toFloatArray()));
      }
      TfjsOracle.Result g =
          TfjsOracle.run(TfjsOracle.Job.graph(graph.resolve("model.json"), inputs, List.of()));
      List<float[]> lite =
          TfliteOracle.run(tflite, tin).stream().map(TfliteOracle.Tensor::floats).toList();
      String label = FILES.get(i);
      if (!g.ok()) {
        problems.add(label + ": TF.js failed: " + g.error());
      } else if (g.outputs().size() != ours.size()) {
        problems.add(label + ": TF.js gives " + g.outputs().size() + " outputs");
      } else {
        boolean ok = true;
        for (int k = 0; k < ours.size(); k++) {
          Comparison c = Comparison.of(ours.get(k), g.outputs().get(k).data(), 1e-5, 1e-4);
          worst = Math.max(worst, c.maxAbs());
          if (!c.ok()) {
            problems.add(label + ": TF.js graph model output " + k + " " + c);
            ok = false;
          }
        }
        graphMatched += ok ? 1 : 0;
      }
      boolean ok = lite.size() == ours.size();
      for (int k = 0; ok && k < ours.size(); k++) {
        Comparison c = Comparison.of(ours.get(k), lite.get(k), 1e-5, 1e-4);
        worst = Math.max(worst, c.maxAbs());
        if (!c.ok()) {
          problems.add(label + ": tflite output " + k + " " + c);
          ok = false;
        }
      }
      tfliteMatched += ok ? 1 : 0;
    }
    System.out.printf(
        "keras graph-only: %d files, TF.js graph matched %d, tflite matched %d (worst %.3g)%n",
        FILES.size(), graphMatched, tfliteMatched, worst);
    problems.forEach(p -> System.out.println("  problem: " + p));
    assertThat(problems).isEmpty();
    assertThat(graphMatched).isEqualTo(FILES.size());
    assertThat(tfliteMatched).isEqualTo(FILES.size());
  }
}
