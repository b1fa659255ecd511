package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.ops.NnTesting.ints;
import static org.tfport.runtime.ops.NnTesting.str;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelRegistry.Mode;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;

/**
 * When an op is handed to helper threads: never under {@link FastKernels#PARALLEL_MIN_WORK}, never
 * in chunks under {@link FastKernels#CHUNK_MIN_WORK}, and to no more helpers than there are chunks
 * beyond the caller's. Counts handoffs, not time.
 */
class SplitFloorTest {
  @Test
  void chunkCountFollowsTheWorkFloors() {
    long floor = FastKernels.PARALLEL_MIN_WORK;
    long chunk = FastKernels.CHUNK_MIN_WORK;
    assertThat(FastKernels.chunks(1, 1000, floor)).as("one thread").isEqualTo(1);
    assertThat(FastKernels.chunks(2, 1, Long.MAX_VALUE)).as("one item").isEqualTo(1);
    assertThat(FastKernels.chunks(2, 100, (floor - 1) / 100)).as("under the floor").isEqualTo(1);
    assertThat(FastKernels.chunks(2, 1000, 0)).as("no work").isEqualTo(1);
    // At the floor: as many chunks as CHUNK_MIN_WORK fits, capped at four per thread.
    assertThat(FastKernels.chunks(2, 1024, floor / 1024)).isEqualTo((int) (floor / chunk));
    assertThat(FastKernels.chunks(4, 1024, floor / 1024)).isEqualTo((int) (floor / chunk));
    assertThat(FastKernels.chunks(2, 1 << 20, 1 << 20)).as("large").isEqualTo(8);
    assertThat(FastKernels.chunks(16, 1 << 20, 1 << 20)).as("large, 16 threads").isEqualTo(64);
    assertThat(FastKernels.chunks(16, 1024, 5 * chunk / 1024)).as("5 chunks' work").isEqualTo(5);
    assertThat(FastKernels.chunks(2, 3, Long.MAX_VALUE)).as("few items, no overflow").isEqualTo(3);
  }

