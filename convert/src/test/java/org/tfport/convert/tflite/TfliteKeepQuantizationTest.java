package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.convert.TfliteQuantizationMode;
import org.tfport.convert.tfjs.TfliteToTf;
import org.tfport.core.DType;
import org.tfport.core.ProgressListener;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.graph.TensorRef;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.savedmodel.SignatureInfo;
import org.tfport.formats.savedmodel.TensorBundle;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.formats.tfjs.TfjsModel;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.formats.tfjs.WeightGroup;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteOptionsType;
import org.tfport.formats.tflite.TfliteQuantization;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.formats.tflite.TfliteWriter;
import org.tfport.graph.GraphOptions;
import org.tfport.runtime.tflite.TfliteImporter;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;

/**
 * {@code --keep_quantization} on {@code .tflite} files with quantized weights: tfport's own
 * dynamic-range files (int8, per-channel convolutions, per-tensor fully connected) and a built file
 * of uint8 and asymmetric int8 weights behind DEQUANTIZE plus a per-channel depthwise filter. The
 * SavedModel gives, in TensorFlow 2.18, the outputs of the dequantized conversion within 1e-6
 * relative (the frozen graph within 1e-5: TensorFlow runs other kernels on the unfolded chain), and
 * both hold the file's integers; the TF.js graph model gives, in TF.js 4.22, the dequantized
 * conversion's outputs, per-tensor weights stored as manifest uint8. Full-integer corpus files are
 * refused by name.
 */
@OracleTest
class TfliteKeepQuantizationTest {
  static final double RTOL = 1e-6;
  static final double FROZEN_RTOL = 1e-5;
  @TempDir Path tmp;

