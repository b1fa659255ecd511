package org.tfport.graph.optimize;

import java.util.ArrayList;
import java.util.List;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;

/** Reading and making {@code Const} nodes. */
public final class Consts {
  private Consts() {}

  /**
   * The value a tensor reference reads when its producer is a {@code Const} tfport can hold, else
   * null.
   */
  public static Tensor value(Graph g, String ref) {
    TensorRef r = TensorRef.parse(ref);
    if (r.control() || r.index() != 0) {
      return null;
    }
    return value(g.node(r.node()));
  }

  /**
   * A constant node's value, or null when the node is not a {@code Const} with a value tfport can
   * hold.
   */
  public static Tensor value(Node n) {
    if (n == null || !n.op().equals("Const")) {
      return null;
    }
    TensorValue tv = n.tensorAttr("value");
    return tv == null ? null : tv.value();
  }

  public static boolean isConst(Graph g, String ref) {
    return value(g, ref) != null;
  }

  /** Turns {@code n} into a constant holding {@code t}, keeping its name and its control inputs. */
  public static void become(Node n, Tensor t) {
    List<String> control = new ArrayList<>(n.controlInputs());
    n.op("Const");
    n.attrs().clear();
    n.attr("dtype", new AttrValue.Type(t.dtype().tfEnum()));
    n.attr(
        "value",
        new AttrValue.TensorAttr(
            new TensorValue(t.dtype().tfEnum(), TensorShape.of(t.shape()), t)));
    n.setInputs(control);
  }

  /** Adds a constant named {@code base} (made unique) and returns its name. */
  public static String add(Graph g, String base, Tensor t) {
    Node c = new Node(g.uniqueName(base), "Const", List.of());
    become(c, t);
    g.add(c);
    return c.name();
  }
}
