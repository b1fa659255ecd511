package org.tfport.convert.tflite;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;

/**
 * {@code --cast_float64_to_float32}: a graph that computes in float64 (graphs written from numpy
 * defaults often do) computes in float32 instead, since TFLite's builtins have no float64 kernels
 * for most ops. Constants are rounded to float32, placeholders take float32, and every type attr
 * naming float64 ({@code T}, {@code dtype}, {@code DstT}, type lists) names float32; the graph's
 * structure is unchanged.
 */
final class Float64Cast {
  private static final int F64 = DType.FLOAT64.tfEnum();
  private static final int F32 = DType.FLOAT32.tfEnum();

  private Float64Cast() {}

  /** Rewrites {@code g} and its functions; returns how many nodes changed. */
  static int apply(Graph g) {
    List<List<Node>> bodies = new ArrayList<>();
    bodies.add(g.nodes());
    g.functions().values().forEach(f -> bodies.add(f.nodes()));
    int changed = 0;
    for (List<Node> nodes : bodies) {
      for (Node n : nodes) {
        boolean any = false;
        for (Map.Entry<String, AttrValue> e : List.copyOf(n.attrs().entrySet())) {
          AttrValue v = e.getValue();
          AttrValue w = cast(v);
          if (w != v) {
            n.attr(e.getKey(), w);
            any = true;
          }
        }
        changed += any ? 1 : 0;
      }
    }
    return changed;
  }

  /** Whether any node of {@code g} (functions included) has a float64 type or constant. */
  static boolean uses(Graph g) {
    List<List<Node>> bodies = new ArrayList<>();
    bodies.add(g.nodes());
    g.functions().values().forEach(f -> bodies.add(f.nodes()));
    for (List<Node> nodes : bodies) {
      for (Node n : nodes) {
        for (AttrValue v : n.attrs().values()) {
          if (cast(v) != v) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /** {@code v} with float64 replaced by float32, or {@code v} itself when it names none. */
  private static AttrValue cast(AttrValue v) {
    return switch (v) {
      case AttrValue.Type t when t.value() == F64 -> new AttrValue.Type(F32);
      case AttrValue.TensorAttr t when t.value().dtype() == F64 && t.value().value() != null ->
          new AttrValue.TensorAttr(narrow(t.value()));
      case AttrValue.ListAttr l when l.type().contains(F64) ->
          new AttrValue.ListAttr(
              l.s(),
              l.i(),
              l.f(),
              l.b(),
              l.type().stream().map(x -> x == F64 ? F32 : x).toList(),
              l.shape(),
              l.tensor(),
              l.func());
      default -> v;
    };
  }

  private static TensorValue narrow(TensorValue tv) {
    Tensor t = tv.value();
    TensorShape shape = tv.shape();
    return new TensorValue(F32, shape, Tensor.ofFloats(t.shape(), t.toFloatArray()));
  }
}
