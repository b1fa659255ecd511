package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * JAX's {@code x.at[i].add(u)}, {@code .set(u)} and {@code .max(u)} (unique indices) scatters and a
 * max-pool gradient ({@code select_and_scatter}), in JAX's printed form, converted with {@code
 * --input_format=stablehlo} and run in TF.js 4.22 and TFLite 2.18: both agree with tfport's
 * runtime, itself checked against a hand computation of the scatters (index 9 is out of bounds:
 * dropped).
 */
@OracleTest
class ScatterOracleTest {
  @TempDir Path tmp;

  static final String SCATTER =
      """
      module @jit_scatter {
        func.func public @main(%arg0: tensor<5x3xf32>, %arg1: tensor<3xi32>, %arg2: tensor<3x3xf32>) -> (tensor<5x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>) {
          %0 = stablehlo.broadcast_in_dim %arg1, dims = [0] : (tensor<3xi32>) -> tensor<3x1xi32>
          %1 = "stablehlo.scatter"(%arg0, %0, %arg2) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}> ({
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %s = stablehlo.add %a, %b : tensor<f32>
            stablehlo.return %s : tensor<f32>
          }) : (tensor<5x3xf32>, tensor<3x1xi32>, tensor<3x3xf32>) -> tensor<5x3xf32>
          %2 = "stablehlo.scatter"(%arg0, %0, %arg2) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = true}> ({
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            stablehlo.return %b : tensor<f32>
          }) : (tensor<5x3xf32>, tensor<3x1xi32>, tensor<3x3xf32>) -> tensor<5x3xf32>
          %3 = "stablehlo.scatter"(%arg0, %0, %arg2) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = true}> ({
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %s = stablehlo.maximum %a, %b : tensor<f32>
            stablehlo.return %s : tensor<f32>
          }) : (tensor<5x3xf32>, tensor<3x1xi32>, tensor<3x3xf32>) -> tensor<5x3xf32>
          return %1, %2, %3 : tensor<5x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>
        }
      }
      """;

  static final String POOL_GRAD =
      """
      module @jit_pool_grad {
        func.func public @main(%arg0: tensor<1x4x4x2xf32>, %arg1: tensor<1x2x2x2xf32>) -> tensor<1x4x4x2xf32> {
          %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
          %0 = "stablehlo.select_and_scatter"(%arg0, %arg1, %cst) <{window_dimensions = array<i64: 1, 2, 2, 1>, window_strides = array<i64: 1, 2, 2, 1>}> ({
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %c = stablehlo.compare  GE, %a, %b,  FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
            stablehlo.return %c : tensor<i1>
          }, {
          ^bb0(%a: tensor<f32>, %b: tensor<f32>):
            %s = stablehlo.add %a, %b : tensor<f32>
            stablehlo.return %s : tensor<f32>
          }) : (tensor<1x4x4x2xf32>, tensor<1x2x2x2xf32>, tensor<f32>) -> tensor<1x4x4x2xf32>
          return %0 : tensor<1x4x4x2xf32>
        }
      }
      """;

  @Test
  void scattersRunAlikeInTfjsAndTflite() throws Exception {
    Random rnd = new Random(7);
    float[] x = floats(rnd, 15);
    int[] idx = {4, 0, 9};
    float[] u = floats(rnd, 9);
    List<float[]> scatter =
        check(
            "scatter",
            SCATTER,
            List.of(f32("arg0", x, 5, 3), i32("arg1", idx, 3), f32("arg2", u, 3, 3)));
    float[] add = x.clone();
    float[] set = x.clone();
    float[] max = x.clone();
    for (int j = 0; j < 2; j++) {
      for (int c = 0; c < 3; c++) {
        add[idx[j] * 3 + c] += u[j * 3 + c];
        set[idx[j] * 3 + c] = u[j * 3 + c];
        max[idx[j] * 3 + c] = Math.max(x[idx[j] * 3 + c], u[j * 3 + c]);
      }
    }
    assertThat(Comparison.of(add, scatter.get(0), 1e-6, 1e-6).ok()).as("add by hand").isTrue();
    assertThat(Comparison.of(set, scatter.get(1), 0, 0).ok()).as("set by hand").isTrue();
    assertThat(Comparison.of(max, scatter.get(2), 0, 0).ok()).as("max by hand").isTrue();
    check(
        "pool_grad",
        POOL_GRAD,
        List.of(f32("arg0", floats(rnd, 32), 1, 4, 4, 2), f32("arg1", floats(rnd, 8), 1, 2, 2, 2)));
  }

  private record In(String name, long[] shape, float[] f, int[] i) {}

  private static In f32(String name, float[] v, long... shape) {
    return new In(name, shape, v, null);
  }

  private static In i32(String name, int[] v, long... shape) {
    return new In(name, shape, null, v);
  }

  private static float[] floats(Random rnd, int n) {
    float[] v = new float[n];
    for (int k = 0; k < n; k++) {
      v[k] = rnd.nextFloat() * 2 - 1;
    }
    return v;
  }

  /** Runs the program in the runtime, TF.js and TFLite; returns the runtime's outputs. */
  private List<float[]> check(String name, String program, List<In> ins) throws Exception {
    Path mlir = tmp.resolve(name + ".mlir");
    Files.writeString(mlir, program);
    List<float[]> expected = new ArrayList<>();
    try (Model m = Model.load(mlir);
        Session s = m.newSession()) {
      Map<String, Tensor> feed = new java.util.LinkedHashMap<>();
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
      for (Tensor t : s.run(feed).values()) {
        expected.add(t.toFloatArray());
      }
    }
    Path js = tmp.resolve(name + "_tfjs");
    Converter.from(mlir, ModelFormat.STABLEHLO).to(ModelFormat.TFJS_GRAPH_MODEL).convert(js);
    List<TfjsOracle.Input> jsIns = new ArrayList<>();
    for (In in : ins) {
      jsIns.add(
          in.f() != null
              ? TfjsOracle.Input.f32(in.name() + ":0", in.shape(), in.f())
              : TfjsOracle.Input.i32(in.name() + ":0", in.shape(), in.i()));
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
    List<String> failures = new ArrayList<>();
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
    System.out.println("StableHLO scatter in TF.js and TFLite: " + line);
    assertThat(failures).isEmpty();
    return expected;
  }
}