  @Test
  void keptWeightsGiveTheDequantizedConversionsOutputsInTensorFlowAndTfjs() throws Exception {
    BuiltModelsTest built = new BuiltModelsTest();
    built.tmp = tmp;
    Map<String, Path> files = new LinkedHashMap<>();
    files.put("cnn", dynamicRange(built.cnn(), List.of("x"), List.of("probs")));
    files.put(
        "fc-layers",
        dynamicRange(
            Corpus.require("frozen_pb/tf2onnx/fc-layers.pb"), List.of(), List.of("output")));
    files.put("affine", affineModel());
    List<TfjsOracle.Job> jobs = new ArrayList<>();
    List<String> report = new ArrayList<>();
    List<List<String>> jsOuts = new ArrayList<>();
    for (Map.Entry<String, Path> e : files.entrySet()) {
      String label = e.getKey();
      Path f = e.getValue();
      TfliteModel m = TfliteReader.read(f);
      List<byte[]> stored = quantizedBuffers(m);
      assertThat(stored).as(label + ": the file has quantized weights").isNotEmpty();

      Path keptSm = tmp.resolve(label + "_kept_sm");
      Path plainSm = tmp.resolve(label + "_plain_sm");
      ConversionResult r = TfliteToTf.convertSavedModel(f, keptSm, true);
      TfliteToTf.convertSavedModel(f, plainSm, false);
      assertThat(String.join("\n", r.notices())).contains("kept as stored");
      Path keptPb = tmp.resolve(label + "_kept.pb");
      Path plainPb = tmp.resolve(label + "_plain.pb");
      TfliteToTf.convertFrozen(f, keptPb, true);
      TfliteToTf.convertFrozen(f, plainPb, false);

      // The checkpoint holds the file's integers: every quantized buffer is an integer variable
      // with the same bytes (in TensorFlow's layout, so compared as sorted bytes).
      TensorBundle b = TensorBundle.open(keptSm.resolve("variables/variables"));
      List<byte[]> inCheckpoint = new ArrayList<>();
      for (String k : b.keys()) {
        int dt = b.entry(k).dtype();
        if (dt == DType.INT8.tfEnum() || dt == DType.UINT8.tfEnum()) {
          inCheckpoint.add(sorted(b.read(k)));
        }
      }
      for (byte[] want : stored) {
        assertThat(inCheckpoint.stream().anyMatch(c -> Arrays.equals(c, want)))
            .as(label + ": a checkpoint variable holds the " + want.length + " stored bytes")
            .isTrue();
      }
      assertThat(Files.size(keptSm.resolve("variables/variables.data-00000-of-00001")))
          .isLessThan(Files.size(plainSm.resolve("variables/variables.data-00000-of-00001")));

      SignatureInfo sig =
          SavedModelReader.signatures(keptSm, Set.of("serve")).get("serving_default");
      Random rnd = new Random(label.hashCode());
      Map<String, TensorFlowOracle.Feed> byKey = new LinkedHashMap<>();
      Map<String, TensorFlowOracle.Feed> byNode = new LinkedHashMap<>();
      List<TfjsOracle.Input> jsIns = new ArrayList<>();
      for (Map.Entry<String, TensorInfo> in : sig.inputs().entrySet()) {
        long[] shape = in.getValue().shape().dims().clone();
        for (int k = 0; k < shape.length; k++) {
          shape[k] = shape[k] < 0 ? 2 : shape[k];
        }
        float[] v = new float[(int) Arrays.stream(shape).reduce(1, (p, q) -> p * q)];
        for (int k = 0; k < v.length; k++) {
          v[k] = rnd.nextFloat() * 2 - 1;
        }
        String node = TensorRef.nodeOf(in.getValue().name());
        byKey.put(in.getKey(), new TensorFlowOracle.Feed(TfjsOracle.Input.f32(node, shape, v), 1));
        byNode.put(node, byKey.get(in.getKey()));
        jsIns.add(TfjsOracle.Input.f32(node, shape, v));
      }
      List<String> fetches = new ArrayList<>();
      sig.outputs().values().forEach(t -> fetches.add(t.name()));
      Map<String, float[]> kept =
          TensorFlowOracle.runSavedModelAsIs(keptSm, "serve", sig.key(), byKey);
      Map<String, float[]> plain =
          TensorFlowOracle.runSavedModelAsIs(plainSm, "serve", sig.key(), byKey);
      List<float[]> keptFrozen = TensorFlowOracle.runGraphDef(keptPb, byNode, fetches);
      List<float[]> plainFrozen = TensorFlowOracle.runGraphDef(plainPb, byNode, fetches);
      double worst = 0;
      double frozenVsFrozen = 0;
      int o = 0;
      for (String k : sig.outputs().keySet()) {
        Comparison c = Comparison.of(plain.get(k), kept.get(k), 0, RTOL);
        c.assertOk(label + " SavedModel output " + k);
        // In a frozen graph TensorFlow's optimizer leaves the kept Cast/Sub/Mul chain unfolded,
        // so the consuming op reads a computed weight where the dequantized graph gives it a
        // constant, and TensorFlow 2.18 runs another kernel for it that sums in another order: a
        // few float ulps apart (the same weights; the SavedModel above, where both read a
        // variable, agrees to 1e-6).
        Comparison cf = Comparison.of(plain.get(k), keptFrozen.get(o), 0, FROZEN_RTOL);
        cf.assertOk(label + " frozen output " + k + " against the dequantized SavedModel");
        Comparison pf = Comparison.of(plainFrozen.get(o), keptFrozen.get(o), 0, FROZEN_RTOL);
        pf.assertOk(label + " frozen output " + k + " against the dequantized frozen graph");
        frozenVsFrozen = Math.max(frozenVsFrozen, Math.max(cf.maxRel(), pf.maxRel()));
        worst = Math.max(worst, c.maxRel());
        o++;
      }

      Path keptJs = tmp.resolve(label + "_kept_js");
      Path plainJs = tmp.resolve(label + "_plain_js");
      ConversionResult rj = tfjs(f, keptJs, true);
      tfjs(f, plainJs, false);
      TfjsModel km = TfjsReader.read(keptJs.resolve("model.json"));
      TfjsModel pm = TfjsReader.read(plainJs.resolve("model.json"));
      int uint8 = 0;
      for (WeightGroup g : km.groups()) {
        for (WeightGroup.Weight w : g.weights()) {
          if (w.spec().quantization() != null) {
            assertThat(w.spec().quantization().dtype()).isEqualTo(DType.UINT8);
            uint8++;
          }
        }
      }
      assertThat(uint8).as(label + ": weights kept as uint8 in the manifest").isPositive();
      // Kept weights read back bit for bit as the dequantized conversion's float32 values.
      Map<String, Tensor> kw = km.weightsByName();
      Map<String, Tensor> pw = pm.weightsByName();
      assertThat(kw.keySet()).isEqualTo(pw.keySet());
      for (String k : kw.keySet()) {
        assertThat(kw.get(k).bytes()).as(label + " weight " + k).isEqualTo(pw.get(k).bytes());
      }
      assertThat(binBytes(keptJs)).isLessThan(binBytes(plainJs));
      jobs.add(TfjsOracle.Job.graph(keptJs.resolve("model.json"), jsIns, fetches));
      jobs.add(TfjsOracle.Job.graph(plainJs.resolve("model.json"), jsIns, fetches));
      jsOuts.add(fetches);
      report.add(
          String.format(
              "%-10s %d stored weights, SavedModel max rel %.2g, frozen max rel %.2g, %d TF.js uint8"
                  + " weights, notes: %s",
              label, stored.size(), worst, frozenVsFrozen, uint8, rj.notices()));
    }
    List<TfjsOracle.Result> js = TfjsOracle.run(jobs);
    int k = 0;
    for (String label : files.keySet()) {
      TfjsOracle.Result kept = js.get(2 * k);
      TfjsOracle.Result plain = js.get(2 * k + 1);
      assertThat(kept.ok()).as(label + ": " + kept.error()).isTrue();
      assertThat(plain.ok()).as(label + ": " + plain.error()).isTrue();
      for (int i = 0; i < jsOuts.get(k).size(); i++) {
        Comparison c = Comparison.of(plain.output(i).data(), kept.output(i).data(), 0, RTOL);
        c.assertOk(label + " TF.js output " + i);
        report.set(k, report.get(k) + String.format("; TF.js max rel %.2g", c.maxRel()));
      }
      k++;
    }
    report.forEach(System.out::println);
  }

