package org.tfport.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.graph.keras.KerasTraining;
import org.tfport.graph.optimize.ShapeInference;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;
import org.tfport.train.grad.GradContext;
import org.tfport.train.grad.Gradients;

/**
 * One compiled graph of a training run: the model's forward pass, the loss of each output against
 * its fed target and their weighted sum, and, for a training step, the gradient of every trainable
 * weight and the new moving statistics; weights and dropout noise are inputs.
 */
final class StepGraph implements AutoCloseable {
  /** The total loss: Σ weight·loss over the outputs. */
  static final String LOSS = "loss";

  static final String PRED = "pred";
  static final String Y = "y_true";

  final KerasTraining.Graph built;
  final List<String> inputs;

  /** Per model output: its name (the output layer's), prediction shape and target form. */
  final List<Data.Target> targets = new ArrayList<>();

  /** Per trainable variable index (in {@code built.variables()}), its gradient output key. */
  final Map<Integer, String> grads = new LinkedHashMap<>();

  /** Per variable index, the output key of its value after the step. */
  final Map<Integer, String> updates = new LinkedHashMap<>();

  private final Model model;
  final Session session;

  /** The fed target of output {@code k}. */
  static String y(int k) {
    return k == 0 ? Y : Y + "_" + k;
  }

  /** Output {@code k}'s prediction. */
  static String pred(int k) {
    return k == 0 ? PRED : PRED + "_" + k;
  }

  /** Output {@code k}'s own loss. */
  static String loss(int k) {
    return LOSS + "_" + k;
  }

  /**
   * @param losses one per model output, or one for all
   * @param weights each output's loss weight (null: 1 each)
   */
  StepGraph(
      KerasTraining.Graph built,
      List<Loss> losses,
      double[] weights,
      boolean withGradients,
      int threads) {
    this.built = built;
    Graph g = built.model().graph();
    List<String> preds = built.model().outputs();
    if (losses.size() != 1 && losses.size() != preds.size()) {
      throw new UsageException(
          g.source() + ": " + losses.size() + " losses for " + preds.size() + " outputs");
    }
    if (weights != null && weights.length != preds.size()) {
      throw new UsageException(
          g.source() + ": " + weights.length + " loss weights for " + preds.size() + " outputs");
    }
    this.inputs = built.model().inputs();
    ShapeInference shapes = ShapeInference.of(g);
    GradContext emit = GradContext.emitter(g, "loss");
    List<TensorSpec> ys = new ArrayList<>();
    List<TensorSpec> outs = new ArrayList<>();
    List<String> weighted = new ArrayList<>();
    for (int k = 0; k < preds.size(); k++) {
      String pred = preds.get(k);
      Loss loss = losses.get(losses.size() == 1 ? 0 : k);
      long[] dims = shapes.dims(pred);
      if (dims == null || dims.length == 0 || dims[dims.length - 1] < 0) {
        throw new UnsupportedModelException(
            g.source()
                + ": the output '"
                + pred
                + "' has no static last dimension to train against");
      }
      targets.add(new Data.Target(pred, dims, loss.sparse()));
      long[] yShape = loss.sparse() ? new long[] {-1} : dims;
      Map<String, AttrValue> a = new LinkedHashMap<>();
      a.put("dtype", new AttrValue.Type(DataTypes.DT_FLOAT));
      a.put("shape", new AttrValue.Shape(TensorShape.of(yShape)));
      g.add(new Node(y(k), "Placeholder", List.of(), "", a));
      ys.add(new TensorSpec(y(k), y(k), DType.FLOAT32, yShape));
      String l = loss.emit(emit, pred, y(k), dims[dims.length - 1]);
      outs.add(new TensorSpec(loss(k), l, DType.FLOAT32, new long[0]));
      outs.add(new TensorSpec(pred(k), pred, DType.FLOAT32, dims));
      weighted.add(
          weights == null || weights[k] == 1 ? l : emit.mul(l, emit.scalar((float) weights[k])));
    }
    String lossRef =
        weighted.size() == 1
            ? weighted.get(0)
            : emit.raw(
                "AddN",
                weighted,
                Map.of(
                    "T",
                    new AttrValue.Type(DataTypes.DT_FLOAT),
                    "N",
                    new AttrValue.Int(weighted.size())));
    outs.add(0, new TensorSpec(LOSS, lossRef, DType.FLOAT32, new long[0]));

    List<TensorSpec> ins = new ArrayList<>();
    for (String in : inputs) {
      Node p = g.node(in);
      long[] s = ((AttrValue.Shape) p.attr("shape")).value().dims();
      ins.add(new TensorSpec(in, in, DataTypes.toDType(p.typeAttr("dtype")), s));
    }
    ins.addAll(ys);
    for (KerasTraining.Variable v : built.variables()) {
      ins.add(new TensorSpec(v.node(), v.node(), DType.FLOAT32, v.initial().shape().dims()));
    }
    for (KerasTraining.Noise n : built.noise()) {
      ins.add(new TensorSpec(n.node(), n.node(), DType.FLOAT32, n.shape()));
    }
    if (withGradients) {
      List<Integer> trainable = new ArrayList<>();
      List<String> nodes = new ArrayList<>();
      for (int i = 0; i < built.variables().size(); i++) {
        if (built.variables().get(i).trainable()) {
          trainable.add(i);
          nodes.add(built.variables().get(i).node());
        }
      }
      List<String> d = Gradients.of(g, lossRef, nodes);
      for (int k = 0; k < d.size(); k++) {
        if (d.get(k) != null) {
          String key = "grad_" + trainable.get(k);
          grads.put(trainable.get(k), key);
          outs.add(new TensorSpec(key, d.get(k), DType.FLOAT32, null));
        }
      }
      for (KerasTraining.StateUpdate u : built.updates()) {
        for (int i = 0; i < built.variables().size(); i++) {
          if (built.variables().get(i).node().equals(u.variableNode())) {
            String key = "update_" + i;
            updates.put(i, key);
            outs.add(new TensorSpec(key, u.value(), DType.FLOAT32, null));
          }
        }
      }
    }
    this.model = Model.fromGraph(g, List.of(new Signature(Signature.DEFAULT_KEY, ins, outs)));
    this.session =
        model.newSession(
            threads > 0
                ? org.tfport.runtime.SessionOptions.defaults().withThreads(threads)
                : org.tfport.runtime.SessionOptions.defaults());
  }

  @Override
  public void close() {
    session.close();
    model.close();
  }
}
