package org.tfport.runtime.stablehlo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.formats.stablehlo.Float8;
import org.tfport.formats.stablehlo.Func;
import org.tfport.formats.stablehlo.StableHloModule;
import org.tfport.formats.stablehlo.StableHloText;
import org.tfport.graph.stablehlo.StableHloLowering;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;

/**
 * Complex arithmetic lowered to pairs of real tensors, with values worked out by hand, and the
 * 8-bit float rounding built from graph ops against {@link Float8#round} (itself checked against a
 * brute-force nearest search in the formats module).
 */
class ComplexFloat8ProgramsTest {

  /**
   * (1+2i)(0.5-i) = 2.5; (3-4i)(2+2i) = 14-2i; (1+2i)/(0.5-i) = -1.2+1.6i; (3-4i)/(2+2i) =
   * -0.25-1.75i; |1+2i| = sqrt 5; e^(i pi) = -1; (1+i, 2)·(i, 1-i) = 1-i.
   */
  static final String ARITHMETIC =
      """
      func.func public @complex_arithmetic() {
        %a = stablehlo.constant dense<[(1.0, 2.0), (3.0, -4.0)]> : tensor<2xcomplex<f32>>
        %b = stablehlo.constant dense<[(0.5, -1.0), (2.0, 2.0)]> : tensor<2xcomplex<f32>>
        %m = stablehlo.multiply %a, %b : tensor<2xcomplex<f32>>
        check.expect_eq_const %m, dense<[(2.5, 0.0), (14.0, -2.0)]> : tensor<2xcomplex<f32>>
        %d = stablehlo.divide %a, %b : tensor<2xcomplex<f32>>
        check.expect_almost_eq_const %d, dense<[(-1.2, 1.6), (-0.25, -1.75)]> : tensor<2xcomplex<f32>>
        %re = stablehlo.real %m : (tensor<2xcomplex<f32>>) -> tensor<2xf32>
        %im = stablehlo.imag %d : (tensor<2xcomplex<f32>>) -> tensor<2xf32>
        %c = stablehlo.complex %re, %im : tensor<2xcomplex<f32>>
        check.expect_almost_eq_const %c, dense<[(2.5, 1.6), (14.0, -1.75)]> : tensor<2xcomplex<f32>>
        %abs = stablehlo.abs %a : (tensor<2xcomplex<f32>>) -> tensor<2xf32>
        check.expect_almost_eq_const %abs, dense<[2.23606798, 5.0]> : tensor<2xf32>
        %p = stablehlo.constant dense<(0.0, 3.14159265358979)> : tensor<complex<f64>>
        %e = stablehlo.exponential %p : tensor<complex<f64>>
        check.expect_almost_eq_const %e, dense<(-1.0, 0.0)> : tensor<complex<f64>>
        %x = stablehlo.constant dense<[(1.0, 1.0), (2.0, 0.0)]> : tensor<2xcomplex<f32>>
        %y = stablehlo.constant dense<[(0.0, 1.0), (1.0, -1.0)]> : tensor<2xcomplex<f32>>
        %dot = stablehlo.dot_general %x, %y, contracting_dims = [0] x [0] : (tensor<2xcomplex<f32>>, tensor<2xcomplex<f32>>) -> tensor<complex<f32>>
        check.expect_eq_const %dot, dense<(1.0, -1.0)> : tensor<complex<f32>>
        %t = stablehlo.transpose %x, dims = [0] : (tensor<2xcomplex<f32>>) -> tensor<2xcomplex<f32>>
        %s = stablehlo.slice %t [1:2] : (tensor<2xcomplex<f32>>) -> tensor<1xcomplex<f32>>
        check.expect_eq_const %s, dense<[(2.0, 0.0)]> : tensor<1xcomplex<f32>>
        func.return
      }
      """;

  @Test
  void complexArithmeticGivesHandComputedValues() {
    StableHloModule m = StableHloText.parse(ARITHMETIC, "complex_test.mlir");
    List<String> failures = new ArrayList<>();
    int passed = 0;
    for (Func f : m.funcs()) {
      for (StableHloPrograms.Outcome o : StableHloPrograms.run(m, f)) {
        if (o.failure() == null) {
          passed++;
        } else {
          failures.add(o.where() + ": " + o.failure());
        }
      }
    }
    assertThat(failures).isEmpty();
    assertThat(passed).isEqualTo(7);
  }

