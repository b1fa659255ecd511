package org.tfport.convert.keras;

import static org.tfport.convert.keras.Keras1LayerConfig.base;
import static org.tfport.convert.keras.Keras1LayerConfig.constraint;
import static org.tfport.convert.keras.Keras1LayerConfig.initializer;
import static org.tfport.convert.keras.Keras1LayerConfig.inputShape;
import static org.tfport.convert.keras.Keras1LayerConfig.ints;
import static org.tfport.convert.keras.Keras1LayerConfig.named;
import static org.tfport.convert.keras.Keras1LayerConfig.padding;
import static org.tfport.convert.keras.Keras1LayerConfig.regularizer;

import org.tfport.core.Permutation;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Keras 1 layers with weights in Keras 2 form: Dense and TimeDistributedDense, convolutions (their
 * kernels' axes as Keras 2's loader reordered them), separable convolutions, recurrent layers,
 * Embedding and BatchNormalization; and the {@code dim_ordering} every spatial layer carries.
 */
final class Keras1WeightedLayers {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  /** Used where a layer has no {@code dim_ordering}: Keras 1 took it from {@code keras.json}. */
  private final String defaultOrdering;

  Keras1WeightedLayers(String defaultOrdering) {
    this.defaultOrdering = defaultOrdering;
  }

  void dense(Keras1LayerConfig c, boolean first) {
    base(c);
    c.move("output_dim", "units");
    c.copy("activation");
    c.out.put("use_bias", c.boolOr("bias", true));
    c.out.set("kernel_initializer", initializer(c, "init", "glorot_uniform"));
    c.out.set("bias_initializer", named("Zeros", F.objectNode()));
    c.out.set("kernel_regularizer", regularizer(c, "W_regularizer"));
    c.out.set("bias_regularizer", regularizer(c, "b_regularizer"));
    c.out.set("activity_regularizer", regularizer(c, "activity_regularizer"));
    c.out.set("kernel_constraint", constraint(c, "W_constraint", null));
    c.out.set("bias_constraint", constraint(c, "b_constraint", null));
    inputShape(c, first, false);
  }

  /**
   * Keras 1's TimeDistributedDense is Keras 2's TimeDistributed(Dense); the wrapper keeps the
   * layer's name, so TF.js finds the weights under it ({@code timedistributeddense_1/kernel}).
   */
  String timeDistributedDense(Keras1LayerConfig c, boolean first) {
    JsonNode length = c.take("input_length");
    dense(c, false);
    ObjectNode wrapper = F.objectNode();
    for (String k : new String[] {"name", "trainable", "batch_input_shape", "dtype"}) {
      JsonNode v = c.out.remove(k);
      if (v != null) {
        wrapper.set(k, v);
      }
    }
    JsonNode dim = c.in.get("input_dim");
    if (first && !wrapper.has("batch_input_shape") && dim != null && !dim.isNull()) {
      wrapper
          .putArray("batch_input_shape")
          .addNull()
          .add(length == null ? F.nullNode() : length)
          .add(dim);
    }
    ObjectNode dense = F.objectNode();
    dense.put("name", c.name);
    dense.setAll(c.out);
    wrapper.set("layer", named("Dense", dense));
    c.out = wrapper;
    return "TimeDistributed";
  }

