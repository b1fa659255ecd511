package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.TestGraphs.constant;
import static org.tfport.runtime.TestGraphs.node;
import static org.tfport.runtime.TestGraphs.placeholder;
import static org.tfport.runtime.TestGraphs.type;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.testkit.OracleTest;

/**
 * A small MobileNet-like block planned with the standard kernels: the optimized kernels (weights
 * packed from the plan's constants, 1 and 2 threads) give the reference kernels' result within
 * |a−b| ≤ 1e-5 + 1e-4·|b|, and the same bits on either thread count.
 */
@OracleTest
class OptimizedSessionTest {
  private static Value random(Random rnd, long... shape) {
    float[] v = new float[(int) Value.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = rnd.nextFloat() - 0.5f;
    }
    return Value.floats(shape, v);
  }

  private static AttrValue ints(long... v) {
    return AttrValue.ListAttr.ofInts(java.util.Arrays.stream(v).boxed().toList());
  }

  private static Graph block(Random rnd) {
    Graph g = new Graph("block");
    g.add(placeholder("x", DType.FLOAT32, 2, 40, 40, 8));
    g.add(constant("w1", random(rnd, 3, 3, 8, 32)));
    g.add(constant("b1", random(rnd, 32)));
    g.add(constant("dw", random(rnd, 3, 3, 32, 1)));
    g.add(constant("b2", random(rnd, 32)));
    g.add(constant("w3", random(rnd, 1, 1, 32, 40)));
    AttrValue f32 = type(DType.FLOAT32);
    AttrValue relu6 = AttrValue.ListAttr.ofStrings(List.of("BiasAdd", "Relu6"));
    g.add(
        node(
            "c1",
            "_FusedConv2D",
            List.of("x", "w1", "b1"),
            "T",
            f32,
            "strides",
            ints(1, 1, 1, 1),
            "padding",
            AttrValue.Str.of("SAME"),
            "fused_ops",
            relu6,
            "num_args",
            new AttrValue.Int(1)));
    g.add(
        node(
            "c2",
            "FusedDepthwiseConv2dNative",
            List.of("c1", "dw", "b2"),
            "T",
            f32,
            "strides",
            ints(1, 2, 2, 1),
            "padding",
            AttrValue.Str.of("SAME"),
            "fused_ops",
            relu6,
            "num_args",
            new AttrValue.Int(1)));
    g.add(
        node(
            "y",
            "Conv2D",
            List.of("c2", "w3"),
            "T",
            f32,
            "strides",
            ints(1, 1, 1, 1),
            "padding",
            AttrValue.Str.of("VALID")));
    return g;
  }

  private static float[] run(Model m, SessionOptions options, Tensor x) {
    try (Session s = m.newSession(options)) {
      return Values.fromTensor(s.run(Map.of("x", x)).get("y")).floats();
    }
  }

  @Test
  void optimizedKernelsMatchTheReferenceInASession() {
    Random rnd = new Random(31);
    Signature sig =
        new Signature(
            Signature.DEFAULT_KEY,
            List.of(new TensorSpec("x", "x:0", DType.FLOAT32, new long[] {2, 40, 40, 8})),
            List.of(new TensorSpec("y", "y:0", DType.FLOAT32, new long[] {2, 20, 20, 40})));
    try (Model m = Model.fromGraph(block(rnd), List.of(sig))) {
      Tensor x = Values.toTensor(random(rnd, 2, 40, 40, 8));
      float[] reference = run(m, new SessionOptions(1, KernelRegistry.Mode.REFERENCE), x);
      float[] one = run(m, new SessionOptions(1, KernelRegistry.Mode.OPTIMIZED), x);
      float[] two = run(m, new SessionOptions(2, KernelRegistry.Mode.OPTIMIZED), x);
      assertThat(one).hasSize(2 * 20 * 20 * 40);
      for (int i = 0; i < one.length; i++) {
        if (!(Math.abs(one[i] - reference[i]) <= 1e-5 + 1e-4 * Math.abs(reference[i]))) {
          assertThat(one[i]).as("y[" + i + "]").isEqualTo(reference[i]);
        }
      }
      assertThat(java.util.Arrays.equals(one, two))
          .as("1 and 2 threads give the same bits")
          .isTrue();
    }
  }

  /**
   * A session lends its kernels buffers that died in earlier runs (the arena): every run of one
   * session gives the bits of a fresh session, an output already returned is never written again,
   * and after the first run the arena holds the dead values' buffers.
   */
  @Test
  void reusedBuffersGiveTheBitsOfAFreshSession() {
    Random rnd = new Random(37);
    Signature sig =
        new Signature(
            Signature.DEFAULT_KEY,
            List.of(new TensorSpec("x", "x:0", DType.FLOAT32, new long[] {2, 40, 40, 8})),
            List.of(new TensorSpec("y", "y:0", DType.FLOAT32, new long[] {2, 20, 20, 40})));
    try (Model m = Model.fromGraph(block(rnd), List.of(sig))) {
      Tensor a = Values.toTensor(random(rnd, 2, 40, 40, 8));
      Tensor b = Values.toTensor(random(rnd, 2, 40, 40, 8));
      for (int threads = 1; threads <= 2; threads++) {
        SessionOptions options = new SessionOptions(threads, KernelRegistry.Mode.OPTIMIZED);
        float[] freshA = run(m, options, a);
        float[] freshB = run(m, options, b);
        try (Session s = m.newSession(options)) {
          float[] first = Values.fromTensor(s.run(Map.of("x", a)).get("y")).floats();
          float[] kept = first.clone();
          assertThat(s.arena().freeBytes()).as("buffers back in the arena").isPositive();
          for (int r = 0; r < 3; r++) {
            Tensor in = r % 2 == 0 ? b : a;
            float[] out = Values.fromTensor(s.run(Map.of("x", in)).get("y")).floats();
            assertThat(java.util.Arrays.equals(out, r % 2 == 0 ? freshB : freshA))
                .as(threads + " threads, run " + (r + 2) + " matches a fresh session")
                .isTrue();
          }
          assertThat(java.util.Arrays.equals(first, kept))
              .as("the first run's output is untouched by later runs")
              .isTrue();
          assertThat(java.util.Arrays.equals(first, freshA)).isTrue();
        }
      }
    }
  }
}
