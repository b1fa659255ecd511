package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.ops.ExactOracle.t;
import static org.tfport.runtime.ops.OpOracle.attrs;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * Complex parts exactly, and FFT/IFFT/RFFT/IRFFT against TensorFlow. TensorFlow's float32 FFT
 * rounds at every butterfly while tfport computes in double, so transforms are compared with an
 * error bound relative to the row's largest magnitude: |a - b| ≤ 1e-5 · (1 + max|b|) (measured
 * worst below 2e-6).
 */
@OracleTest
class SpectralOpsTest {
  private final Random rnd = new Random(41);

  private Value complex(long... shape) {
    int n = (int) Value.elementCount(shape);
    float[] v = new float[2 * n];
    for (int i = 0; i < v.length; i++) {
      v[i] = rnd.nextFloat() * 2 - 1;
    }
    return Value.of(DType.COMPLEX64, shape, v);
  }

  /** Compares complex or real values element by element (re and im separately). */
  private static double compare(String what, Value ours, Value theirs, double tol) {
    assertThat(ours.dtype()).as(what).isEqualTo(theirs.dtype());
    assertThat(ours.shape()).as(what).containsExactly(theirs.shape());
    float[] a = (float[]) ours.data();
    float[] b = (float[]) theirs.data();
    double max = 0;
    for (float f : b) {
      max = Math.max(max, Math.abs(f));
    }
    double worst = 0;
    for (int i = 0; i < b.length; i++) {
      double d = Math.abs(a[i] - b[i]);
      worst = Math.max(worst, d / (1 + max));
      assertThat(d)
          .as(what + "[" + i + "] " + a[i] + " vs " + b[i])
          .isLessThanOrEqualTo(tol * (1 + max));
    }
    return worst;
  }

  private static Value run(String op, Map<String, AttrValue> a, boolean tf, Value... in) {
    return tf ? StringOracle.run(op, a, 1, in).get(0) : OpOracle.runKernel(op, a, in)[0];
  }

  @Test
  void complexParts() {
    Value re = OpOracle.randomFloats(rnd, 3, 4);
    Value im = OpOracle.randomFloats(rnd, 4);
    Map<String, AttrValue> a = attrs("T", t(DType.FLOAT32), "Tout", t(DType.COMPLEX64));
    Value c = OpOracle.runKernel("Complex", a, re, im)[0];
    compare("Complex", c, run("Complex", a, true, re, im), 0);
    Map<String, AttrValue> parts = attrs("T", t(DType.COMPLEX64), "Tout", t(DType.FLOAT32));
    for (String op : List.of("Real", "Imag", "ComplexAbs")) {
      Value x = complex(2, 5);
      compare(op, run(op, parts, false, x), run(op, parts, true, x), 0);
    }
  }

  @Test
  void transforms() {
    double worst = 0;
    Map<String, AttrValue> c = attrs("Tcomplex", t(DType.COMPLEX64));
    for (long n : new long[] {1, 2, 5, 8, 12, 64, 100}) {
      for (String op : List.of("FFT", "IFFT")) {
        Value x = complex(3, n);
        worst = Math.max(worst, compare(op + n, run(op, c, false, x), run(op, c, true, x), 1e-5));
      }
    }
    Map<String, AttrValue> r = attrs("Treal", t(DType.FLOAT32), "Tcomplex", t(DType.COMPLEX64));
    for (int[] lens : new int[][] {{8, 8}, {8, 6}, {9, 7}, {16, 16}, {30, 30}, {5, 1}}) {
      Value x = OpOracle.randomFloats(rnd, 2, lens[0]);
      Value fl = Value.ints(new long[] {1}, lens[1]);
      worst =
          Math.max(
              worst,
              compare(
                  "RFFT" + lens[0] + "/" + lens[1],
                  run("RFFT", r, false, x, fl),
                  run("RFFT", r, true, x, fl),
                  1e-5));
      Value spec = complex(2, lens[1] / 2 + 1 + lens[0] % 2);
      worst =
          Math.max(
              worst,
              compare(
                  "IRFFT" + lens[0] + "/" + lens[1],
                  run("IRFFT", r, false, spec, fl),
                  run("IRFFT", r, true, spec, fl),
                  1e-5));
    }
    assertThat(worst).isLessThan(1e-5);
    Value tooShort = OpOracle.randomFloats(rnd, 7);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> run("RFFT", r, false, tooShort, Value.ints(new long[] {1}, 9)))
        .hasMessageContaining("needs at least 9");
  }
}
