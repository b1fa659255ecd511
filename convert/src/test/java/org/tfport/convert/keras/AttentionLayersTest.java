package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasWeight;
import org.tfport.graph.keras.KerasGraphs;
import org.tfport.testkit.OracleTest;

/**
 * Attention (dot and concat scores, scaled), AdditiveAttention and MultiHeadAttention, with causal
 * masks (Keras 2's causal config and use_causal_mask= at the call) and return_attention_scores=,
 * against references computed here from Keras' definitions, in tfport's runtime, TensorFlow 2.18,
 * TF.js 4.22 (graph model) and TFLite 2.18. TF.js 4.22 layers has none of these layers (its
 * MultiHeadAttention is not in the published bundle), so it cannot be the reference.
 */
class AttentionLayersTest {
  static final int B = 2;
  static final int TQ = 4;
  static final int TV = 5;
  static final int D = 3;

  private static String layer(String cls, String name, String cfg, String node) {
    return """
        {"class_name": "%s", "name": "%s", "config": {"name": "%s", "trainable": true,
         "dtype": "float32"%s}, "inbound_nodes": [%s]}
        """
        .formatted(cls, name, name, cfg, node);
  }

  static final String MODEL =
      """
      {"class_name": "Functional", "config": {"name": "m", "layers": [
       {"class_name": "InputLayer", "name": "q", "config": {"name": "q",
        "batch_input_shape": [null, 4, 3], "dtype": "float32"}, "inbound_nodes": []},
       {"class_name": "InputLayer", "name": "v", "config": {"name": "v",
        "batch_input_shape": [null, 5, 3], "dtype": "float32"}, "inbound_nodes": []}, %s],
       "input_layers": [["q", 0, 0], ["v", 0, 0]],
       "output_layers": [["dot", 0, 0], ["dot", 0, 1], ["cat", 0, 0], ["add", 0, 0],
        ["mha", 0, 0], ["mha", 0, 1], ["self", 0, 0]]}}
      """
          .formatted(
              String.join(
                  ",",
                  layer(
                      "Attention",
                      "dot",
                      ", \"use_scale\": true, \"score_mode\": \"dot\", \"dropout\": 0.3",
                      "[[\"q\", 0, 0, {\"return_attention_scores\": true}],"
                          + " [\"v\", 0, 0, {\"return_attention_scores\": true}]]"),
                  layer(
                      "Attention",
                      "cat",
                      ", \"use_scale\": true, \"score_mode\": \"concat\", \"dropout\": 0.5",
                      "[[\"q\", 0, 0, {\"use_causal_mask\": true}], [\"v\", 0, 0,"
                          + " {\"use_causal_mask\": true}], [\"v\", 0, 0, {\"use_causal_mask\": true}]]"),
                  layer(
                      "AdditiveAttention",
                      "add",
                      ", \"use_scale\": true, \"causal\": true",
                      "[[\"q\", 0, 0, {}], [\"v\", 0, 0, {}]]"),
                  layer(
                      "MultiHeadAttention",
                      "mha",
                      ", \"num_heads\": 2, \"key_dim\": 2, \"value_dim\": 3, \"dropout\": 0.1,"
                          + " \"use_bias\": true, \"output_shape\": 4, \"attention_axes\": null",
                      "[[\"q\", 0, 0, {\"value\": [\"v\", 0, 0], \"use_causal_mask\": true,"
                          + " \"return_attention_scores\": true}]]"),
                  layer(
                      "MultiHeadAttention",
                      "self",
                      ", \"num_heads\": 1, \"key_dim\": 3, \"use_bias\": false",
                      "[[\"q\", 0, 0, {\"value\": [\"q\", 0, 0]}]]")));

  // ------------------------------------------------------------------ weights

