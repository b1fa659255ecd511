package org.tfport.convert.graph;

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
import org.tfport.convert.ConversionSummary;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.ProgressListener;
import org.tfport.core.graph.DataTypes;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.TfjsOracle;

/**
 * SavedModels built at test time with TF Java (TF1-style graphs: {@code VariableV2}, {@code MaxPoolV2}),
 * converted, run in TF.js 4.22 and compared with TensorFlow on the same random inputs.
 */
class BuiltSavedModelTest {
  @TempDir Path tmp;

  /** What a test model declares: its inputs' shapes (batch 2) and how to build it. */
  record Model(String name, Map<String, long[]> inputs, Function<Builder, Map<String, Operand<TFloat32>>> body) {}

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
  }

  static final List<Model> MODELS = List.of(
      new Model("cnn", Map.of("image", new long[] {2, 8, 8, 3}), b -> {
        Ops tf = b.tf;
        var x = b.inputs.get("image");
        var conv = tf.nn.biasAdd(tf.nn.conv2d(x, b.weight("conv_kernel", 0.5f, 3, 3, 3, 4), List.of(1L, 1L, 1L, 1L),
            "SAME"), b.weight("conv_bias", 0.1f, 4));
        var bn = tf.nn.fusedBatchNorm(conv, b.positive("bn_gamma", 4), b.weight("bn_beta", 0.1f, 4),
            b.weight("bn_mean", 0.1f, 4), b.positive("bn_variance", 4), FusedBatchNorm.epsilon(1e-3f),
            FusedBatchNorm.isTraining(false)).y();
        var pool = tf.nn.maxPool(tf.nn.relu(bn), b.ints(1, 2, 2, 1), b.ints(1, 2, 2, 1), "VALID");
        var flat = tf.reshape(pool, b.ints(-1, 4 * 4 * 4));
        var logits = tf.math.add(tf.linalg.matMul(flat, b.weight("dense_kernel", 0.3f, 64, 5)),
            b.weight("dense_bias", 0.1f, 5));
        return Map.of("probabilities", tf.nn.softmax(logits));
      }),
      new Model("depthwise", Map.of("x", new long[] {2, 7, 7, 2}), b -> {
        Ops tf = b.tf;
        var dw = tf.nn.depthwiseConv2dNative(b.inputs.get("x"), b.weight("dw_kernel", 0.5f, 3, 3, 2, 3),
            List.of(1L, 2L, 2L, 1L), "SAME");
        var act = tf.nn.relu6(tf.nn.biasAdd(dw, b.weight("dw_bias", 0.1f, 6)));
        return Map.of("y", tf.nn.avgPool(act, List.of(1L, 2L, 2L, 1L), List.of(1L, 1L, 1L, 1L), "VALID"));
      }),
      new Model("multi_io", Map.of("a", new long[] {2, 3}, "b", new long[] {2, 5}), b -> {
        Ops tf = b.tf;
        Operand<TFloat32> joined = tf.concat(List.of(b.inputs.get("a"), b.inputs.get("b")), tf.constant(1));
        var hidden = tf.math.tanh(tf.linalg.matMul(joined, b.weight("w", 0.5f, 8, 4)));
        return Map.of("hidden", hidden, "total", tf.sum(b.inputs.get("b"), b.ints(1)),
            "scaled", tf.math.mul(b.inputs.get("a"), b.weight("scale", 1f, 3)));
      }));

  private static Path export(Model m, Path dir) throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Builder b = new Builder(tf);
      m.inputs().forEach((name, shape) -> {
        long[] s = shape.clone();
        s[0] = -1;
        b.inputs.put(name, tf.withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.of(s))));
      });
      Map<String, Operand<TFloat32>> outs = m.body().apply(b);
      Signature.Builder sig = Signature.builder().key(Signature.DEFAULT_KEY).methodName("tensorflow/serving/predict");
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
      ConversionSummary s = TfGraphToTfjs.convertSavedModel(saved, out, GraphOptions.defaults(),
          TfjsOutputOptions.defaults(), ProgressListener.NONE);
      summaries.add(m.name() + ": " + s.notices().get(0));
      Map<String, TfRuntime.Feed> feeds = new LinkedHashMap<>();
      List<TfjsOracle.Input> ins = new ArrayList<>();
      var sigInputs = E2e.modelJson(out).path("signature").path("inputs");
      m.inputs().forEach((name, shape) -> {
        TfjsOracle.Input in = TfRuntime.random(name, shape, DataTypes.DT_FLOAT, rnd);
        feeds.put(name, new TfRuntime.Feed(in, DataTypes.DT_FLOAT));
        ins.add(TfjsOracle.Input.f32(sigInputs.path(name).path("name").stringValue(), shape, in.data()));
      });
      expected.add(TfRuntime.runSavedModel(saved, "serve", "serving_default", feeds));
      keys.add(E2e.outputKeys(out));
      jobs.add(TfjsOracle.Job.graph(out.resolve("model.json"), ins, E2e.outputNames(out)));
      // TF Java writes max pooling as MaxPoolV2, which TF.js lacks; the converter must have rewritten it.
      assertThat(java.nio.file.Files.readString(out.resolve("model.json"))).doesNotContain("MaxPoolV2");
    }
    List<TfjsOracle.Result> results = TfjsOracle.run(jobs);
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < MODELS.size(); i++) {
      TfjsOracle.Result r = results.get(i).orThrow();
      for (int k = 0; k < keys.get(i).size(); k++) {
        String key = keys.get(i).get(k);
        Comparison c = Comparison.of(expected.get(i).get(key), r.output(k).data(), E2e.ATOL, E2e.RTOL);
        summaries.set(i, summaries.get(i) + String.format("; %s max|d|=%.2g", key, c.maxAbs()));
        if (!c.ok()) {
          failures.add(MODELS.get(i).name() + " output " + key + ": " + c);
        }
      }
    }
    System.out.println("Built SavedModels:\n  " + String.join("\n  ", summaries));
    assertThat(failures).isEmpty();
  }
}
