package org.tfport.formats.keras;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * The names, in Keras' creation order, of the weights each layer class owns, which is how Keras 3
 * numbers them ({@code vars/0}, {@code vars/1}, ...) and how TF.js names them ({@code kernel},
 * ...).
 */
final class LayerVars {
  private static final Set<String> RECURRENT = Set.of("LSTM", "GRU", "SimpleRNN");
  private static final Set<String> WEIGHTLESS =
      Set.of(
          "InputLayer",
          "Dropout",
          "SpatialDropout1D",
          "SpatialDropout2D",
          "SpatialDropout3D",
          "Flatten",
          "Activation",
          "RepeatVector",
          "Reshape",
          "Permute",
          "Masking",
          "ReLU",
          "LeakyReLU",
          "ELU",
          "ThresholdedReLU",
          "Softmax",
          "Cropping1D",
          "Cropping2D",
          "Cropping3D",
          "UpSampling1D",
          "UpSampling2D",
          "UpSampling3D",
          "ZeroPadding1D",
          "ZeroPadding2D",
          "ZeroPadding3D",
          "MaxPooling1D",
          "MaxPooling2D",
          "MaxPooling3D",
          "AveragePooling1D",
          "AveragePooling2D",
          "AveragePooling3D",
          "GlobalAveragePooling1D",
          "GlobalAveragePooling2D",
          "GlobalAveragePooling3D",
          "GlobalMaxPooling1D",
          "GlobalMaxPooling2D",
          "GlobalMaxPooling3D",
          "Add",
          "Subtract",
          "Multiply",
          "Average",
          "Maximum",
          "Minimum",
          "Concatenate",
          "Dot",
          "GaussianNoise",
          "GaussianDropout",
          "AlphaDropout",
          "Rescaling",
          "CenterCrop",
          "Resizing");

  private LayerVars() {}

  static boolean isRecurrent(String cls) {
    return RECURRENT.contains(cls);
  }

  static boolean isWeightless(String cls) {
    return WEIGHTLESS.contains(cls);
  }

  /**
   * The weight names for a layer of this class and config, or null when tfport does not know them.
   */
  static List<String> names(String cls, JsonNode cfg) {
    boolean bias = cfg.path("use_bias").asBoolean(true);
    List<String> n = new ArrayList<>();
    switch (cls) {
      case "Dense",
          "Conv1D",
          "Conv2D",
          "Conv3D",
          "Conv1DTranspose",
          "Conv2DTranspose",
          "Conv3DTranspose" -> {
        n.add("kernel");
        if (bias) {
          n.add("bias");
        }
      }
      case "DepthwiseConv1D", "DepthwiseConv2D" -> {
        n.add("depthwise_kernel");
        if (bias) {
          n.add("bias");
        }
      }
      case "SeparableConv1D", "SeparableConv2D" -> {
        n.add("depthwise_kernel");
        n.add("pointwise_kernel");
        if (bias) {
          n.add("bias");
        }
      }
      case "LSTM", "GRU", "SimpleRNN" -> {
        n.add("kernel");
        n.add("recurrent_kernel");
        if (bias) {
          n.add("bias");
        }
      }
      case "BatchNormalization" -> {
        if (cfg.path("scale").asBoolean(true)) {
          n.add("gamma");
        }
        if (cfg.path("center").asBoolean(true)) {
          n.add("beta");
        }
        n.add("moving_mean");
        n.add("moving_variance");
      }
      case "LayerNormalization" -> {
        if (cfg.path("scale").asBoolean(true)) {
          n.add("gamma");
        }
        if (cfg.path("center").asBoolean(true)) {
          n.add("beta");
        }
      }
      case "Embedding" -> n.add("embeddings");
      case "Attention" -> {
        // Keras 3 creates them in this order in build(): scale, then the concat score weight.
        if (cfg.path("use_scale").asBoolean(false)) {
          n.add("scale");
        }
        if (cfg.path("score_mode").asString("dot").equals("concat")) {
          n.add("concat_score_weight");
        }
      }
      case "AdditiveAttention" -> {
        if (cfg.path("use_scale").asBoolean(true)) {
          n.add("scale");
        }
      }
      case "PReLU" -> n.add("alpha");
      default -> {
        return WEIGHTLESS.contains(cls) ? List.of() : null;
      }
    }
    return n;
  }
}
