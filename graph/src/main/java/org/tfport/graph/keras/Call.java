package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import tools.jackson.databind.JsonNode;

/**
 * One call of a layer: its config, where its ops go and where its weights come from. A layer called
 * several times (shared) gets one set of weight constants.
 */
final class Call {
  final String layer;
  final String cls;
  final JsonNode cfg;
  final Emit e;
  private final Context ctx;

  /** The Keras mask of each input (float 0/1, the input's shape without its last axis), or null. */
  List<String> inputMasks = List.of();

  /** A TFOpLambda call's arguments as saved, or null for other layers. */
  OpArgs opArgs;

  /**
   * A recurrent layer's initial states ([batch, units] each: h, and c for an LSTM), or null when it
   * starts from zeros.
   */
  String[] initialStates;

  Call(Context ctx, String layer, String cls, JsonNode cfg, Emit e) {
    this.ctx = ctx;
    this.layer = layer;
    this.cls = cls;
    this.cfg = cfg;
    this.e = e;
  }

  /** What all calls of one build share. */
  record Context(
      String source,
      WeightLookup weights,
      Map<String, String> consts,
      int kerasMajor,
      TrainingState training) {
    Context(String source, WeightLookup weights, Map<String, String> consts, int kerasMajor) {
      this(source, weights, consts, kerasMajor, null);
    }
  }

  /** The training build's state, or null when weights are constants. */
  TrainingState training() {
    return ctx.training();
  }

  WeightLookup weights() {
    return ctx.weights();
  }

  /** The same layer's weights and scope, read with another class and config (a wrapped layer). */
  Call wrapped(String innerCls, JsonNode innerCfg) {
    Call c = new Call(ctx, layer, innerCls, innerCfg, e);
    c.inputMasks = inputMasks;
    return c;
  }

  /** The same call emitting into another graph (a loop body). */
  Call emitting(Emit other) {
    Call c = new Call(ctx, layer, cls, cfg, other);
    c.inputMasks = inputMasks;
    return c;
  }

  /** The mask of input {@code i}, or null when it has none. */
  String mask(int i) {
    return i < inputMasks.size() ? inputMasks.get(i) : null;
  }

  String source() {
    return ctx.source();
  }

  /** The layer's stored weights in saved order, as float32 tensors. */
  List<Tensor> allWeights() {
    List<Tensor> out = new ArrayList<>();
    for (WeightLookup.Entry w : ctx.weights().of(layer)) {
      Tensor t = w.data().get();
      out.add(
          t.dtype() == org.tfport.core.DType.FLOAT32
              ? t
              : Tensor.ofFloats(t.shape(), t.toFloatArray()));
    }
    return out;
  }

  int kerasMajor() {
    return ctx.kerasMajor();
  }

  /** The weight as a constant node, made once per layer. */
  String weight(String shortName, int position) {
    String key = layer + "/" + shortName;
    String made = ctx.consts().get(key);
    if (made != null) {
      return made;
    }
    String ref =
        ctx.training() != null
            ? ctx.training().variable(this, shortName, position)
            : e.constant(shortName, floatWeight(shortName, position));
    ctx.consts().put(key, ref);
    return ref;
  }

  /** The weight as a constant node of another shape holding the same elements, made once. */
  String weightAs(String shortName, int position, long... shape) {
    String key = layer + "/" + shortName + java.util.Arrays.toString(shape);
    String made = ctx.consts().get(key);
    if (made != null) {
      return made;
    }
    Tensor t = floatWeight(shortName, position);
    org.tfport.core.Shape s = org.tfport.core.Shape.of(shape);
    if (s.size() != t.shape().size()) {
      throw corrupt(
          "has weight '" + shortName + "' of shape " + t.shape() + " where " + s + " is expected");
    }
    String ref =
        ctx.training() != null
            ? e.reshape(weight(shortName, position), shape)
            : e.constant(shortName, new Tensor(t.dtype(), s, t.data()));
    ctx.consts().put(key, ref);
    return ref;
  }

  /** The stored weight as float32 values. */
  Tensor floatWeight(String shortName, int position) {
    Tensor t = ctx.weights().find(layer, shortName, position);
    if (t == null) {
      throw corrupt(
          "has no stored weight '"
              + shortName
              + "' (the file holds "
              + ctx.weights().of(layer).size()
              + " weights for it); save the model with its weights");
    }
    if (t.dtype() == org.tfport.core.DType.FLOAT32) {
      return t;
    }
    return Tensor.ofFloats(t.shape(), t.toFloatArray());
  }

  boolean hasWeight(String shortName) {
    return ctx.weights().of(layer).stream()
        .anyMatch(w -> w.name().substring(w.name().lastIndexOf('/') + 1).equals(shortName));
  }

  // ------------------------------------------------------------------ config

  int integer(String key, int dflt) {
    JsonNode v = cfg.get(key);
    return v == null || v.isNull() ? dflt : v.asInt();
  }

  double number(String key, double dflt) {
    JsonNode v = cfg.get(key);
    return v == null || v.isNull() ? dflt : v.asDouble();
  }

  boolean bool(String key, boolean dflt) {
    JsonNode v = cfg.get(key);
    return v == null || v.isNull() ? dflt : v.asBoolean();
  }

  String string(String key, String dflt) {
    JsonNode v = cfg.get(key);
    return v == null || v.isNull() ? dflt : v.asString();
  }

  /** An int or list of ints, as {@code n} values (a single int repeated). */
  long[] ints(String key, int n, long dflt) {
    JsonNode v = cfg.get(key);
    long[] out = new long[n];
    if (v == null || v.isNull()) {
      java.util.Arrays.fill(out, dflt);
    } else if (v.isArray()) {
      if (v.size() != n) {
        throw corrupt("has " + key + " of " + v.size() + " values where " + n + " are expected");
      }
      for (int i = 0; i < n; i++) {
        out[i] = v.get(i).asLong();
      }
    } else {
      java.util.Arrays.fill(out, v.asLong());
    }
    return out;
  }

  /** A list of ints (or one int), of whatever length. */
  long[] intList(String key) {
    JsonNode v = cfg.get(key);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isArray()) {
      return new long[] {v.asLong()};
    }
    List<Long> l = new ArrayList<>();
    v.forEach(x -> l.add(x.asLong()));
    return l.stream().mapToLong(Long::longValue).toArray();
  }

  boolean channelsFirst() {
    return "channels_first".equals(string("data_format", "channels_last"));
  }

  // ------------------------------------------------------------------ errors

  CorruptModelException corrupt(String what) {
    return new CorruptModelException(
        ctx.source() + ": layer '" + layer + "' (" + cls + ") " + what);
  }

  UnsupportedModelException unsupported(String what) {
    return new UnsupportedModelException(
        ctx.source() + ": layer '" + layer + "' (" + cls + ") " + what);
  }
}
