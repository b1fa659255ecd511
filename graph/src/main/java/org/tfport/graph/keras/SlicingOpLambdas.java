package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.graph.AttrValue;
import tools.jackson.databind.JsonNode;

/**
 * {@code SlicingOpLambda}: Python indexing of a Keras tensor in a Keras 2 functional model ({@code
 * x[:, 1:3]}, {@code x[..., -1]}, {@code x[:, None]}), which Keras saved as a call of {@code
 * tf.__operators__.getitem} with its {@code slice_spec}: a slice as {@code {start, stop, step}}, an
 * index as an int, {@code ...} as {@code {"class_name": "__ellipsis__"}}, {@code tf.newaxis} as
 * null. Built as the one StridedSlice TensorFlow's {@code _slice_helper} makes of it.
 */
final class SlicingOpLambdas {
  private SlicingOpLambdas() {}

  static final String GETITEM = "__operators__.getitem";

  static void register(Map<String, LayerBuilder> r) {
    r.put(
        "SlicingOpLambda",
        new LayerBuilder() {
          @Override
          public List<KT> call(Call c, List<KT> in) {
            OpArgs args = c.opArgs != null ? c.opArgs : OpArgs.of(in);
            OpParams p = new OpParams(c, GETITEM, args);
            KT out = getitem(p);
            p.finish();
            return List.of(out);
          }

          @Override
          public String problem(JsonNode cfg) {
            String fn = cfg.path("function").asString("");
            return fn.equals(GETITEM) ? null : "function tf." + (fn.isEmpty() ? "(none)" : fn);
          }
        });
  }

  /** One entry of a slice spec. */
  private sealed interface Spec {}

  private record Index(long at) implements Spec {}

  private record Range(Long start, Long stop, Long step) implements Spec {}

  private record Ellipsis() implements Spec {}

  private record NewAxis() implements Spec {}

  private static KT getitem(OpParams p) {
    KT x = p.first(KT.FLOAT);
    p.only("var", false);
    JsonNode spec = p.constant("slice_spec");
    if (spec == null) {
      throw p.c.corrupt("calls tf." + GETITEM + " without a slice_spec");
    }
    List<Spec> specs = new ArrayList<>();
    if (spec.isArray()) {
      for (JsonNode s : spec) {
        specs.add(spec(p, s));
      }
    } else {
      specs.add(spec(p, spec));
    }
    long[] in = x.shape();
    int rank = in.length;
    int consuming = 0;
    int ellipses = 0;
    for (Spec s : specs) {
      consuming += s instanceof Index || s instanceof Range ? 1 : 0;
      ellipses += s instanceof Ellipsis ? 1 : 0;
    }
    if (ellipses > 1) {
      throw p.c.unsupported("indexes with more than one '...', which Python refuses too");
    }
    if (consuming > rank) {
      throw p.c.unsupported(
          "indexes "
              + consuming
              + " dimensions of a tensor of shape "
              + KerasGraphBuilder.shapeText(in));
    }
    long[] begin = new long[specs.size()];
    long[] end = new long[specs.size()];
    long[] strides = new long[specs.size()];
    long beginMask = 0;
    long endMask = 0;
    long ellipsisMask = 0;
    long newAxisMask = 0;
    long shrinkMask = 0;
    List<Long> out = new ArrayList<>();
    int axis = 0;
    for (int i = 0; i < specs.size(); i++) {
      Spec s = specs.get(i);
      strides[i] = 1;
      switch (s) {
        case Ellipsis e -> {
          ellipsisMask |= 1L << i;
          for (int k = 0; k < rank - consuming; k++) {
            out.add(in[axis++]);
          }
        }
        case NewAxis n -> {
          newAxisMask |= 1L << i;
          out.add(1L);
        }
        case Index ix -> {
          long n = in[axis++];
          if (n >= 0 && (ix.at() >= n || ix.at() < -n)) {
            throw p.c.unsupported(
                "indexes element " + ix.at() + " of a dimension of size " + n + ", out of range");
          }
          begin[i] = ix.at();
          end[i] = ix.at() + 1;
          shrinkMask |= 1L << i;
        }
        case Range r -> {
          long step = r.step() == null ? 1 : r.step();
          if (step == 0) {
            throw p.c.unsupported("slices with step 0, which Python refuses too");
          }
          strides[i] = step;
          if (r.start() == null) {
            beginMask |= 1L << i;
          } else {
            begin[i] = r.start();
          }
          if (r.stop() == null) {
            endMask |= 1L << i;
          } else {
            end[i] = r.stop();
          }
          out.add(length(in[axis++], r.start(), r.stop(), step));
        }
      }
    }
    while (axis < rank) {
      out.add(in[axis++]);
    }
    Emit e = p.c.e;
    Map<String, AttrValue> a = new LinkedHashMap<>(OpParams.typed(x.dtype()));
    a.put("Index", Emit.I32);
    a.put("begin_mask", Emit.attr(beginMask));
    a.put("end_mask", Emit.attr(endMask));
    a.put("ellipsis_mask", Emit.attr(ellipsisMask));
    a.put("new_axis_mask", Emit.attr(newAxisMask));
    a.put("shrink_axis_mask", Emit.attr(shrinkMask));
    String ref =
        e.raw(
            "StridedSlice",
            List.of(
                x.ref(), e.ints("begin", begin), e.ints("end", end), e.ints("strides", strides)),
            a);
    return x.with(ref, out.stream().mapToLong(Long::longValue).toArray());
  }

  private static Spec spec(OpParams p, JsonNode s) {
    if (s == null || s.isNull()) {
      return new NewAxis();
    }
    if (s.isIntegralNumber()) {
      return new Index(s.asLong());
    }
    if (s.isObject() && "__ellipsis__".equals(s.path("class_name").asString(""))) {
      return new Ellipsis();
    }
    if (s.isObject() && s.has("start") && s.has("stop") && s.has("step")) {
      return new Range(bound(p, s.get("start")), bound(p, s.get("stop")), bound(p, s.get("step")));
    }
    throw p.c.unsupported(
        "indexes with "
            + s
            + "; tfport builds ints, slices, '...' and tf.newaxis, not tensors, booleans or lists");
  }

  private static Long bound(OpParams p, JsonNode v) {
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber()) {
      throw p.c.unsupported(
          "slices with bound " + v + "; tfport builds slices whose bounds are ints");
    }
    return v.asLong();
  }

  /** Python's slice length over a dimension of size {@code n} (-1: unknown until run time). */
  static long length(long n, Long start, Long stop, long step) {
    if (n < 0) {
      return -1;
    }
    long lower = step > 0 ? 0 : -1;
    long upper = step > 0 ? n : n - 1;
    long b = start == null ? (step > 0 ? lower : upper) : clamp(start, n, lower, upper);
    long en = stop == null ? (step > 0 ? upper : lower) : clamp(stop, n, lower, upper);
    long len = step > 0 ? Math.ceilDiv(en - b, step) : Math.ceilDiv(b - en, -step);
    return Math.max(0, len);
  }

  private static long clamp(long v, long n, long lower, long upper) {
    return v < 0 ? Math.max(v + n, lower) : Math.min(v, upper);
  }
}
