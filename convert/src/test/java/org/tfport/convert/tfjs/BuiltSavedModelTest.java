package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.DType;
import org.tfport.core.ProgressListener;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;

/**
 * SavedModels built at test time with TF Java (TF1-style graphs: {@code VariableV2}, {@code
 * MaxPoolV2}), converted, run in TF.js 4.22 and compared with TensorFlow on the same random inputs.
 * Most exercise one fusion each, and must come out with the fused op TF.js runs.
 */
@OracleTest
class BuiltSavedModelTest {
  @TempDir Path tmp;

  /**
   * What a test model declares: its inputs' shapes (batch 2), how to build it, and the fused ops
   * its model.json must hold, as {@code op[fused_ops]}.
   */
  record Model(
      String name,
      Map<String, long[]> inputs,
      Function<Builder, Map<String, Operand<TFloat32>>> body,
      List<String> fused) {
    Model(
        String name,
        Map<String, long[]> inputs,
        Function<Builder, Map<String, Operand<TFloat32>>> body) {
      this(name, inputs, body, List.of());
    }
  }

  /** Graph-building helpers with seeded weights. */
  static final class Builder {
    final Ops tf;
    final Ops init;
    final Random rnd = new Random(7);
    final Map<String, Placeholder<TFloat32>> inputs = new LinkedHashMap<>();

    Builder(Ops tf) {
      this.tf = tf;
      this.init = tf.withInitScope();
    }

    Operand<TFloat32> weight(String name, float scale, long... shape) {
      int n = 1;
      for (long d : shape) {
        n *= (int) d;
      }
      float[] v = new float[n];
      for (int i = 0; i < n; i++) {
        v[i] = (rnd.nextFloat() * 2 - 1) * scale;
      }
      return tf.withName(name).variable(init.constant(Shape.of(shape), DataBuffers.of(v)));
    }

    Operand<TFloat32> positive(String name, long n) {
      float[] v = new float[(int) n];
      for (int i = 0; i < n; i++) {
        v[i] = 0.5f + rnd.nextFloat();
      }
      return tf.withName(name).variable(init.constant(Shape.of(n), DataBuffers.of(v)));
    }

    Operand<TInt32> ints(int... v) {
      return tf.constant(v);
    }

    Operand<TFloat32> conv(Operand<TFloat32> x, long in, long out) {
      return tf.nn.conv2d(
          x, weight("kernel", 0.5f, 3, 3, in, out), List.of(1L, 1L, 1L, 1L), "SAME");
    }

    Operand<TFloat32> dense(Operand<TFloat32> x, long in, long out) {
      return tf.nn.biasAdd(
          tf.linalg.matMul(x, weight("kernel", 0.5f, in, out)), weight("bias", 0.1f, out));
    }

    /** Keras' PReLU: {@code relu(x) - alpha * relu(-x)}, alpha a variable. */
    Operand<TFloat32> prelu(Operand<TFloat32> x, long... alphaShape) {
      Operand<TFloat32> negAlpha = tf.math.neg(weight("alpha", 0.3f, alphaShape));
      return tf.math.add(tf.nn.relu(x), tf.math.mul(negAlpha, tf.nn.relu(tf.math.neg(x))));
    }
  }