  @Test
  void fullIntegerFilesAreRefusedByName() {
    for (String rel :
        List.of(
            "tflite/tflite-micro/hello_world_int8.tflite",
            "tflite/tflite-support/mobilenet_v1_0.25_224_quant.tflite")) {
      Path f = Corpus.require(rel);
      Path out = tmp.resolve(f.getFileName() + "_sm");
      assertThatThrownBy(() -> TfliteToTf.convertSavedModel(f, out, true))
          .isInstanceOf(TfportException.UnsupportedModelException.class)
          .hasMessageStartingWith(f.toString())
          .hasMessageContaining("GraphLoadingOptions.keepQuantization keeps the integer weights")
          .hasMessageContaining("Tflite")
          .hasMessageNotContaining("\n");
      assertThat(out).doesNotExist();
    }
  }

  @Test
  void theImporterRecordsEachQuantizedWeightItDequantized() throws Exception {
    Path f = affineModel();
    var im = TfliteImporter.importModel(f);
    // The two DEQUANTIZE'd weights and the depthwise filter, re-laid out as [H, W, C, M].
    assertThat(im.quantizedConstants()).hasSize(3);
    var dw =
        im.quantizedConstants().stream()
            .filter(q -> q.tensor().equals("dw_filter"))
            .findFirst()
            .orElseThrow();
    assertThat(dw.integers().shape().dims()).containsExactly(3, 3, 4, 2);
    assertThat(dw.scaleShape()).containsExactly(1, 1, 4, 2);
    var u8 =
        im.quantizedConstants().stream()
            .filter(q -> q.tensor().equals("w_u8"))
            .findFirst()
            .orElseThrow();
    assertThat(u8.zeroPoints()).containsExactly(131);
    assertThat(u8.perTensor()).isTrue();
  }

  private Path dynamicRange(Path pb, List<String> inputs, List<String> outputs) throws Exception {
    Path out = tmp.resolve(pb.getFileName() + ".dr.tflite");
    TfliteConverter.convertFrozen(
        pb,
        out,
        new GraphOptions(null, null, true, false, false, outputs),
        inputs,
        Map.of(),
        TfliteOptions.defaults().withQuantization(TfliteQuantizationMode.DYNAMIC_RANGE));
    return out;
  }

  private static ConversionResult tfjs(Path f, Path out, boolean keep) {
    return TfliteToTf.convertTfjs(
        f,
        out,
        null,
        sig -> new GraphOptions(sig, Set.of("serve"), true, false, false, List.of(), true),
        TfjsOutputOptions.defaults(),
        ProgressListener.NONE,
        keep);
  }

