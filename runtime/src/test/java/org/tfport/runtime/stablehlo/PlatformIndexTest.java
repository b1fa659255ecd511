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
import org.tfport.formats.stablehlo.StableHloText;
import org.tfport.graph.stablehlo.StableHloLowering;
import org.tfport.graph.stablehlo.XlaCallModules;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;

/**
 * The platform index argument JAX marks {@code jax.global_constant = "_platform_index"} (i32 or
 * i64): the module adds 2 on its first platform, 3 on its second and 4 on its third. Run alone it
 * is no input and picks the first platform (text has no platform list); in an {@code XlaCallModule}
 * it is CPU's place in {@code platforms}.
 */
class PlatformIndexTest {
  static final String MODULE =
      """
      module @jit_f {
        func.func public @main(%arg_platform_idx: tensor<i64> {jax.global_constant = "_platform_index"}, %arg0: tensor<3xf32>) -> tensor<3xf32> {
          %0 = stablehlo.convert %arg_platform_idx : (tensor<i64>) -> tensor<i32>
          %to_add = "stablehlo.case"(%0) ({
            %cpu_val = stablehlo.constant dense<2.0> : tensor<f32>
            stablehlo.return %cpu_val : tensor<f32>
          }, {
            %gpu_val = stablehlo.constant dense<3.0> : tensor<f32>
            stablehlo.return %gpu_val : tensor<f32>
          }, {
            %tpu_val = stablehlo.constant dense<4.0> : tensor<f32>
            stablehlo.return %tpu_val : tensor<f32>
          }) : (tensor<i32>) -> tensor<f32>
          %b = stablehlo.broadcast_in_dim %to_add, dims = [] : (tensor<f32>) -> tensor<3xf32>
          %1 = stablehlo.add %arg0, %b : tensor<3xf32>
          return %1 : tensor<3xf32>
        }
      }
      """;

  @Test
  void standaloneModuleTakesOnlyTheArray() {
    StableHloLowering.Lowered lw = StableHloLowering.lower(StableHloText.parse(MODULE, "p.mlir"));
    assertThat(lw.inputNames()).hasSize(1);
    assertThat(run(Model.fromGraph(lw.graph()), lw.inputNames().get(0)))
        .containsExactly(2.5f, 3.5f, 4.5f);
  }

  @Test
  void xlaCallModulePassesCpusPlace() {
    assertThat(run(Model.fromGraph(graph(List.of("cuda", "cpu", "tpu"))), "x"))
        .containsExactly(3.5f, 4.5f, 5.5f);
    // One platform: the marked argument is still the module's first.
    assertThat(run(Model.fromGraph(graph(List.of("CPU"))), "x")).containsExactly(2.5f, 3.5f, 4.5f);
  }

  private static float[] run(Model model, String input) {
    try (model;
        Session s = model.newSession()) {
      Tensor x = Tensor.ofFloats(Shape.of(3), 0.5f, 1.5f, 2.5f);
      return s.run(Map.of(input, x)).values().iterator().next().toFloatArray();
    }
  }

  private static Graph graph(List<String> platforms) {
    Graph g = new Graph("test.pb");
    Map<String, AttrValue> px = new LinkedHashMap<>();
    px.put("dtype", new AttrValue.Type(DType.FLOAT32.tfEnum()));
    px.put("shape", new AttrValue.Shape(TensorShape.of(3)));
    g.add(new Node("x", "Placeholder", new ArrayList<>(), "", px));
    g.inputs().add("x");
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("module", new AttrValue.Str(MODULE.getBytes(StandardCharsets.UTF_8)));
    a.put("version", new AttrValue.Int(9));
    a.put("Tin", list(List.of(), List.of(DType.FLOAT32.tfEnum()), List.of()));
    a.put("Tout", list(List.of(), List.of(DType.FLOAT32.tfEnum()), List.of()));
    a.put("Sout", list(List.of(), List.of(), List.of(TensorShape.of(3))));
    a.put("platforms", list(platforms, List.of(), List.of()));
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
