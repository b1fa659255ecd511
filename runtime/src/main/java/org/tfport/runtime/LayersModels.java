package org.tfport.runtime;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tfport.core.Shape;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.Graph;
import org.tfport.formats.keras.KerasModel;
import org.tfport.graph.keras.KerasGraph;
import org.tfport.graph.keras.KerasGraphs;
import org.tfport.runtime.kernel.KernelRegistry;

/**
 * The layers models {@link ModelLoader} reads (Keras {@code .h5}/{@code .keras} files, TF.js layers
 * models): built as the TensorFlow graph their layers compute, for one batch size.
 */
final class LayersModels {
  private LayersModels() {}

  static Model keras(Path path, LoadOptions o, KernelRegistry registry) {
    try (KerasModel km = KerasModel.open(path)) {
      return layers(path, o, registry, KerasGraphs.build(km, batchOf(path, o)));
    }
  }

  static Model tfjsLayers(Path path, LoadOptions o, KernelRegistry registry) {
    return layers(path, o, registry, KerasGraphs.buildTfjsLayers(path, batchOf(path, o)));
  }

  /**
   * A layers model run as the TensorFlow graph its layers compute; one signature, its inputs and
   * outputs named after the model's input and output layers.
   */
  private static Model layers(Path path, LoadOptions o, KernelRegistry registry, KerasGraph kg) {
    GraphModels.onlyDefaultSignature(path, o, "a Keras model");
    Graph g = kg.graph();
    List<TensorSpec> ins = new ArrayList<>();
    for (String in : kg.inputs()) {
      ins.add(GraphModels.input(g, in, in, null));
    }
    List<TensorSpec> outs = new ArrayList<>();
    for (int i = 0; i < kg.outputs().size(); i++) {
      outs.add(new TensorSpec(kg.outputs().get(i), g.outputs().get(i), null, null));
    }
    for (Map.Entry<String, Shape> e : o.inputShapes().entrySet()) {
      TensorSpec spec =
          ins.stream().filter(s -> s.name().equals(e.getKey())).findFirst().orElse(null);
      if (spec == null) {
        throw new UsageException(
            path
                + ": there is no input '"
                + e.getKey()
                + "' to resize; the inputs are "
                + kg.inputs());
      }
      if (!spec.accepts(e.getValue().dims())) {
        throw new UsageException(
            path
                + ": a layers model is built for another batch size only; input '"
                + e.getKey()
                + "' is "
                + spec.describe()
                + ", not "
                + e.getValue());
      }
    }
    Model.Part p =
        new Model.Part(g, List.of(new Signature(Signature.DEFAULT_KEY, ins, outs)), null);
    return Model.of(path.toString(), List.of(p), p.signatures(), Map.of(), registry);
  }

  /**
   * The batch size a layers model is built for: the first dim of the resized inputs, which must
   * agree (0: as declared).
   */
  private static long batchOf(Path path, LoadOptions o) {
    long batch = 0;
    for (Map.Entry<String, Shape> e : o.inputShapes().entrySet()) {
      Shape s = e.getValue();
      if (s.rank() == 0 || s.dim(0) < 1 || batch > 0 && s.dim(0) != batch) {
        throw new UsageException(
            path
                + ": a layers model is built for one batch size; the resized inputs "
                + o.inputShapes()
                + " do not agree on a known first dimension");
      }
      batch = s.dim(0);
    }
    return batch;
  }
}
