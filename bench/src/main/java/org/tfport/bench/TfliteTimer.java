package org.tfport.bench;

import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterAllocateTensors;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterCreate;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterDelete;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterGetInputTensor;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterGetInputTensorCount;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterGetOutputTensor;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterGetOutputTensorCount;
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
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteTensorType;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.kTfLiteApplicationError;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.kTfLiteDelegateError;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.kTfLiteFloat32;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.kTfLiteInt32;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.kTfLiteInt64;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.kTfLiteOk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorflowlite.TfLiteDelegate;
import org.bytedeco.tensorflowlite.TfLiteInterpreter;
import org.bytedeco.tensorflowlite.TfLiteInterpreterOptions;
import org.bytedeco.tensorflowlite.TfLiteModel;
import org.bytedeco.tensorflowlite.TfLiteOpaqueDelegateStruct;
import org.bytedeco.tensorflowlite.TfLiteTensor;
import org.tfport.testkit.XnnpackDelegate;

/**
 * Times a {@code .tflite} file in the real TFLite 2.18 interpreter (bytedeco C API) the way {@code
 * tfport benchmark} times tfport: load, first run, warm-up runs discarded, timed runs. Run in its
 * own JVM by {@link RuntimeComparison} (as testkit's TfliteOracle runs the interpreter), so a
 * native crash fails one measurement only and each runtime has the process to itself.
 *
 * <p>Kernels: {@code xnnpack} (default) applies TFLite's XNNPACK delegate, on THREADS threads of
 * its own pool, before the first tensor allocation, as TFLite's default delegate would be applied;
 * this bytedeco build links XNNPACK but applies no delegate by itself. Nodes the delegate does not
 * take, or the whole graph when it takes none, run on the builtin kernels. {@code builtin} runs the
 * builtin kernels only.
 *
 * <p>Usage: {@code TfliteTimer MODEL THREADS RUNS WARMUP [builtin|xnnpack] [SEED]}; prints one JSON
 * object with the field names of {@code tfport benchmark --json}, plus {@code kernels} and, with
 * XNNPACK, {@code xnnpack_applied} and {@code xnnpack_threads} (read back from the delegate).
 * TFLite logs on stderr how many nodes the delegate replaced ("Replacing N out of M node(s) with
 * delegate (TfLiteXNNPackDelegate) node"; no such line: it replaced none). A run copies the inputs
 * in, invokes and copies every output out, as a tfport run takes and returns tensors. Inputs are
 * seeded random: floats in [-1, 1), 32/64-bit integers in [0, 10), other types random bytes.
 */
public final class TfliteTimer {
  private TfliteTimer() {}

