package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.graph.Node;
import org.tfport.graph.TfjsGraphReader;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * The TF.js converter's fused ops ({@code _FusedConv2D}, {@code FusedDepthwiseConv2dNative}, {@code
 * _FusedMatMul} with Relu, Relu6, LeakyRelu and Prelu) in a hand-written graph model: split back,
 * lowered to TFLite, and run in TFLite 2.18 against TF.js 4.22 executing the fused ops itself.
 */
@OracleTest
class TfjsFusedOpsTfliteTest {
  @TempDir Path tmp;

  private static String s(String v) {
    return "{\"s\":\"" + Base64.getEncoder().encodeToString(v.getBytes()) + "\"}";
  }

  private static String fused(String... ops) {
    StringBuilder b = new StringBuilder("{\"list\":{\"s\":[");
    for (int i = 0; i < ops.length; i++) {
      b.append(i == 0 ? "" : ",")
          .append('"')
          .append(Base64.getEncoder().encodeToString(ops[i].getBytes()))
          .append('"');
    }
    return b.append("]}}").toString();
  }

  private static final String F = "{\"type\":\"DT_FLOAT\"}";

  private static String constNode(String name, String dtype) {
    return "{\"name\":\""
        + name
        + "\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\""
        + dtype
        + "\"},"
        + "\"value\":{\"tensor\":{\"dtype\":\""
        + dtype
        + "\"}}}}";
  }