  static float[] seq(int n, long seed) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return v;
  }

  static final Map<String, float[]> W = new LinkedHashMap<>();
  static final Map<String, long[]> SHAPES = new LinkedHashMap<>();

  private static void w(String name, long[] shape, long seed) {
    int n = Math.toIntExact(Shape.of(shape).size());
    W.put(name, seq(n, seed));
    SHAPES.put(name, shape);
  }

  static {
    W.put("dot/scale", new float[] {0.7f});
    SHAPES.put("dot/scale", new long[0]);
    W.put("cat/scale", new float[] {0.8f});
    SHAPES.put("cat/scale", new long[0]);
    W.put("cat/concat_score_weight", new float[] {1.3f});
    SHAPES.put("cat/concat_score_weight", new long[0]);
    W.put("add/scale", new float[] {0.5f, -0.3f, 1.1f});
    SHAPES.put("add/scale", new long[] {3});
    w("mha/query/kernel", new long[] {3, 2, 2}, 1);
    w("mha/query/bias", new long[] {2, 2}, 2);
    w("mha/key/kernel", new long[] {3, 2, 2}, 3);
    w("mha/key/bias", new long[] {2, 2}, 4);
    w("mha/value/kernel", new long[] {3, 2, 3}, 5);
    w("mha/value/bias", new long[] {2, 3}, 6);
    w("mha/attention_output/kernel", new long[] {2, 3, 4}, 7);
    w("mha/attention_output/bias", new long[] {4}, 8);
    w("self/query/kernel", new long[] {3, 1, 3}, 9);
    w("self/key/kernel", new long[] {3, 1, 3}, 10);
    w("self/value/kernel", new long[] {3, 1, 3}, 11);
    w("self/attention_output/kernel", new long[] {1, 3, 3}, 12);
  }

  private static List<KerasLayerWeights> weights() {
    Map<String, List<KerasWeight>> by = new LinkedHashMap<>();
    W.forEach(
        (k, v) ->
            by.computeIfAbsent(k.substring(0, k.indexOf('/')), x -> new ArrayList<>())
                .add(GraphTargets.weight(k, SHAPES.get(k), v)));
    List<KerasLayerWeights> out = new ArrayList<>();
    by.forEach((k, v) -> out.add(new KerasLayerWeights(k, v)));
    return out;
  }

  // ------------------------------------------------------------------ reference

  /** [t][d] slice of batch b of a [B, t, d] array. */
  private static double[][] slice(float[] x, int b, int t, int d) {
    double[][] out = new double[t][d];
    for (int i = 0; i < t; i++) {
      for (int j = 0; j < d; j++) {
        out[i][j] = x[(b * t + i) * d + j];
      }
    }
    return out;
  }

  private static double[][] softmaxRows(double[][] s) {
    double[][] out = new double[s.length][];
    for (int i = 0; i < s.length; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (double v : s[i]) {
        max = Math.max(max, v);
      }
      double z = 0;
      out[i] = new double[s[i].length];
      for (int j = 0; j < s[i].length; j++) {
        out[i][j] = Math.exp(s[i][j] - max);
        z += out[i][j];
      }
      for (int j = 0; j < s[i].length; j++) {
        out[i][j] /= z;
      }
    }
    return out;
  }

  private static double[][] matmul(double[][] a, double[][] b) {
    double[][] out = new double[a.length][b[0].length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < b[0].length; j++) {
        for (int k = 0; k < b.length; k++) {
          out[i][j] += a[i][k] * b[k][j];
        }
      }
    }
    return out;
  }

  private static void causal(double[][] s, boolean on) {
    for (int i = 0; on && i < s.length; i++) {
      for (int j = i + 1; j < s[i].length; j++) {
        s[i][j] -= 1e9;
      }
    }
  }

  private static void put(List<Float> out, double[][] m) {
    for (double[] row : m) {
      for (double v : row) {
        out.add((float) v);
      }
    }
  }

  private static float[] arr(List<Float> l) {
    float[] f = new float[l.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = l.get(i);
    }
    return f;
  }

  /** x [t, d] · kernel [d, h, e] + bias [h, e], head {@code h}: [t, e]. */
  private static double[][] proj(
      double[][] x, String layer, String sub, int head, int heads, int e) {
    float[] k = W.get(layer + "/" + sub + "/kernel");
    float[] bias = W.get(layer + "/" + sub + "/bias");
    double[][] out = new double[x.length][e];
    for (int t = 0; t < x.length; t++) {
      for (int j = 0; j < e; j++) {
        double s = bias == null ? 0 : bias[head * e + j];
        for (int d = 0; d < x[0].length; d++) {
          s += x[t][d] * k[(d * heads + head) * e + j];
        }
        out[t][j] = s;
      }
    }
    return out;
  }

  private static double[][] transpose(double[][] m) {
    double[][] out = new double[m[0].length][m.length];
    for (int i = 0; i < m.length; i++) {
      for (int j = 0; j < m[0].length; j++) {
        out[j][i] = m[i][j];
      }
    }
    return out;
  }

  /** Keras MultiHeadAttention on one batch element; scores of every head added to {@code sc}. */
  private static double[][] mha(
      double[][] q,
      double[][] v,
      String layer,
      int heads,
      int kd,
      int vd,
      int out,
      boolean causal,
      List<Float> sc) {
    double[][] y = new double[q.length][out];
    float[] ok = W.get(layer + "/attention_output/kernel");
    float[] ob = W.get(layer + "/attention_output/bias");
    for (int h = 0; h < heads; h++) {
      double[][] qh = proj(q, layer, "query", h, heads, kd);
      double[][] kh = proj(v, layer, "key", h, heads, kd);
      double[][] vh = proj(v, layer, "value", h, heads, vd);
      for (double[] row : qh) {
        for (int j = 0; j < kd; j++) {
          row[j] /= Math.sqrt(kd);
        }
      }
      double[][] s = matmul(qh, transpose(kh));
      causal(s, causal);
      double[][] w = softmaxRows(s);
      if (sc != null) {
        put(sc, w);
      }
      double[][] o = matmul(w, vh);
      for (int t = 0; t < q.length; t++) {
        for (int u = 0; u < out; u++) {
          for (int j = 0; j < vd; j++) {
            y[t][u] += o[t][j] * ok[(h * vd + j) * out + u];
          }
        }
      }
    }
    for (double[] row : y) {
      for (int u = 0; u < out; u++) {
        row[u] += ob == null ? 0 : ob[u];
      }
    }
    return y;
  }

  static List<float[]> reference(float[] qIn, float[] vIn) {
    List<Float> dot = new ArrayList<>();
    List<Float> dotScores = new ArrayList<>();
    List<Float> cat = new ArrayList<>();
    List<Float> add = new ArrayList<>();
    List<Float> mha = new ArrayList<>();
    List<Float> mhaScores = new ArrayList<>();
    List<Float> self = new ArrayList<>();
    for (int b = 0; b < B; b++) {
      double[][] q = slice(qIn, b, TQ, D);
      double[][] v = slice(vIn, b, TV, D);
      double[][] s = matmul(q, transpose(v));
      for (double[] row : s) {
        for (int j = 0; j < row.length; j++) {
          row[j] *= 0.7;
        }
      }
      double[][] w = softmaxRows(s);
      put(dot, matmul(w, v));
      put(dotScores, w);
      double[][] sc = new double[TQ][TV];
      double[][] sa = new double[TQ][TV];
      float[] scale = W.get("add/scale");
      for (int i = 0; i < TQ; i++) {
        for (int j = 0; j < TV; j++) {
          for (int d = 0; d < D; d++) {
            sc[i][j] += Math.tanh(0.8 * (q[i][d] + v[j][d]));
            sa[i][j] += scale[d] * Math.tanh(q[i][d] + v[j][d]);
          }
          sc[i][j] *= 1.3;
        }
      }
      causal(sc, true);
      causal(sa, true);
      put(cat, matmul(softmaxRows(sc), v));
      put(add, matmul(softmaxRows(sa), v));
      List<Float> perHead = new ArrayList<>();
      put(mha, mha(q, v, "mha", 2, 2, 3, 4, true, perHead));
      mhaScores.addAll(perHead);
      put(self, mha(q, q, "self", 1, 3, 3, 3, false, null));
    }
    return List.of(
        arr(dot), arr(dotScores), arr(cat), arr(add), arr(mha), arr(mhaScores), arr(self));
  }

  @Test
  @OracleTest
  void attentionLayersMatchKerasDefinitionsInEveryTarget(@TempDir Path tmp) {
    float[] q = seq(B * TQ * D, 21);
    float[] v = seq(B * TV * D, 22);
    Path h5 = GraphTargets.writeH5(tmp, "att", MODEL, weights());
    Map<String, Tensor> feed = GraphTargets.feed("q", new long[] {B, TQ, D}, q);
    feed.put("v", Tensor.ofFloats(Shape.of(B, TV, D), v));
    GraphTargets.Outputs o = GraphTargets.run(tmp, h5, feed);
    List<float[]> expected = reference(q, v);
    String[] names = {
      "Attention dot",
      "its scores",
      "Attention concat causal",
      "AdditiveAttention causal",
      "MultiHeadAttention causal",
      "its scores",
      "self MultiHeadAttention"
    };
    double worst = 0;
    for (int i = 0; i < expected.size(); i++) {
      worst = Math.max(worst, GraphTargets.check(o, i, expected.get(i), names[i]));
    }
    System.out.printf("attention: 7 outputs x 4 targets match, worst |a-b| = %.3g%n", worst);
  }

  private static Map<String, Tensor> weightMap() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    W.forEach((k, v) -> m.put(k, Tensor.ofFloats(Shape.of(SHAPES.get(k)), v)));
    return m;
  }

  @Test
  void anExplicitMaskOrOtherAttentionAxesAreRefused() {
    String masked =
        MODEL.replace(
            "[[\"q\", 0, 0, {\"value\": [\"q\", 0, 0]}]]",
            "[[\"q\", 0, 0, {\"value\": [\"q\", 0, 0], \"attention_mask\": [\"v\", 0, 0]}]]");
    assertThatThrownBy(
            () -> KerasGraphs.fromConfig("m.h5", Json.MAPPER.readTree(masked), weightMap(), 2))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessage(
            "m.h5: layer 'self' (MultiHeadAttention) is called with attention_mask=, which tfport"
                + " does not build (masks are not built)");
    String axes = MODEL.replace("\"attention_axes\": null", "\"attention_axes\": [1, 2]");
    assertThatThrownBy(
            () -> KerasGraphs.fromConfig("m.h5", Json.MAPPER.readTree(axes), weightMap(), 2))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("MultiHeadAttention with attention_axes [1,2] (layer 'm/mha')");
  }
}
