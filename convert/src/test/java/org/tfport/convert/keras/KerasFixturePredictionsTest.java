package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThat;

import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.ProgressListener;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.formats.ModelFormat;
import org.tfport.graph.keras.KerasGraph;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;

/**
 * The DL4J fixtures store Keras' own predictions beside each model ({@code
 * X_inputs_and_outputs.h5}): tfport's runtime, running the graph built from {@code X_model.h5},
 * reproduces them, including for models TF.js cannot load (causal and channels_first Conv1D). No
 * oracle process: the reference is Keras' output in the corpus.
 */
class KerasFixturePredictionsTest {
  private static final double ATOL = 1e-5;
  private static final double RTOL = 1e-4;

  @Test
  void runtimeReproducesKerasStoredPredictions(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws IOException {
    Path root = Corpus.require("keras_h5");
    List<Path> fixtures;
    try (Stream<Path> s = Files.walk(root)) {
      fixtures =
          s.filter(p -> p.getFileName().toString().endsWith("_inputs_and_outputs.h5"))
              .sorted()
              .toList();
    }
    int matched = 0;
    int tfjsCannotLoad = 0;
    double worst = 0;
    Map<String, String> notRun = new TreeMap<>();
    List<String> mismatches = new ArrayList<>();
    for (Path fx : fixtures) {
      String base = fx.getFileName().toString().replace("_inputs_and_outputs.h5", "");
      Path file = fx.resolveSibling(base + "_model.h5");
      String label = root.relativize(fx.getParent()) + "/" + base;
      if (!Files.exists(file)) {
        notRun.put(label, "no _model.h5 beside it");
        continue;
      }
      List<float[]> inputs = new ArrayList<>();
      List<long[]> shapes = new ArrayList<>();
      List<float[]> expected = new ArrayList<>();
      try (HdfFile h5 = new HdfFile(fx)) {
        if (!(h5.getChild("predictions") instanceof Group preds)) {
          notRun.put(label, "no stored predictions");
          continue;
        }
        for (Node n : (Group) h5.getChild("inputs")) {
          inputs.add(floats((Dataset) n));
          shapes.add(((Dataset) n).getDimensionsAsLong());
        }
        for (Node n : preds) {
          expected.add(floats((Dataset) n));
        }
      }
      KerasGraph kg;
      try {
        kg = KerasGraphSource.build(file, ModelFormat.KERAS);
      } catch (TfportException e) {
        notRun.put(label, e.getMessage().replaceAll("^[^:]*: ", ""));
        continue;
      }
      try {
        KerasToTfjs.convert(
            file, tmp.resolve(base), TfjsOutputOptions.defaults(), ProgressListener.NONE);
      } catch (TfportException e) {
        tfjsCannotLoad++;
      }
      List<TensorSpec> ins =
          kg.inputs().stream().map(n -> new TensorSpec(n, n + ":0", null, null)).toList();
      List<TensorSpec> outs = new ArrayList<>();
      for (int i = 0; i < kg.outputs().size(); i++) {
        outs.add(new TensorSpec(kg.outputs().get(i), kg.graph().outputs().get(i), null, null));
      }
      if (ins.size() != inputs.size() || outs.size() != expected.size()) {
        mismatches.add(
            label
                + ": "
                + ins.size()
                + " inputs and "
                + outs.size()
                + " outputs, fixture "
                + inputs.size()
                + " and "
                + expected.size());
        continue;
      }
      Map<String, Tensor> feed = new LinkedHashMap<>();
      for (int i = 0; i < ins.size(); i++) {
        feed.put(ins.get(i).name(), Tensor.ofFloats(Shape.of(shapes.get(i)), inputs.get(i)));
      }
      try (Model m =
              Model.fromGraph(
                  kg.graph(), List.of(new Signature(Signature.DEFAULT_KEY, ins, outs)));
          Session s = m.newSession()) {
        List<Tensor> got = new ArrayList<>(s.run(feed).values());
        StringBuilder detail = new StringBuilder();
        boolean ok = true;
        for (int k = 0; k < got.size(); k++) {
          Comparison c = Comparison.of(expected.get(k), got.get(k).toFloatArray(), ATOL, RTOL);
          worst = Math.max(worst, c.maxAbs());
          detail.append(c).append(' ');
          ok &= c.ok();
        }
        if (ok) {
          matched++;
        } else {
          mismatches.add(label + ": " + detail);
        }
      } catch (RuntimeException e) {
        mismatches.add(label + ": " + e);
      }
    }
    System.out.printf(
        "dl4j fixtures in tfport's runtime: %d of %d match Keras (worst %.3g; %d of them TF.js"
            + " cannot load); not run: %s; mismatches: %s%n",
        matched, fixtures.size(), worst, tfjsCannotLoad, notRun, mismatches);
    assertThat(mismatches).isEmpty();
    assertThat(matched).isGreaterThanOrEqualTo(20);
  }

  private static float[] floats(Dataset d) {
    Object flat = d.getDataFlat();
    if (flat instanceof float[] f) {
      return f;
    }
    double[] dd = (double[]) flat;
    float[] f = new float[dd.length];
    for (int i = 0; i < dd.length; i++) {
      f[i] = (float) dd[i];
    }
    return f;
  }
}
