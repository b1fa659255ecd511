package org.tfport.convert.keras;

import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Keras class names TF.js layers 4.22 can deserialize ({@code serialization.registerClass}).
 */
final class TfjsLayerClasses {
  static final Set<String> SUPPORTED =
      Set.of(
          "Sequential",
          "Model",
          "Functional",
          "InputLayer",
          "Dense",
          "Dropout",
          "SpatialDropout1D",
          "Flatten",
          "Activation",
          "RepeatVector",
          "Reshape",
          "Permute",
          "Masking",
          "Embedding",
          "ReLU",
          "LeakyReLU",
          "PReLU",
          "ELU",
          "ThresholdedReLU",
          "Softmax",
          "Conv1D",
          "Conv2D",
          "Conv3D",
          "Conv2DTranspose",
          "Conv3DTranspose",
          "SeparableConv2D",
          "DepthwiseConv2D",
          "Cropping2D",
          "UpSampling2D",
          "ZeroPadding2D",
          "MaxPooling1D",
          "MaxPooling2D",
          "MaxPooling3D",
          "AveragePooling1D",
          "AveragePooling2D",
          "AveragePooling3D",
          "GlobalAveragePooling1D",
          "GlobalAveragePooling2D",
          "GlobalMaxPooling1D",
          "GlobalMaxPooling2D",
          "Add",
          "Multiply",
          "Average",
          "Maximum",
          "Minimum",
          "Concatenate",
          "Dot",
          "BatchNormalization",
          "LayerNormalization",
          "GaussianNoise",
          "GaussianDropout",
          "AlphaDropout",
          "RNN",
          "SimpleRNN",
          "SimpleRNNCell",
          "GRU",
          "GRUCell",
          "LSTM",
          "LSTMCell",
          "StackedRNNCells",
          "ConvLSTM2D",
          "ConvLSTM2DCell",
          "TimeDistributed",
          "Bidirectional",
          "Rescaling",
          "CenterCrop",
          "Resizing",
          "CategoryEncoding",
          "RandomWidth",
          "RandomHeight");

  /**
   * Class names older Keras wrote for layers TF.js knows under another name (upstream renames
   * these).
   */
  static final Map<String, String> RENAMES =
      Map.of(
          "BatchNormalizationV1", "BatchNormalization",
          "BatchNormalizationV2", "BatchNormalization",
          "UnifiedGRU", "GRU",
          "UnifiedLSTM", "LSTM",
          "Convolution1D", "Conv1D",
          "Convolution2D", "Conv2D",
          "Convolution3D", "Conv3D",
          "Deconvolution2D", "Conv2DTranspose");

  private TfjsLayerClasses() {}

  /**
   * A setting of a supported class that TF.js 4.22 rejects at load time, described for the error
   * message, or null when the config is fine.
   */
  static String unsupportedSetting(String cls, JsonNode cfg) {
    if (cls.equals("ELU") && cfg.has("alpha") && cfg.path("alpha").asDouble(1.0) != 1.0) {
      return "alpha " + cfg.path("alpha").asDouble() + " (TF.js supports only 1.0)";
    }
    if (cls.equals("ReLU")
        && (cfg.path("threshold").asDouble(0) != 0
            || cfg.path("negative_slope").asDouble(0) != 0)) {
      // LeakyReLU-shaped ReLUs were rewritten before this check; TF.js ignores the rest silently.
      return "threshold "
          + cfg.path("threshold").asDouble(0)
          + " and negative_slope "
          + cfg.path("negative_slope").asDouble(0)
          + " (TF.js ReLU supports only max_value)";
    }
    if (cls.equals("Conv1D") && "causal".equals(cfg.path("padding").asString(""))) {
      return "padding 'causal' (TF.js 4.22 cannot run it)";
    }
    if (cls.equals("Conv1D") && "channels_first".equals(cfg.path("data_format").asString(""))) {
      return "data_format 'channels_first' (TF.js 4.22 computes it wrongly)";
    }
    return null;
  }

  /**
   * {@code ReLU(negative_slope=a)} with no threshold and no cap is exactly {@code
   * LeakyReLU(alpha=a)}, which TF.js has; its ReLU would silently drop the slope. The caller
   * renames the class.
   */
  static boolean isLeakyRelu(String cls, JsonNode cfg) {
    return cls.equals("ReLU")
        && cfg.path("threshold").asDouble(0) == 0
        && cfg.path("negative_slope").asDouble(0) != 0
        && cfg.path("max_value").isNull();
  }

  /**
   * Keys Keras writes but never uses, which TF.js refuses: separable convolutions inherit the
   * {@code kernel_*} settings of Conv but initialize through {@code depthwise_*}/{@code
   * pointwise_*}.
   */
  static void dropUnusedKeys(String cls, JsonNode cfg) {
    if ((cls.equals("SeparableConv1D") || cls.equals("SeparableConv2D"))
        && cfg instanceof ObjectNode o) {
      o.remove("kernel_initializer");
      o.remove("kernel_regularizer");
      o.remove("kernel_constraint");
    }
  }
}
