package org.tfport.runtime.stablehlo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.graph.stablehlo.XlaCallModules;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;

/**
 * An {@code XlaCallModule} node's calling convention, as TensorFlow's kernel defines it: with two
 * platforms the module's first argument is the platform index (CPU's position here, 1), then one
 * scalar per {@code dim_args_spec} entry (dimension 0 of argument 0: 3), then the node's inputs.
 * The module computes {@code x * platform + dim}, so [1, 2, 3] gives [4, 5, 6].
 */
class XlaCallModuleExpandTest {

  static final String MODULE =
      """
      module @jit_f {
        func.func public @main(%platform: tensor<i32>, %dim: tensor<i32>, %arg0: tensor<3xf32>) -> tensor<3xf32> {
          %p = stablehlo.convert %platform : (tensor<i32>) -> tensor<f32>
          %d = stablehlo.convert %dim : (tensor<i32>) -> tensor<f32>
          %pb = stablehlo.broadcast_in_dim %p, dims = [] : (tensor<f32>) -> tensor<3xf32>
          %db = stablehlo.broadcast_in_dim %d, dims = [] : (tensor<f32>) -> tensor<3xf32>
          %m = stablehlo.multiply %arg0, %pb : tensor<3xf32>
          %r = stablehlo.add %m, %db : tensor<3xf32>
          return %r : tensor<3xf32>
        }
      }
      """;

  @Test
  void platformIndexAndDimensionArguments() {
    Graph g = graph(MODULE, 3, DType.FLOAT32.tfEnum());
    assertThat(XlaCallModules.expand(g)).isEmpty();
    assertThat(g.nodes().stream().map(Node::op)).doesNotContain("XlaCallModule");
    try (Model m = Model.fromGraph(g);
        Session s = m.newSession()) {
      Tensor x = Tensor.ofFloats(Shape.of(3), 1f, 2f, 3f);
      Tensor y = s.run(Map.of("x", x)).values().iterator().next();
      assertThat(y.toFloatArray()).containsExactly(4f, 5f, 6f);
    }
  }

  @Test
  void toutThatDisagreesWithTheModuleIsNamed() {
    Graph g = graph(MODULE, 3, DType.INT32.tfEnum());
    assertThatThrownBy(() -> XlaCallModules.expand(g))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("node call (XlaCallModule)")
        .hasMessageContaining("Tout");
  }

  @Test
  void opsThatDoNotLowerAreNamedWithTheNode() {
    String rng =
        """
        module @jit_f {
          func.func public @main(%platform: tensor<i32>, %dim: tensor<i32>, %arg0: tensor<3xf32>) -> tensor<3xf32> {
            %s = stablehlo.constant dense<[1, 2]> : tensor<2xui64>
            %0:2 = "stablehlo.rng_bit_generator"(%s) <{rng_algorithm = #stablehlo<rng_algorithm DEFAULT>}> : (tensor<2xui64>) -> (tensor<2xui64>, tensor<3xf32>)
            return %0#1 : tensor<3xf32>
          }
        }
        """;
    Graph g = graph(rng, 3, DType.FLOAT32.tfEnum());
    assertThatThrownBy(() -> XlaCallModules.expand(g))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("node call (XlaCallModule)")
        .hasMessageContaining("rng_bit_generator");
  }

  /** x (f32[3]) into an XlaCallModule v3 holding {@code text}, for platforms TPU and CPU. */
  private static Graph graph(String text, long version, int tout) {
    Graph g = new Graph("test.pb");
    Map<String, AttrValue> px = new LinkedHashMap<>();
    px.put("dtype", new AttrValue.Type(DType.FLOAT32.tfEnum()));
    px.put("shape", new AttrValue.Shape(TensorShape.of(3)));
    g.add(new Node("x", "Placeholder", new ArrayList<>(), "", px));
    g.inputs().add("x");
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("module", new AttrValue.Str(text.getBytes(StandardCharsets.UTF_8)));
    a.put("version", new AttrValue.Int(version));
    a.put("Tin", list(List.of(), List.of(DType.FLOAT32.tfEnum()), List.of()));
    a.put("Tout", list(List.of(), List.of(tout), List.of()));
    a.put("Sout", list(List.of(), List.of(), List.of(TensorShape.of(3))));
    a.put("platforms", list(List.of("TPU", "CPU"), List.of(), List.of()));
    a.put("dim_args_spec", list(List.of("0.0"), List.of(), List.of()));
    g.add(new Node("call", "XlaCallModule", new ArrayList<>(List.of("x")), "", a));
    Map<String, AttrValue> id = new LinkedHashMap<>();
    id.put("T", new AttrValue.Type(DType.FLOAT32.tfEnum()));
    g.add(new Node("y", "Identity", new ArrayList<>(List.of("call")), "", id));
    g.outputs().add("y");
    return g;
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
