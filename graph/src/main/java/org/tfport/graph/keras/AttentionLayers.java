package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import tools.jackson.databind.JsonNode;

/**
 * {@code Attention} (Luong: dot or concat scores), {@code AdditiveAttention} (Bahdanau) and {@code
 * MultiHeadAttention}, in inference form (dropout is the identity), as Keras 2 and 3 compute them:
 * scores, a causal mask ({@code use_causal_mask=} at the call, or Keras 2's {@code causal} config)
 * subtracting 1e9 where a query would see a later key, softmax over the keys, weighted values; with
 * {@code return_attention_scores=True} the softmax weights are the second output. Explicit masks
 * are refused (the graph is built without Keras masks).
 */
final class AttentionLayers {
  private AttentionLayers() {}

  /** What Keras adds to a masked score: large enough that its softmax weight is 0. */
  private static final float MASKED = 1.0e9f;

  private static final Set<String> MHA_KWARGS =
      Set.of("value", "key", "training", "use_causal_mask", "return_attention_scores", "name");
  private static final Set<String> ATTENTION_KWARGS =
      Set.of("training", "use_causal_mask", "return_attention_scores", "name");

  static void register(Map<String, LayerBuilder> r) {
    r.put("Attention", (c, in) -> attention(c, in, false));
    r.put("AdditiveAttention", (c, in) -> attention(c, in, true));
    r.put(
        "MultiHeadAttention",
        new LayerBuilder() {
          @Override
          public List<KT> call(Call c, List<KT> in) {
            return multiHead(c, in);
          }

          @Override
          public String problem(JsonNode cfg) {
            JsonNode axes = cfg.get("attention_axes");
            boolean defaultAxes =
                axes == null
                    || axes.isNull()
                    || (axes.isNumber() && axes.asInt() == 1)
                    || (axes.isArray() && axes.size() == 1 && axes.get(0).asInt() == 1);
            return defaultAxes ? null : "attention_axes " + axes;
          }
        });
  }

  // ------------------------------------------------------------------ call arguments

  private static OpArgs args(Call c, List<KT> in, Set<String> allowed) {
    OpArgs a = c.opArgs != null ? c.opArgs : OpArgs.of(in);
    for (Map.Entry<String, Object> e : a.kwargs().entrySet()) {
      boolean none = e.getValue() instanceof JsonNode j && j.isNull();
      if (!allowed.contains(e.getKey()) && !none) {
        throw c.unsupported(
            "is called with "
                + e.getKey()
                + "=, which tfport does not build"
                + (e.getKey().contains("mask") ? " (masks are not built)" : ""));
      }
    }
    for (Object o : a.first()) {
      if (!(o instanceof KT)) {
        throw c.unsupported("is called on a constant; tfport builds it on model tensors");
      }
    }
    return a;
  }

  private static boolean flag(OpArgs a, String key) {
    return a.kwargs().get(key) instanceof JsonNode j && j.asBoolean(false);
  }

  private static KT tensorArg(Call c, OpArgs a, int position, String key) {
    if (position < a.first().size()) {
      return (KT) a.first().get(position);
    }
    Object o = a.kwargs().get(key);
    if (o instanceof KT k) {
      return k;
    }
    return null;
  }

  /** The constant to subtract from scores [..., tq, tv]: 1e9 where key j comes after query i. */
  private static String causalBias(Call c, long tq, long tv) {
    if (tq < 0 || tv < 0) {
      throw c.unsupported(
          "uses a causal mask over sequences of unknown length; give the inputs a fixed length");
    }
    float[] v = new float[Math.toIntExact(tq * tv)];
    for (int i = 0; i < tq; i++) {
      for (int j = 0; j < tv; j++) {
        v[i * (int) tv + j] = j > i ? MASKED : 0f;
      }
    }
    return c.e.constant("causal_mask", Tensor.ofFloats(Shape.of(tq, tv), v));
  }

  private static String batchMatMul(Call c, String a, String b, boolean adjY) {
    return c.e.op("BatchMatMulV2", List.of(a, b), "adj_x", false, "adj_y", adjY);
  }

