package org.tfport.graph.optimize;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphPass;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * Merges nodes that compute the same thing: the same op on the same inputs with the same
 * attributes, for ops without state or randomness, and constants with equal values. Inputs of
 * commutative ops are compared as a multiset (IEEE addition and multiplication commute exactly).
 * Graph inputs and outputs keep their names: when one of two equal nodes is an output, the other
 * goes; when both are, both stay.
 */
public final class CommonSubexpressionElimination implements GraphPass {
  private static final Set<String> COMMUTATIVE =
      Set.of(
          "Add",
          "AddV2",
          "Mul",
          "Maximum",
          "Minimum",
          "Equal",
          "NotEqual",
          "LogicalAnd",
          "LogicalOr",
          "SquaredDifference");

  private int merged;

  @Override
  public String name() {
    return "common-subexpressions";
  }

  public int merged() {
    return merged;
  }

  @Override
  public boolean apply(Graph g) {
    Map<String, List<Node>> buckets = new HashMap<>();
    Readers readers = Readers.of(g);
    boolean changed = false;
    for (Node n : g.topologicalOrder()) {
      if (g.node(n.name()) != n || !candidate(g, n)) {
        continue;
      }
      String key = key(n);
      List<Node> bucket = buckets.computeIfAbsent(key, k -> new ArrayList<>());
      boolean done = false;
      for (int i = 0; i < bucket.size() && !done; i++) {
        Node c = bucket.get(i);
        if (!same(c, n)) {
          continue;
        }
        boolean nFixed = GraphEdits.isInterface(g, n.name());
        boolean cFixed = GraphEdits.isInterface(g, c.name());
        if (!nFixed) {
          GraphEdits.merge(g, n.name(), c.name(), readers);
        } else if (!cFixed) {
          GraphEdits.merge(g, c.name(), n.name(), readers);
          bucket.set(i, n);
        } else {
          continue;
        }
        merged++;
        changed = true;
        done = true;
      }
      if (!done) {
        bucket.add(n);
      }
    }
    return changed;
  }

  private static boolean candidate(Graph g, Node n) {
    if (g.inputs().contains(n.name())) {
      return false;
    }
    if (n.op().equals("Const")) {
      return Consts.value(n) != null;
    }
    return GraphEdits.isPure(g, n);
  }

  private static List<String> dataInputs(Node n) {
    List<String> data = new ArrayList<>();
    for (String in : n.dataInputs()) {
      data.add(TensorRef.parse(in).toString());
    }
    if (COMMUTATIVE.contains(n.op())) {
      data.sort(null);
    }
    return data;
  }

  private static List<String> controlInputs(Node n) {
    List<String> c = new ArrayList<>(n.controlInputs());
    c.sort(null);
    return c;
  }

  /**
   * The attributes that say what a node computes; {@code _class}, {@code _output_shapes} and such
   * do not.
   */
  private static Map<String, AttrValue> semantic(Node n) {
    Map<String, AttrValue> m = new TreeMap<>(n.attrs());
    m.keySet().removeIf(k -> k.startsWith("_"));
    return m;
  }

  private static String key(Node n) {
    int attrs = 0;
    for (Map.Entry<String, AttrValue> e : semantic(n).entrySet()) {
      attrs = attrs * 31 + e.getKey().hashCode() * 17 + hash(e.getValue());
    }
    return n.op() + '|' + n.device() + '|' + dataInputs(n) + '|' + controlInputs(n) + '|' + attrs;
  }

  private static boolean same(Node a, Node b) {
    Map<String, AttrValue> x = semantic(a);
    Map<String, AttrValue> y = semantic(b);
    if (!a.op().equals(b.op())
        || !a.device().equals(b.device())
        || !dataInputs(a).equals(dataInputs(b))
        || !controlInputs(a).equals(controlInputs(b))
        || !x.keySet().equals(y.keySet())) {
      return false;
    }
    for (Map.Entry<String, AttrValue> e : x.entrySet()) {
      if (!same(e.getValue(), y.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /** Attribute equality; lists of strings hold arrays, which records compare by identity. */
  static boolean same(AttrValue a, AttrValue b) {
    if (a instanceof AttrValue.ListAttr x && b instanceof AttrValue.ListAttr y) {
      if (x.s().size() != y.s().size()) {
        return false;
      }
      for (int i = 0; i < x.s().size(); i++) {
        if (!Arrays.equals(x.s().get(i), y.s().get(i))) {
          return false;
        }
      }
      return x.i().equals(y.i())
          && x.f().equals(y.f())
          && x.b().equals(y.b())
          && x.type().equals(y.type())
          && x.shape().equals(y.shape())
          && x.tensor().equals(y.tensor())
          && x.func().equals(y.func());
    }
    return Objects.equals(a, b);
  }

  private static int hash(AttrValue v) {
    if (v instanceof AttrValue.ListAttr l) {
      int h = 1;
      for (byte[] s : l.s()) {
        h = h * 31 + Arrays.hashCode(s);
      }
      return h * 31 + Objects.hash(l.i(), l.f(), l.b(), l.type(), l.shape());
    }
    if (v instanceof AttrValue.TensorAttr t && t.value().value() != null) {
      Tensor x = t.value().value();
      return Objects.hash(x.dtype(), x.shape(), sampledHash(x.bytes()));
    }
    return v == null ? 0 : v.hashCode();
  }

  /**
   * A bucket key for tensor bytes that does not read all of a weight: equal tensors still hash
   * equal, and {@link #same} compares whole contents before anything merges. Hashing every byte of
   * a 200 MB model's weights cost more than the rest of the optimizer together.
   */
  static int sampledHash(java.nio.ByteBuffer b) {
    int n = b.remaining();
    if (n <= 4096) {
      return b.hashCode();
    }
    int h = n;
    long step = n / 512;
    for (int i = 0; i < 512; i++) {
      h = h * 31 + b.get(b.position() + (int) (i * step));
    }
    return h;
  }
}