  /**
   * x[2, 6, 6, 4] → depthwise 3x3 (multiplier 2, int8 per channel, zero point 0) → reshape [2, 288]
   * → FC with uint8 weights (zero point 131) behind DEQUANTIZE → relu → FC with int8 weights (zero
   * point −3) behind DEQUANTIZE: the affine forms dynamic-range files do not have.
   */
  private Path affineModel() throws Exception {
    Random rnd = new Random(11);
    ModelBuilder mb = new ModelBuilder();
    ModelBuilder.Sub s = new ModelBuilder.Sub("main");
    mb.subgraphs.add(s);
    int x = s.add(new ModelBuilder.T("x", TfliteType.FLOAT32, new int[] {2, 6, 6, 4}, null));
    s.inputs.add(x);
    int dwf = s.constant("dw_filter", TfliteType.INT8, new int[] {1, 3, 3, 8}, bytes(rnd, 72));
    List<Float> scales = new ArrayList<>();
    List<Long> zeros = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      scales.add(0.01f + 0.003f * c);
      zeros.add(0L);
    }
    s.t(dwf).quantization = TfliteQuantization.perAxis(scales, zeros, 3);
    int dwb = s.constFloats("dw_bias", new int[] {8}, new float[8]);
    int dwy = s.add(new ModelBuilder.T("dw_y", TfliteType.FLOAT32, new int[] {2, 4, 4, 8}, null));
    s.op(
            TfliteBuiltin.DEPTHWISE_CONV_2D,
            TfliteOptionsType.DEPTHWISE_CONV_2D_OPTIONS,
            List.of(x, dwf, dwb),
            List.of(dwy))
        .opt("padding", 1)
        .opt("stride_w", 1)
        .opt("stride_h", 1)
        .opt("depth_multiplier", 2)
        .opt("fused_activation_function", 0)
        .opt("dilation_w_factor", 1)
        .opt("dilation_h_factor", 1);
    int shape = s.constInts("flat_shape", 2, 128);
    int flat = s.add(new ModelBuilder.T("flat", TfliteType.FLOAT32, new int[] {2, 128}, null));
    s.op(TfliteBuiltin.RESHAPE, TfliteOptionsType.NONE, List.of(dwy, shape), List.of(flat));
    int h = fc(s, rnd, flat, "w_u8", TfliteType.UINT8, 16, 128, 0.02f, 131, 1);
    int y = fc(s, rnd, h, "w_i8", TfliteType.INT8, 5, 16, 0.05f, -3, 0);
    s.outputs.add(y);
    ModelBuilder.Built b = mb.build("keep_quantization test");
    Path file = tmp.resolve("affine.tflite");
    Files.write(
        file,
        TfliteWriter.write(
            new TfliteModel(
                TfliteModel.SCHEMA_VERSION,
                b.description(),
                b.opcodes(),
                b.subgraphs(),
                b.buffers(),
                List.of(),
                List.of(),
                List.of())));
    return file;
  }

  private static int fc(
      ModelBuilder.Sub s,
      Random rnd,
      int x,
      String name,
      TfliteType type,
      int out,
      int in,
      float scale,
      long zero,
      int activation) {
    int q = s.constant(name, type, new int[] {out, in}, bytes(rnd, out * in));
    s.t(q).quantization = TfliteQuantization.perTensor(scale, zero);
    int w =
        s.add(new ModelBuilder.T(name + "_float", TfliteType.FLOAT32, new int[] {out, in}, null));
    s.op(TfliteBuiltin.DEQUANTIZE, TfliteOptionsType.NONE, List.of(q), List.of(w));
    float[] bias = new float[out];
    for (int i = 0; i < out; i++) {
      bias[i] = rnd.nextFloat() - 0.5f;
    }
    int bt = s.constFloats(name + "_bias", new int[] {out}, bias);
    int y = s.add(new ModelBuilder.T(name + "_y", TfliteType.FLOAT32, new int[] {2, out}, null));
    s.op(
            TfliteBuiltin.FULLY_CONNECTED,
            TfliteOptionsType.FULLY_CONNECTED_OPTIONS,
            List.of(x, w, bt),
            List.of(y))
        .opt("fused_activation_function", activation)
        .opt("weights_format", 0)
        .opt("keep_num_dims", false);
    return y;
  }

  private static byte[] bytes(Random rnd, int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return b;
  }

  /** The bytes of each 8-bit quantized constant of the main subgraph, sorted. */
  private static List<byte[]> quantizedBuffers(TfliteModel m) {
    List<byte[]> out = new ArrayList<>();
    for (TfliteTensor t : m.mainSubgraph().tensors()) {
      ByteBuffer d = m.buffer(t).data();
      if ((t.type() == TfliteType.INT8 || t.type() == TfliteType.UINT8)
          && t.quantization() != null
          && !t.quantization().scale().isEmpty()
          && d.remaining() > 0) {
        byte[] b = new byte[d.remaining()];
        d.duplicate().get(b);
        Arrays.sort(b);
        out.add(b);
      }
    }
    return out;
  }

  private static long binBytes(Path dir) throws java.io.IOException {
    long n = 0;
    try (var s = Files.list(dir)) {
      for (Path p : s.filter(p -> p.toString().endsWith(".bin")).toList()) {
        n += Files.size(p);
      }
    }
    return n;
  }

  private static byte[] sorted(Tensor t) {
    ByteBuffer d = t.bytes().order(ByteOrder.LITTLE_ENDIAN);
    byte[] b = new byte[d.remaining()];
    d.get(b);
    Arrays.sort(b);
    return b;
  }
}
