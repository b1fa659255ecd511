package org.tfport.convert.keras;

import static org.tfport.convert.keras.Keras1LayerConfig.base;
import static org.tfport.convert.keras.Keras1LayerConfig.initializer;
import static org.tfport.convert.keras.Keras1LayerConfig.padding;
import static org.tfport.convert.keras.Keras1LayerConfig.zeroPadding2D;

import java.nio.file.Path;
import java.util.List;
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

  /** The translations of layers with weights, and of dim_ordering. */
  private final Keras1WeightedLayers weighted;

  private Keras1Upgrade(Path file, String backend) {
    this.file = file;
    // Where a layer has no dim_ordering, Keras 1 took it from keras.json's backend.
    this.weighted = new Keras1WeightedLayers("theano".equals(backend) ? "th" : "tf");
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
        weighted.dense(c, first);
        return cls;
      }
      case "TimeDistributedDense" -> {
        return weighted.timeDistributedDense(c, first);
      }
      case "Convolution1D", "AtrousConvolution1D" -> {
        weighted.conv(c, 1, first);
        return "Conv1D";
      }
      case "Convolution2D", "AtrousConvolution2D" -> {
        weighted.conv(c, 2, first);
        return "Conv2D";
      }
      case "Convolution3D" -> {
        weighted.conv(c, 3, first);
        return "Conv3D";
      }
      case "Deconvolution2D" -> {
        weighted.conv(c, 2, first);
        return "Conv2DTranspose";
      }
      case "SeparableConvolution2D" -> {
        weighted.separable(c);
        return "SeparableConv2D";
      }
      case "LSTM", "GRU", "SimpleRNN" -> {
        weighted.recurrent(c, first);
        return cls;
      }
      case "Embedding" -> {
        weighted.embedding(c);
        return cls;
      }
      case "BatchNormalization" -> {
        weighted.batchNorm(c);
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
        c.out.put("data_format", weighted.dataFormat(c));
        return cls;
      }
      case "GlobalMaxPooling1D", "GlobalAveragePooling1D" -> {
        base(c);
        return cls;
      }
      case "GlobalMaxPooling2D", "GlobalAveragePooling2D" -> {
        base(c);
        c.out.put("data_format", weighted.dataFormat(c));
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
        c.out.put("data_format", weighted.dataFormat(c));
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
        c.out.put("data_format", weighted.dataFormat(c));
        return cls;
      }
      case "Cropping2D" -> {
        base(c);
        c.copy("cropping");
        c.out.put("data_format", weighted.dataFormat(c));
        return cls;
      }
      case "UpSampling2D" -> {
        base(c);
        c.copy("size");
        c.out.put("data_format", weighted.dataFormat(c));
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
}
