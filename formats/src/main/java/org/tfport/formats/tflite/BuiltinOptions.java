package org.tfport.formats.tflite;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code builtin_options} of an operator: a typed record for the tables the common ops use (the
 * layer ops' declared in {@link LayerOptions}, whose members this interface inherits) and {@link
 * Other} (a name → value map, see {@link #fields()}) for every other member of the union, so any
 * options table survives a read/write round trip. Field names in {@link #fields()} are the schema's
 * snake_case names; {@link #of(TfliteOptionsType, Map)} turns such a map back into the typed
 * record.
 */
public sealed interface BuiltinOptions extends LayerOptions
    permits LayerOptions.Conv2D,
        LayerOptions.DepthwiseConv2D,
        LayerOptions.Pool2D,
        LayerOptions.FullyConnected,
        LayerOptions.TransposeConv,
        LayerOptions.UnidirectionalSequenceLstm,
        LayerOptions.BatchMatMul,
        BuiltinOptions.Softmax,
        BuiltinOptions.Concatenation,
        BuiltinOptions.Add,
        BuiltinOptions.Sub,
        BuiltinOptions.Mul,
        BuiltinOptions.Div,
        BuiltinOptions.Reshape,
        BuiltinOptions.ResizeBilinear,
        BuiltinOptions.ResizeNearestNeighbor,
        BuiltinOptions.Gather,
        BuiltinOptions.Reducer,
        BuiltinOptions.Squeeze,
        BuiltinOptions.StridedSlice,
        BuiltinOptions.Split,
        BuiltinOptions.SplitV,
        BuiltinOptions.Cast,
        BuiltinOptions.Shape,
        BuiltinOptions.Pack,
        BuiltinOptions.Unpack,
        BuiltinOptions.LeakyRelu,
        BuiltinOptions.If,
        BuiltinOptions.While,
        BuiltinOptions.CallOnce,
        BuiltinOptions.Gelu,
        BuiltinOptions.Other {
  /** The union member these options are. */
  TfliteOptionsType type();

  /** The schema's name for the options table, e.g. {@code Conv2DOptions}. */
  default String typeName() {
    return type().schemaName();
  }

  /**
   * Every field of the table, in field-id order, as read (defaults where the file omits a field).
   */
  Map<String, Object> fields();

  /** {@code Padding} enum. */
  enum Padding {
    SAME,
    VALID
  }

  /** {@code ActivationFunctionType} enum. */
  enum Activation {
    NONE,
    RELU,
    RELU_N1_TO_1,
    RELU6,
    TANH,
    SIGN_BIT
  }

  /**
   * The options for union type {@code type} with these field values (absent names take the schema
   * default): a typed record when there is one and every enum value is known, else {@link Other}.
   *
   * @throws IllegalArgumentException for {@link TfliteOptionsType#NONE}, unknown field names or
   *     wrongly typed values
   */
  static BuiltinOptions of(TfliteOptionsType type, Map<String, Object> fields) {
    Map<String, Object> m = OptionsSchema.normalize(type, fields);
    OptionFields f = new OptionFields(m);
    try {
      return switch (type) {
        case CONV_2D_OPTIONS ->
            new Conv2D(
                f.pad("padding"),
                f.i("stride_w"),
                f.i("stride_h"),
                f.act(),
                f.i("dilation_w_factor"),
                f.i("dilation_h_factor"),
                f.i("quantized_bias_type"));
        case DEPTHWISE_CONV_2D_OPTIONS ->
            new DepthwiseConv2D(
                f.pad("padding"),
                f.i("stride_w"),
                f.i("stride_h"),
                f.i("depth_multiplier"),
                f.act(),
                f.i("dilation_w_factor"),
                f.i("dilation_h_factor"));
        case POOL_2D_OPTIONS ->
            new Pool2D(
                f.pad("padding"),
                f.i("stride_w"),
                f.i("stride_h"),
                f.i("filter_width"),
                f.i("filter_height"),
                f.act());
        case FULLY_CONNECTED_OPTIONS ->
            new FullyConnected(
                f.act(),
                f.i("weights_format"),
                f.z("keep_num_dims"),
                f.z("asymmetric_quantize_inputs"),
                f.i("quantized_bias_type"));
        case SOFTMAX_OPTIONS -> new Softmax(f.f("beta"));
        case CONCATENATION_OPTIONS -> new Concatenation(f.i("axis"), f.act());
        case ADD_OPTIONS -> new Add(f.act(), f.z("pot_scale_int16"));
        case RESIZE_BILINEAR_OPTIONS ->
            new ResizeBilinear(f.z("align_corners"), f.z("half_pixel_centers"));
        case RESHAPE_OPTIONS -> new Reshape(f.ints("new_shape"));
        case MUL_OPTIONS -> new Mul(f.act());
        case GATHER_OPTIONS -> new Gather(f.i("axis"), f.i("batch_dims"));
        case REDUCER_OPTIONS -> new Reducer(f.z("keep_dims"));
        case SUB_OPTIONS -> new Sub(f.act(), f.z("pot_scale_int16"));
        case DIV_OPTIONS -> new Div(f.act());
        case SQUEEZE_OPTIONS -> new Squeeze(f.ints("squeeze_dims"));
        case STRIDED_SLICE_OPTIONS ->
            new StridedSlice(
                f.i("begin_mask"),
                f.i("end_mask"),
                f.i("ellipsis_mask"),
                f.i("new_axis_mask"),
                f.i("shrink_axis_mask"),
                f.z("offset"));
        case SPLIT_OPTIONS -> new Split(f.i("num_splits"));
        case CAST_OPTIONS -> new Cast(f.i("in_data_type"), f.i("out_data_type"));
        case TRANSPOSE_CONV_OPTIONS ->
            new TransposeConv(
                f.pad("padding"),
                f.i("stride_w"),
                f.i("stride_h"),
                f.act(),
                f.i("quantized_bias_type"));
        case SHAPE_OPTIONS -> new Shape(f.i("out_type"));
        case PACK_OPTIONS -> new Pack(f.i("values_count"), f.i("axis"));
        case UNPACK_OPTIONS -> new Unpack(f.i("num"), f.i("axis"));
        case UNIDIRECTIONAL_SEQUENCE_LSTM_OPTIONS ->
            new UnidirectionalSequenceLstm(
                f.act(),
                f.f("cell_clip"),
                f.f("proj_clip"),
                f.z("time_major"),
                f.z("asymmetric_quantize_inputs"),
                f.z("diagonal_recurrent_tensors"));
        case RESIZE_NEAREST_NEIGHBOR_OPTIONS ->
            new ResizeNearestNeighbor(f.z("align_corners"), f.z("half_pixel_centers"));
        case LEAKY_RELU_OPTIONS -> new LeakyRelu(f.f("alpha"));
        case SPLIT_V_OPTIONS -> new SplitV(f.i("num_splits"));
        case IF_OPTIONS -> new If(f.i("then_subgraph_index"), f.i("else_subgraph_index"));
        case WHILE_OPTIONS -> new While(f.i("cond_subgraph_index"), f.i("body_subgraph_index"));
        case BATCH_MATMUL_OPTIONS ->
            new BatchMatMul(f.z("adj_x"), f.z("adj_y"), f.z("asymmetric_quantize_inputs"));
        case CALL_ONCE_OPTIONS -> new CallOnce(f.i("init_subgraph_index"));
        case GELU_OPTIONS -> new Gelu(f.z("approximate"));
        default -> new Other(type, m);
      };
    } catch (OptionFields.UnknownEnum e) {
      // A value outside the enum the typed record would need: keep the table as read.
      return new Other(type, m);
    }
  }

  /** An empty table of union type {@code type}: every field at its default. */
  static BuiltinOptions empty(TfliteOptionsType type) {
    return of(type, Map.of());
  }

  // ----------------------------------------------------------------------------------------- typed

  record Softmax(float beta) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.SOFTMAX_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("beta", beta);
    }
  }

  record Concatenation(int axis, Activation fusedActivation) implements BuiltinOptions {
    public Concatenation {
      Objects.requireNonNull(fusedActivation);
    }

    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.CONCATENATION_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("axis", axis, "fused_activation_function", fusedActivation.ordinal());
    }
  }

  /** {@code potScaleInt16} defaults to true in the schema. */
  record Add(Activation fusedActivation, boolean potScaleInt16) implements BuiltinOptions {
    public Add {
      Objects.requireNonNull(fusedActivation);
    }

    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.ADD_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map(
          "fused_activation_function", fusedActivation.ordinal(), "pot_scale_int16", potScaleInt16);
    }
  }

  record Sub(Activation fusedActivation, boolean potScaleInt16) implements BuiltinOptions {
    public Sub {
      Objects.requireNonNull(fusedActivation);
    }

    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.SUB_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map(
          "fused_activation_function", fusedActivation.ordinal(), "pot_scale_int16", potScaleInt16);
    }
  }

  record Mul(Activation fusedActivation) implements BuiltinOptions {
    public Mul {
      Objects.requireNonNull(fusedActivation);
    }

    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.MUL_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("fused_activation_function", fusedActivation.ordinal());
    }
  }

  record Div(Activation fusedActivation) implements BuiltinOptions {
    public Div {
      Objects.requireNonNull(fusedActivation);
    }

    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.DIV_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("fused_activation_function", fusedActivation.ordinal());
    }
  }

  /** Legacy files carry the target shape here; current converters pass it as the second input. */
  record Reshape(List<Integer> newShape) implements BuiltinOptions {
    public Reshape {
      newShape = newShape == null ? null : List.copyOf(newShape);
    }

    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.RESHAPE_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("new_shape", newShape);
    }
  }

  record ResizeBilinear(boolean alignCorners, boolean halfPixelCenters) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.RESIZE_BILINEAR_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map(
          "align_corners", alignCorners, "half_pixel_centers", halfPixelCenters);
    }
  }

  record ResizeNearestNeighbor(boolean alignCorners, boolean halfPixelCenters)
      implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.RESIZE_NEAREST_NEIGHBOR_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map(
          "align_corners", alignCorners, "half_pixel_centers", halfPixelCenters);
    }
  }

  record Gather(int axis, int batchDims) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.GATHER_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("axis", axis, "batch_dims", batchDims);
    }
  }

  /** For MEAN, SUM, REDUCE_MAX/MIN/PROD/ANY/ALL. */
  record Reducer(boolean keepDims) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.REDUCER_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("keep_dims", keepDims);
    }
  }

  record Squeeze(List<Integer> squeezeDims) implements BuiltinOptions {
    public Squeeze {
      squeezeDims = squeezeDims == null ? null : List.copyOf(squeezeDims);
    }

    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.SQUEEZE_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("squeeze_dims", squeezeDims);
    }
  }

  record StridedSlice(
      int beginMask,
      int endMask,
      int ellipsisMask,
      int newAxisMask,
      int shrinkAxisMask,
      boolean offset)
      implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.STRIDED_SLICE_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map(
          "begin_mask",
          beginMask,
          "end_mask",
          endMask,
          "ellipsis_mask",
          ellipsisMask,
          "new_axis_mask",
          newAxisMask,
          "shrink_axis_mask",
          shrinkAxisMask,
          "offset",
          offset);
    }
  }

  record Split(int numSplits) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.SPLIT_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("num_splits", numSplits);
    }
  }

  record SplitV(int numSplits) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.SPLIT_V_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("num_splits", numSplits);
    }
  }

  /** TensorType ids; converters usually leave both 0. */
  record Cast(int inDataType, int outDataType) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.CAST_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("in_data_type", inDataType, "out_data_type", outDataType);
    }
  }

  /** {@code outType}: INT32 (2) or INT64 (4). */
  record Shape(int outType) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.SHAPE_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("out_type", outType);
    }
  }

  record Pack(int valuesCount, int axis) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.PACK_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("values_count", valuesCount, "axis", axis);
    }
  }

  record Unpack(int num, int axis) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.UNPACK_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("num", num, "axis", axis);
    }
  }

  record LeakyRelu(float alpha) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.LEAKY_RELU_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("alpha", alpha);
    }
  }

  record If(int thenSubgraphIndex, int elseSubgraphIndex) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.IF_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map(
          "then_subgraph_index", thenSubgraphIndex, "else_subgraph_index", elseSubgraphIndex);
    }
  }

  record While(int condSubgraphIndex, int bodySubgraphIndex) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.WHILE_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map(
          "cond_subgraph_index", condSubgraphIndex, "body_subgraph_index", bodySubgraphIndex);
    }
  }

  record CallOnce(int initSubgraphIndex) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.CALL_ONCE_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("init_subgraph_index", initSubgraphIndex);
    }
  }

  record Gelu(boolean approximate) implements BuiltinOptions {
    @Override
    public TfliteOptionsType type() {
      return TfliteOptionsType.GELU_OPTIONS;
    }

    @Override
    public Map<String, Object> fields() {
      return OptionFields.map("approximate", approximate);
    }
  }

  /**
   * Any other member of the union (empty tables such as TransposeOptions included), its fields as
   * read; construct it through {@link BuiltinOptions#of}, which checks names and value types.
   */
  record Other(TfliteOptionsType type, Map<String, Object> fields) implements BuiltinOptions {
    public Other {
      fields = OptionsSchema.normalize(type, fields);
    }
  }
}
