package org.tfport.convert.keras;

import static org.tfport.convert.keras.Keras1LayerConfig.base;
import static org.tfport.convert.keras.Keras1LayerConfig.constraint;
import static org.tfport.convert.keras.Keras1LayerConfig.initializer;
import static org.tfport.convert.keras.Keras1LayerConfig.inputShape;
import static org.tfport.convert.keras.Keras1LayerConfig.ints;
import static org.tfport.convert.keras.Keras1LayerConfig.named;
import static org.tfport.convert.keras.Keras1LayerConfig.padding;
import static org.tfport.convert.keras.Keras1LayerConfig.regularizer;
import static org.tfport.convert.keras.Keras1LayerConfig.zeroPadding2D;

import java.nio.file.Path;
import java.util.List;
import org.tfport.core.Permutation;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasModel;
import org.tfport.formats.keras.KerasWeight;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Keras 1 configs and weights in Keras 2 form, which is what TF.js reads. The translation follows
 * what Keras 2's own loader did with Keras 1 files (its legacy argument converters and weight
 * preprocessing), so a converted model computes what Keras computed. Every key of a translated
 * layer config must be understood: a setting that cannot be carried over refuses the model rather
 * than being dropped.
 *
 * <p>Classes TF.js has no layer for (Lambda, Highway, MaxoutDense, ...) are left as they are, so
 * the common class check names them like any other unsupported layer.
 */
final class Keras1Upgrade {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private final Path file;

  /** Used where a layer has no {@code dim_ordering}: Keras 1 took it from {@code keras.json}. */
  private final String defaultOrdering;

  private Keras1Upgrade(Path file, String backend) {
    this.file = file;
    this.defaultOrdering = "theano".equals(backend) ? "th" : "tf";
  }

  /**
   * Rewrites a Keras 1 {@code model_config} ({@code {class_name, config}}) in place into Keras 2
   * form.
   */
  static void upgrade(Path file, String backend, ObjectNode config) {
    new Keras1Upgrade(file, backend).layer(config, true);
  }

  /**
   * The stored weights of one top-level layer, named and laid out as Keras 2 (and TF.js) expect.
   */
  static List<KerasWeight> weights(KerasModel model, KerasLayerWeights layer) {
    return Keras1Weights.of(model, layer);
  }

  static String dataFormat(String dimOrdering) {
    return "th".equals(dimOrdering) ? "channels_first" : "channels_last";
  }

  /** Translates {@code layer} ({@code class_name} and {@code config}) in place; other keys stay. */
  private void layer(ObjectNode layer, boolean first) {
    String cls = layer.path("class_name").asString("");
    JsonNode cfg = layer.get("config");
    switch (cls) {
      case "Sequential" -> sequential(cfg);
      case "Model" -> functional(cfg);
      default -> {
        if (!(cfg instanceof ObjectNode in)) {
          return;
        }
        Keras1LayerConfig c = new Keras1LayerConfig(file, cls, in);
        String renamed = translate(c, first);
        if (renamed == null) {
          // Not a class TF.js has; the class check after this names it.
          return;
        }
        c.finish();
        layer.put("class_name", renamed);
        layer.set("config", c.out);
      }
    }
  }

  private void sequential(JsonNode cfg) {
    JsonNode layers = cfg != null && cfg.isArray() ? cfg : cfg == null ? null : cfg.get("layers");
    if (layers == null || !layers.isArray()) {
      return;
    }
    boolean first = true;
    for (JsonNode l : layers) {
      if (l instanceof ObjectNode o) {
        if (o.path("class_name").asString("").equals("Merge")) {
          String name = o.path("config").path("name").asString("?");
          throw new UnsupportedModelException(
              file
                  + ": Keras 1 layer '"
                  + name
                  + "' (Merge) joins whole"
                  + " Sequential branches, which Keras 2 and TF.js have no form for; rebuild the model with the"
                  + " functional API (keras.layers.merge) in Keras 1 or 2 and save it again");
        }
        layer(o, first);
      }
      first = false;
    }
  }

