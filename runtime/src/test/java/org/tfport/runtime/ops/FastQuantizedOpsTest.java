package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelRegistry.Mode;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;

/**
 * The optimized 8-bit convolution, depthwise convolution and dense kernels give the reference
 * kernels' bytes exactly, on randomized shapes, strides, dilations, paddings, zero points,
 * per-tensor (uint8) and per-channel (int8) scales and fused activations: with the Vector API
 * micro-kernels and the scalar ones, on one thread and on two.
 */
class FastQuantizedOpsTest {
  private static final RunContext ONE = OpOracle.context(1);
  private static final RunContext TWO = OpOracle.context(2);
  private static final String[] ACTIVATIONS = {"NONE", "RELU", "RELU6", "RELU_N1_TO_1"};

  @AfterAll
  static void shutdown() {
    TWO.pool().shutdown();
  }

  private static AttrValue ints(long... v) {
    return AttrValue.ListAttr.ofInts(Arrays.stream(v).boxed().toList());
  }

  private static AttrValue floats(float... v) {
    List<Float> f = new ArrayList<>();
    for (float x : v) {
      f.add(x);
    }
    return new AttrValue.ListAttr(
        List.of(), List.of(), f, List.of(), List.of(), List.of(), List.of(), List.of());
  }

  private static Value bytes(Random r, DType t, long... shape) {
    byte[] b = new byte[Math.toIntExact(Value.elementCount(shape))];
    r.nextBytes(b);
    return Value.of(t, shape, b);
  }

  /** T, the input/output quantization, the weights' scales and zero points, the activation. */
  private static Map<String, AttrValue> quantAttrs(Random r, DType t, int channels) {
    boolean perChannel = t == DType.INT8;
    Map<String, AttrValue> a = new HashMap<>();
    a.put("T", new AttrValue.Type(t.tfEnum()));
    float inScale = 0.01f + r.nextFloat() * 0.1f;
    a.put("input_scale", new AttrValue.Float(inScale));
    a.put(
        "input_zero_point", new AttrValue.Int(perChannel ? r.nextInt(256) - 128 : r.nextInt(256)));
    float[] ws = new float[perChannel ? channels : 1];
    for (int i = 0; i < ws.length; i++) {
      ws[i] = 0.0005f + r.nextFloat() * 0.05f;
    }
    a.put("filter_scales", floats(ws));
    a.put("filter_zero_points", perChannel ? ints(0) : ints(r.nextInt(256)));
    // From 1e-4 to about 2: right shifts, and left shifts for multipliers above 1.
    float m = (float) Math.pow(10, -4 + r.nextDouble() * 4.3);
    a.put("output_scale", new AttrValue.Float(inScale * ws[0] / m));
    a.put(
        "output_zero_point", new AttrValue.Int(perChannel ? r.nextInt(256) - 128 : r.nextInt(256)));
    a.put(
        "fused_activation_function", AttrValue.Str.of(ACTIVATIONS[r.nextInt(ACTIVATIONS.length)]));
    return a;
  }

  private static Value bias(Random r, int channels) {
    int[] b = new int[channels];
    for (int i = 0; i < channels; i++) {
      b[i] = r.nextInt(20001) - 10000;
    }
    return Value.ints(new long[] {channels}, b);
  }

  /** Optimized against reference, both micro-kernel paths, 1 and 2 threads; returns the cases. */
  private static void check(String what, String op, Map<String, AttrValue> attrs, Value... in) {
    check(FastQuantizedOps.class, what, op, attrs, in);
  }