  static final List<Model> MODELS =
      List.of(
          new Model(
              "cnn",
              Map.of("image", new long[] {2, 8, 8, 3}),
              b -> {
                Ops tf = b.tf;
                var x = b.inputs.get("image");
                var conv =
                    tf.nn.biasAdd(
                        tf.nn.conv2d(
                            x,
                            b.weight("conv_kernel", 0.5f, 3, 3, 3, 4),
                            List.of(1L, 1L, 1L, 1L),
                            "SAME"),
                        b.weight("conv_bias", 0.1f, 4));
                var bn =
                    tf.nn
                        .fusedBatchNorm(
                            conv,
                            b.positive("bn_gamma", 4),
                            b.weight("bn_beta", 0.1f, 4),
                            b.weight("bn_mean", 0.1f, 4),
                            b.positive("bn_variance", 4),
                            FusedBatchNorm.epsilon(1e-3f),
                            FusedBatchNorm.isTraining(false))
                        .y();
                var pool =
                    tf.nn.maxPool(tf.nn.relu(bn), b.ints(1, 2, 2, 1), b.ints(1, 2, 2, 1), "VALID");
                var flat = tf.reshape(pool, b.ints(-1, 4 * 4 * 4));
                var logits =
                    tf.math.add(
                        tf.linalg.matMul(flat, b.weight("dense_kernel", 0.3f, 64, 5)),
                        b.weight("dense_bias", 0.1f, 5));
                return Map.of("probabilities", tf.nn.softmax(logits));
              }),
          new Model(
              "depthwise",
              Map.of("x", new long[] {2, 7, 7, 2}),
              b -> {
                Ops tf = b.tf;
                var dw =
                    tf.nn.depthwiseConv2dNative(
                        b.inputs.get("x"),
                        b.weight("dw_kernel", 0.5f, 3, 3, 2, 3),
                        List.of(1L, 2L, 2L, 1L),
                        "SAME");
                var act = tf.nn.relu6(tf.nn.biasAdd(dw, b.weight("dw_bias", 0.1f, 6)));
                return Map.of(
                    "y",
                    tf.nn.avgPool(act, List.of(1L, 2L, 2L, 1L), List.of(1L, 1L, 1L, 1L), "VALID"));
              }),
          new Model(
              "multi_io",
              Map.of("a", new long[] {2, 3}, "b", new long[] {2, 5}),
              b -> {
                Ops tf = b.tf;
                Operand<TFloat32> joined =
                    tf.concat(List.of(b.inputs.get("a"), b.inputs.get("b")), tf.constant(1));
                var hidden = tf.math.tanh(tf.linalg.matMul(joined, b.weight("w", 0.5f, 8, 4)));
                return Map.of(
                    "hidden",
                    hidden,
                    "total",
                    tf.sum(b.inputs.get("b"), b.ints(1)),
                    "scaled",
                    tf.math.mul(b.inputs.get("a"), b.weight("scale", 1f, 3)));
              }),
          new Model(
              "conv_bias_relu",
              Map.of("x", new long[] {2, 6, 6, 3}),
              b ->
                  Map.of(
                      "y",
                      b.tf.nn.relu(
                          b.tf.nn.biasAdd(
                              b.conv(b.inputs.get("x"), 3, 4), b.weight("bias", 0.1f, 4)))),
              List.of("_FusedConv2D[BiasAdd,Relu]")),
          new Model(
              "conv_bn_relu6",
              Map.of("x", new long[] {2, 6, 6, 3}),
              b -> {
                var bn =
                    b.tf
                        .nn
                        .fusedBatchNorm(
                            b.conv(b.inputs.get("x"), 3, 4),
                            b.positive("gamma", 4),
                            b.weight("beta", 0.1f, 4),
                            b.weight("mean", 0.1f, 4),
                            b.positive("variance", 4),
                            FusedBatchNorm.epsilon(1e-3f),
                            FusedBatchNorm.isTraining(false))
                        .y();
                return Map.of("y", b.tf.nn.relu6(bn));
              },
              List.of("_FusedConv2D[BiasAdd,Relu6]")),
          new Model(
              "conv_scale_offset_sigmoid",
              Map.of("x", new long[] {2, 6, 6, 3}),
              b -> {
                // tf.nn.batch_normalization's decomposed form once its constants are folded.
                var scaled = b.tf.math.mul(b.conv(b.inputs.get("x"), 3, 4), b.positive("scale", 4));
                return Map.of(
                    "y", b.tf.math.sigmoid(b.tf.math.add(scaled, b.weight("offset", 0.1f, 4))));
              },
              List.of("_FusedConv2D[BiasAdd,Sigmoid]")),
          new Model(
              "depthwise_bias_relu",
              Map.of("x", new long[] {2, 7, 7, 2}),
              b -> {
                var dw =
                    b.tf.nn.depthwiseConv2dNative(
                        b.inputs.get("x"),
                        b.weight("dw_kernel", 0.5f, 3, 3, 2, 2),
                        List.of(1L, 1L, 1L, 1L),
                        "VALID");
                return Map.of("y", b.tf.nn.relu(b.tf.nn.biasAdd(dw, b.weight("dw_bias", 0.1f, 4))));
              },
              List.of("FusedDepthwiseConv2dNative[BiasAdd,Relu]")),
          new Model(
              "depthwise_elu",
              Map.of("x", new long[] {2, 7, 7, 2}),
              b ->
                  Map.of(
                      "y",
                      b.tf.nn.elu(
                          b.tf.nn.depthwiseConv2dNative(
                              b.inputs.get("x"),
                              b.weight("dw_kernel", 0.5f, 3, 3, 2, 3),
                              List.of(1L, 2L, 2L, 1L),
                              "SAME"))),
              List.of("FusedDepthwiseConv2dNative[NoOp,Elu]")),
          new Model(
              "dense_relu",
              Map.of("x", new long[] {2, 6}),
              b -> Map.of("y", b.tf.nn.relu(b.dense(b.inputs.get("x"), 6, 5))),
              List.of("_FusedMatMul[BiasAdd,Relu]")),
          new Model(
              "dense_leaky_relu",
              Map.of("x", new long[] {2, 6}),
              b -> {
                // Add rather than BiasAdd, as TF Java and hand-written graphs often have it.
                var add =
                    b.tf.math.add(
                        b.tf.linalg.matMul(b.inputs.get("x"), b.weight("kernel", 0.5f, 6, 5)),
                        b.weight("bias", 0.1f, 5));
                return Map.of(
                    "y", b.tf.nn.leakyRelu(add, org.tensorflow.op.nn.LeakyRelu.alpha(0.15f)));
              },
              List.of("_FusedMatMul[BiasAdd,LeakyRelu]")),
          new Model(
              "conv_prelu",
              Map.of("x", new long[] {2, 6, 6, 3}),
              b ->
                  Map.of(
                      "y",
                      b.prelu(
                          b.tf.nn.biasAdd(
                              b.conv(b.inputs.get("x"), 3, 4), b.weight("bias", 0.1f, 4)),
                          1,
                          1,
                          4)),
              List.of("_FusedConv2D[BiasAdd,Prelu]")),
          new Model(
              "dense_prelu",
              Map.of("x", new long[] {2, 6}),
              b -> Map.of("y", b.prelu(b.dense(b.inputs.get("x"), 6, 5), 5)),
              List.of("_FusedMatMul[BiasAdd,Prelu]")));

