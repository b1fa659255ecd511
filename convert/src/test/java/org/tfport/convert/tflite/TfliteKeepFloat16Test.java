package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.graphdef.GraphDefReader;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.savedmodel.SignatureInfo;
import org.tfport.formats.savedmodel.TensorBundle;
import org.tfport.formats.savedmodel.TensorInfo;
import org.tfport.formats.tfjs.TfjsModel;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.formats.tfjs.WeightGroup;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.graph.GraphOptions;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;

/**
 * {@code --keep_quantization} on float16-weight {@code .tflite} files (weights stored as float16
 * behind DEQUANTIZE): the corpus's MediaPipe face landmark model and tfport's own {@code
 * --quantize_float16} output of a small CNN; the corpus's CartoonGAN. The SavedModel's checkpoint
 * and the frozen graph hold the file's float16 bytes as DT_HALF followed by {@code Cast};
 * TensorFlow 2.18 gives exactly the dequantized conversion's outputs for the SavedModel (bit for
 * bit: the widening is exact and the consuming ops read the same float32 values) and within 1e-6 of
 * each output's largest magnitude for the frozen graph (its optimizer runs another kernel on a Cast
 * than on a constant), and tfport's runtime (what {@code --verify} runs) gives the dequantized
 * conversion's outputs bit for bit. The TF.js graph model stores them with the manifest's float16
 * quantization and TF.js 4.22 gives exactly the dequantized conversion's outputs.
 */
@OracleTest
class TfliteKeepFloat16Test {
  static final double FROZEN_RTOL = 1e-6;
  @TempDir Path tmp;

