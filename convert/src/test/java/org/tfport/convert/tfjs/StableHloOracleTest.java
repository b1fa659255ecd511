package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.Converter;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.formats.ModelFormat;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * StableHLO programs in JAX's printed form, converted with {@code --input_format=stablehlo} to a
 * TF.js graph model and to {@code .tflite}, run in TF.js 4.22 and TFLite 2.18 and compared with
 * tfport's runtime on the program (itself checked against a hand computation for the first).
 */
@OracleTest
class StableHloOracleTest {
  @TempDir Path tmp;

  /** A program, its inputs (name, shape, float values or null, int values or null). */
  record In(String name, long[] shape, float[] f, int[] i) {}

  static final String MLP =
      """
      module @jit_mlp attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
        func.func public @main(%arg0: tensor<2x3xf32>, %arg1: tensor<3x4xf32>, %arg2: tensor<4xf32>) -> (tensor<2x4xf32> {jax.result_info = "y"}, tensor<2xf32> {jax.result_info = "s"}) {
          %0 = stablehlo.dot_general %arg0, %arg1, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
          %1 = stablehlo.broadcast_in_dim %arg2, dims = [1] : (tensor<4xf32>) -> tensor<2x4xf32>
          %2 = stablehlo.add %0, %1 : tensor<2x4xf32>
          %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
          %3 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<2x4xf32>
          %4 = stablehlo.maximum %2, %3 : tensor<2x4xf32>
          %5 = stablehlo.logistic %4 : tensor<2x4xf32>
          %6 = stablehlo.reduce(%5 init: %cst) applies stablehlo.add across dimensions = [1] : (tensor<2x4xf32>, tensor<f32>) -> tensor<2xf32>
          return %5, %6 : tensor<2x4xf32>, tensor<2xf32>
        }
      }
      """;

  static final String CONV_POOL =
      """
      module @jit_cnn {
        func.func public @main(%arg0: tensor<1x4x6x6xf32>) -> tensor<1x6x3x3xf32> {
          %arg1 = stablehlo.constant dense<"0xKERNEL"> : tensor<6x2x3x3xf32>
          %0 = stablehlo.convolution(%arg0, %arg1) dim_numbers = [b, f, 0, 1]x[o, i, 0, 1]->[b, f, 0, 1], window = {stride = [1, 1], pad = [[1, 1], [1, 1]], rhs_dilate = [1, 1]} {batch_group_count = 1 : i64, feature_group_count = 2 : i64} : (tensor<1x4x6x6xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
          %cst = stablehlo.constant dense<0xFF800000> : tensor<f32>
          %1 = "stablehlo.reduce_window"(%0, %cst) <{padding = dense<0> : tensor<4x2xi64>, window_dimensions = array<i64: 1, 1, 2, 2>, window_strides = array<i64: 1, 1, 2, 2>}> ({
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %m = stablehlo.maximum %a, %b : tensor<f32>
            stablehlo.return %m : tensor<f32>
          }) : (tensor<1x6x6x6xf32>, tensor<f32>) -> tensor<1x6x3x3xf32>
          return %1 : tensor<1x6x3x3xf32>
        }
      }
      """;

  static final String LOOP =
      """
      module @jit_loop {
        func.func public @main(%arg0: tensor<3xf32>) -> tensor<3xf32> {
          %c0 = stablehlo.constant dense<0> : tensor<i32>
          %c5 = stablehlo.constant dense<5> : tensor<i32>
          %c1 = stablehlo.constant dense<1> : tensor<i32>
          %half = stablehlo.constant dense<5.000000e-01> : tensor<3xf32>
          %0:2 = stablehlo.while(%iterArg = %c0, %iterArg_0 = %arg0) : tensor<i32>, tensor<3xf32>
           cond {
            %1 = stablehlo.compare  LT, %iterArg, %c5,  SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
            stablehlo.return %1 : tensor<i1>
          } do {
            %1 = stablehlo.add %iterArg, %c1 : tensor<i32>
            %2 = stablehlo.multiply %iterArg_0, %half : tensor<3xf32>
            %3 = stablehlo.sine %2 : tensor<3xf32>
            %4 = stablehlo.add %3, %iterArg_0 : tensor<3xf32>
            stablehlo.return %1, %4 : tensor<i32>, tensor<3xf32>
          }
          return %0#1 : tensor<3xf32>
        }
      }
      """;

