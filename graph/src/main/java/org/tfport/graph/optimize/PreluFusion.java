package org.tfport.graph.optimize;

import java.util.ArrayList;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphPass;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * Keras' PReLU, {@code Relu(x) + Mul(-alpha, Relu(Neg(x)))} with {@code -alpha} a constant, becomes
 * {@code Prelu(x, alpha)}: the TF.js converter's {@code fuse_ops_for_prelu}. Exact: for {@code x <
 * 0} the sum is {@code (-alpha) * (-x)}, and negations are exact. {@code Prelu} is not a TensorFlow
 * op; TF.js and TFLite have it, so this pass is for those targets only.
 *
 * <p>The {@code Add} keeps its name and becomes the {@code Prelu}; the other nodes are left for
 * pruning, so one that something else still reads stays correct (upstream renames the first {@code
 * Relu} in place and would change what its other readers see). Either operand order is matched.
 */
public final class PreluFusion implements GraphPass {
  private int fused;

  @Override
  public String name() {
    return "fuse-prelu";
  }

  public int fused() {
    return fused;
  }

  @Override
  public boolean apply(Graph g) {
    boolean changed = false;
    Readers readers = Readers.of(g);
    for (Node n : g.nodes()) {
      if ((n.op().equals("Add") || n.op().equals("AddV2"))
          && n.dataInputs().size() == 2
          && fuse(g, readers, n)) {
        fused++;
        changed = true;
      }
    }
    return changed;
  }

  private static boolean fuse(Graph g, Readers readers, Node add) {
    for (int side = 0; side < 2; side++) {
      Node relu = op(g, add.input(side), "Relu", 1);
      Node mul = op(g, add.input(1 - side), "Mul", 2);
      if (relu == null || mul == null) {
        continue;
      }
      for (int m = 0; m < 2; m++) {
        Tensor negAlpha = Consts.value(g, mul.input(m));
        Node negRelu = op(g, mul.input(1 - m), "Relu", 1);
        Node neg = negRelu == null ? null : op(g, negRelu.input(0), "Neg", 1);
        if (negAlpha == null
            || negAlpha.dtype() != DType.FLOAT32
            || neg == null
            || !same(neg.input(0), relu.input(0))) {
          continue;
        }
        float[] alpha = Tensors.floats(negAlpha);
        for (int i = 0; i < alpha.length; i++) {
          alpha[i] = -alpha[i];
        }
        Tensor value = Tensors.of(negAlpha.shape().dims(), alpha);
        Node negNode = g.node(TensorRef.nodeOf(mul.input(m)));
        String alphaName;
        if (readers.of(negNode.name()).size() == 1
            && GraphEdits.soleReader(g, readers, mul, add)
            && !GraphEdits.isInterface(g, negNode.name())) {
          // Negated in place, as upstream does, so the weight keeps its name: the Mul reading it
          // dies here.
          Consts.become(negNode, value);
          alphaName = negNode.name();
        } else {
          alphaName = Consts.add(g, negNode.name() + "_alpha", value);
        }
        List<String> ins = new ArrayList<>(List.of(relu.input(0), alphaName));
        ins.addAll(add.controlInputs());
        add.op("Prelu");
        add.attrs().keySet().retainAll(List.of("T"));
        add.setInputs(ins);
        return true;
      }
    }
    return false;
  }

  private static Node op(Graph g, String ref, String op, int inputs) {
    TensorRef r = TensorRef.parse(ref);
    Node n = g.node(r.node());
    return n != null && r.index() == 0 && n.op().equals(op) && n.dataInputs().size() == inputs
        ? n
        : null;
  }

  private static boolean same(String a, String b) {
    return TensorRef.parse(a).equals(TensorRef.parse(b));
  }
}