  private static void check(
      Class<?> family, String what, String op, Map<String, AttrValue> attrs, Value... in) {
    Value expected = OpOracle.runKernel(Mode.REFERENCE, op, attrs, List.of(1, 2), ONE, in)[0];
    for (boolean scalar : new boolean[] {false, true}) {
      FastKernels.forceScalar(scalar);
      try {
        var kernel = OpOracle.bindKernel(Mode.OPTIMIZED, op, attrs, List.of(1, 2), in);
        assertThat(kernel.getClass().getName())
            .as(what + ": the optimized kernel is bound")
            .startsWith(family.getName() + "$$");
        for (RunContext ctx : new RunContext[] {ONE, TWO}) {
          Value actual = kernel.run(in, ctx)[0];
          String path = what + (scalar ? " scalar" : " vector") + " threads " + ctx.threads();
          assertThat(actual.dtype()).as(path).isEqualTo(expected.dtype());
          assertThat(actual.shape()).as(path).containsExactly(expected.shape());
          if (!Arrays.equals(actual.bytes(), expected.bytes())) {
            assertThat(actual.bytes()).as(path).containsExactly(expected.bytes());
          }
        }
      } finally {
        FastKernels.forceScalar(false);
      }
    }
  }

  @Test
  void convolutionsMatchTheReferenceBitForBit() {
    Random r = new Random(11);
    int checked = 0;
    for (int trial = 0; trial < 70; trial++) {
      boolean depthwise = trial % 2 == 1;
      boolean large = trial % 10 < 2; // enough work for the 2-thread split
      DType t = r.nextBoolean() ? DType.INT8 : DType.UINT8;
      int n = 1 + r.nextInt(2);
      int h = large ? 20 + r.nextInt(8) : 1 + r.nextInt(10);
      int w = large ? 20 + r.nextInt(8) : 1 + r.nextInt(10);
      int c = large ? 32 + r.nextInt(40) : 1 + r.nextInt(40);
      int oc = depthwise ? c : (large ? 40 + r.nextInt(40) : 1 + r.nextInt(50));
      int kh = 1 + r.nextInt(3);
      int kw = 1 + r.nextInt(3);
      int sh = 1 + r.nextInt(2);
      int sw = 1 + r.nextInt(2);
      int dh = r.nextInt(4) == 0 ? 2 : 1;
      int dw = r.nextInt(4) == 0 ? 2 : 1;
      String padding = r.nextBoolean() ? "SAME" : "VALID";
      if (padding.equals("VALID") && ((kh - 1) * dh + 1 > h || (kw - 1) * dw + 1 > w)) {
        padding = "SAME";
      }
      Map<String, AttrValue> a = quantAttrs(r, t, oc);
      a.put("strides", ints(1, sh, sw, 1));
      a.put("dilations", ints(1, dh, dw, 1));
      a.put("padding", AttrValue.Str.of(padding));
      if (depthwise) {
        a.put("depth_multiplier", new AttrValue.Int(1));
      }
      Value x = bytes(r, t, n, h, w, c);
      Value f = depthwise ? bytes(r, t, 1, kh, kw, oc) : bytes(r, t, oc, kh, kw, c);
      String op = depthwise ? "TfliteQuantizedDepthwiseConv2D" : "TfliteQuantizedConv2D";
      String what =
          String.format(
              "%s %s x%s f%s s%dx%d d%dx%d %s %s",
              op,
              t.jsName(),
              Arrays.toString(x.shape()),
              Arrays.toString(f.shape()),
              sh,
              sw,
              dh,
              dw,
              padding,
              a.get("fused_activation_function"));
      check(what, op, a, x, f, bias(r, oc));
      checked++;
    }
    assertThat(checked).isEqualTo(70);
  }

