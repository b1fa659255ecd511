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
 * A jax2tf {@code XlaCallModule} (version 9) whose module was exported for the symbolic shape
 * {@code (b, 2)}: {@code @main} takes {@code tensor<?x2xf32>}, derives {@code b} with {@code
 * get_dimension_size} and passes it as the {@code jax.global_constant = "b"} argument of a private
 * function that builds its result shape from it ({@code dynamic_broadcast_in_dim}, {@code
 * dynamic_iota}). Fed by a placeholder of static shape [3, 2], the module refines as TF's kernel
 * refines it for the shapes it runs on: y[i][j] = x[i][j] * b + i, by hand.
 */
class XlaCallModuleSymbolicShapeTest {
  static final String MODULE =
      """
      module @jit_f attributes {jax.uses_shape_polymorphism = true} {
        func.func public @main(%arg0: tensor<?x2xf32>) -> tensor<?x2xf32> {
          %0 = stablehlo.get_dimension_size %arg0, dim = 0 : (tensor<?x2xf32>) -> tensor<i32>
          %1 = stablehlo.convert %0 : (tensor<i32>) -> tensor<i64>
          %2 = call @_wrapped_jax_export_main(%1, %arg0) : (tensor<i64>, tensor<?x2xf32>) -> tensor<?x2xf32>
          return %2 : tensor<?x2xf32>
        }
        func.func private @_wrapped_jax_export_main(%arg0: tensor<i64> {jax.global_constant = "b"}, %arg1: tensor<?x2xf32>) -> tensor<?x2xf32> {
          %0 = stablehlo.convert %arg0 : (tensor<i64>) -> tensor<f32>
          %1 = stablehlo.broadcast_in_dim %arg0, dims = [] : (tensor<i64>) -> tensor<1xi64>
          %c = stablehlo.constant dense<2> : tensor<1xi64>
          %2 = stablehlo.concatenate %1, %c, dim = 0 : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
          %3 = stablehlo.dynamic_broadcast_in_dim %0, %2, dims = [] : (tensor<f32>, tensor<2xi64>) -> tensor<?x2xf32>
          %4 = stablehlo.multiply %arg1, %3 : tensor<?x2xf32>
          %5 = "stablehlo.dynamic_iota"(%2) <{iota_dimension = 0 : i64}> : (tensor<2xi64>) -> tensor<?x2xf32>
          %6 = stablehlo.add %4, %5 : tensor<?x2xf32>
          return %6 : tensor<?x2xf32>
        }
      }
      """;

  @Test
  void staticPlaceholderRefinesTheModule() {
    Graph g = graph();
    float[] x = {0.5f, -1f, 2f, 0.25f, -3f, 1.5f};
    float[] got;
    try (Model model = Model.fromGraph(g);
        Session s = model.newSession()) {
      got =
          s.run(Map.of("x", Tensor.ofFloats(Shape.of(3, 2), x)))
              .values()
              .iterator()
              .next()
              .toFloatArray();
    }
    float[] want = new float[6];
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 2; j++) {
        want[i * 2 + j] = x[i * 2 + j] * 3 + i;
      }
    }
    assertThat(got).containsExactly(want);
  }

  private static Graph graph() {
    Graph g = new Graph("test.pb");
    Map<String, AttrValue> px = new LinkedHashMap<>();
    px.put("dtype", new AttrValue.Type(DType.FLOAT32.tfEnum()));
    px.put("shape", new AttrValue.Shape(TensorShape.of(3, 2)));
    g.add(new Node("x", "Placeholder", new ArrayList<>(), "", px));
    g.inputs().add("x");
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("module", new AttrValue.Str(MODULE.getBytes(StandardCharsets.UTF_8)));
    a.put("version", new AttrValue.Int(9));
    a.put("Tin", list(List.of(), List.of(DType.FLOAT32.tfEnum()), List.of()));
    a.put("Tout", list(List.of(), List.of(DType.FLOAT32.tfEnum()), List.of()));
    a.put("Sout", list(List.of(), List.of(), List.of(TensorShape.of(-1, 2))));
    a.put("platforms", list(List.of("CPU"), List.of(), List.of()));
    a.put("dim_args_spec", list(List.of(), List.of(), List.of()));
    g.add(new Node("call", "XlaCallModule", new ArrayList<>(List.of("x")), "", a));
    Map<String, AttrValue> id = new LinkedHashMap<>();
    id.put("T", new AttrValue.Type(DType.FLOAT32.tfEnum()));
    g.add(new Node("y", "Identity", new ArrayList<>(List.of("call")), "", id));
    g.outputs().add("y");
    XlaCallModules.expand(g);
    return g;
  }

  private static AttrValue list(List<String> s, List<Integer> types, List<TensorShape> shapes) {
    return new AttrValue.ListAttr(
        s.stream().map(v -> v.getBytes(StandardCharsets.UTF_8)).toList(),
        List.of(),
        List.of(),
        List.of(),
        types,
        shapes,
        List.of(),
        List.of());
  }
}
