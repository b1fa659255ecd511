package org.tfport.convert.tflite;

import static org.tfport.formats.tflite.TfliteBuiltin.*;
import static org.tfport.formats.tflite.TfliteOptionsType.*;

import java.util.ArrayList;
import java.util.List;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;
import org.tfport.graph.FunctionGraph;
import org.tfport.graph.optimize.GraphOptimizer;

/**
 * The lowering of functional control flow to TFLite's WHILE and IF: each called function becomes a
 * subgraph of the model, lowered like the main one with the shapes the caller passes.
 */
final class LowerControlFlow {
  private final Lowering core;
  private final ModelBuilder.Sub sub;

  LowerControlFlow(Lowering core) {
    this.core = core;
    this.sub = core.sub;
  }

  /**
   * Functional control flow to TFLite's WHILE (cond and body subgraphs, the loop variables in and
   * out) or IF (the predicate, then the branches' arguments). Each function becomes a subgraph,
   * lowered like the main one with the shapes the caller passes.
   */
  boolean lower(Node n, boolean loop) {
    if (core.model == null) {
      return false;
    }
    List<String> data = n.dataInputs();
    List<String> args = loop ? data : data.subList(1, data.size());
    List<Integer> argTypes = new ArrayList<>();
    for (String a : args) {
      // A TensorList is lowered to the dense tensor [length, element...] it holds (see
      // LowerTensorLists#reserve);
      // resources have no TFLite form.
      int dt = core.dtypeOf(a);
      if (DataTypes.toDType(dt) == null) {
        return false;
      }
      argTypes.add(dt);
    }
    List<TensorShape> argShapes = new ArrayList<>();
    for (String a : args) {
      argShapes.add(shapeOf(TensorRef.parse(a)));
    }
    // Every argument is lowered before the call: its TFLite tensor knows the shape best
    // (TensorLists' shapes are
    // known only here).
    for (int i = 0; i < args.size(); i++) {
      ModelBuilder.T t = sub.t(core.tensor(args.get(i)));
      if (t.hasRank) {
        long[] d = new long[t.shape.length];
        for (int k = 0; k < d.length; k++) {
          d[k] = t.signature != null && t.signature[k] < 0 ? -1 : t.shape[k];
        }
        argShapes.set(i, TensorShape.of(d));
      }
    }
    String[] fns =
        loop ? new String[] {"cond", "body"} : new String[] {"then_branch", "else_branch"};
    int[] indices = new int[2];
    for (int i = 0; i < 2; i++) {
      if (!(n.attr(fns[i]) instanceof AttrValue.Func f)) {
        return false;
      }
      indices[i] = subgraph(f.value().name(), argShapes, argTypes);
    }
    List<Integer> ins = new ArrayList<>();
    for (String d : data) {
      ins.add(core.tensor(d));
    }
    int outs =
        loop ? args.size() : n.attr("Tout") instanceof AttrValue.ListAttr l ? l.type().size() : 0;
    List<Integer> outTensors = new ArrayList<>();
    for (int k = 0; k < outs; k++) {
      outTensors.add(core.output(n, k));
    }
    ModelBuilder.Op o =
        sub.op(loop ? WHILE : IF, loop ? WHILE_OPTIONS : IF_OPTIONS, ins, outTensors);
    o.tfName = n.name();
    if (loop) {
      o.opt("cond_subgraph_index", indices[0]).opt("body_subgraph_index", indices[1]);
    } else {
      o.opt("then_subgraph_index", indices[0]).opt("else_subgraph_index", indices[1]);
    }
    return true;
  }

  /**
   * A tensor's shape for a function's argument: inferred, or for a loop's or branch's result the
   * {@code output_shapes} TensorFlow recorded on it; null when unknown.
   */
  private TensorShape shapeOf(TensorRef r) {
    long[] d = core.shapes.dims(r.toString());
    if (d != null) {
      return TensorShape.of(d);
    }
    Node p = core.g.node(r.node());
    if (p != null
        && p.attr("output_shapes") instanceof AttrValue.ListAttr l
        && r.index() < l.shape().size()) {
      return l.shape().get(r.index());
    }
    return null;
  }

  /** Lowers library function {@code name} as a new subgraph of the model and returns its index. */
  private int subgraph(String name, List<TensorShape> argShapes, List<Integer> argTypes) {
    FunctionGraph fg = FunctionGraph.instantiate(core.g, name, argShapes, argTypes);
    new GraphOptimizer().optimize(fg.graph());
    fg.keepAllInputs();
    ModelBuilder.Sub child = new ModelBuilder.Sub(name);
    core.model.subgraphs.add(child);
    int index = core.model.subgraphs.size() - 1;
    Lowering low = new Lowering(fg.graph(), child, core.options);
    low.model = core.model;
    low.run(fg.inputs());
    core.unsupported.addAll(low.unsupported);
    core.flexOps.addAll(low.flexOps);
    core.customOps.addAll(low.customOps);
    return index;
  }
}