  /**
   * Layers of few channels: convolutions of up to 16 output channels with more than one tap run as
   * exact float sums (FloatExactConv), depthwise layers of stride 1 along the width with channels
   * that divide a vector pack several pixels per vector (VectorNarrowDepthwise), and 8 or fewer
   * channels dividing 16 are requantized two or more pixels at a time (NarrowRequantizer). Channels
   * 1 to 17 around the divisors, strides 1 and 2, SAME and VALID, dilations, widths that leave a
   * partial vector; and weights too large for an exact float sum, which keep the integer path.
   */
  @Test
  void fewChannelLayersMatchTheReferenceBitForBit() {
    Random r = new Random(15);
    int trial = 0;
    for (int c : new int[] {1, 3, 5, 8, 12, 16, 17}) {
      for (int stride = 1; stride <= 2; stride++) {
        for (boolean depthwise : new boolean[] {false, true}) {
          DType t = trial % 2 == 0 ? DType.UINT8 : DType.INT8;
          int oc = depthwise ? c : new int[] {8, 16, 4, 3, 17, 1}[trial % 6];
          int h = 5 + r.nextInt(12);
          int w = 9 + r.nextInt(30);
          int d = trial % 5 == 4 ? 2 : 1;
          int kw = 1 + r.nextInt(3);
          String padding = trial % 3 == 0 ? "VALID" : "SAME";
          Map<String, AttrValue> a = quantAttrs(r, t, oc);
          a.put("strides", ints(1, 1 + r.nextInt(2), stride, 1));
          a.put("dilations", ints(1, d, d, 1));
          a.put("padding", AttrValue.Str.of(padding));
          if (depthwise) {
            a.put("depth_multiplier", new AttrValue.Int(1));
          }
          Value x = bytes(r, t, 1 + trial % 2, h, w, c);
          Value f = depthwise ? bytes(r, t, 1, 3, kw, oc) : bytes(r, t, oc, 3, kw, c);
          String op = depthwise ? "TfliteQuantizedDepthwiseConv2D" : "TfliteQuantizedConv2D";
          check(
              op
                  + " "
                  + t.jsName()
                  + " x"
                  + Arrays.toString(x.shape())
                  + " f"
                  + Arrays.toString(f.shape())
                  + " s"
                  + stride
                  + " d"
                  + d
                  + " "
                  + padding,
              op,
              a,
              x,
              f,
              bias(r, oc));
          trial++;
        }
      }
    }
    // Σ|w| · 255 past 2^24 for every channel (3·3·40 weights of 255 − 0): the integer path.
    Map<String, AttrValue> a = quantAttrs(r, DType.UINT8, 8);
    a.put("filter_zero_points", ints(0));
    a.put("strides", ints(1, 1, 1, 1));
    a.put("dilations", ints(1, 1, 1, 1));
    a.put("padding", AttrValue.Str.of("SAME"));
    byte[] big = new byte[8 * 3 * 3 * 40];
    Arrays.fill(big, (byte) 255);
    Value f = Value.of(DType.UINT8, new long[] {8, 3, 3, 40}, big);
    assertThat(FloatExactConv.exact(FixedPoint.widen(f), 8, false, 255)).isFalse();
    check(
        "TfliteQuantizedConv2D inexact in float",
        "TfliteQuantizedConv2D",
        a,
        bytes(r, DType.UINT8, 1, 7, 9, 40),
        f,
        bias(r, 8));
  }

  @Test
  void fullyConnectedMatchesTheReferenceBitForBit() {
    Random r = new Random(12);
    for (int trial = 0; trial < 40; trial++) {
      DType t = r.nextBoolean() ? DType.INT8 : DType.UINT8;
      boolean large = trial % 10 == 0;
      int rows = large ? 40 : 1 + r.nextInt(12);
      int depth = large ? 300 : 1 + r.nextInt(80);
      int units = large ? 100 : 1 + r.nextInt(80);
      Map<String, AttrValue> a = quantAttrs(r, t, units);
      boolean keep = r.nextBoolean();
      a.put("keep_num_dims", new AttrValue.Bool(keep));
      Value x = bytes(r, t, keep ? new long[] {rows, 1, depth} : new long[] {rows, depth});
      Value f = bytes(r, t, units, depth);
      check(
          "FullyConnected " + t.jsName() + " " + rows + "x" + depth + " → " + units,
          "TfliteQuantizedFullyConnected",
          a,
          x,
          f,
          bias(r, units));
    }
  }

