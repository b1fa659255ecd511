package org.tfport.runtime.ops;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelRegistry.Mode;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * The optimized convolution gradients (FastConvBackpropOps: Conv2DBackpropInput and
 * Conv2DBackpropFilter on the GEMM) against the reference kernels (ConvBackpropOps and
 * ConvFilterGradOps, themselves checked against TensorFlow in ConvOpsTest and ConvGradOpsTest) on
 * the random cases of FastConvOpsTest: windows 1–5, strides 1–3, dilations 1–2, every padding,
 * scalar and Vector API micro-kernels, one and two threads (bit for bit equal), and a batch large
 * enough that the gathered windows are taken in several groups of images.
 */
@OracleTest
class FastConvBackpropOpsTest {
  static final FastCheck CHECK = new FastCheck();

  @AfterAll
  static void report() {
    CHECK.close();
    System.out.print("FastConvBackpropOpsTest worst differences:\n" + CHECK.worst());
  }

  /** The forward output of case {@code c} with {@code cout} filters, for its shape. */
  private static long[] forwardShape(FastConvOpsTest.Case c, Value x, Value filter) {
    return OpOracle.runKernel(Mode.REFERENCE, "Conv2D", c.attrs(), List.of(), x, filter)[0].shape();
  }

  private static void checkBoth(Random rnd, FastConvOpsTest.Case c, int cout, String what) {
    Value x = c.input(rnd);
    Value filter = OpOracle.randomFloats(rnd, c.kh(), c.kw(), c.cin(), cout);
    Value dy = OpOracle.randomFloats(rnd, forwardShape(c, x, filter));
    Map<String, AttrValue> attrs = c.attrs();
    CHECK.check(
        "Conv2DBackpropInput",
        "Conv2DBackpropInput " + what,
        "Conv2DBackpropInput",
        attrs,
        List.of(),
        NnTesting.intVector(x.shape()),
        filter,
        dy);
    CHECK.check(
        "Conv2DBackpropFilter",
        "Conv2DBackpropFilter " + what,
        "Conv2DBackpropFilter",
        attrs,
        List.of(),
        x,
        NnTesting.intVector(filter.shape()),
        dy);
  }

  @Test
  void gradientsMatchReference() {
    Random rnd = new Random(21);
    for (int trial = 0; trial < 48; trial++) {
      FastConvOpsTest.Case c = FastConvOpsTest.Case.random(rnd, trial % 6 == 0);
      int cout = 1 + rnd.nextInt(trial % 3 == 0 ? 40 : 20);
      checkBoth(rnd, c, cout, c + " -> " + cout);
    }
  }

  /**
   * 20 images of 28x28x32 under a 3x3 SAME window gather 28·28·288 floats each: more than {@link
   * FastConvBackpropOps#GATHER_LIMIT} in all, so both gradients run in groups of images.
   */
  @Test
  void manyImagesRunInGroups() {
    Random rnd = new Random(22);
    FastConvOpsTest.Case c =
        new FastConvOpsTest.Case(
            20, 28, 28, 32, 3, 3, new int[] {1, 1}, new int[] {1, 1}, "SAME", new int[4]);
    org.assertj.core.api.Assertions.assertThat(20L * 28 * 28 * 9 * 32)
        .isGreaterThan(FastConvBackpropOps.GATHER_LIMIT);
    checkBoth(rnd, c, 8, c + " -> 8");
  }
}
