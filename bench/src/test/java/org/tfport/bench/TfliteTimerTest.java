package org.tfport.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.tfport.bench.RuntimeComparison.Side;
import org.tfport.bench.RuntimeComparison.Timing;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;

/** TfliteTimer in its child JVM, as RuntimeComparison runs it, with and without XNNPACK. */
@OracleTest
class TfliteTimerTest {
  private static final String FLOAT_V1 =
      "tflite/tflite-support/mobilenet_v1_0.25_224_1_default_1.tflite";

  @Test
  void xnnpackTakesTheFloatMobileNet() throws Exception {
    Path net = Corpus.require(FLOAT_V1);
    Timing t = new RuntimeComparison(2, 1, 1, "xnnpack").measure(Side.TFLITE, net, 2);
    assertThat(t.ok()).as(t.note()).isTrue();
    // MobileNet V1 is 31 nodes: 27 convolutions (1 full, 13 depthwise, 13 pointwise), the average
    // pool, the 1x1 logits convolution, a reshape and the softmax.
    assertThat(t.xnnpack()).endsWith("/31");
    int replaced = Integer.parseInt(t.xnnpack().substring(0, t.xnnpack().indexOf('/')));
    assertThat(replaced).isBetween(28, 31);
  }

  @Test
  void builtinKernelsReportNoDelegate() throws Exception {
    Path net = Corpus.require(FLOAT_V1);
    Timing t = new RuntimeComparison(2, 1, 1, "builtin").measure(Side.TFLITE, net, 1);
    assertThat(t.ok()).as(t.note()).isTrue();
    assertThat(t.xnnpack()).isNull();
  }

  @Test
  void xnnpackTakesTheUint8MobileNetWithItsQuantizedKernels() throws Exception {
    // The delegate is made with QS8 and QU8 on, as TensorFlow's own builds make it; without them
    // this build's XNNPACK takes no uint8 node.
    Path net = Corpus.require("tflite/tflite-support/mobilenet_v1_0.25_224_quant.tflite");
    Timing t = new RuntimeComparison(2, 1, 1, "xnnpack").measure(Side.TFLITE, net, 1);
    assertThat(t.ok()).as(t.note()).isTrue();
    assertThat(t.xnnpack()).as("nodes XNNPACK took").doesNotStartWith("0/").isNotEqualTo("none");
  }
}
