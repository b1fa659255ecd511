package org.tfport.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.tfport.core.TfportException;
import org.tfport.graph.keras.KerasTraining;
import org.tfport.graph.optimize.ShapeInference;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.IntegrationTest;
import org.tfport.train.grad.GradContext;
import org.tfport.train.grad.Gradients;

/**
 * Every Keras {@code .h5}/{@code .keras} and TF.js layers model of the corpus whose training graph
 * tfport builds (Keras 1, Theano, Lambda, subclassed and graph models are refused before) gets a
 * backward graph for all its trainable weights: no op on the way without a gradient rule, and no
 * rule refusing the case it meets.
 */
@IntegrationTest
class CorpusGradientCoverageTest {
  @Test
  void everyBuildableCorpusLayersModelDifferentiates() throws IOException {
    Path root = Corpus.require("keras_h5");
    List<Path> files = new ArrayList<>();
    for (String sub : List.of("keras_h5", "keras_v3", "tfjs")) {
      try (Stream<Path> s = Files.walk(root.resolveSibling(sub))) {
        s.filter(CorpusGradientCoverageTest::isModel).sorted().forEach(files::add);
      }
    }
    TreeMap<String, String> failures = new TreeMap<>();
    int built = 0;
    for (Path f : files) {
      KerasTraining.Graph b;
      try (ModelSource src = ModelSource.open(f)) {
        b = src.build(KerasTraining.Options.defaults());
      } catch (TfportException refusedBeforeTraining) {
        continue;
      }
      built++;
      List<String> xs = new ArrayList<>();
      for (KerasTraining.Variable v : b.variables()) {
        if (v.trainable()) {
          xs.add(v.node());
        }
      }
      var g = b.model().graph();
      ShapeInference shapes = ShapeInference.of(g);
      GradContext e = GradContext.emitter(g, "coverage");
      String y = null;
      for (String out : b.model().outputs()) {
        long[] axes = new long[shapes.dims(out).length];
        for (int i = 0; i < axes.length; i++) {
          axes[i] = i;
        }
        String s = e.sum(out, axes, false);
        y = y == null ? s : e.binary("AddV2", y, s);
      }
      try {
        List<String> d = Gradients.of(g, y, xs);
        assertThat(d).as("%s: a gradient per trainable weight", f).hasSameSizeAs(xs);
      } catch (TfportException ex) {
        failures.put(root.getParent().relativize(f).toString(), ex.getMessage());
      }
    }
    assertThat(built).as("corpus models built for training").isGreaterThanOrEqualTo(170);
    assertThat(failures).as("models refused for training by the gradients").isEmpty();
  }

  private static boolean isModel(Path p) {
    String n = p.getFileName().toString();
    return n.equals("model.json")
        || (n.endsWith(".h5") || n.endsWith(".hdf5") || n.endsWith(".keras"))
            && !n.contains("weights")
            && !n.contains("inputs_and_outputs");
  }
}
