package org.tfport.runtime.stablehlo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.graph.stablehlo.XlaCallModules;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;

/**
 * An {@code XlaCallModule} whose results are 8-bit floats ({@code Tout} DT_FLOAT8_E4M3FN = 25 and
 * DT_FLOAT8_E5M2 = 24), read by a {@code Cast} to float32 and an {@code Identity}: the values are
 * the inputs rounded to each format, worked out by hand (e4m3fn: 0.3 -> 0.3125 between 0.28125 and
 * 0.3125, 1.7 -> 1.75, -2.2 -> -2.25 on a step of 0.25; e5m2: 0.3 -> 0.3125, 1.7 -> 1.75, -2.2 ->
 * -2.0 on a step of 0.5).
 */
class XlaCallModuleFloat8Test {
  static final String MODULE =
      """
      module @jit_f {
        func.func public @main(%arg0: tensor<3xf32>) -> (tensor<3xf8E4M3FN>, tensor<3xf8E5M2>) {
          %0 = stablehlo.convert %arg0 : (tensor<3xf32>) -> tensor<3xf8E4M3FN>
          %1 = stablehlo.convert %arg0 : (tensor<3xf32>) -> tensor<3xf8E5M2>
          return %0, %1 : tensor<3xf8E4M3FN>, tensor<3xf8E5M2>
        }
      }
      """;

  @Test
  void float8ResultsReachTheirReadersAsRoundedFloats() {
    Graph g = new Graph("f8.pb");
    Map<String, AttrValue> px = new LinkedHashMap<>();
    px.put("dtype", new AttrValue.Type(DType.FLOAT32.tfEnum()));
    px.put("shape", new AttrValue.Shape(TensorShape.of(3)));
    g.add(new Node("x", "Placeholder", new ArrayList<>(), "", px));
    g.inputs().add("x");
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("module", new AttrValue.Str(MODULE.getBytes(StandardCharsets.UTF_8)));
    a.put("version", new AttrValue.Int(9));
    a.put("Tin", list(List.of(), List.of(DType.FLOAT32.tfEnum()), List.of()));
    a.put("Tout", list(List.of(), List.of(25, 24), List.of()));
    a.put("Sout", list(List.of(), List.of(), List.of(TensorShape.of(3), TensorShape.of(3))));
    a.put("platforms", list(List.of("CPU"), List.of(), List.of()));
    a.put("dim_args_spec", list(List.of(), List.of(), List.of()));
    g.add(new Node("call", "XlaCallModule", new ArrayList<>(List.of("x")), "", a));
    Map<String, AttrValue> cast = new LinkedHashMap<>();
    cast.put("SrcT", new AttrValue.Type(25));
    cast.put("DstT", new AttrValue.Type(DType.FLOAT32.tfEnum()));
    cast.put("Truncate", new AttrValue.Bool(false));
    g.add(new Node("e4m3", "Cast", new ArrayList<>(List.of("call:0")), "", cast));
    Map<String, AttrValue> id = new LinkedHashMap<>();
    id.put("T", new AttrValue.Type(24));
    g.add(new Node("e5m2", "Identity", new ArrayList<>(List.of("call:1")), "", id));
    g.outputs().add("e4m3");
    g.outputs().add("e5m2");
    XlaCallModules.expand(g);
    assertThat(g.node("e5m2").typeAttr("T")).isEqualTo(DType.FLOAT32.tfEnum());
    try (Model m = Model.fromGraph(g);
        Session s = m.newSession()) {
      Map<String, Tensor> out = s.run(Map.of("x", Tensor.ofFloats(Shape.of(3), 0.3f, 1.7f, -2.2f)));
      List<Tensor> values = new ArrayList<>(out.values());
      assertThat(values.get(0).toFloatArray()).containsExactly(0.3125f, 1.75f, -2.25f);
      assertThat(values.get(1).toFloatArray()).containsExactly(0.3125f, 1.75f, -2.0f);
    }
  }

  private static AttrValue list(List<String> s, List<Integer> types, List<TensorShape> shapes) {
    return new AttrValue.ListAttr(
        s.stream().map(x -> x.getBytes(StandardCharsets.UTF_8)).toList(),
        List.of(),
        List.of(),
        List.of(),
        types,
        shapes,
        List.of(),
        List.of());
  }
}