  // ------------------------------------------------------------------ Attention

  private static List<KT> attention(Call c, List<KT> in, boolean additive) {
    OpArgs a = args(c, in, ATTENTION_KWARGS);
    if (a.first().size() < 2 || a.first().size() > 3) {
      throw c.corrupt(
          "takes [query, value] or [query, value, key] but is called on " + a.first().size());
    }
    KT q = (KT) a.first().get(0);
    KT v = (KT) a.first().get(1);
    KT k = a.first().size() > 2 ? (KT) a.first().get(2) : v;
    Emit e = c.e;
    boolean useScale = c.bool("use_scale", additive);
    String mode = additive ? "additive" : c.string("score_mode", "dot");
    long tv = k.rank() >= 2 ? k.dim(-2) : -1;
    long[] scoreShape = q.shape();
    scoreShape[scoreShape.length - 1] = tv;
    String scores;
    switch (mode) {
      case "dot" -> {
        scores = batchMatMul(c, q.ref(), k.ref(), true);
        if (useScale) {
          scores = e.binary("Mul", scores, c.weight("scale", 0));
        }
      }
      case "concat", "additive" -> {
        // [.., tq, 1, dim] + [.., 1, tv, dim], tanh, summed over dim
        String qe = e.expandDims(q.ref(), q.rank() - 1);
        String ke = e.expandDims(k.ref(), k.rank() - 2);
        String sum = e.binary("AddV2", qe, ke);
        String t;
        if (additive) {
          t = e.unary("Tanh", sum);
          if (useScale) {
            t = e.binary("Mul", c.weight("scale", 0), t);
          }
        } else {
          t = e.unary("Tanh", useScale ? e.binary("Mul", c.weight("scale", 0), sum) : sum);
        }
        scores = e.reduce("Sum", t, new long[] {q.rank()}, false);
        if (!additive) {
          scores = e.binary("Mul", c.weight("concat_score_weight", useScale ? 1 : 0), scores);
        }
      }
      default -> throw c.unsupported("has score_mode '" + mode + "', which Keras does not define");
    }
    if (c.bool("causal", false) || flag(a, "use_causal_mask")) {
      scores = e.binary("Sub", scores, causalBias(c, q.dim(-2), tv));
    }
    String weights = e.op("Softmax", List.of(scores));
    long[] outShape = q.shape();
    outShape[outShape.length - 1] = v.dim(-1);
    List<KT> out = new ArrayList<>();
    out.add(KT.f32(batchMatMul(c, weights, v.ref(), false), outShape));
    if (flag(a, "return_attention_scores")) {
      out.add(KT.f32(weights, scoreShape));
    }
    return out;
  }

  // ------------------------------------------------------------------ MultiHeadAttention

  /**
   * The weight {@code sub/name} ({@code query/kernel}...), by name, else by its place in Keras'
   * creation order (query, key, value, attention_output; kernel then bias), as {@code shape}.
   */
  private static String mhaWeight(Call c, String sub, String name, int position, long... shape) {
    String key = c.layer + "/" + sub + "/" + name;
    Tensor t = null;
    List<WeightLookup.Entry> all = c.weights().of(c.layer);
    for (WeightLookup.Entry w : all) {
      if (w.name().endsWith("/" + sub + "/" + name)) {
        t = w.data().get();
      }
    }
    if (t == null && position < all.size()) {
      t = all.get(position).data().get();
    }
    if (t == null) {
      throw c.corrupt(
          "has no stored weight '"
              + sub
              + "/"
              + name
              + "' (the file holds "
              + all.size()
              + " weights for it); save the model with its weights");
    }
    if (t.shape().size() != Shape.of(shape).size()) {
      throw c.corrupt(
          "has weight '"
              + sub
              + "/"
              + name
              + "' of shape "
              + t.shape()
              + " where "
              + Shape.of(shape).size()
              + " values are expected");
    }
    float[] f = t.toFloatArray();
    return c.e.constant(key.replace('/', '_'), Tensor.ofFloats(Shape.of(shape), f));
  }

