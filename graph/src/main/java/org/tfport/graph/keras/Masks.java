package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.graph.DataTypes;

/**
 * Keras masks as they flow between layers ({@code compute_mask}): {@code Masking} and {@code
 * Embedding(mask_zero=True)} make one, layers that support masking pass theirs on, recurrent layers
 * read it and pass it on only with {@code return_sequences}, merges combine them, every other layer
 * drops it. A mask is held as float 0/1 of the shape Keras gives it (the input's without its last
 * axis for {@code Masking}, the ids' for an embedding), which the recurrent step multiplies with.
 */
final class Masks {
  private Masks() {}

  static final Set<String> RECURRENT =
      Set.of("LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU", "ConvLSTM2D", "Bidirectional");

  /** Layers with {@code supports_masking} that return their input's mask unchanged. */
  private static final Set<String> PASS =
      Set.of(
          "Dropout",
          "SpatialDropout1D",
          "SpatialDropout2D",
          "SpatialDropout3D",
          "GaussianNoise",
          "GaussianDropout",
          "AlphaDropout",
          "ActivityRegularization",
          "Activation",
          "ReLU",
          "LeakyReLU",
          "PReLU",
          "ELU",
          "ThresholdedReLU",
          "Softmax",
          "Dense",
          "BatchNormalization",
          "BatchNormalizationV1",
          "LayerNormalization",
          "Rescaling",
          "TimeDistributed");

  private static final Set<String> ELEMENTWISE_MERGES =
      Set.of("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum");

  /** The mask of each of the layer call's outputs (null entries for none). */
  static List<String> of(Call c, List<KT> in, List<KT> out) {
    List<String> masks = new ArrayList<>();
    for (int i = 0; i < out.size(); i++) {
      masks.add(null);
    }
    if (out.isEmpty()) {
      return masks;
    }
    String cls = c.cls;
    if (cls.equals("Masking")) {
      masks.set(0, masking(c, in.get(0)));
    } else if (cls.equals("Embedding")) {
      if (c.bool("mask_zero", false)) {
        masks.set(0, nonZero(c, in.get(0)));
      }
    } else if (RECURRENT.contains(cls)) {
      boolean sequences =
          cls.equals("Bidirectional")
              ? c.cfg.path("layer").path("config").path("return_sequences").asBoolean(false)
              : c.bool("return_sequences", false);
      if (sequences) {
        masks.set(0, c.mask(0));
      }
    } else if (PASS.contains(cls)) {
      masks.set(0, c.mask(0));
    } else if (ELEMENTWISE_MERGES.contains(cls)) {
      masks.set(0, all(c, present(c, in.size())));
    } else if (cls.equals("Concatenate")) {
      masks.set(0, concatenated(c, in));
    }
    return masks;
  }

  private static List<String> present(Call c, int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (c.mask(i) != null) {
        out.add(c.mask(i));
      }
    }
    return out;
  }

  /** Keras' {@code all} over the masks: their product, as 0/1 values. */
  private static String all(Call c, List<String> masks) {
    String m = null;
    for (String k : masks) {
      m = m == null ? k : c.e.binary("Mul", m, k);
    }
    return m;
  }

  /**
   * Along the last axis, a step is kept where every input keeps it (missing masks keep all); along
   * another axis, the inputs' masks joined, which needs every input to have one.
   */
  private static String concatenated(Call c, List<KT> in) {
    List<String> masks = present(c, in.size());
    if (masks.isEmpty()) {
      return null;
    }
    int rank = in.get(0).rank();
    int axis = c.integer("axis", -1);
    axis = axis < 0 ? axis + rank : axis;
    if (axis == rank - 1) {
      return all(c, masks);
    }
    if (masks.size() != in.size()) {
      throw c.unsupported(
          "joins masked and unmasked inputs along axis "
              + axis
              + ", a mask tfport does not build; mask every input or none");
    }
    return c.e.concat(masks, axis);
  }

  /** A mask passed as {@code mask=}: Keras reads it as booleans, so any nonzero value keeps. */
  static String explicit(Call c, KT m) {
    Emit e = c.e;
    if (m.dtype() == KT.BOOL) {
      return e.cast(m.ref(), KT.BOOL, DataTypes.DT_FLOAT);
    }
    String x =
        m.dtype() == DataTypes.DT_FLOAT ? m.ref() : e.cast(m.ref(), m.dtype(), DataTypes.DT_FLOAT);
    return e.cast(e.binary("NotEqual", x, e.scalar(0f)), KT.BOOL, DataTypes.DT_FLOAT);
  }

  /** {@code any(x != mask_value, axis=-1)}, as the Masking layer computes it. */
  private static String masking(Call c, KT x) {
    Emit e = c.e;
    String ne = e.binary("NotEqual", x.ref(), e.scalar((float) c.number("mask_value", 0)));
    // any() as the max of 0/1 values: TFLite has no builtin for Any.
    return e.reduce("Max", e.cast(ne, KT.BOOL, DataTypes.DT_FLOAT), new long[] {-1}, false);
  }

  /** {@code ids != 0}, an embedding's mask. */
  private static String nonZero(Call c, KT ids) {
    Emit e = c.e;
    String x = ids.ref();
    int dt = ids.dtype();
    if (dt != KT.INT32 && dt != DataTypes.DT_FLOAT) {
      x = e.cast(x, dt, KT.INT32);
      dt = KT.INT32;
    }
    String zero = dt == KT.INT32 ? e.intScalar(0) : e.scalar(0f);
    String ne =
        e.raw(
            "NotEqual",
            List.of(x, zero),
            Map.of("T", Emit.type(dt), "incompatible_shape_error", Emit.attr(true)));
    return e.cast(ne, KT.BOOL, DataTypes.DT_FLOAT);
  }
}