  static Path export(Model m, Path dir) throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Builder b = new Builder(tf);
      m.inputs()
          .forEach(
              (name, shape) -> {
                long[] s = shape.clone();
                s[0] = -1;
                b.inputs.put(
                    name,
                    tf.withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.of(s))));
              });
      Map<String, Operand<TFloat32>> outs = m.body().apply(b);
      Signature.Builder sig =
          Signature.builder().key(Signature.DEFAULT_KEY).methodName("tensorflow/serving/predict");
      b.inputs.forEach(sig::input);
      outs.forEach(sig::output);
      try (Session s = new Session(g)) {
        s.initialize();
        SessionFunction fn = SessionFunction.create(sig.build(), s);
        SavedModelBundle.exporter(dir.toString()).withSession(s).withFunction(fn).export();
      }
    }
    return dir;
  }

  @Test
  void builtModelsMatchTensorFlow() throws Exception {
    List<TfjsOracle.Job> jobs = new ArrayList<>();
    List<Map<String, float[]>> expected = new ArrayList<>();
    List<List<String>> keys = new ArrayList<>();
    List<String> summaries = new ArrayList<>();
    Random rnd = new Random(11);
    for (Model m : MODELS) {
      Path saved = export(m, tmp.resolve(m.name() + "_savedmodel"));
      Path out = tmp.resolve(m.name() + "_tfjs");
      ConversionResult s =
          TfGraphToTfjs.convertSavedModel(
              saved,
              out,
              GraphOptions.defaults(),
              TfjsOutputOptions.defaults(),
              ProgressListener.NONE);
      summaries.add(m.name() + ": " + s.detail());
      Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
      List<TfjsOracle.Input> ins = new ArrayList<>();
      var sigInputs = E2e.modelJson(out).path("signature").path("inputs");
      m.inputs()
          .forEach(
              (name, shape) -> {
                TfjsOracle.Input in =
                    TensorFlowOracle.random(name, shape, DType.FLOAT32.tfEnum(), rnd);
                feeds.put(name, new TensorFlowOracle.Feed(in, DType.FLOAT32.tfEnum()));
                ins.add(
                    TfjsOracle.Input.f32(
                        sigInputs.path(name).path("name").stringValue(), shape, in.data()));
              });
      expected.add(TensorFlowOracle.runSavedModel(saved, "serve", "serving_default", feeds));
      keys.add(E2e.outputKeys(out));
      jobs.add(TfjsOracle.Job.graph(out.resolve("model.json"), ins, E2e.outputNames(out)));
      // TF Java writes max pooling as MaxPoolV2, which TF.js lacks; the converter must have
      // rewritten it.
      assertThat(java.nio.file.Files.readString(out.resolve("model.json")))
          .doesNotContain("MaxPoolV2");
      assertThat(fusedOps(out)).as(m.name()).containsAll(m.fused());
    }
    List<TfjsOracle.Result> results = TfjsOracle.run(jobs);
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < MODELS.size(); i++) {
      TfjsOracle.Result r = results.get(i).orThrow();
      for (int k = 0; k < keys.get(i).size(); k++) {
        String key = keys.get(i).get(k);
        Comparison c =
            Comparison.of(expected.get(i).get(key), r.output(k).data(), E2e.ATOL, E2e.RTOL);
        summaries.set(i, summaries.get(i) + String.format("; %s max|d|=%.2g", key, c.maxAbs()));
        if (!c.ok()) {
          failures.add(MODELS.get(i).name() + " output " + key + ": " + c);
        }
      }
    }
    System.out.println("Built SavedModels:\n  " + String.join("\n  ", summaries));
    assertThat(failures).isEmpty();
  }

  /** The fused nodes of a converted model, as {@code op[fused_ops]}. */
  static List<String> fusedOps(Path out) throws Exception {
    List<String> found = new ArrayList<>();
    for (var n : E2e.modelJson(out).path("modelTopology").path("node")) {
      var ops = n.path("attr").path("fused_ops").path("list").path("s");
      if (ops.isArray()) {
        List<String> names = new ArrayList<>();
        ops.forEach(
            o ->
                names.add(
                    new String(
                        java.util.Base64.getDecoder().decode(o.stringValue()),
                        java.nio.charset.StandardCharsets.UTF_8)));
        found.add(n.path("op").stringValue() + "[" + String.join(",", names) + "]");
      }
    }
    return found;
  }
}