  void conv(Keras1LayerConfig c, int rank, boolean first) {
    base(c);
    String ordering = rank == 1 ? "tf" : ordering(c);
    c.move("nb_filter", "filters");
    ArrayNode kernel = F.arrayNode();
    ArrayNode strides = F.arrayNode();
    ArrayNode dilation = F.arrayNode();
    switch (rank) {
      case 1 -> {
        kernel.add(c.intOr("filter_length", 1));
        strides.add(c.intOr("subsample_length", 1));
        dilation.add(c.intOr("atrous_rate", 1));
      }
      case 2 -> {
        kernel.add(c.intOr("nb_row", 1)).add(c.intOr("nb_col", 1));
        ints(c, "subsample", 2, strides);
        ints(c, "atrous_rate", 2, dilation);
      }
      default -> {
        kernel
            .add(c.intOr("kernel_dim1", 1))
            .add(c.intOr("kernel_dim2", 1))
            .add(c.intOr("kernel_dim3", 1));
        ints(c, "subsample", 3, strides);
        dilation.add(1).add(1).add(1);
      }
    }
    c.out.set("kernel_size", kernel);
    c.out.set("strides", strides);
    c.out.put("padding", padding(c));
    if (rank > 1) {
      c.out.put("data_format", Keras1Upgrade.dataFormat(ordering));
    }
    if (c.cls.equals("Deconvolution2D")) {
      // Keras 2 derives the output size from input, kernel, strides and padding, as Keras 1 did
      // when
      // building the layer; the stored output_shape only repeated it.
      c.take("output_shape");
    } else {
      c.out.set("dilation_rate", dilation);
    }
    c.copy("activation");
    c.out.put("use_bias", c.boolOr("bias", true));
    c.out.set("kernel_initializer", initializer(c, "init", "glorot_uniform"));
    c.out.set("bias_initializer", named("Zeros", F.objectNode()));
    c.out.set("kernel_regularizer", regularizer(c, "W_regularizer"));
    c.out.set("bias_regularizer", regularizer(c, "b_regularizer"));
    c.out.set("activity_regularizer", regularizer(c, "activity_regularizer"));
    c.out.set(
        "kernel_constraint", constraint(c, "W_constraint", kernelAxes(c.cls, rank, ordering)));
    c.out.set("bias_constraint", constraint(c, "b_constraint", null));
    if (rank == 1) {
      inputShape(c, first, true);
    }
  }

  /**
   * Where each Keras 1 kernel axis lands in the Keras 2 kernel ({@code -1}: dropped), for
   * constraints that name axes; null when the layout is unchanged. Mirrors the kernel rewrites in
   * {@link Keras1Weights}.
   */
  static int[] kernelAxes(String cls, int rank, String ordering) {
    int[] perm = Keras1Weights.kernelPermutation(cls, ordering);
    if (rank == 1) {
      return new int[] {0, -1, 1, 2};
    }
    if (perm == null) {
      return null;
    }
    return Permutation.inverse(perm);
  }

  void separable(Keras1LayerConfig c) {
    base(c);
    String ordering = ordering(c);
    if (ordering.equals("th")) {
      throw c.refuse(
          "uses dim_ordering 'th', whose separable kernels Keras 2 never read back; save it with"
              + " dim_ordering 'tf'");
    }
    c.move("nb_filter", "filters");
    c.out.set("kernel_size", F.arrayNode().add(c.intOr("nb_row", 1)).add(c.intOr("nb_col", 1)));
    ArrayNode strides = F.arrayNode();
    ints(c, "subsample", 2, strides);
    c.out.set("strides", strides);
    c.out.put("padding", padding(c));
    c.out.put("data_format", Keras1Upgrade.dataFormat(ordering));
    c.out.set("dilation_rate", F.arrayNode().add(1).add(1));
    c.copy("depth_multiplier");
    c.copy("activation");
    c.out.put("use_bias", c.boolOr("bias", true));
    JsonNode init = initializer(c, "init", "glorot_uniform");
    c.out.set("depthwise_initializer", init);
    c.out.set("pointwise_initializer", init.deepCopy());
    c.out.set("bias_initializer", named("Zeros", F.objectNode()));
    c.out.set("depthwise_regularizer", regularizer(c, "depthwise_regularizer"));
    c.out.set("pointwise_regularizer", regularizer(c, "pointwise_regularizer"));
    c.out.set("bias_regularizer", regularizer(c, "b_regularizer"));
    c.out.set("activity_regularizer", regularizer(c, "activity_regularizer"));
    c.out.set("depthwise_constraint", constraint(c, "depthwise_constraint", null));
    c.out.set("pointwise_constraint", constraint(c, "pointwise_constraint", null));
    c.out.set("bias_constraint", constraint(c, "b_constraint", null));
  }