  public static void main(String[] args) {
    String kernels = args.length > 4 ? args[4] : "xnnpack";
    if (args.length < 4 || !kernels.equals("xnnpack") && !kernels.equals("builtin")) {
      System.err.println("usage: TfliteTimer MODEL THREADS RUNS WARMUP [builtin|xnnpack] [SEED]");
      System.exit(2);
    }
    String file = args[0];
    int threads = Integer.parseInt(args[1]);
    int runs = Integer.parseInt(args[2]);
    int warmup = Integer.parseInt(args[3]);
    long seed = args.length > 5 ? Long.parseLong(args[5]) : 0;

    long t0 = System.nanoTime();
    TfLiteModel model = TfLiteModelCreateFromFile(file);
    if (model == null || model.isNull()) {
      fail(file + ": TFLite cannot read the model");
    }
    TfLiteInterpreterOptions options = TfLiteInterpreterOptionsCreate();
    TfLiteInterpreterOptionsSetNumThreads(options, threads);
    TfLiteInterpreter it = TfLiteInterpreterCreate(model, options);
    if (it == null || it.isNull()) {
      fail(file + ": TFLite rejected the model");
    }
    TfLiteOpaqueDelegateStruct delegate = null;
    String delegateFields = "";
    if (kernels.equals("xnnpack")) {
      XnnpackDelegate.logReplacedNodes();
      delegate = XnnpackDelegate.create(threads);
      int status = TfLiteInterpreterModifyGraphWithDelegate(it, new TfLiteDelegate(delegate));
      // A delegate error leaves the interpreter on its builtin kernels, as TFLite does when its
      // default delegate cannot take a graph; anything else leaves it unusable.
      if (status != kTfLiteOk
          && status != kTfLiteDelegateError
          && status != kTfLiteApplicationError) {
        fail(file + ": applying the XNNPACK delegate failed (status " + status + ")");
      }
      delegateFields =
          String.format(
              Locale.ROOT,
              ",\"xnnpack_applied\":%b,\"xnnpack_threads\":%d",
              status == kTfLiteOk,
              XnnpackDelegate.threads(delegate));
    }
    if (TfLiteInterpreterAllocateTensors(it) != kTfLiteOk) {
      fail(file + ": AllocateTensors failed");
    }
    double loadMs = (System.nanoTime() - t0) / 1e6;

    Random rnd = new Random(seed);
    List<BytePointer> in = new ArrayList<>();
    for (int i = 0; i < TfLiteInterpreterGetInputTensorCount(it); i++) {
      TfLiteTensor t = TfLiteInterpreterGetInputTensor(it, i);
      in.add(new BytePointer(random(TfLiteTensorType(t), (int) TfLiteTensorByteSize(t), rnd)));
    }
    List<BytePointer> out = new ArrayList<>();
    for (int i = 0; i < TfLiteInterpreterGetOutputTensorCount(it); i++) {
      out.add(
          new BytePointer(
              Math.max(1, TfLiteTensorByteSize(TfLiteInterpreterGetOutputTensor(it, i)))));
    }
    double first = run(it, in, out);
    for (int i = 0; i < warmup; i++) {
      run(it, in, out);
    }
    double[] times = new double[runs];
    for (int i = 0; i < runs; i++) {
      times[i] = run(it, in, out);
    }
    TfLiteInterpreterDelete(it);
    if (delegate != null) {
      XnnpackDelegate.delete(delegate);
    }
    TfLiteInterpreterOptionsDelete(options);
    TfLiteModelDelete(model);

    double[] s = times.clone();
    Arrays.sort(s);
    int n = s.length;
    double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    System.out.printf(
        Locale.ROOT,
        "{\"model\":\"%s\",\"load_ms\":%.3f,\"first_run_ms\":%.3f,\"min_ms\":%.3f,"
            + "\"median_ms\":%.3f,\"p90_ms\":%.3f,\"mean_ms\":%.3f,\"num_runs\":%d,\"warmup_runs\":%d,"
            + "\"num_threads\":%d,\"peak_rss_bytes\":%d,\"kernels\":\"%s\"%s}%n",
        file.replace("\\", "\\\\").replace("\"", "\\\""),
        loadMs,
        first,
        s[0],
        median,
        s[(int) Math.ceil(0.9 * n) - 1],
        Arrays.stream(times).average().orElseThrow(),
        n,
        warmup,
        threads,
        PeakHeapMain.procStatus("VmHWM"),
        kernels,
        delegateFields);
    System.out.flush();
  }

  private static double run(TfLiteInterpreter it, List<BytePointer> in, List<BytePointer> out) {
    long t = System.nanoTime();
    for (int i = 0; i < in.size(); i++) {
      BytePointer p = in.get(i);
      if (TfLiteTensorCopyFromBuffer(TfLiteInterpreterGetInputTensor(it, i), p, p.capacity())
          != kTfLiteOk) {
        fail("cannot set input " + i);
      }
    }
    if (TfLiteInterpreterInvoke(it) != kTfLiteOk) {
      fail("Invoke failed");
    }
    for (int i = 0; i < out.size(); i++) {
      TfLiteTensor o = TfLiteInterpreterGetOutputTensor(it, i);
      long size = TfLiteTensorByteSize(o);
      // An output whose shape is computed at run time has its size only after the first invoke:
      // copying it into the buffer sized before (1 byte) overran the heap and crashed the process.
      if (size > out.get(i).capacity()) {
        out.get(i).close();
        out.set(i, new BytePointer(size));
      }
      if (size > 0 && TfLiteTensorCopyToBuffer(o, out.get(i), size) != kTfLiteOk) {
        fail("cannot read output " + i);
      }
    }
    return (System.nanoTime() - t) / 1e6;
  }

  private static byte[] random(int type, int bytes, Random rnd) {
    ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (type == kTfLiteFloat32) {
      while (b.hasRemaining()) {
        b.putFloat(rnd.nextFloat() * 2 - 1);
      }
    } else if (type == kTfLiteInt32) {
      while (b.hasRemaining()) {
        b.putInt(rnd.nextInt(10));
      }
    } else if (type == kTfLiteInt64) {
      while (b.hasRemaining()) {
        b.putLong(rnd.nextInt(10));
      }
    } else {
      rnd.nextBytes(b.array());
    }
    return b.array();
  }

  private static void fail(String message) {
    System.err.println("TfliteTimer: " + message);
    System.exit(1);
  }
}
