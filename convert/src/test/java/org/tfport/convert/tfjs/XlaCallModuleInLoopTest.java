package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.Converter;
import org.tfport.convert.GraphLoadingOptions;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.ModelFormat;
import org.tfport.formats.graphdef.GraphDefWriter;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * An {@code XlaCallModule} inside a {@code While} body (a jax2tf-converted step in a TensorFlow
 * loop): the loader expands it inside the library function. The step is {@code 2 v + 1}, run three
 * times: [1, 2, 3] gives [15, 23, 31] in tfport's runtime, and in TF.js 4.22 and TFLite 2.18 after
 * converting the frozen graph.
 */
class XlaCallModuleInLoopTest {
  static final String STEP =
      """
      module @jit_step {
        func.func public @main(%v: tensor<3xf32>) -> tensor<3xf32> {
          %two = stablehlo.constant dense<2.0> : tensor<3xf32>
          %one = stablehlo.constant dense<1.0> : tensor<3xf32>
          %m = stablehlo.multiply %v, %two : tensor<3xf32>
          %r = stablehlo.add %m, %one : tensor<3xf32>
          return %r : tensor<3xf32>
        }
      }
      """;

  private static final float[] INPUT = {1f, 2f, 3f};
  private static final float[] EXPECTED = {15f, 23f, 31f};

  @Test
  void moduleInALoopBodyRuns(@TempDir Path dir) throws Exception {
    Path pb = write(dir);
    try (Model m = Model.load(pb);
        Session s = m.newSession()) {
      Tensor out =
          s.run(
                  Map.of(
                      m.defaultSignature().inputs().get(0).name(),
                      Tensor.ofFloats(Shape.of(3), INPUT)))
              .values()
              .iterator()
              .next();
      assertThat(out.toFloatArray()).containsExactly(EXPECTED);
    }
  }

  @Test
  @OracleTest
  void moduleInALoopBodyConverts(@TempDir Path dir) throws Exception {
    Path pb = write(dir);
    Path js = dir.resolve("tfjs");
    GraphLoadingOptions outputs = GraphLoadingOptions.builder().outputNodeNames("y").build();
    Converter.from(pb, ModelFormat.TF_FROZEN_MODEL)
        .to(ModelFormat.TFJS_GRAPH_MODEL)
        .withGraphLoading(outputs)
        .convert(js);
    TfjsOracle.Result r =
        TfjsOracle.run(
                TfjsOracle.Job.graph(
                    js.resolve("model.json"),
                    List.of(TfjsOracle.Input.f32("x:0", new long[] {3}, INPUT)),
                    E2e.outputNames(js)))
            .orThrow();
    Path tfl = dir.resolve("loop.tflite");
    Converter.from(pb, ModelFormat.TF_FROZEN_MODEL)
        .to(ModelFormat.TFLITE)
        .withGraphLoading(outputs)
        .convert(tfl);
    List<TfliteOracle.Tensor> got =
        TfliteOracle.run(tfl, List.of(TfliteOracle.Tensor.f32(new int[] {3}, INPUT)));
    assertThat(r.output(0).data()).as("TF.js").containsExactly(EXPECTED);
    assertThat(got.get(0).floats()).as("TFLite").containsExactly(EXPECTED);
  }

  /** The frozen graph: x, a While over (i, v) whose body calls the module on v. */
  private static Path write(Path dir) throws Exception {
    int f32 = DType.FLOAT32.tfEnum();
    int i32 = DType.INT32.tfEnum();
    Graph g = new Graph("loop.pb");
    g.add(node("x", "Placeholder", List.of(), "dtype", type(f32), "shape", shape(3)));
    g.inputs().add("x");
    g.add(constant("i0", 0));
    g.add(
        node(
            "loop",
            "While",
            List.of("i0", "x"),
            "T",
            types(i32, f32),
            "cond",
            new AttrValue.Func(FuncRef.of("cond")),
            "body",
            new AttrValue.Func(FuncRef.of("body")),
            "parallel_iterations",
            new AttrValue.Int(10)));
    g.add(node("y", "Identity", List.of("loop:1"), "T", type(f32)));
    g.outputs().add("y");
    List<ArgDef> args = List.of(ArgDef.ofType("i", i32), ArgDef.ofType("v", f32));
    g.functions()
        .put(
            "cond",
            function(
                "cond",
                args,
                List.of(ArgDef.ofType("out", DType.BOOL.tfEnum())),
                List.of(
                    constant("limit", 3),
                    node("less", "Less", List.of("i", "limit:output:0"), "T", type(i32))),
                Map.of("out", "less:z:0")));
    Map<String, AttrValue> call = new LinkedHashMap<>();
    call.put("module", new AttrValue.Str(STEP.getBytes(StandardCharsets.UTF_8)));
    call.put("version", new AttrValue.Int(9));
    call.put("Tin", list(List.of(), List.of(f32), List.of()));
    call.put("Tout", list(List.of(), List.of(f32), List.of()));
    call.put("Sout", list(List.of(), List.of(), List.of(TensorShape.of(3))));
    call.put("platforms", list(List.of("CPU"), List.of(), List.of()));
    call.put("dim_args_spec", list(List.of(), List.of(), List.of()));
    g.functions()
        .put(
            "body",
            function(
                "body",
                args,
                args,
                List.of(
                    constant("one", 1),
                    node("next", "AddV2", List.of("i", "one:output:0"), "T", type(i32)),
                    new Node("step", "XlaCallModule", new ArrayList<>(List.of("v")), "", call)),
                Map.of("i", "next:z:0", "v", "step:output:0")));
    Path pb = dir.resolve("loop.pb");
    Files.write(pb, GraphDefWriter.write(g));
    return pb;
  }

  private static GraphFunction function(
      String name, List<ArgDef> in, List<ArgDef> out, List<Node> nodes, Map<String, String> ret) {
    return new GraphFunction(
        name, in, out, nodes, new LinkedHashMap<>(ret), Map.of(), Map.of(), Map.of(), false);
  }

  private static Node constant(String name, int value) {
    Tensor t = Tensor.ofInts(Shape.SCALAR, value);
    return node(
        name,
        "Const",
        List.of(),
        "dtype",
        type(DType.INT32.tfEnum()),
        "value",
        new AttrValue.TensorAttr(new TensorValue(DType.INT32.tfEnum(), TensorShape.of(), t)));
  }

  private static Node node(String name, String op, List<String> inputs, Object... attrs) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    for (int k = 0; k < attrs.length; k += 2) {
      a.put((String) attrs[k], (AttrValue) attrs[k + 1]);
    }
    return new Node(name, op, new ArrayList<>(inputs), "", a);
  }

  private static AttrValue type(int t) {
    return new AttrValue.Type(t);
  }

  private static AttrValue shape(long... dims) {
    return new AttrValue.Shape(TensorShape.of(dims));
  }

  private static AttrValue types(Integer... t) {
    return list(List.of(), List.of(t), List.of());
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