  /** A complex64 argument and result: z * z for [1+2i, 3-i] is [-3+4i, 8-6i]. */
  @Test
  void complexArgumentsAndResultsAreComplex64() {
    String text =
        """
        func.func public @main(%z: tensor<2xcomplex<f32>>) -> tensor<2xcomplex<f32>> {
          %m = stablehlo.multiply %z, %z : tensor<2xcomplex<f32>>
          return %m : tensor<2xcomplex<f32>>
        }
        """;
    StableHloLowering.Lowered lw = StableHloLowering.lower(StableHloText.parse(text, "sq.mlir"));
    ByteBuffer in = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    in.putFloat(1).putFloat(2).putFloat(3).putFloat(-1).flip();
    try (Model model = Model.fromGraph(lw.graph());
        Session s = model.newSession()) {
      Tensor out =
          s.run(Map.of(lw.inputNames().get(0), new Tensor(DType.COMPLEX64, Shape.of(2), in)))
              .values()
              .iterator()
              .next();
      assertThat(out.dtype()).isEqualTo(DType.COMPLEX64);
      ByteBuffer b = out.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
      float[] got = new float[4];
      for (int k = 0; k < 4; k++) {
        got[k] = b.getFloat(4 * k);
      }
      assertThat(got).containsExactly(-3f, 4f, 8f, -6f);
    }
  }

  /** f32 -> f8 -> f32 in the graph, for every format, against {@link Float8#round}. */
  @Test
  void float8RoundingInTheGraphMatchesTheFormats() {
    Random random = new Random(8);
    for (String name :
        List.of(
            "f8E5M2",
            "f8E4M3",
            "f8E3M4",
            "f8E4M3FN",
            "f8E4M3FNUZ",
            "f8E5M2FNUZ",
            "f8E4M3B11FNUZ")) {
      Float8 f = Float8.of(name);
      int n = 300;
      double[] x = new double[n];
      for (int k = 0; k < n; k++) {
        // Patterns, midpoints between neighbours, values past the range, and random reals.
        double v = f.decode(k & 0xff);
        double w = f.decode((k + 1) & 0xff);
        x[k] =
            switch (k % 4) {
              case 0 -> Double.isFinite(v) ? v : 1.0;
              case 1 -> Double.isFinite(v) && Double.isFinite(w) ? (v + w) / 2 : -2.0;
              case 2 -> (random.nextDouble() * 2 - 1) * f.max() * 1.2;
              default -> (random.nextDouble() * 2 - 1) * Math.scalb(1.0, f.minExponent());
            };
        x[k] = (float) x[k];
      }
      StringBuilder lits = new StringBuilder();
      for (double v : x) {
        lits.append(lits.isEmpty() ? "" : ", ").append(Double.toString(v));
      }
      String text =
          """
          func.func public @main() -> tensor<%dxf32> {
            %%x = stablehlo.constant dense<[%s]> : tensor<%dxf32>
            %%y = stablehlo.convert %%x : (tensor<%dxf32>) -> tensor<%dx%s>
            %%z = stablehlo.convert %%y : (tensor<%dx%s>) -> tensor<%dxf32>
            return %%z : tensor<%dxf32>
          }
          """
              .formatted(n, lits, n, n, n, name, n, name, n, n);
      StableHloLowering.Lowered lw = StableHloLowering.lower(StableHloText.parse(text, name));
      try (Model model = Model.fromGraph(lw.graph());
          Session s = model.newSession()) {
        float[] got = s.run(Map.of()).values().iterator().next().toFloatArray();
        for (int k = 0; k < n; k++) {
          double want = f.round(x[k]);
          assertThat(Double.compare(got[k], (float) want) == 0 || got[k] == want)
              .as(name + " of " + x[k] + ": got " + got[k] + ", expected " + want)
              .isTrue();
        }
      }
    }
  }
}
