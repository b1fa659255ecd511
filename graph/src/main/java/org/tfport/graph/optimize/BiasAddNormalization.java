package org.tfport.graph.optimize;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphPass;
import org.tfport.core.graph.Node;

/**
 * An {@code Add}/{@code AddV2} of a per-channel bias to a {@code Conv2D}, {@code
 * DepthwiseConv2dNative} or {@code MatMul} that nothing else reads becomes a {@code BiasAdd}, so
 * the fusions find it (the TF.js converter's {@code normalize_bias_add}). Unlike upstream, the bias
 * must be a vector as long as the output has channels, which is what makes the two ops agree;
 * either operand order is taken.
 */
public final class BiasAddNormalization implements GraphPass {
  private static final Set<String> CONTRACTIONS =
      Set.of("Conv2D", "DepthwiseConv2dNative", "MatMul");

  private int normalized;

  @Override
  public String name() {
    return "normalize-bias-add";
  }

  public int normalized() {
    return normalized;
  }

  @Override
  public boolean apply(Graph g) {
    Map<String, List<Node>> consumers = g.consumers();
    ShapeInference shapes = ShapeInference.of(g);
    boolean changed = false;
    for (Node n : g.nodes()) {
      if (!n.op().equals("Add") && !n.op().equals("AddV2") || n.dataInputs().size() != 2) {
        continue;
      }
      for (int side = 0; side < 2; side++) {
        Node c = GraphEdits.producer(g, n.input(side));
        String bias = n.input(1 - side);
        if (c == null
            || !CONTRACTIONS.contains(c.op())
            || !GraphEdits.soleReader(g, consumers, c, n)
            || "NCHW".equals(c.stringAttr("data_format"))) {
          continue;
        }
        long channels = channels(g, shapes, c);
        long[] b = shapes.dims(bias);
        Tensor constant = Consts.value(g, bias);
        if (constant != null) {
          b = constant.shape().dims();
        }
        if (channels < 0 || b == null || b.length != 1 || b[0] != channels) {
          continue;
        }
        List<String> ins = new ArrayList<>(List.of(n.input(side), bias));
        ins.addAll(n.controlInputs());
        AttrValue t = n.attr("T");
        n.op("BiasAdd");
        n.attrs().clear();
        if (t != null) {
          n.attr("T", t);
        }
        n.attr("data_format", AttrValue.Str.of("NHWC"));
        n.setInputs(ins);
        normalized++;
        changed = true;
        break;
      }
    }
    return changed;
  }

  /**
   * The contraction's output channels, from its weights' shape or the inferred output shape, or -1.
   */
  private static long channels(Graph g, ShapeInference shapes, Node c) {
    long[] out = shapes.dims(c.name());
    if (out != null && out.length > 0 && out[out.length - 1] >= 0) {
      return out[out.length - 1];
    }
    long[] w = c.dataInputs().size() == 2 ? shapes.dims(c.input(1)) : null;
    if (w == null) {
      return -1;
    }
    return switch (c.op()) {
      case "Conv2D" -> w.length == 4 ? w[3] : -1;
      case "DepthwiseConv2dNative" -> w.length == 4 && w[2] >= 0 && w[3] >= 0 ? w[2] * w[3] : -1;
      default ->
          w.length == 2
              ? (c.attr("transpose_b") instanceof AttrValue.Bool tb && tb.value() ? w[0] : w[1])
              : -1;
    };
  }
}
