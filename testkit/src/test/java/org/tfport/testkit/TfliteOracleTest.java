package org.tfport.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.testkit.TfliteOracle.Tensor;

/** The TFLite oracle on corpus models that need no tfport code. */
@OracleTest
class TfliteOracleTest {
  @TempDir Path tmp;

  @Test
  void loadsAndRunsAModel() {
    Path half = Corpus.require("tflite/serving/half_plus_two.tflite");
    TfliteOracle.Load load = TfliteOracle.load(half);
    assertThat(load.accepted()).as(load.error()).isTrue();
    assertThat(load.inputs())
        .singleElement()
        .satisfies(t -> assertThat(t.dtype()).isEqualTo("float32"));
    int[] shape = load.inputs().get(0).shape();
    int n = (int) TfliteOracle.elements(shape);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = i * 0.5f - 3;
    }
    List<Tensor> out = TfliteOracle.run(half, List.of(Tensor.f32(shape, x)));
    assertThat(out).hasSize(1);
    float[] y = out.get(0).floats();
    for (int i = 0; i < n; i++) {
      assertThat(y[i]).isEqualTo(0.5f * x[i] + 2);
    }
    // Four values instead of one: the input is resized.
    List<Tensor> four = TfliteOracle.run(half, List.of(Tensor.f32(new int[] {4, 1}, 1, 2, 3, 4)));
    assertThat(four.get(0).floats()).containsExactly(2.5f, 3f, 3.5f, 4f);
  }

  @Test
  void quantizedInputsAndResizing() {
    Path p = Corpus.require("tflite/tflite-micro/hello_world_int8.tflite");
    TfliteOracle.Load load = TfliteOracle.load(p);
    assertThat(load.inputs().get(0).dtype()).isEqualTo("int8");
    assertThat(load.inputs().get(0).scale()).isPositive();
    assertThat(load.signatureKeys()).isNotEmpty();
    List<Tensor> in = TfliteOracle.randomInputs(load, 3);
    assertThat(TfliteOracle.run(p, in)).isEqualTo(TfliteOracle.run(p, in));
    // A batch of 3 instead of 1.
    List<Tensor> out =
        TfliteOracle.run(p, List.of(Tensor.i8(new int[] {3, 1}, (byte) 1, (byte) 2, (byte) 3)));
    assertThat(out.get(0).shape()).containsExactly(3, 1);
    assertThat(out.get(0).longs()).hasSize(3);
  }

  @Test
  void builtinKernelsAndTheXnnpackDelegate() {
    Path half = Corpus.require("tflite/serving/half_plus_two.tflite");
    TfliteOracle.Load load = TfliteOracle.load(half, TfliteOracle.Kernels.BUILTIN);
    assertThat(load.accepted()).as(load.error()).isTrue();
    List<Tensor> four =
        TfliteOracle.run(
            half, List.of(Tensor.f32(new int[] {4, 1}, 1, 2, 3, 4)), TfliteOracle.Kernels.BUILTIN);
    assertThat(four.get(0).floats()).containsExactly(2.5f, 3f, 3.5f, 4f);
    // A float CNN: XNNPACK sums the convolutions in another order than the builtin kernels, so
    // the two modes agree closely but not bit for bit, which shows the delegate is really off.
    Path net = Corpus.require("tflite/tflite-support/mobilenet_v1_0.25_224_1_default_1.tflite");
    TfliteOracle.Load netLoad = TfliteOracle.load(net, TfliteOracle.Kernels.BUILTIN);
    List<Tensor> in = TfliteOracle.randomInputs(netLoad, 5);
    List<Tensor> builtin = TfliteOracle.run(net, in, TfliteOracle.Kernels.BUILTIN);
    List<Tensor> xnnpack = TfliteOracle.run(net, in, TfliteOracle.Kernels.XNNPACK);
    assertThat(builtin).isEqualTo(TfliteOracle.run(net, in, TfliteOracle.Kernels.BUILTIN));
    assertThat(builtin).isNotEqualTo(xnnpack);
    assertThat(Comparison.of(xnnpack.get(0).floats(), builtin.get(0).floats(), 1e-5, 1e-4).ok())
        .isTrue();
    // A model whose op the builtin resolver lacks is rejected the same way in both modes.
    Path flex = Corpus.require("tflite/litert/tflite__softplus_flex.bin");
    assertThat(TfliteOracle.load(flex, TfliteOracle.Kernels.BUILTIN).accepted()).isFalse();
  }

  @Test
  void rejectionsAreReportedNotThrown() throws Exception {
    TfliteOracle.Load missing = TfliteOracle.load(tmp.resolve("nope.tflite"));
    assertThat(missing.accepted()).isFalse();
    assertThat(missing.error()).contains("does not exist");
    Path junk = tmp.resolve("junk.tflite");
    Files.writeString(junk, "This is an invalid model.");
    TfliteOracle.Load bad = TfliteOracle.load(junk);
    assertThat(bad.accepted()).isFalse();
    assertThat(bad.error()).doesNotContain("\n");
    assertThatThrownBy(() -> TfliteOracle.run(junk, List.of()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("rejected by TFLite");
    Path flex = Corpus.require("tflite/litert/tflite__softplus_flex.bin");
    assertThat(TfliteOracle.load(flex).error()).contains("Flex delegate");
  }

  @Test
  void wrongInputsAreUsageErrors() {
    Path half = Corpus.require("tflite/serving/half_plus_two.tflite");
    assertThatThrownBy(() -> TfliteOracle.run(half, List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("has 1 inputs, got 0");
    assertThatThrownBy(() -> TfliteOracle.run(half, List.of(Tensor.i32(new int[] {1}, 1))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is float32, got int32");
  }

  @Test
  void stringTensorsUseTflitesOffsetLayout() {
    Tensor t = Tensor.strings(new int[] {2}, List.of("ab".getBytes(), new byte[0]));
    // count 2, offsets 16, 18, 18, then "ab".
    assertThat(t.data())
        .containsExactly(2, 0, 0, 0, 16, 0, 0, 0, 18, 0, 0, 0, 18, 0, 0, 0, 'a', 'b');
    assertThat(t.byteStrings()).containsExactly("ab".getBytes(), new byte[0]);
    assertThatThrownBy(() -> new Tensor("string", new int[] {1}, new byte[0]).byteStrings())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not a valid string buffer");
  }

  @Test
  void stringInputsOfAnySizeAndStringOutputs() {
    // Placeholder (a scalar string) reshaped to [1]: the output holds the input's bytes.
    Path p = Corpus.require("tflite/litert/tflite_java_src__string_scalar.bin");
    TfliteOracle.Load load = TfliteOracle.load(p);
    assertThat(load.inputs().get(0).dtype()).isEqualTo("string");
    for (String s : List.of("", "x", "a longer string than the first one")) {
      List<Tensor> out =
          TfliteOracle.run(p, List.of(Tensor.strings(new int[0], List.of(s.getBytes()))));
      assertThat(out.get(0).shape()).containsExactly(1);
      assertThat(out.get(0).byteStrings()).containsExactly(s.getBytes());
    }
    List<Tensor> random = TfliteOracle.randomInputs(load, 7);
    assertThat(random.get(0).dtype()).isEqualTo("string");
    assertThat(TfliteOracle.run(p, random).get(0).byteStrings())
        .containsExactlyElementsOf(random.get(0).byteStrings());
  }
}