  private void functional(JsonNode cfg) {
    if (cfg == null || !cfg.path("layers").isArray()) {
      return;
    }
    for (JsonNode l : cfg.get("layers")) {
      if (!(l instanceof ObjectNode o)) {
        continue;
      }
      layer(o, false);
      // Keras 1 wrote each inbound tensor as [layer, node, tensor]; Keras 2 adds a kwargs dict.
      for (JsonNode node : o.path("inbound_nodes")) {
        for (JsonNode in : node) {
          if (in instanceof ArrayNode a && a.size() == 3) {
            a.addObject();
          }
        }
      }
    }
  }

  /**
   * Fills {@code c.out} for a Keras 1 class and returns its Keras 2 class, or null to leave it as
   * is.
   */
  private String translate(Keras1LayerConfig c, boolean first) {
    String cls = c.cls;
    switch (cls) {
      case "InputLayer" -> {
        c.copy("name");
        c.copy("batch_input_shape");
        c.move("input_dtype", "dtype");
        c.copy("sparse");
        return cls;
      }
      case "Dense" -> {
        dense(c, first);
        return cls;
      }
      case "TimeDistributedDense" -> {
        return timeDistributedDense(c, first);
      }
      case "Convolution1D", "AtrousConvolution1D" -> {
        conv(c, 1, first);
        return "Conv1D";
      }
      case "Convolution2D", "AtrousConvolution2D" -> {
        conv(c, 2, first);
        return "Conv2D";
      }
      case "Convolution3D" -> {
        conv(c, 3, first);
        return "Conv3D";
      }
      case "Deconvolution2D" -> {
        conv(c, 2, first);
        return "Conv2DTranspose";
      }
      case "SeparableConvolution2D" -> {
        separable(c);
        return "SeparableConv2D";
      }
      case "LSTM", "GRU", "SimpleRNN" -> {
        recurrent(c, first);
        return cls;
      }
      case "Embedding" -> {
        embedding(c);
        return cls;
      }
      case "BatchNormalization" -> {
        batchNorm(c);
        return cls;
      }
      case "MaxPooling1D", "AveragePooling1D" -> {
        base(c);
        c.out.set("pool_size", F.arrayNode().add(c.intOr("pool_length", 2)));
        JsonNode stride = c.take("stride");
        c.out.set("strides", stride == null ? F.nullNode() : F.arrayNode().add(stride.asInt()));
        c.out.put("padding", padding(c));
        return cls;
      }
      case "MaxPooling2D", "AveragePooling2D", "MaxPooling3D", "AveragePooling3D" -> {
        base(c);
        c.copy("pool_size");
        c.copy("strides");
        c.out.put("padding", padding(c));
        c.out.put("data_format", dataFormat(c));
        return cls;
      }
      case "GlobalMaxPooling1D", "GlobalAveragePooling1D" -> {
        base(c);
        return cls;
      }
      case "GlobalMaxPooling2D", "GlobalAveragePooling2D" -> {
        base(c);
        c.out.put("data_format", dataFormat(c));
        return cls;
      }
      case "Dropout", "SpatialDropout1D", "GaussianDropout" -> {
        base(c);
        c.move("p", "rate");
        return cls;
      }
      case "SpatialDropout2D", "SpatialDropout3D" -> {
        base(c);
        c.move("p", "rate");
        c.out.put("data_format", dataFormat(c));
        return cls;
      }
      case "GaussianNoise" -> {
        base(c);
        c.move("sigma", "stddev");
        return cls;
      }
      case "Activation" -> {
        base(c);
        c.copy("activation");
        return cls;
      }
      case "Flatten" -> {
        base(c);
        return cls;
      }
      case "Reshape" -> {
        base(c);
        c.copy("target_shape");
        return cls;
      }
      case "Permute" -> {
        base(c);
        c.copy("dims");
        return cls;
      }
      case "RepeatVector" -> {
        base(c);
        c.copy("n");
        return cls;
      }
      case "Masking" -> {
        base(c);
        c.copy("mask_value");
        return cls;
      }
      case "LeakyReLU", "ELU" -> {
        base(c);
        c.copy("alpha");
        return cls;
      }
      case "ThresholdedReLU" -> {
        base(c);
        c.copy("theta");
        return cls;
      }
      case "PReLU" -> {
        base(c);
        c.out.set("alpha_initializer", initializer(c, "init", "zero"));
        c.out.putNull("alpha_regularizer");
        c.out.putNull("alpha_constraint");
        c.copy("shared_axes");
        return cls;
      }
      case "ZeroPadding2D" -> {
        base(c);
        c.out.set("padding", zeroPadding2D(c));
        c.out.put("data_format", dataFormat(c));
        return cls;
      }
      case "Cropping2D" -> {
        base(c);
        c.copy("cropping");
        c.out.put("data_format", dataFormat(c));
        return cls;
      }
      case "UpSampling2D" -> {
        base(c);
        c.copy("size");
        c.out.put("data_format", dataFormat(c));
        return cls;
      }
      case "TimeDistributed", "Bidirectional" -> {
        base(c);
        JsonNode inner = c.take("layer");
        if (!(inner instanceof ObjectNode io)) {
          throw c.refuse("has no wrapped layer config");
        }
        ObjectNode copy = io.deepCopy();
        layer(copy, false);
        c.out.set("layer", copy);
        if (cls.equals("Bidirectional")) {
          c.copy("merge_mode");
        }
        return cls;
      }
      case "Merge" -> {
        return merge(c);
      }
      default -> {
        if (TfjsLayerClasses.SUPPORTED.contains(cls)) {
          throw c.refuse(
              "is not translated from Keras 1 by tfport (TF.js would misread its Keras 1"
                  + " settings as Keras 2 ones); load the model in Keras 2 and save it again");
        }
        return null;
      }
    }
  }