  @Test
  void fusedOpsMatchTfjs() throws Exception {
    Random rnd = new Random(7);
    String[][] weights = {
      {"w1", "3,3,3,4"},
      {"b1", "4"},
      {"dw", "3,3,4,1"},
      {"b2", "4"},
      {"w3", "16,5"},
      {"b3", "5"},
      {"w4", "5,3"},
      {"b4", "3"},
      {"alpha", "3"}
    };
    List<String> specs = new ArrayList<>();
    ByteBuffer bin = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
    List<String> nodes = new ArrayList<>();
    nodes.add(
        "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":"
            + F
            + ",\"shape\":{\"shape\":{\"dim\":"
            + "[{\"size\":\"1\"},{\"size\":\"6\"},{\"size\":\"6\"},{\"size\":\"3\"}]}}}}");
    for (String[] w : weights) {
      int n = 1;
      for (String d : w[1].split(",")) {
        n *= Integer.parseInt(d);
      }
      for (int i = 0; i < n; i++) {
        bin.putFloat(rnd.nextFloat() * 2 - 1);
      }
      specs.add("{\"name\":\"" + w[0] + "\",\"shape\":[" + w[1] + "],\"dtype\":\"float32\"}");
      nodes.add(constNode(w[0], "DT_FLOAT"));
    }
    bin.putInt(1).putInt(-1);
    specs.add("{\"name\":\"shape\",\"shape\":[2],\"dtype\":\"int32\"}");
    nodes.add(constNode("shape", "DT_INT32"));
    String conv =
        "\"T\":"
            + F
            + ",\"data_format\":"
            + s("NHWC")
            + ",\"dilations\":{\"list\":{\"i\":[\"1\",\"1\","
            + "\"1\",\"1\"]}},\"epsilon\":{\"f\":0},";
    nodes.add(
        "{\"name\":\"c1\",\"op\":\"_FusedConv2D\",\"input\":[\"x\",\"w1\",\"b1\"],\"device\":\"/device:CPU:0\","
            + "\"attr\":{"
            + conv
            + "\"strides\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},\"padding\":"
            + s("SAME")
            + ",\"num_args\":{\"i\":\"1\"},\"fused_ops\":"
            + fused("BiasAdd", "Relu")
            + "}}");
    nodes.add(
        "{\"name\":\"c2\",\"op\":\"FusedDepthwiseConv2dNative\",\"input\":[\"c1\",\"dw\",\"b2\"],\"attr\":{"
            + conv
            + "\"strides\":{\"list\":{\"i\":[\"1\",\"2\",\"2\",\"1\"]}},\"padding\":"
            + s("VALID")
            + ",\"num_args\":{\"i\":\"1\"},\"fused_ops\":"
            + fused("BiasAdd", "Relu6")
            + "}}");
    nodes.add(
        "{\"name\":\"r\",\"op\":\"Reshape\",\"input\":[\"c2\",\"shape\"],\"attr\":{\"T\":"
            + F
            + ",\"Tshape\":{\"type\":\"DT_INT32\"}}}");
    nodes.add(
        "{\"name\":\"m1\",\"op\":\"_FusedMatMul\",\"input\":[\"r\",\"w3\",\"b3\"],\"attr\":{\"T\":"
            + F
            + ",\"transpose_a\":{\"b\":false},\"transpose_b\":{\"b\":false},\"num_args\":{\"i\":\"1\"},\"epsilon\":"
            + "{\"f\":0},\"leakyrelu_alpha\":{\"f\":0.3},\"fused_ops\":"
            + fused("BiasAdd", "LeakyRelu")
            + "}}");
    nodes.add(
        "{\"name\":\"m2\",\"op\":\"_FusedMatMul\",\"input\":[\"m1\",\"w4\",\"b4\",\"alpha\"],\"attr\":{\"T\":"
            + F
            + ",\"transpose_a\":{\"b\":false},\"transpose_b\":{\"b\":false},\"num_args\":{\"i\":\"2\"},"
            + "\"epsilon\":{\"f\":0},\"fused_ops\":"
            + fused("BiasAdd", "Prelu")
            + "}}");
    nodes.add(
        "{\"name\":\"Identity\",\"op\":\"Identity\",\"input\":[\"m2\"],\"attr\":{\"T\":"
            + F
            + "}}");
    String json =
        "{\"format\":\"graph-model\",\"generatedBy\":\"2.18.0\",\"convertedBy\":\"hand\",\"signature\":"
            + "{\"inputs\":{\"x:0\":{\"name\":\"x:0\",\"dtype\":\"DT_FLOAT\"}},\"outputs\":{\"Identity:0\":{\"name\":"
            + "\"Identity:0\",\"dtype\":\"DT_FLOAT\"}}},\"modelTopology\":{\"node\":["
            + String.join(",", nodes)
            + "],\"versions\":{\"producer\":1808}},\"weightsManifest\":[{\"paths\":[\"w.bin\"],\"weights\":["
            + String.join(",", specs)
            + "]}]}";
    Path dir = Files.createDirectories(tmp.resolve("m"));
    Path mj = dir.resolve("model.json");
    Files.writeString(mj, json);
    Files.write(dir.resolve("w.bin"), java.util.Arrays.copyOf(bin.array(), bin.position()));

    var tg = TfjsGraphReader.read(mj);
    assertThat(tg.unfused()).isEqualTo(4);
    assertThat(tg.graph().nodes().stream().map(Node::op))
        .doesNotContain("_FusedConv2D", "_FusedMatMul", "FusedDepthwiseConv2dNative")
        .contains("Conv2D", "DepthwiseConv2dNative", "MatMul", "BiasAdd", "Relu6", "LeakyRelu");

    Path out = tmp.resolve("m.tflite");
    var summary = TfjsGraphToTflite.convert(mj, out, TfliteOptions.defaults());
    assertThat(TfliteOracle.load(out).accepted()).isTrue();
    float[] x = new float[108];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextFloat() * 4 - 2;
    }
    float[] lite =
        TfliteOracle.run(out, List.of(TfliteOracle.Tensor.f32(new int[] {1, 6, 6, 3}, x)))
            .get(0)
            .floats();
    TfjsOracle.Result js =
        TfjsOracle.run(
                TfjsOracle.Job.graph(
                    mj,
                    List.of(TfjsOracle.Input.f32("x", new long[] {1, 6, 6, 3}, x)),
                    List.of("Identity:0")))
            .orThrow();
    Comparison c = Comparison.of(js.output(0).data(), lite, 1e-4, 1e-3);
    System.out.println("fused ops: " + summary.detail() + "; " + c);
    assertThat(c.ok()).as(c.toString()).isTrue();
  }
}
