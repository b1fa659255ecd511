package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.SessionFunction;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.ops.StandardKernels;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;

/**
 * {@link Model#load} on models built here with real TensorFlow (TF Java 1.1, TensorFlow 2.18) and
 * on a TF.js graph model written here, run on seeded inputs and compared with TensorFlow (TF.js
 * 4.22 for the graph model) within |a−b| ≤ 1e-5 + 1e-4·|b|; and the one-line refusals of paths that
 * are no model tfport runs.
 */
@OracleTest
class ModelLoaderTest {
  static final double ATOL = 1e-5;
  static final double RTOL = 1e-4;

  @TempDir Path tmp;

  private static Operand<TFloat32> weight(Ops tf, Random rnd, String name, long... shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextFloat() * 2 - 1;
    }
    return tf.withName(name)
        .variable(tf.withInitScope().constant(Shape.of(shape), DataBuffers.of(v)));
  }

  /**
   * A TF1-style SavedModel with two signatures over one graph: {@code serving_default} (a small
   * CNN: conv, bias, max pool, dense; and a transpose of its input) and {@code embed} (a gather
   * from an embedding table joined to a second input, then a dense layer; its input {@code unused}
   * feeds nothing).
   */
  static Path twoSignatures(Path dir) throws Exception {
    Random rnd = new Random(11);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var image =
          tf.withName("image")
              .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 6, 6, 3)));
      var conv =
          tf.nn.biasAdd(
              tf.nn.conv2d(
                  image,
                  weight(tf, rnd, "conv_kernel", 3, 3, 3, 4),
                  List.of(1L, 1L, 1L, 1L),
                  "SAME"),
              weight(tf, rnd, "conv_bias", 4));
      var pool =
          tf.nn.maxPool(
              conv,
              tf.constant(new int[] {1, 2, 2, 1}),
              tf.constant(new int[] {1, 2, 2, 1}),
              "VALID");
      var flat = tf.reshape(pool, tf.constant(new int[] {-1, 36}));
      var logits =
          tf.nn.biasAdd(
              tf.linalg.matMul(flat, weight(tf, rnd, "dense_kernel", 36, 5)),
              weight(tf, rnd, "dense_bias", 5));
      var transposed = tf.linalg.transpose(image, tf.constant(new int[] {0, 3, 1, 2}));

      var ids = tf.withName("ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      var v = tf.withName("v").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      var unused =
          tf.withName("unused").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2)));
      var rows = tf.gather(weight(tf, rnd, "table", 10, 4), ids, tf.constant(0));
      var joined = tf.concat(List.of(rows, v), tf.constant(1));
      var y = tf.linalg.matMul(joined, weight(tf, rnd, "embed_kernel", 8, 3));

      var serving =
          org.tensorflow.Signature.builder()
              .key(Signature.DEFAULT_KEY)
              .methodName("tensorflow/serving/predict")
              .input("image", image)
              .output("logits", logits)
              .output("transposed", transposed)
              .build();
      var embed =
          org.tensorflow.Signature.builder()
              .key("embed")
              .methodName("tensorflow/serving/predict")
              .input("ids", ids)
              .input("v", v)
              .input("unused", unused)
              .output("y", y)
              .build();
      try (org.tensorflow.Session s = new org.tensorflow.Session(g)) {
        s.initialize();
        SavedModelBundle.exporter(dir.toString())
            .withSession(s)
            .withFunctions(SessionFunction.create(serving, s), SessionFunction.create(embed, s))
            .export();
      }
    }
    return dir;
  }

  /** Runs our signature and TensorFlow's on the same inputs and compares every output. */
  static void matchesTensorFlow(Path dir, Session session, String key, Map<String, Tensor> inputs)
      throws Exception {
    Map<String, Tensor> ours = session.run(key, inputs);
    Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
    inputs.forEach((k, t) -> feeds.put(k, CorpusRuntimeTest.feed(k, t)));
    Map<String, float[]> tf = TensorFlowOracle.runSavedModel(dir, "serve", key, feeds);
    assertThat(ours.keySet()).containsExactlyInAnyOrderElementsOf(tf.keySet());
    for (String k : tf.keySet()) {
      Comparison.of(tf.get(k), ours.get(k).toFloatArray(), ATOL, RTOL)
          .assertOk(key + " output " + k);
    }
  }

  @Test
  void everySavedModelSignatureLoadsAndMatchesTensorFlow() throws Exception {
    Path dir = twoSignatures(tmp.resolve("two"));
    try (Model m = Model.load(dir);
        Session session = m.newSession()) {
      assertThat(m.signatures().stream().map(Signature::key))
          .containsExactly("embed", Signature.DEFAULT_KEY);
      // The default signature is compiled at load; the other waits for its first use.
      assertThat(m.isLoaded(Signature.DEFAULT_KEY)).isTrue();
      assertThat(m.isLoaded("embed")).isFalse();
      Signature serving = m.defaultSignature();
      assertThat(serving.inputs())
          .containsExactly(
              new TensorSpec("image", "image", DType.FLOAT32, new long[] {-1, 6, 6, 3}));
      assertThat(serving.outputNames()).containsExactly("logits", "transposed");
      Random rnd = new Random(1);
      matchesTensorFlow(
          dir,
          session,
          Signature.DEFAULT_KEY,
          Map.of("image", RandomInputs.random(DType.FLOAT32, new long[] {2, 6, 6, 3}, rnd)));

      Map<String, Tensor> embedIn = RandomInputs.of(m.signature("embed"), 5);
      assertThat(m.isLoaded("embed")).isTrue();
      // The input nothing reads stays in the signature, typed as declared, and can be fed.
      assertThat(m.signature("embed").inputs())
          .contains(new TensorSpec("unused", "unused", DType.FLOAT32, new long[] {2}));
      embedIn = new LinkedHashMap<>(embedIn);
      embedIn.put("v", RandomInputs.random(DType.FLOAT32, new long[] {3, 4}, rnd));
      embedIn.put("ids", Tensor.ofInts(org.tfport.core.Shape.of(3), 9, 0, 4));
      matchesTensorFlow(dir, session, "embed", embedIn);
    }
    // Asking for one signature loads that one only.
    try (Model m = Model.load(dir, LoadOptions.defaults().withSignatureName("embed"));
        Session session = m.newSession()) {
      assertThat(m.signatures().stream().map(Signature::key)).containsExactly("embed");
      matchesTensorFlow(dir, session, "embed", RandomInputs.of(m.defaultSignature(), 3));
    }
    assertThatThrownBy(() -> Model.load(dir, LoadOptions.defaults().withSignatureName("predict")))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("no signature 'predict'")
        .hasMessageContaining("embed, serving_default");
    assertThatThrownBy(
            () -> Model.load(dir, LoadOptions.defaults().withTags(java.util.Set.of("train"))))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("train")
        .hasMessageContaining("serve");
    assertThatThrownBy(
            () -> Model.load(dir, LoadOptions.defaults().withOutputNodeNames(List.of("y"))))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("signature");
  }

  @Test
  void aSignatureThatCannotRunIsRefusedWhenFirstUsedAndTheOthersStillRun() throws Exception {
    Path dir = twoSignatures(tmp.resolve("two"));
    // Every standard kernel but GatherV2, which only 'embed' needs.
    KernelRegistry std = StandardKernels.registry();
    KernelRegistry noGather =
        KernelRegistry.of(
            List.of(
                r ->
                    std.ops().stream()
                        .filter(op -> !op.equals("GatherV2"))
                        .forEach(
                            op ->
                                r.reference(op, std.factory(op, KernelRegistry.Mode.REFERENCE)))));
    try (Model m = ModelLoader.load(dir, LoadOptions.defaults(), noGather);
        Session session = m.newSession(new SessionOptions(1, KernelRegistry.Mode.REFERENCE))) {
      Map<String, Tensor> in = RandomInputs.of(m.defaultSignature(), 2);
      assertThat(session.run(in)).containsOnlyKeys("logits", "transposed");
      for (int i = 0; i < 2; i++) {
        assertThatThrownBy(() -> session.run("embed", Map.of()))
            .isInstanceOf(UnsupportedModelException.class)
            .hasMessageContaining("no kernel for op 'GatherV2'")
            .hasMessageNotContaining("\n");
      }
    }
  }

  /** A TF1 conditional (Switch/Merge): transpose when p, else reverse the rows. */
  static Path tf1Conditional(Path dir) throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(3, 3)));
      var p = tf.withName("p").placeholder(TBool.class, Placeholder.shape(Shape.scalar()));
      var sw = tf.switchCond(x, p);
      Operand<TFloat32> t = tf.linalg.transpose(sw.outputTrue(), tf.constant(new int[] {1, 0}));
      Operand<TFloat32> f = tf.reverse(sw.outputFalse(), tf.constant(new int[] {0}));
      var y = tf.withName("y").identity(tf.merge(List.of(f, t)).output());
      var sig =
          org.tensorflow.Signature.builder()
              .key(Signature.DEFAULT_KEY)
              .methodName("tensorflow/serving/predict")
              .input("x", x)
              .input("p", p)
              .output("y", y)
              .build();
      try (org.tensorflow.Session s = new org.tensorflow.Session(g)) {
        SavedModelBundle.exporter(dir.toString())
            .withSession(s)
            .withFunction(SessionFunction.create(sig, s))
            .export();
      }
    }
    return dir;
  }

  @Test
  void tf1ControlFlowRunsAfterFunctionalizing() throws Exception {
    Path dir = tf1Conditional(tmp.resolve("cond"));
    try (Model m = Model.load(dir);
        Session session = m.newSession()) {
      Tensor x = RandomInputs.random(DType.FLOAT32, new long[] {3, 3}, new Random(4));
      for (boolean p : new boolean[] {true, false}) {
        Tensor pred =
            new Tensor(
                DType.BOOL,
                org.tfport.core.Shape.SCALAR,
                ByteBuffer.wrap(new byte[] {(byte) (p ? 1 : 0)}));
        matchesTensorFlow(dir, session, Signature.DEFAULT_KEY, Map.of("x", x, "p", pred));
      }
    }
  }

  /**
   * A frozen GraphDef: x [-1, 4] feeds a MatMul and a Transpose; a PlaceholderWithDefault (a
   * reshape's shape) feeds a Reshape; a NoOp and an unread constant are no outputs.
   */
  static Path frozenGraph(Path file) throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Random rnd = new Random(2);
      float[] w = new float[12];
      for (int i = 0; i < w.length; i++) {
        w[i] = rnd.nextFloat() * 2 - 1;
      }
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      tf.withSubScope("dense")
          .withName("MatMul")
          .linalg
          .matMul(x, tf.constant(Shape.of(4, 3), DataBuffers.of(w)));
      tf.withName("t").linalg.transpose(x, tf.constant(new int[] {1, 0}));
      var shape =
          tf.withName("shape")
              .placeholderWithDefault(tf.constant(new int[] {-1, 2, 2}), Shape.of(3));
      tf.withName("r").reshape(x, shape);
      tf.withName("init").noOp();
      tf.withName("unused_const").constant(3f);
      Files.write(file, g.toGraphDef().toByteArray());
    }
    return file;
  }

  @Test
  void frozenGraphOutputsAreItsSinksUnlessNamed() throws Exception {
    Path pb = frozenGraph(tmp.resolve("frozen.pb"));
    Tensor x = RandomInputs.random(DType.FLOAT32, new long[] {3, 4}, new Random(6));
    Map<String, TensorFlowOracle.Feed> feeds = Map.of("x", CorpusRuntimeTest.feed("x", x));
    try (Model m = Model.load(pb);
        Session session = m.newSession()) {
      Signature sig = m.defaultSignature();
      assertThat(sig.key()).isEqualTo(Signature.DEFAULT_KEY);
      // The PlaceholderWithDefault is no input: it computes its default unless fed.
      assertThat(sig.inputs())
          .containsExactly(new TensorSpec("x", "x", DType.FLOAT32, new long[] {-1, 4}));
      assertThat(sig.outputNames()).containsExactly("dense/MatMul", "t", "r");
      Map<String, Tensor> ours = session.run(Map.of("x", x));
      List<float[]> tf =
          TensorFlowOracle.runGraphDef(pb, feeds, List.of("dense/MatMul:0", "t:0", "r:0"));
      for (int k = 0; k < 3; k++) {
        String name = sig.outputNames().get(k);
        Comparison.of(tf.get(k), ours.get(name).toFloatArray(), ATOL, RTOL).assertOk(name);
      }
      assertThat(ours.get("r").shape().dims()).containsExactly(3, 2, 2);
    }
    try (Model m =
            Model.load(
                pb, LoadOptions.defaults().withOutputNodeNames(List.of("t", " dense/MatMul:0")));
        Session session = m.newSession()) {
      assertThat(m.defaultSignature().outputNames()).containsExactly("t", "dense/MatMul:0");
      Map<String, Tensor> ours = session.run(Map.of("x", x));
      List<float[]> tf = TensorFlowOracle.runGraphDef(pb, feeds, List.of("t:0", "dense/MatMul:0"));
      Comparison.of(tf.get(0), ours.get("t").toFloatArray(), ATOL, RTOL).assertOk("t");
      Comparison.of(tf.get(1), ours.get("dense/MatMul:0").toFloatArray(), ATOL, RTOL)
          .assertOk("MatMul");
    }
    assertThatThrownBy(
            () -> Model.load(pb, LoadOptions.defaults().withOutputNodeNames(List.of("nope"))))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("'nope'");
  }

  static final int[] KEYS = {3, 7, 11, 42, -5};
  static final float[] VALUES = {0.5f, -1.25f, 2f, 10f, 3.5f};

  /**
   * A TF.js graph model whose hash table is filled by its {@code modelInitializer} (as the
   * converter writes one): {@code y = table.find(ids, -1)}, and {@code g = gather(values,
   * ids_clamped)} as a second output to fetch.
   */
  static Path tfjsHashTable(Path dir) throws Exception {
    Files.createDirectories(dir);
    String table =
        """
        {"name": "vocab", "op": "HashTableV2", "attr": {"key_dtype": {"type": "DT_INT32"},
          "value_dtype": {"type": "DT_FLOAT"}, "shared_name": {"s": "dm9jYWI="},
          "use_node_name_sharing": {"b": false}, "container": {"s": ""}}}""";
    String json =
        """
        {"format": "graph-model", "generatedBy": "2.18.0", "convertedBy": "tfport test",
         "modelTopology": {"node": [
           {"name": "ids", "op": "Placeholder", "attr": {"dtype": {"type": "DT_INT32"},
             "shape": {"shape": {"dim": [{"size": "-1"}]}}}},
           %s,
           {"name": "default", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"},
             "value": {"tensor": {"dtype": "DT_FLOAT", "tensorShape": {}}}}},
           {"name": "y", "op": "LookupTableFindV2", "input": ["vocab", "ids", "default"],
             "attr": {"Tin": {"type": "DT_INT32"}, "Tout": {"type": "DT_FLOAT"}}}],
           "versions": {"producer": 1987}},
         "modelInitializer": {"node": [
           %s,
           {"name": "keys", "op": "Const", "attr": {"dtype": {"type": "DT_INT32"},
             "value": {"tensor": {"dtype": "DT_INT32", "tensorShape": {"dim": [{"size": "5"}]}}}}},
           {"name": "values", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"},
             "value": {"tensor": {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "5"}]}}}}},
           {"name": "vocab_init", "op": "LookupTableImportV2", "input": ["vocab", "keys", "values"],
             "attr": {"Tin": {"type": "DT_INT32"}, "Tout": {"type": "DT_FLOAT"}}}],
           "versions": {"producer": 1987}},
         "signature": {"inputs": {"ids:0": {"name": "ids:0", "dtype": "DT_INT32",
             "tensorShape": {"dim": [{"size": "-1"}]}}},
           "outputs": {"y:0": {"name": "y:0", "dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "-1"}]}}}},
         "weightsManifest": [{"paths": ["weights.bin"], "weights": [
           {"name": "default", "shape": [], "dtype": "float32"},
           {"name": "keys", "shape": [5], "dtype": "int32"},
           {"name": "values", "shape": [5], "dtype": "float32"}]}]}
        """
            .formatted(table, table);
    Files.writeString(dir.resolve("model.json"), json);
    ByteBuffer b = ByteBuffer.allocate(44).order(ByteOrder.LITTLE_ENDIAN);
    b.putFloat(-1f);
    for (int k : KEYS) {
      b.putInt(k);
    }
    for (float v : VALUES) {
      b.putFloat(v);
    }
    Files.write(dir.resolve("weights.bin"), b.array());
    return dir.resolve("model.json");
  }

  @Test
  void tfjsGraphModelInitializerFillsTablesAsTfjsDoes() throws Exception {
    Path mj = tfjsHashTable(tmp.resolve("table"));
    int[] ids = {7, 1, 42, -5, 3, 3};
    try (Model m = Model.load(mj.getParent());
        Session session = m.newSession()) {
      Signature sig = m.defaultSignature();
      assertThat(sig.inputs())
          .containsExactly(new TensorSpec("ids:0", "ids", DType.INT32, new long[] {-1}));
      assertThat(sig.outputNames()).containsExactly("y:0");
      float[] ours =
          session
              .run(Map.of("ids:0", Tensor.ofInts(org.tfport.core.Shape.of(ids.length), ids)))
              .get("y:0")
              .toFloatArray();
      // Keys missing from the table get the default.
      assertThat(ours).containsExactly(-1.25f, -1f, 10f, 3.5f, 0.5f, 0.5f);
      TfjsOracle.Result js =
          TfjsOracle.run(
                  TfjsOracle.Job.graph(
                      mj,
                      List.of(TfjsOracle.Input.i32("ids", new long[] {ids.length}, ids)),
                      List.of("y:0")))
              .orThrow();
      assertThat(ours).containsExactly(js.output(0).data());
    }
    // Output node names pick what to compute, as TF.js's execute(inputs, outputs) does.
    try (Model m = Model.load(mj, LoadOptions.defaults().withOutputNodeNames(List.of("ids")));
        Session session = m.newSession()) {
      assertThat(m.defaultSignature().outputNames()).containsExactly("ids");
    }
  }

  @Test
  void pathsThatAreNoModelTfportRunsAreRefusedInOneLine() throws Exception {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    Path h5 = Files.write(tmp.resolve("model.h5"), new byte[] {(byte) 0x89, 'H', 'D', 'F'});
    Path layers = Files.writeString(tmp.resolve("layers.json"), "{\"format\": \"layers-model\"}");
    Path broken = Files.writeString(tmp.resolve("broken.json"), "{\"format\": ");
    Path tflite =
        Files.write(tmp.resolve("m.tflite"), new byte[] {0, 0, 0, 0, 'T', 'F', 'L', '3', 0, 0});
    Path junk = Files.writeString(tmp.resolve("notes.txt"), "hello");
    Path notPb = Files.writeString(tmp.resolve("graph.pb"), "not a protobuf at all \u0000\u00ff");
    Map<Path, String> cases = new LinkedHashMap<>();
    cases.put(tmp.resolve("missing"), "no such file or folder");
    cases.put(empty, "saved_model.pb");
    cases.put(h5, "Keras");
    cases.put(layers, "layers");
    cases.put(broken, "JSON");
    cases.put(junk, "cannot tell the format");
    cases.put(notPb, "graph.pb");
    cases.put(tflite, "m.tflite");
    for (Map.Entry<Path, String> c : cases.entrySet()) {
      assertThatThrownBy(() -> Model.load(c.getKey()))
          .as(c.getKey().toString())
          .isInstanceOf(TfportException.class)
          .hasMessageContaining(c.getValue())
          .hasMessageNotContaining("\n");
    }
    assertThat(ModelLoader.detect(tflite)).isEqualTo(ModelLoader.Format.TFLITE);
    assertThat(
            ModelLoader.detect(
                Files.write(tmp.resolve("model.bin"), new byte[] {1, 2, 3, 4, 'T', 'F', 'L', '3'})))
        .isEqualTo(ModelLoader.Format.TFLITE);
  }

  @Test
  void randomInputsFollowTheSignature() {
    Signature sig =
        new Signature(
            "s",
            List.of(
                new TensorSpec("f", "f", DType.FLOAT32, new long[] {-1, 3}),
                new TensorSpec("i", "i", DType.INT64, null),
                new TensorSpec("u", "u", DType.UINT8, new long[] {4}),
                new TensorSpec("b", "b", DType.BOOL, new long[0])),
            List.of(TensorSpec.of("o", null)));
    Map<String, Tensor> a = RandomInputs.of(sig, 7);
    Map<String, Tensor> b = RandomInputs.of(sig, 7);
    assertThat(a.get("f").shape().dims()).containsExactly(1, 3);
    assertThat(a.get("i").shape().dims()).containsExactly(1);
    assertThat(a.get("i").dtype()).isEqualTo(DType.INT64);
    for (float f : a.get("f").toFloatArray()) {
      assertThat(f).isBetween(-1f, 1f);
    }
    assertThat(a.get("i").toFloatArray()[0]).isBetween(0f, 9f);
    assertThat(a.get("b").toFloatArray()[0]).isIn(0f, 1f);
    for (String k : a.keySet()) {
      assertThat(a.get(k).bytes()).as(k).isEqualTo(b.get(k).bytes());
    }
    assertThat(RandomInputs.of(sig, 8).get("f").bytes()).isNotEqualTo(a.get("f").bytes());
  }
}
