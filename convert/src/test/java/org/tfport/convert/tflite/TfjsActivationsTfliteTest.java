package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteOperator;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * TF.js graph models whose ops only TF.js has ({@code Prelu}, and {@code _FusedConv2D}, {@code
 * FusedDepthwiseConv2dNative}, {@code _FusedMatMul} with every activation TF.js writes, with and
 * without bias, and TensorFlow's fused batch norm) become TFLite builtins only ({@code PRELU},
 * {@code LEAKY_RELU}, Relu/Relu6 as fused activations), and TFLite 2.18 computes what TF.js 4.22
 * computes, within 1e-4 + 1e-3·|b|. Where TF.js cannot run a fusion itself (see {@link
 * Case#tfjsRunsFused}), the oracle is TF.js running the same model with the ops written out.
 */
@OracleTest
class TfjsActivationsTfliteTest {
  private static final double ATOL = 1e-4;
  private static final double RTOL = 1e-3;

  @TempDir Path tmp;

  @Test
  void facemeshWithPreluIsBuiltinOnlyAndMatchesTfjs() throws Exception {
    Path mj = Corpus.require("tfjs/graph/tfjs_facemesh_prelu/model.json");
    Path out = tmp.resolve("facemesh.tflite");
    TfjsGraphToTflite.convert(mj, out, TfliteOptions.defaults());

    TreeMap<String, Integer> ops = opCounts(TfliteReader.read(out));
    assertThat(ops.keySet()).allMatch(k -> !k.startsWith("CUSTOM"));
    // 18 standalone Prelu ops and the _FusedConv2D [BiasAdd, Prelu] ones.
    assertThat(ops.get("PRELU")).isGreaterThanOrEqualTo(19);
    // Keras' Flatten reshapes to [shape(x)[0], -1]: with the batch read at run time the RESHAPE
    // outputs were dynamic tensors, and XNNPACK refused the whole graph. A constant [-1, n] target
    // leaves no dynamic tensor.
    assertThat(ops)
        .doesNotContainKeys("SHAPE", "STRIDED_SLICE", "PACK")
        .containsEntry("RESHAPE", 2);

    TfliteOracle.Load load = TfliteOracle.load(out);
    assertThat(load.accepted()).as(load.error()).isTrue();
    Random rnd = new Random(15);
    float[] x = new float[128 * 128 * 3];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextFloat() * 2 - 1;
    }
    List<TfliteOracle.Tensor> in = List.of(TfliteOracle.Tensor.f32(new int[] {1, 128, 128, 3}, x));
    List<TfliteOracle.Tensor> lite = TfliteOracle.run(out, in);
    List<TfliteOracle.Tensor> xnnpack = TfliteOracle.run(out, in, TfliteOracle.Kernels.XNNPACK);
    // Identity is the face flag, Identity_1 the mesh (the nodes the two Identity ops read).
    TfjsOracle.Result js =
        TfjsOracle.run(
                TfjsOracle.Job.graph(
                    mj,
                    List.of(TfjsOracle.Input.f32("input_1", new long[] {1, 128, 128, 3}, x)),
                    List.of("Identity:0", "Identity_1:0")))
            .orThrow();
    for (int i = 0; i < load.outputs().size(); i++) {
      String name = load.outputs().get(i).name();
      int k = name.contains("faceflag") ? 0 : 1;
      Comparison c = Comparison.of(js.output(k).data(), lite.get(i).floats(), ATOL, RTOL);
      System.out.println("facemesh " + name + " (" + ops + "): " + c);
      assertThat(c.ok()).as(name + ": " + c).isTrue();
      Comparison cx = Comparison.of(js.output(k).data(), xnnpack.get(i).floats(), ATOL, RTOL);
      assertThat(cx.ok()).as(name + " with XNNPACK: " + cx).isTrue();
    }
  }

  /** One fused node on the input: its base op, fused_ops, and the TFLite op it must become. */
  private record Case(String base, List<String> fused, String expectOp, int expectOps) {
    String label() {
      return base + fused;
    }

    /**
     * False where TF.js 4.22 cannot run the fusion: Tanh, Selu and batch norm throw, and its op
     * mapper for FusedDepthwiseConv2dNative drops {@code leakyrelu_alpha} (NaN below zero).
     */
    boolean tfjsRunsFused() {
      return !fused.contains("Tanh")
          && !fused.contains("Selu")
          && !fused.contains("FusedBatchNorm")
          && !(base.equals("FusedDepthwiseConv2dNative") && fused.contains("LeakyRelu"));
    }

    int channels() {
      return switch (base) {
        case "_FusedConv2D" -> 4;
        case "FusedDepthwiseConv2dNative" -> 6;
        default -> 4;
      };
    }

    long[] inputShape() {
      return base.equals("_FusedMatMul") ? new long[] {2, 5} : new long[] {1, 6, 6, 3};
    }

    long[] filterShape() {
      return switch (base) {
        case "_FusedConv2D" -> new long[] {3, 3, 3, 4};
        case "FusedDepthwiseConv2dNative" -> new long[] {3, 3, 3, 2};
        default -> new long[] {5, 4};
      };
    }

    String plainBase() {
      return switch (base) {
        case "_FusedConv2D" -> "Conv2D";
        case "FusedDepthwiseConv2dNative" -> "DepthwiseConv2dNative";
        default -> "MatMul";
      };
    }
  }

  @Test
  void everyFusedActivationBecomesBuiltins() throws Exception {
    List<Case> cases = new ArrayList<>();
    for (String base : List.of("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul")) {
      String core =
          switch (base) {
            case "_FusedConv2D" -> "CONV_2D";
            case "FusedDepthwiseConv2dNative" -> "DEPTHWISE_CONV_2D";
            default -> "FULLY_CONNECTED";
          };
      cases.add(new Case(base, List.of("BiasAdd"), core, 1));
      cases.add(new Case(base, List.of("BiasAdd", "Relu"), core, 1));
      cases.add(new Case(base, List.of("BiasAdd", "Relu6"), core, 1));
      cases.add(new Case(base, List.of("BiasAdd", "Elu"), "ELU", 2));
      cases.add(new Case(base, List.of("BiasAdd", "Selu"), core, -1));
      cases.add(new Case(base, List.of("BiasAdd", "LeakyRelu"), "LEAKY_RELU", 2));
      cases.add(new Case(base, List.of("BiasAdd", "Prelu"), "PRELU", 2));
      cases.add(new Case(base, List.of("BiasAdd", "Sigmoid"), "LOGISTIC", 2));
      cases.add(new Case(base, List.of("BiasAdd", "Tanh"), "TANH", 2));
    }
    for (String base : List.of("_FusedConv2D", "FusedDepthwiseConv2dNative")) {
      String core = base.equals("_FusedConv2D") ? "CONV_2D" : "DEPTHWISE_CONV_2D";
      cases.add(new Case(base, List.of("FusedBatchNorm"), core, 1));
      cases.add(new Case(base, List.of("FusedBatchNorm", "Relu"), core, 1));
      cases.add(new Case(base, List.of("NoOp", "Prelu"), "PRELU", 2));
      cases.add(new Case(base, List.of("NoOp", "Relu6"), core, 1));
    }

    Random rnd = new Random(1507);
    List<TfjsOracle.Job> jobs = new ArrayList<>();
    List<float[]> lite = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    for (int k = 0; k < cases.size(); k++) {
      Case c = cases.get(k);
      Path dir = Files.createDirectories(tmp.resolve("case" + k));
      Path fusedJson = GraphModel.write(dir.resolve("fused"), c, true, new Random(k));
      Path out = dir.resolve("m.tflite");
      TfjsGraphToTflite.convert(fusedJson, out, TfliteOptions.defaults());
      TreeMap<String, Integer> ops = opCounts(TfliteReader.read(out));
      assertThat(ops.keySet())
          .as(c.label() + " " + ops)
          .allMatch(o -> !o.startsWith("CUSTOM"))
          .contains(c.expectOp());
      if (c.expectOps() > 0) {
        assertThat(ops.values().stream().mapToInt(Integer::intValue).sum())
            .as(c.label() + " " + ops)
            .isEqualTo(c.expectOps());
      }
      long[] shape = c.inputShape();
      float[] x = new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
      for (int i = 0; i < x.length; i++) {
        x[i] = rnd.nextFloat() * 4 - 2;
      }
      int[] ishape = Arrays.stream(shape).mapToInt(d -> (int) d).toArray();
      lite.add(TfliteOracle.run(out, List.of(TfliteOracle.Tensor.f32(ishape, x))).get(0).floats());
      Path oracleJson =
          c.tfjsRunsFused()
              ? fusedJson
              : GraphModel.write(dir.resolve("plain"), c, false, new Random(k));
      jobs.add(
          TfjsOracle.Job.graph(
              oracleJson, List.of(TfjsOracle.Input.f32("x", shape, x)), List.of("out:0")));
      labels.add(c.label() + (c.tfjsRunsFused() ? "" : " (oracle unfused)") + " " + ops);
    }
    List<TfjsOracle.Result> js = TfjsOracle.run(jobs);
    for (int k = 0; k < cases.size(); k++) {
      Comparison cmp = Comparison.of(js.get(k).orThrow().output(0).data(), lite.get(k), ATOL, RTOL);
      System.out.println(labels.get(k) + ": " + cmp);
      assertThat(cmp.ok()).as(labels.get(k) + ": " + cmp).isTrue();
    }
  }

  private static TreeMap<String, Integer> opCounts(TfliteModel m) {
    TreeMap<String, Integer> counts = new TreeMap<>();
    for (TfliteOperator op : m.mainSubgraph().operators()) {
      // Custom and Flex ops are marked so that "builtins only" is one check.
      String name = (m.opcode(op).isCustom() ? "CUSTOM " : "") + m.opcode(op).name();
      counts.merge(name, 1, Integer::sum);
    }
    return counts;
  }

  /** A one-node TF.js graph model: {@code x -> fused op (or its ops written out) -> out}. */
  private static final class GraphModel {
    private final List<String> nodes = new ArrayList<>();
    private final List<String> specs = new ArrayList<>();
    private final ByteBuffer bin = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private final Random rnd;

    private GraphModel(Random rnd) {
      this.rnd = rnd;
    }

    static Path write(Path dir, Case c, boolean fused, Random rnd) throws Exception {
      GraphModel m = new GraphModel(rnd);
      long[] in = c.inputShape();
      StringBuilder dims = new StringBuilder();
      for (long d : in) {
        dims.append(dims.isEmpty() ? "" : ",").append("{\"size\":\"").append(d).append("\"}");
      }
      m.nodes.add(
          "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
              + "\"shape\":{\"shape\":{\"dim\":["
              + dims
              + "]}}}}");
      int ch = c.channels();
      m.weight("w", c.filterShape(), -1, 1);
      List<String> args = new ArrayList<>();
      for (String f : c.fused()) {
        switch (f) {
          case "BiasAdd" -> args.add(m.weight("bias", new long[] {ch}, -1, 1));
          case "Prelu" -> args.add(m.weight("alpha", new long[] {ch}, 0, 0.5f));
          case "FusedBatchNorm" -> {
            args.add(m.weight("scale", new long[] {ch}, 0.5f, 1.5f));
            args.add(m.weight("offset", new long[] {ch}, -1, 1));
            args.add(m.weight("mean", new long[] {ch}, -1, 1));
            args.add(m.weight("variance", new long[] {ch}, 0.2f, 2));
          }
          default -> {}
        }
      }
      String baseAttrs = baseAttrs(c.base());
      if (fused) {
        List<String> ins = new ArrayList<>(List.of("x", "w"));
        ins.addAll(args);
        m.node(
            "y",
            c.base(),
            ins,
            baseAttrs
                + ",\"num_args\":{\"i\":\""
                + args.size()
                + "\"},\"epsilon\":{\"f\":0.001},\"leakyrelu_alpha\":{\"f\":0.15},\"fused_ops\":"
                + list(c.fused()));
      } else {
        String prev = "y_base";
        m.node(prev, c.plainBase(), List.of("x", "w"), baseAttrs);
        int a = 0;
        for (String f : c.fused()) {
          String name = "y_" + f;
          switch (f) {
            case "BiasAdd" -> m.node(name, "BiasAdd", List.of(prev, args.get(a++)), T);
            case "FusedBatchNorm" -> {
              List<String> ins = new ArrayList<>(List.of(prev));
              ins.addAll(args.subList(a, a + 4));
              a += 4;
              m.node(
                  name,
                  "FusedBatchNormV3",
                  ins,
                  T
                      + ",\"U\":{\"type\":\"DT_FLOAT\"},\"epsilon\":{\"f\":0.001},"
                      + "\"is_training\":{\"b\":false},\"data_format\":"
                      + str("NHWC"));
            }
            case "NoOp" -> {
              continue;
            }
            case "Prelu" -> m.node(name, "Prelu", List.of(prev, args.get(a++)), T);
            case "LeakyRelu" ->
                m.node(name, "LeakyRelu", List.of(prev), T + ",\"alpha\":{\"f\":0.15}");
            default -> m.node(name, f, List.of(prev), T);
          }
          prev = name;
        }
        m.node("y", "Identity", List.of(prev), T);
      }
      m.node("out", "Identity", List.of("y"), T);
      return m.save(dir);
    }

    private static final String T = "\"T\":{\"type\":\"DT_FLOAT\"}";

    private static String baseAttrs(String base) {
      if (base.equals("_FusedMatMul")) {
        return T + ",\"transpose_a\":{\"b\":false},\"transpose_b\":{\"b\":false}";
      }
      return T
          + ",\"data_format\":"
          + str("NHWC")
          + ",\"dilations\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},"
          + "\"strides\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},\"padding\":"
          + str("SAME");
    }

    private String weight(String name, long[] shape, float lo, float hi) {
      long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
      for (long i = 0; i < n; i++) {
        bin.putFloat(lo + rnd.nextFloat() * (hi - lo));
      }
      StringBuilder s = new StringBuilder();
      for (long d : shape) {
        s.append(s.isEmpty() ? "" : ",").append(d);
      }
      specs.add("{\"name\":\"" + name + "\",\"shape\":[" + s + "],\"dtype\":\"float32\"}");
      nodes.add(
          "{\"name\":\""
              + name
              + "\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"DT_FLOAT\"},"
              + "\"value\":{\"tensor\":{\"dtype\":\"DT_FLOAT\"}}}}");
      return name;
    }

    private void node(String name, String op, List<String> inputs, String attrs) {
      StringBuilder ins = new StringBuilder();
      for (String i : inputs) {
        ins.append(ins.isEmpty() ? "" : ",").append('"').append(i).append('"');
      }
      nodes.add(
          "{\"name\":\""
              + name
              + "\",\"op\":\""
              + op
              + "\",\"input\":["
              + ins
              + "],\"attr\":{"
              + attrs
              + "}}");
    }

    private static String str(String v) {
      return "{\"s\":\"" + Base64.getEncoder().encodeToString(v.getBytes()) + "\"}";
    }

    private static String list(List<String> ops) {
      StringBuilder b = new StringBuilder("{\"list\":{\"s\":[");
      for (int i = 0; i < ops.size(); i++) {
        b.append(i == 0 ? "" : ",")
            .append('"')
            .append(Base64.getEncoder().encodeToString(ops.get(i).getBytes()))
            .append('"');
      }
      return b.append("]}}").toString();
    }

    private Path save(Path dir) throws Exception {
      Files.createDirectories(dir);
      String json =
          "{\"format\":\"graph-model\",\"generatedBy\":\"2.18.0\",\"convertedBy\":\"test\","
              + "\"signature\":{\"inputs\":{\"x:0\":{\"name\":\"x:0\",\"dtype\":\"DT_FLOAT\"}},"
              + "\"outputs\":{\"out:0\":{\"name\":\"out:0\",\"dtype\":\"DT_FLOAT\"}}},"
              + "\"modelTopology\":{\"node\":["
              + String.join(",", nodes)
              + "],\"versions\":{\"producer\":1808}},\"weightsManifest\":[{\"paths\":[\"w.bin\"],"
              + "\"weights\":["
              + String.join(",", specs)
              + "]}]}";
      Path mj = dir.resolve("model.json");
      Files.writeString(mj, json);
      Files.write(dir.resolve("w.bin"), Arrays.copyOf(bin.array(), bin.position()));
      return mj;
    }
  }
}
