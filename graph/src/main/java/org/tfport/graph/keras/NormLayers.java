package org.tfport.graph.keras;

import java.util.List;
import java.util.Map;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import tools.jackson.databind.JsonNode;

/**
 * BatchNormalization (inference form), LayerNormalization and the Normalization preprocessing
 * layer.
 */
final class NormLayers {
  private NormLayers() {}

  static void register(Map<String, LayerBuilder> r) {
    r.put("BatchNormalization", (LayerBuilder.Single) NormLayers::batchNorm);
    r.put("BatchNormalizationV1", (LayerBuilder.Single) NormLayers::batchNorm);
    r.put("LayerNormalization", (LayerBuilder.Single) NormLayers::layerNorm);
    r.put("Normalization", (LayerBuilder.Single) NormLayers::normalization);
  }

  /** The config's axes as non-negative numbers. */
  private static long[] axes(Call c, KT x, long dflt) {
    long[] a = c.intList("axis");
    if (a == null) {
      a = new long[] {dflt};
    }
    for (int i = 0; i < a.length; i++) {
      a[i] = a[i] < 0 ? a[i] + x.rank() : a[i];
    }
    return a;
  }

  /** The shape that broadcasts a per-{@code axes} vector against {@code x}. */
  private static long[] broadcastShape(Call c, KT x, long[] axes) {
    long[] s = new long[x.rank()];
    java.util.Arrays.fill(s, 1);
    for (long a : axes) {
      if (x.dim((int) a) < 0) {
        throw c.unsupported("normalizes over an axis of unknown size");
      }
      s[(int) a] = x.dim((int) a);
    }
    return s;
  }

  /**
   * {@code x·scale + offset} with {@code scale = gamma/√(var+ε)} and {@code offset = beta −
   * mean·scale}, folded here in float32 as TensorFlow's inference kernel computes them.
   */
  private static KT batchNorm(Call c, KT x) {
    long[] axes = axes(c, x, -1);
    long[] bshape = broadcastShape(c, x, axes);
    if (c.training() != null && c.training().trains(c)) {
      return batchNormOfVariables(c, x, bshape);
    }
    boolean scale = c.bool("scale", true);
    boolean center = c.bool("center", true);
    int pos = 0;
    float[] gamma = scale ? c.floatWeight("gamma", pos++).toFloatArray() : null;
    float[] beta = center ? c.floatWeight("beta", pos++).toFloatArray() : null;
    float[] mean = c.floatWeight("moving_mean", pos++).toFloatArray();
    float[] var = c.floatWeight("moving_variance", pos).toFloatArray();
    float eps = (float) c.number("epsilon", 1e-3);
    int n = mean.length;
    if (var.length != n
        || (gamma != null && gamma.length != n)
        || (beta != null && beta.length != n)
        || Shape.of(bshape).size() != n) {
      throw c.corrupt("has weights whose sizes do not match its " + n + " channels");
    }
    float[] mul = new float[n];
    float[] add = new float[n];
    for (int i = 0; i < n; i++) {
      float inv = (float) (1.0 / Math.sqrt(var[i] + eps));
      mul[i] = gamma == null ? inv : inv * gamma[i];
      add[i] = (beta == null ? 0f : beta[i]) - mean[i] * mul[i];
    }
    Emit e = c.e;
    String y =
        e.binary("Mul", x.ref(), e.constant("scale", Tensor.ofFloats(Shape.of(bshape), mul)));
    y = e.binary("AddV2", y, e.constant("offset", Tensor.ofFloats(Shape.of(bshape), add)));
    return x.with(y, x.shape());
  }