  static final String INDEXING =
      """
      module @jit_index {
        func.func public @main(%arg0: tensor<4x3xf32>, %arg1: tensor<2xi32>) -> (tensor<2x3xf32>, tensor<3x8xf32>) {
          %0 = stablehlo.broadcast_in_dim %arg1, dims = [0] : (tensor<2xi32>) -> tensor<2x1xi32>
          %1 = "stablehlo.gather"(%arg0, %0) <{dimension_numbers = #stablehlo.gather<offset_dims = [1], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 1>, indices_are_sorted = false, slice_sizes = array<i64: 1, 3>}> : (tensor<4x3xf32>, tensor<2x1xi32>) -> tensor<2x3xf32>
          %2 = stablehlo.slice %arg0 [1:4, 0:3] : (tensor<4x3xf32>) -> tensor<3x3xf32>
          %3 = stablehlo.transpose %2, dims = [1, 0] : (tensor<3x3xf32>) -> tensor<3x3xf32>
          %cst = stablehlo.constant dense<1.000000e+00> : tensor<f32>
          %4 = stablehlo.pad %3, %cst, low = [0, 1], high = [0, -1], interior = [0, 1] : (tensor<3x3xf32>, tensor<f32>) -> tensor<3x5xf32>
          %5 = stablehlo.concatenate %4, %2, dim = 1 : (tensor<3x5xf32>, tensor<3x3xf32>) -> tensor<3x8xf32>
          %z = stablehlo.constant dense<0.000000e+00> : tensor<3x8xf32>
          %6 = stablehlo.compare  GT, %5, %z,  FLOAT : (tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<3x8xi1>
          %7 = stablehlo.negate %5 : tensor<3x8xf32>
          %8 = stablehlo.select %6, %5, %7 : tensor<3x8xi1>, tensor<3x8xf32>
          return %1, %8 : tensor<2x3xf32>, tensor<3x8xf32>
        }
      }
      """;

  @Test
  void programsRunAlikeInTfjsAndTflite() throws Exception {
    Random rnd = new Random(18);
    Map<String, String> programs = new LinkedHashMap<>();
    programs.put("mlp", MLP);
    // TFLite's CONV_2D takes its filter as a constant: JAX closes over weights this way.
    programs.put("conv_pool", CONV_POOL.replace("KERNEL", hex(f("k", rnd, 6, 2, 3, 3).f())));
    programs.put("loop", LOOP);
    programs.put("indexing", INDEXING);
    Map<String, List<In>> inputs = new LinkedHashMap<>();
    inputs.put("mlp", List.of(f("arg0", rnd, 2, 3), f("arg1", rnd, 3, 4), f("arg2", rnd, 4)));
    inputs.put("conv_pool", List.of(f("arg0", rnd, 1, 4, 6, 6)));
    inputs.put("loop", List.of(f("arg0", rnd, 3)));
    inputs.put(
        "indexing",
        List.of(f("arg0", rnd, 4, 3), new In("arg1", new long[] {2}, null, new int[] {3, 1})));
    List<String> lines = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    for (String name : programs.keySet()) {
      Path mlir = tmp.resolve(name + ".mlir");
      Files.writeString(mlir, programs.get(name));
      List<In> ins = inputs.get(name);
      List<float[]> expected = runtime(mlir, ins);
      if (name.equals("mlp")) {
        checkMlpByHand(ins, expected);
      }
      Path js = tmp.resolve(name + "_tfjs");
      Converter.from(mlir, ModelFormat.STABLEHLO).to(ModelFormat.TFJS_GRAPH_MODEL).convert(js);
      List<TfjsOracle.Input> jsIns = new ArrayList<>();
      for (In in : ins) {
        String node = in.name() + ":0";
        jsIns.add(
            in.f() != null
                ? TfjsOracle.Input.f32(node, in.shape(), in.f())
                : TfjsOracle.Input.i32(node, in.shape(), in.i()));
      }
      TfjsOracle.Result r =
          TfjsOracle.run(TfjsOracle.Job.graph(js.resolve("model.json"), jsIns, E2e.outputNames(js)))
              .orThrow();
      Path tfl = tmp.resolve(name + ".tflite");
      Converter.from(mlir, ModelFormat.STABLEHLO).to(ModelFormat.TFLITE).convert(tfl);
      List<TfliteOracle.Tensor> tflIns = new ArrayList<>();
      for (In in : ins) {
        int[] shape = java.util.Arrays.stream(in.shape()).mapToInt(d -> (int) d).toArray();
        tflIns.add(
            in.f() != null
                ? TfliteOracle.Tensor.f32(shape, in.f())
                : TfliteOracle.Tensor.i32(shape, in.i()));
      }
      List<TfliteOracle.Tensor> got = TfliteOracle.run(tfl, tflIns);
      StringBuilder line = new StringBuilder(name);
      for (int k = 0; k < expected.size(); k++) {
        Comparison cj = Comparison.of(expected.get(k), r.output(k).data(), E2e.ATOL, E2e.RTOL);
        Comparison ct = Comparison.of(expected.get(k), got.get(k).floats(), E2e.ATOL, E2e.RTOL);
        line.append(
            String.format(
                "; out%d tfjs max|d|=%.2g tflite max|d|=%.2g", k, cj.maxAbs(), ct.maxAbs()));
        if (!cj.ok()) {
          failures.add(name + " output " + k + " in TF.js: " + cj);
        }
        if (!ct.ok()) {
          failures.add(name + " output " + k + " in TFLite: " + ct);
        }
      }
      lines.add(line.toString());
    }
    System.out.println("StableHLO programs in TF.js and TFLite:\n  " + String.join("\n  ", lines));
    assertThat(failures).isEmpty();
  }

