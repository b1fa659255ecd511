package org.tfport.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterAllocateTensors;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterCreate;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterDelete;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterGetInputTensor;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterGetOutputTensor;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterInvoke;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterModifyGraphWithDelegate;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterOptionsCreate;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterOptionsDelete;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterOptionsSetNumThreads;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteModelCreateFromFile;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteModelDelete;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteTensorByteSize;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteTensorCopyFromBuffer;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteTensorCopyToBuffer;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.kTfLiteOk;

import java.nio.file.Path;
import java.util.Random;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.tensorflowlite.TfLiteDelegate;
import org.bytedeco.tensorflowlite.TfLiteInterpreter;
import org.bytedeco.tensorflowlite.TfLiteInterpreterOptions;
import org.bytedeco.tensorflowlite.TfLiteModel;
import org.bytedeco.tensorflowlite.TfLiteOpaqueDelegateStruct;
import org.junit.jupiter.api.Test;

/** The XNNPACK delegate with a thread count, as bench's TfliteTimer applies it. */
@OracleTest
class XnnpackDelegateTest {
  @Test
  void theThreadCountReachesTheDelegate() {
    // One thread means no pool (0), as TFLite's own default XNNPACK delegate is created.
    for (int threads : new int[] {1, 2, 3}) {
      TfLiteOpaqueDelegateStruct d = XnnpackDelegate.create(threads);
      try {
        assertThat(XnnpackDelegate.threads(d)).isEqualTo(threads > 1 ? threads : 0);
      } finally {
        XnnpackDelegate.delete(d);
      }
    }
    TfLiteOpaqueDelegateStruct d = XnnpackDelegate.create();
    try {
      assertThat(XnnpackDelegate.threads(d)).isZero();
    } finally {
      XnnpackDelegate.delete(d);
    }
  }

  @Test
  void aTwoThreadDelegateComputesWhatTheBuiltinKernelsDo() {
    Path net = Corpus.require("tflite/tflite-support/mobilenet_v1_0.25_224_1_default_1.tflite");
    float[] input = new float[224 * 224 * 3];
    Random rnd = new Random(7);
    for (int i = 0; i < input.length; i++) {
      input[i] = rnd.nextFloat() * 2 - 1;
    }
    float[] builtin = run(net, input, 0);
    float[] xnnpack = run(net, input, 2);
    assertThat(xnnpack).hasSize(1001);
    // XNNPACK sums in another order than the builtin kernels: close, but not bit for bit, which
    // shows the delegate really ran the graph.
    assertThat(xnnpack).isNotEqualTo(builtin);
    Comparison.of(builtin, xnnpack, 1e-5, 1e-4).assertOk("XNNPACK on 2 threads vs builtin");
  }

  /** Runs the one-input, one-output float model; xnnpackThreads 0: builtin kernels only. */
  private static float[] run(Path file, float[] input, int xnnpackThreads) {
    TfLiteModel model = TfLiteModelCreateFromFile(file.toString());
    TfLiteInterpreterOptions options = TfLiteInterpreterOptionsCreate();
    TfLiteInterpreterOptionsSetNumThreads(options, Math.max(1, xnnpackThreads));
    TfLiteInterpreter it = TfLiteInterpreterCreate(model, options);
    TfLiteOpaqueDelegateStruct delegate = null;
    try {
      if (xnnpackThreads > 0) {
        delegate = XnnpackDelegate.create(xnnpackThreads);
        assertThat(TfLiteInterpreterModifyGraphWithDelegate(it, new TfLiteDelegate(delegate)))
            .isEqualTo(kTfLiteOk);
      }
      assertThat(TfLiteInterpreterAllocateTensors(it)).isEqualTo(kTfLiteOk);
      try (FloatPointer in = new FloatPointer(input)) {
        assertThat(
                TfLiteTensorCopyFromBuffer(
                    TfLiteInterpreterGetInputTensor(it, 0), in, input.length * 4L))
            .isEqualTo(kTfLiteOk);
      }
      assertThat(TfLiteInterpreterInvoke(it)).isEqualTo(kTfLiteOk);
      long bytes = TfLiteTensorByteSize(TfLiteInterpreterGetOutputTensor(it, 0));
      float[] out = new float[(int) (bytes / 4)];
      try (FloatPointer p = new FloatPointer(out.length)) {
        assertThat(TfLiteTensorCopyToBuffer(TfLiteInterpreterGetOutputTensor(it, 0), p, bytes))
            .isEqualTo(kTfLiteOk);
        p.get(out);
      }
      return out;
    } finally {
      TfLiteInterpreterDelete(it);
      if (delegate != null) {
        XnnpackDelegate.delete(delegate);
      }
      TfLiteInterpreterOptionsDelete(options);
      TfLiteModelDelete(model);
    }
  }
}
