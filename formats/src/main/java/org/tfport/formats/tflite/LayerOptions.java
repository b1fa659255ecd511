package org.tfport.formats.tflite;

import java.util.Map;
import java.util.Objects;

/**
 * The typed options tables of the layer ops: convolutions (Conv2D, DepthwiseConv2D, TransposeConv),
 * pooling, fully connected and batched matrix products, and the unidirectional LSTM. {@link
 * BuiltinOptions} extends this interface so they are named {@code BuiltinOptions.Conv2D} and so on,
 * as its other tables are; use them by those names.
 */
public interface LayerOptions {
  record Conv2D(
      BuiltinOptions.Padding padding,
      int strideW,
      int strideH,
      BuiltinOptions.Activation fusedActivation,
      int dilationWFactor,
      int dilationHFactor,
      int quantizedBiasType)
      implements BuiltinOptions {
    public Conv2D {
      Objects.requireNonNull(padding);
      Objects.requireNonNull(fusedActivation);
    }

    /** Stride and padding with no dilation, activation or bias type. */
    public Conv2D(
        BuiltinOptions.Padding padding,
        int strideW,
        int strideH,
        BuiltinOptions.Activation fusedActivation) {
      this(padding, strideW, strideH, fusedActivation, 1, 1, 0);
    }

    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.CONV_2D_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map(
          "padding",
          padding.ordinal(),
          "stride_w",
          strideW,
          "stride_h",
          strideH,
          "fused_activation_function",
          fusedActivation.ordinal(),
          "dilation_w_factor",
          dilationWFactor,
          "dilation_h_factor",
          dilationHFactor,
          "quantized_bias_type",
          quantizedBiasType);
    }
  }

  record DepthwiseConv2D(
      BuiltinOptions.Padding padding,
      int strideW,
      int strideH,
      int depthMultiplier,
      BuiltinOptions.Activation fusedActivation,
      int dilationWFactor,
      int dilationHFactor)
      implements BuiltinOptions {
    public DepthwiseConv2D {
      Objects.requireNonNull(padding);
      Objects.requireNonNull(fusedActivation);
    }

    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.DEPTHWISE_CONV_2D_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map(
          "padding",
          padding.ordinal(),
          "stride_w",
          strideW,
          "stride_h",
          strideH,
          "depth_multiplier",
          depthMultiplier,
          "fused_activation_function",
          fusedActivation.ordinal(),
          "dilation_w_factor",
          dilationWFactor,
          "dilation_h_factor",
          dilationHFactor);
    }
  }

  /** For AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D. */
  record Pool2D(
      BuiltinOptions.Padding padding,
      int strideW,
      int strideH,
      int filterWidth,
      int filterHeight,
      BuiltinOptions.Activation fusedActivation)
      implements BuiltinOptions {
    public Pool2D {
      Objects.requireNonNull(padding);
      Objects.requireNonNull(fusedActivation);
    }

    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.POOL_2D_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map(
          "padding",
          padding.ordinal(),
          "stride_w",
          strideW,
          "stride_h",
          strideH,
          "filter_width",
          filterWidth,
          "filter_height",
          filterHeight,
          "fused_activation_function",
          fusedActivation.ordinal());
    }
  }

  /**
   * {@code weightsFormat}: 0 DEFAULT, 1 SHUFFLED4x16INT8; {@code quantizedBiasType}: a TensorType
   * id, 0 = unset.
   */
  record FullyConnected(
      BuiltinOptions.Activation fusedActivation,
      int weightsFormat,
      boolean keepNumDims,
      boolean asymmetricQuantizeInputs,
      int quantizedBiasType)
      implements BuiltinOptions {
    public FullyConnected {
      Objects.requireNonNull(fusedActivation);
    }

    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.FULLY_CONNECTED_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map(
          "fused_activation_function",
          fusedActivation.ordinal(),
          "weights_format",
          weightsFormat,
          "keep_num_dims",
          keepNumDims,
          "asymmetric_quantize_inputs",
          asymmetricQuantizeInputs,
          "quantized_bias_type",
          quantizedBiasType);
    }
  }

  record TransposeConv(
      BuiltinOptions.Padding padding,
      int strideW,
      int strideH,
      BuiltinOptions.Activation fusedActivation,
      int quantizedBiasType)
      implements BuiltinOptions {
    public TransposeConv {
      Objects.requireNonNull(padding);
      Objects.requireNonNull(fusedActivation);
    }

    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.TRANSPOSE_CONV_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map(
          "padding",
          padding.ordinal(),
          "stride_w",
          strideW,
          "stride_h",
          strideH,
          "fused_activation_function",
          fusedActivation.ordinal(),
          "quantized_bias_type",
          quantizedBiasType);
    }
  }

  record UnidirectionalSequenceLstm(
      BuiltinOptions.Activation fusedActivation,
      float cellClip,
      float projClip,
      boolean timeMajor,
      boolean asymmetricQuantizeInputs,
      boolean diagonalRecurrentTensors)
      implements BuiltinOptions {
    public UnidirectionalSequenceLstm {
      Objects.requireNonNull(fusedActivation);
    }

    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.UNIDIRECTIONAL_SEQUENCE_LSTM_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map(
          "fused_activation_function",
          fusedActivation.ordinal(),
          "cell_clip",
          cellClip,
          "proj_clip",
          projClip,
          "time_major",
          timeMajor,
          "asymmetric_quantize_inputs",
          asymmetricQuantizeInputs,
          "diagonal_recurrent_tensors",
          diagonalRecurrentTensors);
    }
  }

  record BatchMatMul(boolean adjX, boolean adjY, boolean asymmetricQuantizeInputs)
      implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.BATCH_MATMUL_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map(
          "adj_x", adjX, "adj_y", adjY, "asymmetric_quantize_inputs", asymmetricQuantizeInputs);
    }
  }
}