  /**
   * The same inference form over the weights as variables, for a model being trained: its
   * evaluation reads the trained gamma, beta and moving statistics, in the order the training form
   * declares them, so both graphs take the same variables.
   */
  private static KT batchNormOfVariables(Call c, KT x, long[] bshape) {
    Emit e = c.e;
    int pos = 0;
    String gamma = c.bool("scale", true) ? c.weightAs("gamma", pos++, bshape) : null;
    String beta = c.bool("center", true) ? c.weightAs("beta", pos++, bshape) : null;
    String mean = c.weightAs("moving_mean", pos++, bshape);
    String var = c.weightAs("moving_variance", pos, bshape);
    float eps = (float) c.number("epsilon", 1e-3);
    String mul = e.unary("Rsqrt", e.binary("AddV2", var, e.scalar(eps)));
    if (gamma != null) {
      mul = e.binary("Mul", mul, gamma);
    }
    String add = e.binary("Mul", mean, mul);
    add = beta == null ? e.unary("Neg", add) : e.binary("Sub", beta, add);
    return x.with(e.binary("AddV2", e.binary("Mul", x.ref(), mul), add), x.shape());
  }

  private static KT layerNorm(Call c, KT x) {
    Emit e = c.e;
    long[] axes = axes(c, x, -1);
    long[] bshape = broadcastShape(c, x, axes);
    float eps = (float) c.number("epsilon", 1e-3);
    String mean = e.reduce("Mean", x.ref(), axes, true);
    String var = e.reduce("Mean", e.binary("SquaredDifference", x.ref(), mean), axes, true);
    String inv = e.unary("Rsqrt", e.binary("AddV2", var, e.scalar(eps)));
    int pos = 0;
    if (c.bool("scale", true)) {
      inv = e.binary("Mul", inv, c.weightAs("gamma", pos++, bshape));
    }
    String y = e.binary("Mul", e.binary("Sub", x.ref(), mean), inv);
    if (c.bool("center", true)) {
      y = e.binary("AddV2", y, c.weightAs("beta", pos, bshape));
    }
    return x.with(y, x.shape());
  }

  /** {@code (x − mean) / max(√variance, 1e-7)}, or its inverse when {@code invert}. */
  private static KT normalization(Call c, KT x) {
    Emit e = c.e;
    long[] axes = axes(c, x, -1);
    long[] bshape = broadcastShape(c, x, axes);
    JsonNode cm = c.cfg.get("mean");
    float[] mean;
    float[] var;
    if (cm != null && !cm.isNull()) {
      mean = values(c, cm, Shape.of(bshape).size());
      var = values(c, c.cfg.get("variance"), Shape.of(bshape).size());
    } else {
      mean = c.floatWeight("mean", 0).toFloatArray();
      var = c.floatWeight("variance", 1).toFloatArray();
    }
    int n = (int) Shape.of(bshape).size();
    if (mean.length != n || var.length != n) {
      throw c.corrupt("has a mean or variance whose size does not match its " + n + " values");
    }
    float[] sd = new float[n];
    for (int i = 0; i < n; i++) {
      sd[i] = Math.max((float) Math.sqrt(var[i]), 1e-7f);
    }
    String m = e.constant("mean", Tensor.ofFloats(Shape.of(bshape), mean));
    String s = e.constant("stddev", Tensor.ofFloats(Shape.of(bshape), sd));
    String y =
        c.bool("invert", false)
            ? e.binary("AddV2", e.binary("Mul", x.ref(), s), m)
            : e.binary("RealDiv", e.binary("Sub", x.ref(), m), s);
    return x.with(y, x.shape());
  }

  private static float[] values(Call c, JsonNode v, long n) {
    float[] out = new float[(int) n];
    if (v == null || v.isNull()) {
      throw c.corrupt("has a mean but no variance");
    }
    if (v.isNumber()) {
      java.util.Arrays.fill(out, v.floatValue());
      return out;
    }
    List<Float> flat = new java.util.ArrayList<>();
    flatten(v, flat);
    if (flat.size() == 1) {
      java.util.Arrays.fill(out, flat.get(0));
      return out;
    }
    if (flat.size() != n) {
      throw c.corrupt("has " + flat.size() + " mean/variance values where " + n + " are expected");
    }
    for (int i = 0; i < n; i++) {
      out[i] = flat.get(i);
    }
    return out;
  }

  private static void flatten(JsonNode v, List<Float> out) {
    if (v.isArray()) {
      v.forEach(x -> flatten(x, out));
    } else {
      out.add(v.floatValue());
    }
  }
}