  void recurrent(Keras1LayerConfig c, boolean first) {
    base(c);
    String cls = c.cls;
    c.copy("return_sequences");
    c.out.put("return_state", false);
    c.copy("go_backwards");
    c.copy("stateful");
    c.copy("unroll");
    c.move("output_dim", "units");
    c.copy("activation");
    if (!cls.equals("SimpleRNN")) {
      c.move("inner_activation", "recurrent_activation");
    }
    c.out.put("use_bias", true);
    c.out.set("kernel_initializer", initializer(c, "init", "glorot_uniform"));
    c.out.set("recurrent_initializer", initializer(c, "inner_init", "orthogonal"));
    c.out.set("bias_initializer", named("Zeros", F.objectNode()));
    if (cls.equals("LSTM")) {
      // Only how a fresh forget-gate bias starts; Keras 2 can say "ones" and nothing else.
      JsonNode fb = c.take("forget_bias_init");
      c.out.put("unit_forget_bias", fb == null || fb.asString("one").equals("one"));
    }
    c.out.set("kernel_regularizer", regularizer(c, "W_regularizer"));
    c.out.set("recurrent_regularizer", regularizer(c, "U_regularizer"));
    c.out.set("bias_regularizer", regularizer(c, "b_regularizer"));
    c.out.set("activity_regularizer", regularizer(c, "activity_regularizer"));
    c.out.putNull("kernel_constraint");
    c.out.putNull("recurrent_constraint");
    c.out.putNull("bias_constraint");
    c.out.put("dropout", c.doubleOr("dropout_W", 0));
    c.out.put("recurrent_dropout", c.doubleOr("dropout_U", 0));
    // consume_less chose how Keras 1 grouped the matrix products; the results are the same.
    JsonNode consume = c.take("consume_less");
    c.out.put("implementation", consume != null && consume.asString("").equals("gpu") ? 2 : 1);
    inputShape(c, first, true);
  }

  void embedding(Keras1LayerConfig c) {
    base(c);
    // Keras 1 recorded the int32 of its token input here; in Keras 2 (and TF.js) a layer's dtype is
    // also
    // the dtype of its weights, so an int32 Embedding would truncate its vectors. Keras 2 wrote
    // float32.
    if (c.out.has("dtype")) {
      c.out.put("dtype", "float32");
    }
    c.copy("input_dim");
    c.copy("output_dim");
    c.out.set("embeddings_initializer", initializer(c, "init", "uniform"));
    c.out.set("embeddings_regularizer", regularizer(c, "W_regularizer"));
    c.out.set("activity_regularizer", regularizer(c, "activity_regularizer"));
    c.out.set("embeddings_constraint", constraint(c, "W_constraint", null));
    c.copy("mask_zero");
    c.copy("input_length");
    // Keras 1 dropped whole words while training only; Keras 2 removed the setting, inference is
    // unchanged.
    c.take("dropout");
  }

  void batchNorm(Keras1LayerConfig c) {
    base(c);
    int mode = c.intOr("mode", 0);
    if (mode != 0) {
      throw c.refuse(
          "uses mode "
              + mode
              + " ("
              + (mode == 1 ? "per-sample normalization" : "batch statistics" + " also at inference")
              + "), which Keras 2 and TF.js do not have; only mode 0 converts");
    }
    c.copy("axis");
    c.copy("momentum");
    c.copy("epsilon");
    c.out.put("center", true);
    c.out.put("scale", true);
    c.out.set("beta_initializer", initializer(c, "beta_init", "zero"));
    c.out.set("gamma_initializer", initializer(c, "gamma_init", "one"));
    c.out.set("moving_mean_initializer", named("Zeros", F.objectNode()));
    c.out.set("moving_variance_initializer", named("Ones", F.objectNode()));
    c.out.set("beta_regularizer", regularizer(c, "beta_regularizer"));
    c.out.set("gamma_regularizer", regularizer(c, "gamma_regularizer"));
    c.out.putNull("beta_constraint");
    c.out.putNull("gamma_constraint");
  }

  String ordering(Keras1LayerConfig c) {
    JsonNode o = c.take("dim_ordering");
    String v = o == null ? "default" : o.asString("default");
    return switch (v) {
      case "th", "tf" -> v;
      case "default" -> defaultOrdering;
      default -> throw c.refuse("has dim_ordering '" + v + "'; Keras 1 knew only 'th' and 'tf'");
    };
  }

  String dataFormat(Keras1LayerConfig c) {
    return Keras1Upgrade.dataFormat(ordering(c));
  }
}
