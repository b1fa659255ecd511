package org.tfport.train;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.train.grad.GradContext;

/**
 * The losses Keras and TF.js know, built as graph ops so the backward pass runs through them; each
 * computes TF.js 4.22's per-sample value (the same ops, epsilon 1e-7 clipping), averaged over the
 * batch.
 */
public enum Loss {
  MEAN_SQUARED_ERROR,
  MEAN_ABSOLUTE_ERROR,
  BINARY_CROSSENTROPY,
  CATEGORICAL_CROSSENTROPY,
  SPARSE_CATEGORICAL_CROSSENTROPY,
  HINGE,
  HUBER,
  KL_DIVERGENCE;

  static final float EPSILON = 1e-7f;

  private static final Map<String, Loss> NAMES =
      Map.ofEntries(
          Map.entry("meansquarederror", MEAN_SQUARED_ERROR),
          Map.entry("mse", MEAN_SQUARED_ERROR),
          Map.entry("meanabsoluteerror", MEAN_ABSOLUTE_ERROR),
          Map.entry("mae", MEAN_ABSOLUTE_ERROR),
          Map.entry("binarycrossentropy", BINARY_CROSSENTROPY),
          Map.entry("categoricalcrossentropy", CATEGORICAL_CROSSENTROPY),
          Map.entry("sparsecategoricalcrossentropy", SPARSE_CATEGORICAL_CROSSENTROPY),
          Map.entry("hinge", HINGE),
          Map.entry("huber", HUBER),
          Map.entry("huberloss", HUBER),
          Map.entry("kldivergence", KL_DIVERGENCE),
          Map.entry("kld", KL_DIVERGENCE),
          Map.entry("kullbackleiblerdivergence", KL_DIVERGENCE));

  /** A loss by its Keras ({@code mean_squared_error}) or TF.js ({@code meanSquaredError}) name. */
  public static Loss of(String name) {
    Loss l = NAMES.get(name.replace("_", "").toLowerCase(Locale.ROOT));
    if (l == null) {
      throw new UsageException(
          "unknown loss '"
              + name
              + "'; use one of mean_squared_error, mean_absolute_error, binary_crossentropy,"
              + " categorical_crossentropy, sparse_categorical_crossentropy, hinge, huber, kl_divergence");
    }
    return l;
  }

  /** Whether targets are class indices, one per sample, rather than the prediction's shape. */
  public boolean sparse() {
    return this == SPARSE_CATEGORICAL_CROSSENTROPY;
  }

  /**
   * Emits the batch-mean loss of prediction {@code pred} (last dimension {@code classes}) against
   * target {@code y}.
   */
  String emit(GradContext e, String pred, String y, long classes) {
    String perSample =
        switch (this) {
          case MEAN_SQUARED_ERROR -> mean(e, e.unary("Square", e.binary("Sub", pred, y)));
          case MEAN_ABSOLUTE_ERROR -> mean(e, e.unary("Abs", e.binary("Sub", pred, y)));
          case CATEGORICAL_CROSSENTROPY -> categorical(e, pred, y);
          case SPARSE_CATEGORICAL_CROSSENTROPY -> {
            String ids = cast(e, e.unary("Floor", y), DataTypes.DT_FLOAT, INT32);
            String oneHot =
                e.raw(
                    "OneHot",
                    List.of(
                        ids,
                        e.constant(
                            org.tfport.core.Tensor.ofInts(
                                org.tfport.core.Shape.SCALAR, (int) classes)),
                        e.scalar(1f),
                        e.scalar(0f)),
                    Map.of(
                        "T", F32, "TI", new AttrValue.Type(INT32), "axis", new AttrValue.Int(-1)));
            // Static shape for the backward pass: OneHot's is not inferred.
            oneHot = e.reshape(oneHot, e.ints(-1, classes));
            yield categorical(e, clip(e, pred, EPSILON, 1 - EPSILON), oneHot);
          }
          case BINARY_CROSSENTROPY -> {
            String p = clip(e, pred, EPSILON, 1 - EPSILON);
            String logit = e.unary("Log", e.binary("RealDiv", p, e.binary("Sub", e.scalar(1f), p)));
            // max(x, 0) − x·z + log(1 + exp(−|x|))
            String l =
                e.binary(
                    "AddV2",
                    e.binary("Sub", e.unary("Relu", logit), e.mul(logit, y)),
                    e.unary("Log1p", e.unary("Exp", e.unary("Neg", e.unary("Abs", logit)))));
            yield mean(e, l);
          }
          case HINGE ->
              mean(
                  e,
                  e.binary("Maximum", e.scalar(0f), e.binary("Sub", e.scalar(1f), e.mul(y, pred))));
          case HUBER -> {
            String err = e.unary("Abs", e.binary("Sub", pred, y));
            String quad = e.binary("Minimum", err, e.scalar(1f));
            String lin = e.binary("Sub", err, quad);
            yield mean(e, e.binary("AddV2", e.mul(e.scalar(0.5f), e.mul(quad, quad)), lin));
          }
          case KL_DIVERGENCE -> {
            String t = clip(e, y, EPSILON, 1f);
            String p = clip(e, pred, EPSILON, 1f);
            yield e.sum(
                e.mul(y, e.unary("Log", e.binary("RealDiv", t, p))), new long[] {-1}, false);
          }
        };
    return e.raw(
        "Mean",
        List.of(perSample, e.ints(0)),
        Map.of(
            "T", F32, "Tidx", new AttrValue.Type(INT32), "keep_dims", new AttrValue.Bool(false)));
  }

  private static final AttrValue F32 = new AttrValue.Type(DataTypes.DT_FLOAT);
  private static final int INT32 = DataTypes.fromDType(DType.INT32);

  private static String mean(GradContext e, String x) {
    return e.raw(
        "Mean",
        List.of(x, e.ints(-1)),
        Map.of(
            "T", F32, "Tidx", new AttrValue.Type(INT32), "keep_dims", new AttrValue.Bool(false)));
  }

  private static String clip(GradContext e, String x, float lo, float hi) {
    return e.op("ClipByValue", List.of(x, e.scalar(lo), e.scalar(hi)));
  }

  private static String cast(GradContext e, String x, int from, int to) {
    return e.raw(
        "Cast",
        List.of(x),
        Map.of(
            "SrcT",
            new AttrValue.Type(from),
            "DstT",
            new AttrValue.Type(to),
            "Truncate",
            new AttrValue.Bool(false)));
  }

  /** −Σ y·log(clip(p / Σp)) over the last axis. */
  private static String categorical(GradContext e, String pred, String y) {
    String p = e.binary("RealDiv", pred, e.sum(pred, new long[] {-1}, true));
    p = clip(e, p, EPSILON, 1 - EPSILON);
    return e.unary("Neg", e.sum(e.mul(y, e.unary("Log", p)), new long[] {-1}, false));
  }
}