  /** x [B, T, D] · W [D, H·e] + b, as [B, H, T, e]. */
  private static String project(
      Call c, KT x, String sub, int index, boolean bias, int heads, long dim) {
    long d = x.dim(-1);
    int position = bias ? 2 * index : index;
    String w = mhaWeight(c, sub, "kernel", position, d, heads * dim);
    Emit e = c.e.scoped(sub);
    String y = e.op("BatchMatMulV2", List.of(x.ref(), w), "adj_x", false, "adj_y", false);
    if (bias) {
      y = e.binary("AddV2", y, mhaWeight(c, sub, "bias", position + 1, heads * dim));
    }
    y = e.reshapeKeeping(y, x.ref(), new long[] {x.dim(0), x.dim(1), heads, dim});
    return e.transpose(y, 0, 2, 1, 3);
  }

  private static List<KT> multiHead(Call c, List<KT> in) {
    OpArgs a = args(c, in, MHA_KWARGS);
    KT q = tensorArg(c, a, 0, "query");
    KT v = tensorArg(c, a, 1, "value");
    KT k = tensorArg(c, a, 2, "key");
    if (q == null || v == null) {
      throw c.corrupt("is called without a query and a value");
    }
    k = k == null ? v : k;
    for (KT x : List.of(q, v, k)) {
      if (x.rank() != 3) {
        throw c.unsupported(
            "attends over inputs of rank "
                + x.rank()
                + "; tfport builds MultiHeadAttention on [batch, sequence, features]");
      }
    }
    int heads = c.integer("num_heads", 0);
    long keyDim = c.integer("key_dim", 0);
    JsonNode vd = c.cfg.get("value_dim");
    long valueDim = vd == null || vd.isNull() ? keyDim : vd.asLong();
    if (heads <= 0 || keyDim <= 0 || valueDim <= 0) {
      throw c.corrupt("has num_heads " + heads + ", key_dim " + keyDim + ", value_dim " + valueDim);
    }
    boolean bias = c.bool("use_bias", true);
    long outDim = q.dim(-1);
    JsonNode os = c.cfg.get("output_shape");
    if (os != null && !os.isNull()) {
      if (os.isNumber() || (os.isArray() && os.size() == 1)) {
        outDim = os.isNumber() ? os.asLong() : os.get(0).asLong();
      } else {
        throw c.unsupported("has output_shape " + os + "; tfport builds one output dimension");
      }
    }
    Emit e = c.e;
    String qh = project(c, q, "query", 0, bias, heads, keyDim);
    String kh = project(c, k, "key", 1, bias, heads, keyDim);
    String vh = project(c, v, "value", 2, bias, heads, valueDim);
    // Keras scales the query, not the scores.
    qh = e.binary("Mul", qh, e.scalar((float) (1.0 / Math.sqrt(keyDim))));
    String scores = batchMatMul(c, qh, kh, true);
    if (flag(a, "use_causal_mask")) {
      scores = e.binary("Sub", scores, causalBias(c, q.dim(1), v.dim(1)));
    }
    String weights = e.op("Softmax", List.of(scores));
    String o = e.transpose(batchMatMul(c, weights, vh, false), 0, 2, 1, 3);
    o = e.reshapeKeeping(o, q.ref(), new long[] {q.dim(0), q.dim(1), heads * valueDim});
    int position = bias ? 6 : 3;
    String w = mhaWeight(c, "attention_output", "kernel", position, heads * valueDim, outDim);
    Emit oe = e.scoped("attention_output");
    String y = oe.op("BatchMatMulV2", List.of(o, w), "adj_x", false, "adj_y", false);
    if (bias) {
      y = oe.binary("AddV2", y, mhaWeight(c, "attention_output", "bias", position + 1, outDim));
    }
    List<KT> out = new ArrayList<>();
    out.add(KT.f32(y, new long[] {q.dim(0), q.dim(1), outDim}));
    if (flag(a, "return_attention_scores")) {
      out.add(KT.f32(weights, new long[] {q.dim(0), heads, q.dim(1), v.dim(1)}));
    }
    return out;
  }
}