  @Test
  void addAndSubMatchTheReferenceBitForBit() {
    Random r = new Random(14);
    for (int trial = 0; trial < 60; trial++) {
      DType t = r.nextBoolean() ? DType.INT8 : DType.UINT8;
      boolean perChannel = t == DType.INT8;
      // Every sixth large enough for the 2-thread split (blocks of 1,024 elements, the broadcast
      // period dividing none of them).
      long[] big =
          trial % 6 == 0
              ? new long[] {1, 24 + r.nextInt(8), 24 + r.nextInt(8), 17 + r.nextInt(30)}
              : new long[] {
                1 + r.nextInt(2), 1 + r.nextInt(9), 1 + r.nextInt(9), 1 + r.nextInt(40)
              };
      long[] small =
          switch (r.nextInt(4)) {
            case 0 -> big.clone();
            case 1 -> new long[] {big[3]};
            case 2 -> new long[] {1, 1, 1, big[3]};
            default -> new long[] {big[2], big[3]};
          };
      boolean swap = r.nextBoolean();
      Value x1 = bytes(r, t, swap ? small : big);
      Value x2 = bytes(r, t, swap ? big : small);
      Map<String, AttrValue> a = new HashMap<>();
      a.put("T", new AttrValue.Type(t.tfEnum()));
      for (String role : new String[] {"input", "input2", "output"}) {
        a.put(role + "_scale", new AttrValue.Float(0.005f + r.nextFloat() * 0.2f));
        a.put(
            role + "_zero_point",
            new AttrValue.Int(perChannel ? r.nextInt(256) - 128 : r.nextInt(256)));
      }
      a.put(
          "fused_activation_function",
          AttrValue.Str.of(ACTIVATIONS[r.nextInt(ACTIVATIONS.length)]));
      String op = r.nextBoolean() ? "TfliteQuantizedAdd" : "TfliteQuantizedSub";
      String what =
          op + " " + t.jsName() + " " + Arrays.toString(x1.shape()) + Arrays.toString(x2.shape());
      check(FastQuantizedAddOps.class, what, op, a, x1, x2);
    }
  }

  /** Codes at the ends of the range half the time: the largest products. */
  private static Value extremeBytes(Random r, DType t, long... shape) {
    Value v = bytes(r, t, shape);
    byte[] b = v.bytes();
    byte top = t == DType.UINT8 ? (byte) 255 : Byte.MIN_VALUE;
    for (int i = 0; i < b.length; i++) {
      if (r.nextBoolean()) {
        b[i] = top;
      }
    }
    return v;
  }