  /** The little-endian bytes of {@code v} in hex, as {@code dense<"0x...">} holds them. */
  private static String hex(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    return java.util.HexFormat.of().withUpperCase().formatHex(b.array());
  }

  private static In f(String name, Random rnd, long... shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextFloat() * 2 - 1;
    }
    return new In(name, shape, v, null);
  }

  private static List<float[]> runtime(Path mlir, List<In> ins) {
    Map<String, Tensor> feed = new LinkedHashMap<>();
    for (In in : ins) {
      if (in.f() != null) {
        ByteBuffer b = ByteBuffer.allocate(4 * in.f().length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : in.f()) {
          b.putFloat(v);
        }
        feed.put(in.name(), new Tensor(DType.FLOAT32, Shape.of(in.shape()), b.flip()));
      } else {
        feed.put(in.name(), Tensor.ofInts(Shape.of(in.shape()), in.i()));
      }
    }
    List<float[]> out = new ArrayList<>();
    try (Model m = Model.load(mlir);
        Session s = m.newSession()) {
      for (Tensor t : s.run(feed).values()) {
        out.add(t.toFloatArray());
      }
    }
    return out;
  }

  /** The MLP by hand: sigmoid(relu(x·w + b)) and its row sums. */
  private static void checkMlpByHand(List<In> ins, List<float[]> got) {
    float[] x = ins.get(0).f();
    float[] w = ins.get(1).f();
    float[] b = ins.get(2).f();
    float[] y = new float[8];
    float[] s = new float[2];
    for (int r = 0; r < 2; r++) {
      for (int c = 0; c < 4; c++) {
        double acc = b[c];
        for (int k = 0; k < 3; k++) {
          acc += x[r * 3 + k] * w[k * 4 + c];
        }
        y[r * 4 + c] = (float) (1 / (1 + Math.exp(-Math.max(acc, 0))));
        s[r] += y[r * 4 + c];
      }
    }
    assertThat(Comparison.of(y, got.get(0), 1e-6, 1e-5).ok()).as("mlp y by hand").isTrue();
    assertThat(Comparison.of(s, got.get(1), 1e-6, 1e-5).ok()).as("mlp s by hand").isTrue();
  }
}