  private void dense(Keras1LayerConfig c, boolean first) {
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
  private String timeDistributedDense(Keras1LayerConfig c, boolean first) {
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

  private void conv(Keras1LayerConfig c, int rank, boolean first) {
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
      c.out.put("data_format", dataFormat(ordering));
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

  private void separable(Keras1LayerConfig c) {
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
    c.out.put("data_format", dataFormat(ordering));
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

  private void recurrent(Keras1LayerConfig c, boolean first) {
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

  private void embedding(Keras1LayerConfig c) {
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

  private void batchNorm(Keras1LayerConfig c) {
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

  /** A functional-API merge; Keras 2 split the modes into one class each. */
  private String merge(Keras1LayerConfig c) {
    base(c);
    JsonNode modeNode = c.take("mode");
    JsonNode modeType = c.take("mode_type");
    if (modeNode == null
        || !modeNode.isString()
        || (modeType != null && !modeType.asString("").equals("raw"))) {
      throw c.refuse(
          "merges with a Python function, which cannot be carried out of Keras; use a built-in"
              + " merge mode");
    }
    for (String k :
        new String[] {
          "output_shape", "output_shape_type", "output_mask", "output_mask_type", "arguments"
        }) {
      c.take(k);
    }
    JsonNode concatAxis = c.take("concat_axis");
    JsonNode dotAxes = c.take("dot_axes");
    String mode = modeNode.stringValue();
    return switch (mode) {
      case "sum" -> "Add";
      case "mul" -> "Multiply";
      case "ave" -> "Average";
      case "max" -> "Maximum";
      case "concat" -> {
        c.out.put("axis", concatAxis == null ? -1 : concatAxis.asInt());
        yield "Concatenate";
      }
      case "dot" -> {
        c.out.set("axes", dotAxes == null ? F.numberNode(-1) : dotAxes);
        c.out.put("normalize", false);
        yield "Dot";
      }
      default ->
          throw c.refuse("merges in mode '" + mode + "', which no Keras 2 or TF.js layer computes");
    };
  }

  private String ordering(Keras1LayerConfig c) {
    JsonNode o = c.take("dim_ordering");
    String v = o == null ? "default" : o.asString("default");
    return switch (v) {
      case "th", "tf" -> v;
      case "default" -> defaultOrdering;
      default -> throw c.refuse("has dim_ordering '" + v + "'; Keras 1 knew only 'th' and 'tf'");
    };
  }

  private String dataFormat(Keras1LayerConfig c) {
    return dataFormat(ordering(c));
  }
}