  /**
   * Every GEMM path on MobileNet-like shapes and their neighbours: the narrow panels of layers with
   * at most one vector of channels, full integer panels, the float path over a block's gathered
   * windows (k·n ≥ 32·(k + n)), window rows taken as one tap (no dilation across) and not (dilated
   * across), strides, both paddings, and dense layers of few units.
   */
  @Test
  void everyGemmPathMatchesTheReference() {
    Random r = new Random(19);
    // cin, oc, kh, kw, stride, dilation across
    int[][] convs = {
      {3, 32, 3, 3, 2, 1}, {32, 16, 1, 1, 1, 1}, {16, 96, 1, 1, 1, 1}, {96, 24, 1, 1, 1, 1},
      {24, 144, 1, 1, 1, 1}, {320, 160, 1, 1, 1, 1}, {3, 8, 3, 3, 2, 1}, {8, 16, 1, 1, 1, 1},
      {5, 13, 3, 2, 1, 1}, {7, 1, 2, 3, 1, 2}, {64, 64, 3, 3, 1, 2}, {48, 80, 3, 3, 2, 1},
      {17, 100, 1, 3, 1, 1}
    };
    int checked = 0;
    for (int[] c : convs) {
      for (DType t : new DType[] {DType.UINT8, DType.INT8}) {
        int h = 5 + r.nextInt(8);
        int w = 5 + r.nextInt(8);
        Map<String, AttrValue> a = quantAttrs(r, t, c[1]);
        a.put("strides", ints(1, c[4], c[4], 1));
        a.put("dilations", ints(1, 1, c[5], 1));
        String padding = r.nextBoolean() ? "SAME" : "VALID";
        a.put("padding", AttrValue.Str.of(padding));
        Value x = bytes(r, t, 1 + r.nextInt(2), h, w, c[0]);
        Value f = bytes(r, t, c[1], c[2], c[3], c[0]);
        String what =
            String.format(
                "Conv2D %s x%s f%s s%d d1x%d %s",
                t.jsName(),
                Arrays.toString(x.shape()),
                Arrays.toString(f.shape()),
                c[4],
                c[5],
                padding);
        check(what, "TfliteQuantizedConv2D", a, x, f, bias(r, c[1]));
        checked++;
      }
    }
    for (int units : new int[] {1, 8, 16, 17, 40}) {
      DType t = r.nextBoolean() ? DType.INT8 : DType.UINT8;
      int depth = 20 + r.nextInt(60);
      Map<String, AttrValue> d = quantAttrs(r, t, units);
      d.put("keep_num_dims", new AttrValue.Bool(false));
      check(
          "FullyConnected " + t.jsName() + " units " + units + " depth " + depth,
          "TfliteQuantizedFullyConnected",
          d,
          bytes(r, t, 11, depth),
          bytes(r, t, units, depth),
          bias(r, units));
      checked++;
    }
    assertThat(checked).isEqualTo(convs.length * 2 + 5);
  }

  /**
   * Long reductions with the largest codes and weights (zero points 0): the float FMA GEMM must
   * split them into runs whose sums stay exact (below 2^24), within a tap (cin above the run
   * length) and across taps, and still give the reference's bytes.
   */
  @Test
  void longReductionsWithExtremeCodesMatchTheReference() {
    Random r = new Random(15);
    int[][] convs = {{300, 64, 3}, {100, 48, 5}, {2000, 40, 1}};
    for (DType t : new DType[] {DType.UINT8, DType.INT8}) {
      for (int[] c : convs) {
        int cin = c[0];
        int oc = c[1];
        int kk = c[2];
        int k = cin * kk * kk;
        Map<String, AttrValue> a = quantAttrs(r, t, oc);
        a.put("input_zero_point", new AttrValue.Int(0));
        a.put("output_zero_point", new AttrValue.Int(t == DType.UINT8 ? 128 : 0));
        a.put("filter_zero_points", ints(0));
        a.put("fused_activation_function", AttrValue.Str.of("NONE"));
        // Accumulators spread over about k·2^14: a multiplier putting them across the codes.
        float inScale = ((AttrValue.Float) a.get("input_scale")).value();
        float ws = 0.01f;
        a.put("filter_scales", floats(ws));
        a.put("output_scale", new AttrValue.Float(inScale * ws * k * (1 << 14) / 200f));
        a.put("strides", ints(1, 1, 1, 1));
        a.put("dilations", ints(1, 1, 1, 1));
        a.put("padding", AttrValue.Str.of("SAME"));
        Value x = extremeBytes(r, t, 1, 6, 5, cin);
        Value f = extremeBytes(r, t, oc, kk, kk, cin);
        int[] w = FixedPoint.widen(f);
        int maxCode = t == DType.UINT8 ? 255 : 128;
        assertThat(FloatExactIntGemm.chunk(w, oc, k, maxCode))
            .as("the reduction is split")
            .isLessThan(k)
            .isLessThanOrEqualTo((1 << 24) / (maxCode * maxCode));
        String what = "Conv2D " + t.jsName() + " cin " + cin + " oc " + oc + " " + kk + "x" + kk;
        check(what, "TfliteQuantizedConv2D", a, x, f, bias(r, oc));
        Map<String, AttrValue> d = new HashMap<>(a);
        d.put("keep_num_dims", new AttrValue.Bool(false));
        Value xd = extremeBytes(r, t, 9, k);
        Value fd = extremeBytes(r, t, oc, k);
        check(
            "FullyConnected " + t.jsName() + " depth " + k,
            "TfliteQuantizedFullyConnected",
            d,
            xd,
            fd,
            bias(r, oc));
      }
    }
  }

