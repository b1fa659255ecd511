package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelRegistry.Mode;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;

/**
 * Runs an op's optimized kernel against its reference kernel: with the Vector API micro-kernels and
 * with the scalar ones (forced), on one thread and on two to four; every thread count must agree
 * bit for bit, and each must be within |a−b| ≤ 1e-5 + 1e-4·|b| of the reference.
 */
final class FastCheck implements AutoCloseable {
  static final double ATOL = 1e-5;
  static final double RTOL = 1e-4;

  private final Map<String, double[]> worst = new TreeMap<>();
  private final RunContext one = OpOracle.context(1);
  private final RunContext two = OpOracle.context(2);
  private final RunContext three = OpOracle.context(3);
  private final RunContext four = OpOracle.context(4);

  void check(
      String key,
      String what,
      String op,
      Map<String, AttrValue> attrs,
      List<Integer> constants,
      Value... inputs) {
    Value expected = OpOracle.runKernel(Mode.REFERENCE, op, attrs, constants, one, inputs)[0];
    for (boolean scalar : new boolean[] {false, true}) {
      FastKernels.forceScalar(scalar);
      try {
        String path = scalar ? " scalar" : " vector";
        Value single = OpOracle.runKernel(Mode.OPTIMIZED, op, attrs, constants, one, inputs)[0];
        assertClose(key + path, what + path, single, expected);
        // The split decides which thread computes an element, never how: 2 to 4 threads (with
        // remainders of every size) give the 1-thread bits.
        RunContext[] parallel = {two, three, four};
        for (int i = 0; i < parallel.length; i++) {
          Value multi =
              OpOracle.runKernel(Mode.OPTIMIZED, op, attrs, constants, parallel[i], inputs)[0];
          String threads = (i + 2) + " threads";
          assertThat(multi.shape())
              .as(what + path + " " + threads + " shape")
              .containsExactly(single.shape());
          // Arrays.equals: AssertJ's containsExactly is slow on large arrays.
          if (!Arrays.equals(multi.floats(), single.floats())) {
            assertThat(multi.floats())
                .as(what + path + ": " + threads + " differ from 1")
                .containsExactly(single.floats());
          }
        }
      } finally {
        FastKernels.forceScalar(false);
      }
    }
  }

  // OpOracle.assertClose's per-element assertion is slow on large outputs: scan, and assert only on
  // a failure.
  private synchronized void assertClose(String key, String what, Value actual, Value expected) {
    assertThat(actual.shape()).as(what + " shape").containsExactly(expected.shape());
    float[] a = actual.floats();
    float[] e = expected.floats();
    double[] w = worst.computeIfAbsent(key, k -> new double[2]);
    for (int k = 0; k < e.length; k++) {
      double d = Math.abs((double) a[k] - e[k]);
      double tol = ATOL + RTOL * Math.abs(e[k]);
      if (!(d <= tol)) {
        OpOracle.assertClose(what, actual, expected, ATOL, RTOL);
      }
      w[0] = Math.max(w[0], d);
      w[1] = Math.max(w[1], d / tol);
    }
  }

  /** The largest |a−b| per check and its share of the tolerance. */
  String worst() {
    StringBuilder s = new StringBuilder();
    worst.forEach(
        (k, w) ->
            s.append(
                String.format("  %-36s max|a-b| = %.3g (%.2f of tolerance)%n", k, w[0], w[1])));
    return s.toString();
  }

  @Override
  public void close() {
    for (RunContext c : new RunContext[] {two, three, four}) {
      c.pool().shutdown();
    }
  }
}