  @Test
  void helpersAskedAreAtMostTheChunksBeyondTheCallers() {
    HandoffContext sixteen = new HandoffContext(16, false);
    int[] covered = new int[1024];
    FastKernels.split(
        sixteen,
        1024,
        5 * FastKernels.CHUNK_MIN_WORK / 1024,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            covered[i]++;
          }
        });
    assertThat(sixteen.helpersAsked).containsExactly(4);
    assertThat(covered).containsOnly(1);
  }

  @Test
  void aConvolutionUnderTheFloorRunsOnTheCallerAndOneAboveItHandsOff() {
    Random rnd = new Random(11);
    // 4x4 output pixels x 3x3x8 taps x 8 channels = 9216 multiply-adds: no handoff.
    assertThat(convHandoffs(rnd, 4, 8, 8)).isEmpty();
    // 32x32 x 3x3x16 x 32 = 4.7 M multiply-adds: one handoff, to the one helper of two threads.
    assertThat(convHandoffs(rnd, 32, 16, 32)).containsExactly(1);
  }

  @Test
  void aDepthwiseConvolutionUnderTheFloorRunsOnTheCaller() {
    Random rnd = new Random(12);
    Map<String, AttrValue> attrs = convAttrs();
    // 7x7 rows x 3x3 taps x 64 channels = 28 K multiply-adds.
    Value x = NnTesting.random(rnd, DType.FLOAT32, 1, 7, 7, 64);
    Value f = NnTesting.random(rnd, DType.FLOAT32, 3, 3, 64, 1);
    HandoffContext two = new HandoffContext(2, false);
    Value y =
        OpOracle.runKernel(Mode.OPTIMIZED, "DepthwiseConv2dNative", attrs, List.of(1), two, x, f)[
            0];
    Value ref =
        OpOracle.runKernel(Mode.REFERENCE, "DepthwiseConv2dNative", attrs, List.of(), x, f)[0];
    OpOracle.assertClose("depthwise", y, ref, 1e-5, 1e-4);
    assertThat(two.helpersAsked).isEmpty();
  }

  @Test
  void aMaxPoolOfFaceMeshsSizeHandsOffAndOneOfAFewMicrosecondsDoesNot() {
    Random rnd = new Random(13);
    // FaceMesh's first pool, 64x64x16 to 32x32x16 (about 30 us at one thread): one handoff.
    assertThat(maxPoolHandoffs(rnd, 64, 16)).containsExactly(1);
    // Its third, 16x16x64 to 8x8x64 (a few us): none.
    assertThat(maxPoolHandoffs(rnd, 16, 64)).isEmpty();
  }

  @Test
  void aQuantizedAddOfMobileNetV2sSizeHandsOffAndASmallOneDoesNot() {
    Random rnd = new Random(14);
    // MobileNet V2's first residual add, 56x56x24 (over 100 us at one thread): one handoff.
    assertThat(quantizedAddHandoffs(rnd, 56, 24)).containsExactly(1);
    // 7x7x64, a few us: none.
    assertThat(quantizedAddHandoffs(rnd, 7, 64)).isEmpty();
  }

  private static List<Integer> quantizedAddHandoffs(Random rnd, int size, int channels) {
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("T", OpOracle.type(DType.UINT8));
    for (String role : new String[] {"input", "input2", "output"}) {
      attrs.put(role + "_scale", new AttrValue.Float(0.02f + rnd.nextFloat() * 0.1f));
      attrs.put(role + "_zero_point", new AttrValue.Int(rnd.nextInt(256)));
    }
    attrs.put("fused_activation_function", AttrValue.Str.of("NONE"));
    long[] shape = {1, size, size, channels};
    Value x1 = randomBytes(rnd, shape);
    Value x2 = randomBytes(rnd, shape);
    HandoffContext two = new HandoffContext(2, false);
    Value y =
        OpOracle.runKernel(Mode.OPTIMIZED, "TfliteQuantizedAdd", attrs, List.of(), two, x1, x2)[0];
    Value ref =
        OpOracle.runKernel(Mode.REFERENCE, "TfliteQuantizedAdd", attrs, List.of(), x1, x2)[0];
    assertThat(y.bytes()).as("add " + size).containsExactly(ref.bytes());
    return two.helpersAsked;
  }

  private static Value randomBytes(Random rnd, long[] shape) {
    byte[] b = new byte[Math.toIntExact(shape[0] * shape[1] * shape[2] * shape[3])];
    rnd.nextBytes(b);
    return Value.of(DType.UINT8, shape, b);
  }

  @Test
  void aGlobalAveragePoolIsSplitByChannels() {
    Random rnd = new Random(15);
    // MobileNetV2's 7x7x1280 to 1x1x1280: one output row, cut into blocks of channels.
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("T", OpOracle.type(DType.FLOAT32));
    attrs.put("ksize", ints(1, 7, 7, 1));
    attrs.put("strides", ints(1, 1, 1, 1));
    attrs.put("padding", str("VALID"));
    Value x = NnTesting.random(rnd, DType.FLOAT32, 1, 7, 7, 1280);
    HandoffContext two = new HandoffContext(2, false);
    Value y = OpOracle.runKernel(Mode.OPTIMIZED, "AvgPool", attrs, List.of(), two, x)[0];
    Value ref = OpOracle.runKernel(Mode.REFERENCE, "AvgPool", attrs, List.of(), x)[0];
    OpOracle.assertClose("global AvgPool", y, ref, 0, 0);
    assertThat(two.helpersAsked).containsExactly(1);
    // With a helper that takes chunks, and channels that do not fill the last block.
    Value odd = NnTesting.random(rnd, DType.FLOAT32, 1, 7, 7, 1001);
    for (String op : new String[] {"AvgPool", "MaxPool"}) {
      Value got = OpOracle.runKernel(Mode.OPTIMIZED, op, attrs, List.of(), TWO, odd)[0];
      Value want = OpOracle.runKernel(Mode.REFERENCE, op, attrs, List.of(), odd)[0];
      OpOracle.assertClose("global " + op + " 1001 channels", got, want, 0, 0);
    }
  }

  private static final RunContext TWO = OpOracle.context(2);

  private static List<Integer> maxPoolHandoffs(Random rnd, int size, int channels) {
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("T", OpOracle.type(DType.FLOAT32));
    attrs.put("ksize", ints(1, 2, 2, 1));
    attrs.put("strides", ints(1, 2, 2, 1));
    attrs.put("padding", str("VALID"));
    Value x = NnTesting.random(rnd, DType.FLOAT32, 1, size, size, channels);
    HandoffContext two = new HandoffContext(2, false);
    Value y = OpOracle.runKernel(Mode.OPTIMIZED, "MaxPool", attrs, List.of(), two, x)[0];
    Value ref = OpOracle.runKernel(Mode.REFERENCE, "MaxPool", attrs, List.of(), x)[0];
    OpOracle.assertClose("MaxPool " + size, y, ref, 0, 0);
    return two.helpersAsked;
  }

  private static List<Integer> convHandoffs(Random rnd, int size, int cin, int cout) {
    Map<String, AttrValue> attrs = convAttrs();
    Value x = NnTesting.random(rnd, DType.FLOAT32, 1, size, size, cin);
    Value f = NnTesting.random(rnd, DType.FLOAT32, 3, 3, cin, cout);
    HandoffContext two = new HandoffContext(2, false);
    Value y = OpOracle.runKernel(Mode.OPTIMIZED, "Conv2D", attrs, List.of(1), two, x, f)[0];
    Value ref = OpOracle.runKernel(Mode.REFERENCE, "Conv2D", attrs, List.of(), x, f)[0];
    OpOracle.assertClose("Conv2D " + size, y, ref, 1e-5, 1e-4);
    return two.helpersAsked;
  }

  private static Map<String, AttrValue> convAttrs() {
    Map<String, AttrValue> m = new LinkedHashMap<>();
    m.put("T", OpOracle.type(DType.FLOAT32));
    m.put("strides", ints(1, 1, 1, 1));
    m.put("padding", str("SAME"));
    return m;
  }
}