  /**
   * Outputs one code per accumulator unit around a bias that cancels the exact sum (every row the
   * same input): a float sum that lost even one unit past 2^24 would show. Dense layers of depth
   * 6000 and the 1x1 convolution of the same numbers.
   */
  @Test
  void longReductionsAreExactToTheUnit() {
    Random r = new Random(16);
    int depth = 6000;
    int units = 48;
    for (DType t : new DType[] {DType.UINT8, DType.INT8}) {
      Value row = extremeBytes(r, t, depth);
      Value f = extremeBytes(r, t, units, depth);
      int mask = t == DType.UINT8 ? 0xff : -1;
      int[] b = new int[units];
      for (int u = 0; u < units; u++) {
        long sum = 0;
        for (int i = 0; i < depth; i++) {
          sum += (long) (row.bytes()[i] & mask) * (f.bytes()[u * depth + i] & mask);
        }
        b[u] = (int) -sum + r.nextInt(101) - 50;
      }
      Value bias = Value.ints(new long[] {units}, b);
      Map<String, AttrValue> a = quantAttrs(r, t, units);
      a.put("input_zero_point", new AttrValue.Int(0));
      a.put("filter_zero_points", ints(0));
      a.put("output_zero_point", new AttrValue.Int(t == DType.UINT8 ? 128 : 0));
      a.put("filter_scales", floats(0.01f));
      a.put(
          "output_scale",
          new AttrValue.Float(((AttrValue.Float) a.get("input_scale")).value() * 0.01f));
      a.put("fused_activation_function", AttrValue.Str.of("NONE"));
      int rows = 10;
      byte[] x = new byte[rows * depth];
      for (int i = 0; i < rows; i++) {
        System.arraycopy(row.bytes(), 0, x, i * depth, depth);
      }
      Map<String, AttrValue> d = new HashMap<>(a);
      d.put("keep_num_dims", new AttrValue.Bool(false));
      check(
          "FullyConnected exact " + t.jsName(),
          "TfliteQuantizedFullyConnected",
          d,
          Value.of(t, new long[] {rows, depth}, x),
          f,
          bias);
      a.put("strides", ints(1, 1, 1, 1));
      a.put("dilations", ints(1, 1, 1, 1));
      a.put("padding", AttrValue.Str.of("VALID"));
      check(
          "Conv2D 1x1 exact " + t.jsName(),
          "TfliteQuantizedConv2D",
          a,
          Value.of(t, new long[] {1, 2, 5, depth}, x),
          Value.of(t, new long[] {units, 1, 1, depth}, f.bytes()),
          bias);
    }
  }

  /** A 16x8 model (int16 activations) or weights arriving at run time keep the reference kernel. */
  @Test
  void whatItDoesNotCoverRunsTheReference() {
    Random r = new Random(13);
    Map<String, AttrValue> a = quantAttrs(r, DType.UINT8, 4);
    a.put("padding", AttrValue.Str.of("SAME"));
    Value x = bytes(r, DType.UINT8, 1, 5, 5, 3);
    Value f = bytes(r, DType.UINT8, 4, 3, 3, 3);
    var kernel = OpOracle.bindKernel(Mode.OPTIMIZED, "TfliteQuantizedConv2D", a, List.of(), x, f);
    assertThat(kernel.getClass().getName()).doesNotStartWith(FastQuantizedOps.class.getName());
    Value e = OpOracle.runKernel(Mode.REFERENCE, "TfliteQuantizedConv2D", a, List.of(), x, f)[0];
    assertThat(kernel.run(new Value[] {x, f}, ONE)[0].bytes()).containsExactly(e.bytes());
  }
}
