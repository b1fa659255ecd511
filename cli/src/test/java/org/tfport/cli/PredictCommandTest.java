package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Tensor;
import org.tfport.core.graph.DataTypes;
import org.tfport.formats.npy.Npy;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;
import tools.jackson.databind.JsonNode;

/**
 * {@code tfport predict}: outputs of a SavedModel built here with TF Java match TensorFlow 2.18 on
 * the same inputs (from .npy files, by name and by position, or seeded random ones); files written
 * under sanitized names; the text and JSON summaries; and one-line errors with exit 1 for inputs
 * that do not fit, 2 for usage mistakes.
 */
@OracleTest
class PredictCommandTest {
  static final double ATOL = 1e-5;
  static final double RTOL = 1e-4;

  @TempDir Path tmp;

  /**
   * Inputs {@code x} float32 [-1, 4] and {@code ids} int64 [-1]; outputs {@code dense:out} (a
   * MatMul, with a character a file name cannot hold) and {@code flipped} (x transposed), and
   * {@code ids} passed through.
   */
  static Path savedModel(Path dir) throws Exception {
    Random rnd = new Random(3);
    float[] w = new float[12];
    for (int i = 0; i < w.length; i++) {
      w[i] = rnd.nextFloat() * 2 - 1;
    }
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      var ids = tf.withName("ids").placeholder(TInt64.class, Placeholder.shape(Shape.of(-1)));
      var kernel =
          tf.withName("kernel")
              .variable(tf.withInitScope().constant(Shape.of(4, 3), DataBuffers.of(w)));
      var sig =
          Signature.builder()
              .key(Signature.DEFAULT_KEY)
              .methodName("tensorflow/serving/predict")
              .input("x", x)
              .input("ids", ids)
              .output("dense:out", tf.linalg.matMul(x, kernel))
              .output("flipped", tf.linalg.transpose(x, tf.constant(new int[] {1, 0})))
              .output("ids_out", tf.identity(ids))
              .build();
      try (Session s = new Session(g)) {
        s.initialize();
        SavedModelBundle.exporter(dir.toString())
            .withSession(s)
            .withFunction(SessionFunction.create(sig, s))
            .export();
      }
    }
    return dir;
  }

  static Tensor floats(long[] shape, Random rnd) {
    int n = (int) org.tfport.core.Shape.of(shape).size();
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextFloat() * 2 - 1;
    }
    return Tensor.ofFloats(org.tfport.core.Shape.of(shape), v);
  }

  static Tensor longs(long... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      b.putLong(x);
    }
    return new Tensor(DType.INT64, org.tfport.core.Shape.of(v.length), b.flip());
  }

  static TensorFlowOracle.Feed feed(String name, Tensor t) {
    float[] f = t.toFloatArray();
    TfjsOracle.Input in;
    if (t.dtype().isFloating()) {
      in = TfjsOracle.Input.f32(name, t.shape().dims(), f);
    } else {
      int[] ints = new int[f.length];
      for (int i = 0; i < f.length; i++) {
        ints[i] = (int) f[i];
      }
      in = TfjsOracle.Input.i32(name, t.shape().dims(), ints);
    }
    return new TensorFlowOracle.Feed(in, DataTypes.fromDType(t.dtype()));
  }

  /** Our written outputs against TensorFlow's for the same inputs. */
  static void matchesTensorFlow(Path model, Path outDir, Map<String, Tensor> inputs)
      throws Exception {
    Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
    inputs.forEach((k, t) -> feeds.put(k, feed(k, t)));
    Map<String, float[]> tf =
        TensorFlowOracle.runSavedModel(model, "serve", Signature.DEFAULT_KEY, feeds);
    assertThat(tf.keySet()).containsExactlyInAnyOrder("dense:out", "flipped", "ids_out");
    // ids_out passes int64 ids through; the oracle feeds ids as int32, so they are checked exactly
    // below.
    tf.remove("ids_out");
    for (Map.Entry<String, float[]> e : tf.entrySet()) {
      Tensor ours = Npy.readTensor(outDir.resolve(PredictCommand.fileName(e.getKey()) + ".npy"));
      Comparison.of(e.getValue(), ours.toFloatArray(), ATOL, RTOL).assertOk(e.getKey());
    }
    Tensor ids = Npy.readTensor(outDir.resolve("ids_out.npy"));
    assertThat(ids.dtype()).isEqualTo(DType.INT64);
    assertThat(ids.bytes()).isEqualTo(inputs.get("ids").bytes());
  }

  @Test
  void inputsFromFilesByNameAndByPositionMatchTensorFlow() throws Exception {
    Path model = savedModel(tmp.resolve("sm"));
    Random rnd = new Random(9);
    Tensor x = floats(new long[] {3, 4}, rnd);
    Tensor ids = longs(5, -7, 1L << 40);
    Path xFile = tmp.resolve("x values.npy");
    Path idsFile = tmp.resolve("ids.npy");
    Npy.write(xFile, x);
    Npy.write(idsFile, ids);
    Map<String, Tensor> in = Map.of("x", x, "ids", ids);

    Path out1 = tmp.resolve("out1");
    CliRunner r =
        CliRunner.run(
            "predict",
            model.toString(),
            "--input",
            "ids=" + idsFile,
            "--input",
            "x=" + xFile,
            "--output_dir",
            out1.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    matchesTensorFlow(model, out1, in);
    // One line per output: name, dtype and shape, first values, the file.
    assertThat(r.out().lines().toList()).hasSize(3);
    assertThat(r.out())
        .contains(
            "flipped: float32[4, 3] [" + x.toFloatArray()[0] + ", " + x.toFloatArray()[4] + ", ")
        .contains("ids_out: int64[3] [5, -7, 1099511627776] -> ")
        .contains("dense_out.npy");
    assertThat(out1.resolve("dense_out.npy")).exists();

    // Files without names fill the inputs in signature order (ids, x: keys sorted).
    Path out2 = tmp.resolve("out2");
    r =
        CliRunner.run(
            "predict",
            model.toString(),
            "--input",
            idsFile.toString(),
            xFile.toString(),
            "--output_dir",
            out2.toString());
    assertThat(r.code()).as(r.err()).isZero();
    matchesTensorFlow(model, out2, in);
  }

  @Test
  void randomInputsAndTheJsonSummary() throws Exception {
    Path model = savedModel(tmp.resolve("sm"));
    Path out = tmp.resolve("out");
    CliRunner r =
        CliRunner.run(
            "predict", model.toString(), "--json", "--output_dir", out.toString(), "--seed", "4");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(r.out());
    assertThat(j.path("signature").asString()).isEqualTo("serving_default");
    assertThat(j.path("inputs").path("x").path("from").asString()).isEqualTo("random (seed 4)");
    // Unknown dimensions are 1.
    assertThat(j.path("inputs").path("x").path("shape").toString()).isEqualTo("[1,4]");
    JsonNode dense = j.path("outputs").path("dense:out");
    assertThat(dense.path("dtype").asString()).isEqualTo("float32");
    assertThat(dense.path("shape").toString()).isEqualTo("[1,3]");
    assertThat(dense.path("file").asString()).endsWith("dense_out.npy");
    Tensor written = Npy.readTensor(out.resolve("dense_out.npy"));
    float[] w = written.toFloatArray();
    for (int i = 0; i < 3; i++) {
      assertThat(dense.path("first").get(i).floatValue()).isEqualTo(w[i]);
    }
    // The same seed gives the same inputs, so TensorFlow on them gives what was written.
    Map<String, Tensor> in = new LinkedHashMap<>();
    in.put("ids", longs(j.path("outputs").path("ids_out").path("first").get(0).asLong()));
    float[] x = new float[4];
    float[] flipped = Npy.readTensor(out.resolve("flipped.npy")).toFloatArray();
    System.arraycopy(flipped, 0, x, 0, 4);
    in.put("x", Tensor.ofFloats(org.tfport.core.Shape.of(1, 4), x));
    matchesTensorFlow(model, out, in);
    // Running again replaces the files whole.
    assertThat(
            CliRunner.run(
                    "predict", model.toString(), "--output_dir", out.toString(), "--seed", "5")
                .code())
        .isZero();
    assertThat(Npy.readTensor(out.resolve("dense_out.npy")).toFloatArray()).isNotEqualTo(w);
    try (var s = Files.list(tmp)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".out"));
    }
  }

  @Test
  void inputsThatDoNotFitAreOneLineWithExit1() throws Exception {
    Path model = savedModel(tmp.resolve("sm"));
    Path ids = tmp.resolve("ids.npy");
    Npy.write(ids, longs(1, 2));
    Path wrongType = tmp.resolve("x64.npy");
    Npy.write(
        wrongType,
        new Tensor(DType.FLOAT64, org.tfport.core.Shape.of(2, 4), ByteBuffer.allocate(64)));
    Path wrongShape = tmp.resolve("x3.npy");
    Npy.write(wrongShape, floats(new long[] {2, 3}, new Random(1)));
    Path notNpy = Files.writeString(tmp.resolve("x.npy"), "not numpy");
    Path out = tmp.resolve("never");

    record Case(String[] args, int code, List<String> says) {}
    List<Case> cases =
        List.of(
            new Case(
                new String[] {"--input", "ids=" + ids, "--input", "x=" + wrongType},
                1,
                List.of("'x'", "float32[-1, 4]", "x64.npy", "float64[2, 4]")),
            new Case(
                new String[] {"--input", "ids=" + ids, "--input", "x=" + wrongShape},
                1,
                List.of("'x'", "float32[-1, 4]", "float32[2, 3]")),
            new Case(
                new String[] {"--input", "ids=" + ids},
                1,
                List.of("'x'", "float32[-1, 4]", "x=FILE.npy")),
            new Case(
                new String[] {"--input", "ids=" + ids, "--input", "y=" + wrongShape},
                1,
                List.of("no input 'y'", "ids (int64[-1])", "x (float32[-1, 4])")),
            new Case(
                new String[] {"--input", ids.toString(), wrongShape.toString(), ids.toString()},
                1,
                List.of("3 input files", "left over")),
            new Case(
                new String[] {"--input", "ids=" + ids, "--input", "x=" + notNpy},
                2,
                List.of("x.npy", "magic")),
            new Case(
                new String[] {"--signature_name", "nope"},
                2,
                List.of("no signature 'nope'", "serving_default")),
            new Case(new String[] {"--output_node_names", "a"}, 2, List.of("signature")),
            new Case(new String[] {"--bogus"}, 2, List.of("--bogus")));
    for (Case c : cases) {
      String[] args = new String[c.args().length + 4];
      args[0] = "predict";
      args[1] = model.toString();
      System.arraycopy(c.args(), 0, args, 2, c.args().length);
      args[args.length - 2] = "--output_dir";
      args[args.length - 1] = out.toString();
      CliRunner r = CliRunner.run(args);
      String what = String.join(" ", c.args());
      assertThat(r.code()).as(what + ": " + r.err()).isEqualTo(c.code());
      assertThat(r.errLines()).as(what).hasSize(1);
      assertThat(r.err()).as(what).contains(c.says()).doesNotContain("Exception");
      assertThat(r.out()).as(what).isEmpty();
      assertThat(out).as(what + " wrote nothing").doesNotExist();
    }
  }

  @Test
  void modelsTfportCannotRunOrFindAreOneLine() throws Exception {
    CliRunner r = CliRunner.run("predict", tmp.resolve("missing").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.err()).contains("no such file or folder");

    r = CliRunner.run("predict");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("give the model");

    // A frozen graph whose op has no kernel (a string op neither TF.js nor TFLite has): refused at
    // load naming
    // op and node (exit 1).
    Path pb = tmp.resolve("g.pb");
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x =
          tf.withName("x")
              .placeholder(org.tensorflow.types.TString.class, Placeholder.shape(Shape.of(2)));
      tf.withName("encoded").io.encodeBase64(x);
      Files.write(pb, g.toGraphDef().toByteArray());
    }
    r = CliRunner.run("predict", pb.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.err()).contains("no kernel for op 'EncodeBase64' (node encoded)");

    r = CliRunner.run("predict", "--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("--output_dir").contains("--input");
  }

  @Test
  void fileNamesKeepOnlyPortableCharacters() {
    assertThat(PredictCommand.fileName("dense/BiasAdd:0")).isEqualTo("dense_BiasAdd_0");
    assertThat(PredictCommand.fileName("a b\u00e9.c-d_e")).isEqualTo("a_b_.c-d_e");
    assertThat(PredictCommand.fileName("..")).isEqualTo("_..");
  }
}
