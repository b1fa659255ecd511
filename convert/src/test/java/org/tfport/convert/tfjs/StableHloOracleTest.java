package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.convert.tfjs.StableHloTargets.i32;
import static org.tfport.convert.tfjs.StableHloTargets.random;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.tfjs.StableHloTargets.In;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;

/**
 * StableHLO programs in JAX's printed form, converted with {@code --input_format=stablehlo} to a
 * TF.js graph model and to {@code .tflite}, run in TF.js 4.22 and TFLite 2.18 and compared with
 * tfport's runtime on the program (itself checked against a hand computation for the first).
 */
@OracleTest
class StableHloOracleTest {
  @TempDir Path tmp;

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

  /** Complex math inside a program with real inputs and outputs: it lowers to real tensors. */
  static final String COMPLEX =
      """
      module @jit_complex {
        func.func public @main(%arg0: tensor<4xf32>, %arg1: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
          %z = stablehlo.complex %arg0, %arg1 : tensor<4xcomplex<f32>>
          %m = stablehlo.multiply %z, %z : tensor<4xcomplex<f32>>
          %e = stablehlo.exponential %z : tensor<4xcomplex<f32>>
          %d = stablehlo.divide %m, %e : tensor<4xcomplex<f32>>
          %t = stablehlo.tanh %d : tensor<4xcomplex<f32>>
          %re = stablehlo.real %t : (tensor<4xcomplex<f32>>) -> tensor<4xf32>
          %im = stablehlo.imag %t : (tensor<4xcomplex<f32>>) -> tensor<4xf32>
          %a = stablehlo.abs %d : (tensor<4xcomplex<f32>>) -> tensor<4xf32>
          return %re, %im, %a : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
        }
      }
      """;

  /** Values through an 8-bit float and a product rounded to it. */
  static final String FLOAT8 =
      """
      module @jit_f8 {
        func.func public @main(%arg0: tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
          %s = stablehlo.constant dense<2.000000e+01> : tensor<16xf32>
          %x = stablehlo.multiply %arg0, %s : tensor<16xf32>
          %y = stablehlo.convert %x : (tensor<16xf32>) -> tensor<16xf8E4M3FN>
          %p = stablehlo.multiply %y, %y : tensor<16xf8E4M3FN>
          %a = stablehlo.convert %y : (tensor<16xf8E4M3FN>) -> tensor<16xf32>
          %b = stablehlo.convert %p : (tensor<16xf8E4M3FN>) -> tensor<16xf32>
          return %a, %b : tensor<16xf32>, tensor<16xf32>
        }
      }
      """;

  @Test
  void complexAndFloat8ProgramsRunAlikeInTfjsAndTflite() throws Exception {
    Random rnd = new Random(19);
    StableHloTargets.Outcome c =
        StableHloTargets.run(
            tmp, "complex", COMPLEX, List.of(random("arg0", rnd, 4), random("arg1", rnd, 4)));
    StableHloTargets.Outcome f =
        StableHloTargets.run(tmp, "f8", FLOAT8, List.of(random("arg0", rnd, 16)));
    System.out.println(
        "StableHLO complex and f8 in TF.js and TFLite:\n  " + c.line() + "\n  " + f.line());
    assertThat(c.failures()).isEmpty();
    assertThat(f.failures()).isEmpty();
  }

  @Test
  void programsRunAlikeInTfjsAndTflite() throws Exception {
    Random rnd = new Random(18);
    Map<String, String> programs = new LinkedHashMap<>();
    programs.put("mlp", MLP);
    // TFLite's CONV_2D takes its filter as a constant: JAX closes over weights this way.
    programs.put("conv_pool", CONV_POOL.replace("KERNEL", hex(random("k", rnd, 6, 2, 3, 3).f())));
    programs.put("loop", LOOP);
    programs.put("indexing", INDEXING);
    Map<String, List<In>> inputs = new LinkedHashMap<>();
    inputs.put(
        "mlp",
        List.of(random("arg0", rnd, 2, 3), random("arg1", rnd, 3, 4), random("arg2", rnd, 4)));
    inputs.put("conv_pool", List.of(random("arg0", rnd, 1, 4, 6, 6)));
    inputs.put("loop", List.of(random("arg0", rnd, 3)));
    inputs.put("indexing", List.of(random("arg0", rnd, 4, 3), i32("arg1", new int[] {3, 1}, 2)));
    List<String> lines = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    for (String name : programs.keySet()) {
      StableHloTargets.Outcome o =
          StableHloTargets.run(tmp, name, programs.get(name), inputs.get(name));
      if (name.equals("mlp")) {
        checkMlpByHand(inputs.get(name), o.runtime());
      }
      lines.add(o.line());
      failures.addAll(o.failures());
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