  @Test
  void float16WeightsKeptGiveTheDequantizedConversionsOutputsExactly() throws Exception {
    Map<String, Path> files = new LinkedHashMap<>();
    files.put("face_landmark", Corpus.require("tflite/mediapipe-github/face_landmark.tflite"));
    files.put("cartoongan", Corpus.require("tflite/tfjs-tflite/cartoongan_fp16.tflite"));
    files.put("cnn-f16", ownFloat16());
    List<TfjsOracle.Job> jobs = new ArrayList<>();
    List<Integer> outputsPerFile = new ArrayList<>();
    List<String> report = new ArrayList<>();
    for (Map.Entry<String, Path> e : files.entrySet()) {
      String label = e.getKey();
      Path f = e.getValue();
      List<byte[]> stored = halfBuffers(TfliteReader.read(f));
      assertThat(stored).as(label + ": the file has float16 weights").isNotEmpty();

      Path keptSm = tmp.resolve(label + "_kept_sm");
      Path plainSm = tmp.resolve(label + "_plain_sm");
      ConversionResult r = TfliteToTf.convertSavedModel(f, keptSm, true);
      TfliteToTf.convertSavedModel(f, plainSm, false);
      String notes = String.join("\n", r.notices());
      assertThat(notes)
          .contains("kept as stored (float16 with Cast, exact)")
          .doesNotContain("dequantized to float32");
      Path keptPb = tmp.resolve(label + "_kept.pb");
      Path plainPb = tmp.resolve(label + "_plain.pb");
      TfliteToTf.convertFrozen(f, keptPb, true);
      TfliteToTf.convertFrozen(f, plainPb, false);

      // Every float16 buffer of the file is a DT_HALF checkpoint variable and a DT_HALF constant
      // of the frozen graph with the same bytes (in TensorFlow's layout: compared sorted).
      TensorBundle b = TensorBundle.open(keptSm.resolve("variables/variables"));
      List<byte[]> inCheckpoint = new ArrayList<>();
      for (String k : b.keys()) {
        if (b.entry(k).dtype() == DType.FLOAT16.tfEnum()) {
          inCheckpoint.add(sorted(b.read(k)));
        }
      }
      List<byte[]> inFrozen = new ArrayList<>();
      Graph fg = GraphDefReader.read(keptPb);
      for (Node n : fg.nodes()) {
        TensorValue tv = n.op().equals("Const") ? n.tensorAttr("value") : null;
        if (tv != null && tv.value() != null && tv.value().dtype() == DType.FLOAT16) {
          inFrozen.add(sorted(tv.value()));
        }
      }
      for (byte[] want : stored) {
        // A scalar stays a constant (CheckpointVariables: structure, not a weight).
        assertThat(want.length == 2 || inCheckpoint.stream().anyMatch(c -> Arrays.equals(c, want)))
            .as(label + ": a DT_HALF variable holds the " + want.length + " stored bytes")
            .isTrue();
        assertThat(inFrozen.stream().anyMatch(c -> Arrays.equals(c, want)))
            .as(label + ": a DT_HALF constant holds the " + want.length + " stored bytes")
            .isTrue();
      }
      assertThat(Files.size(keptSm.resolve("variables/variables.data-00000-of-00001")))
          .isLessThan(Files.size(plainSm.resolve("variables/variables.data-00000-of-00001")));
      assertThat(Files.size(keptPb)).isLessThan(Files.size(plainPb));

      SignatureInfo sig =
          SavedModelReader.signatures(keptSm, Set.of("serve")).get("serving_default");
      Random rnd = new Random(label.hashCode());
      Map<String, TensorFlowOracle.Feed> byKey = new LinkedHashMap<>();
      Map<String, TensorFlowOracle.Feed> byNode = new LinkedHashMap<>();
      Map<String, Tensor> forRuntime = new LinkedHashMap<>();
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
        forRuntime.put(in.getKey(), Tensor.ofFloats(Shape.of(shape), v));
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
      Map<String, Tensor> keptRt = runtime(keptSm, sig.key(), forRuntime);
      Map<String, Tensor> plainRt = runtime(plainSm, sig.key(), forRuntime);
      double rtVsTf = 0;
      double frozen = 0;
      int o = 0;
      for (String k : sig.outputs().keySet()) {
        assertThat(kept.get(k)).as(label + " SavedModel output " + k).containsExactly(plain.get(k));
        // TensorFlow's optimizer does not fold a Cast that widens a large constant, so in the
        // frozen graph the consumer reads a computed filter where the dequantized graph gives it a
        // constant, and TensorFlow runs another kernel that sums in another order: a few float
        // ulps of the output's scale apart (the SavedModel, a variable in both, is bit-equal).
        float[] pf = plainFrozen.get(o);
        double scale = 0;
        for (float v : pf) {
          scale = Math.max(scale, Math.abs(v));
        }
        Comparison cf = Comparison.of(pf, keptFrozen.get(o), FROZEN_RTOL * scale, FROZEN_RTOL);
        cf.assertOk(label + " frozen output " + k);
        frozen = Math.max(frozen, cf.maxAbs() / Math.max(scale, Float.MIN_NORMAL));
        float[] rk = keptRt.get(k).toFloatArray();
        assertThat(rk)
            .as(label + " runtime output " + k)
            .containsExactly(plainRt.get(k).toFloatArray());
        Comparison c = Comparison.of(plain.get(k), rk, 1e-4, 1e-3);
        c.assertOk(label + " runtime output " + k + " against TensorFlow");
        rtVsTf = Math.max(rtVsTf, c.maxAbs());
        o++;
      }

      Path keptJs = tmp.resolve(label + "_kept_js");
      Path plainJs = tmp.resolve(label + "_plain_js");
      ConversionResult rj = tfjs(f, keptJs, true);
      tfjs(f, plainJs, false);
      assertThat(String.join("\n", rj.notices()))
          .contains("kept as stored (the manifest's float16, bit-exact)")
          .doesNotContain("stored as float32");
      TfjsModel km = TfjsReader.read(keptJs.resolve("model.json"));
      TfjsModel pm = TfjsReader.read(plainJs.resolve("model.json"));
      int halves = 0;
      for (WeightGroup g : km.groups()) {
        for (WeightGroup.Weight w : g.weights()) {
          if (w.spec().quantization() != null) {
            assertThat(w.spec().quantization().dtype()).isEqualTo(DType.FLOAT16);
            halves++;
          }
        }
      }
      assertThat(halves).as(label + ": weights kept as float16 in the manifest").isPositive();
      Map<String, Tensor> kw = km.weightsByName();
      Map<String, Tensor> pw = pm.weightsByName();
      assertThat(kw.keySet()).isEqualTo(pw.keySet());
      for (String k : kw.keySet()) {
        assertThat(kw.get(k).bytes()).as(label + " weight " + k).isEqualTo(pw.get(k).bytes());
      }
      assertThat(binBytes(keptJs)).isLessThan(binBytes(plainJs));
      jobs.add(TfjsOracle.Job.graph(keptJs.resolve("model.json"), jsIns, fetches));
      jobs.add(TfjsOracle.Job.graph(plainJs.resolve("model.json"), jsIns, fetches));
      outputsPerFile.add(fetches.size());
      report.add(
          String.format(
              "%-14s %d float16 weights in the file, %d DT_HALF variables, %d TF.js float16"
                  + " weights; TensorFlow SavedModel outputs bit-equal to the dequantized"
                  + " conversion's, frozen max abs / output scale %.2g, runtime bit-equal (max abs %.2g from"
                  + " TensorFlow); notes: %s",
              label, stored.size(), inCheckpoint.size(), halves, frozen, rtVsTf, r.notices()));
    }
    List<TfjsOracle.Result> js = TfjsOracle.run(jobs);
    int k = 0;
    for (String label : files.keySet()) {
      TfjsOracle.Result kept = js.get(2 * k);
      TfjsOracle.Result plain = js.get(2 * k + 1);
      assertThat(kept.ok()).as(label + ": " + kept.error()).isTrue();
      assertThat(plain.ok()).as(label + ": " + plain.error()).isTrue();
      for (int i = 0; i < outputsPerFile.get(k); i++) {
        assertThat(kept.output(i).data())
            .as(label + " TF.js output " + i)
            .containsExactly(plain.output(i).data());
      }
      report.set(k, report.get(k) + "; TF.js outputs bit-equal");
      k++;
    }
    report.forEach(System.out::println);
  }

  /** tfport's own {@code --quantize_float16} conversion of a small CNN. */
  private Path ownFloat16() throws Exception {
    BuiltModelsTest built = new BuiltModelsTest();
    built.tmp = tmp;
    Path out = tmp.resolve("cnn.f16.tflite");
    TfliteConverter.convertFrozen(
        built.cnn(),
        out,
        new GraphOptions(null, null, true, false, false, List.of("probs")),
        List.of("x"),
        Map.of(),
        TfliteOptions.defaults().withQuantization(TfliteQuantizationMode.FLOAT16));
    return out;
  }

  private static Map<String, Tensor> runtime(Path sm, String key, Map<String, Tensor> in) {
    try (Model m = Model.load(sm);
        Session s = m.newSession()) {
      return s.run(key, in);
    }
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

  /** The bytes of each float16 constant of the main subgraph, sorted. */
  private static List<byte[]> halfBuffers(TfliteModel m) {
    List<byte[]> out = new ArrayList<>();
    for (TfliteTensor t : m.mainSubgraph().tensors()) {
      ByteBuffer d = m.buffer(t).data();
      if (t.type() == TfliteType.FLOAT16 && d.remaining() > 0) {
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
