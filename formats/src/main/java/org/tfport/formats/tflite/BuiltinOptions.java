package org.tfport.formats.tflite;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code builtin_options} of an operator: a typed record for the tables the common ops use and
 * {@link Other} (a name → value map, see {@link #fields()}) for every other member of the union, so
 * any options table survives a read/write round trip. Field names in {@link #fields()} are the
 * schema's snake_case names; {@link #of(int, Map)} turns such a map back into the typed record.
 */
public sealed interface BuiltinOptions {
  /** The union type id ({@code BuiltinOptions_Conv2DOptions} = 1, ...). */
  int type();

  /** The schema's name for the options table, e.g. {@code Conv2DOptions}. */
  default String typeName() {
    return OptionsSchema.name(type());
  }

  /** Every field of the table, in field-id order, as read (defaults where the file omits a field). */
  Map<String, Object> fields();

  /** {@code Padding} enum. */
  enum Padding { SAME, VALID }

  /** {@code ActivationFunctionType} enum. */
  enum Activation { NONE, RELU, RELU_N1_TO_1, RELU6, TANH, SIGN_BIT }

  /**
   * The options for union type {@code type} with these field values (absent names take the schema
   * default): a typed record when there is one and every enum value is known, else {@link Other}.
   *
   * @throws IllegalArgumentException for an unknown type, unknown field names or wrongly typed values
   */
  static BuiltinOptions of(int type, Map<String, Object> fields) {
    Map<String, Object> m = OptionsSchema.normalize(type, fields);
    OptionFields f = new OptionFields(m);
    try {
      return switch (type) {
        case 1 -> new Conv2D(f.pad("padding"), f.i("stride_w"), f.i("stride_h"), f.act(), f.i("dilation_w_factor"),
            f.i("dilation_h_factor"), f.i("quantized_bias_type"));
        case 2 -> new DepthwiseConv2D(f.pad("padding"), f.i("stride_w"), f.i("stride_h"), f.i("depth_multiplier"),
            f.act(), f.i("dilation_w_factor"), f.i("dilation_h_factor"));
        case 5 -> new Pool2D(f.pad("padding"), f.i("stride_w"), f.i("stride_h"), f.i("filter_width"),
            f.i("filter_height"), f.act());
        case 8 -> new FullyConnected(f.act(), f.i("weights_format"), f.z("keep_num_dims"),
            f.z("asymmetric_quantize_inputs"), f.i("quantized_bias_type"));
        case 9 -> new Softmax(f.f("beta"));
        case 10 -> new Concatenation(f.i("axis"), f.act());
        case 11 -> new Add(f.act(), f.z("pot_scale_int16"));
        case 15 -> new ResizeBilinear(f.z("align_corners"), f.z("half_pixel_centers"));
        case 17 -> new Reshape(f.ints("new_shape"));
        case 21 -> new Mul(f.act());
        case 23 -> new Gather(f.i("axis"), f.i("batch_dims"));
        case 27 -> new Reducer(f.z("keep_dims"));
        case 28 -> new Sub(f.act(), f.z("pot_scale_int16"));
        case 29 -> new Div(f.act());
        case 30 -> new Squeeze(f.ints("squeeze_dims"));
        case 32 -> new StridedSlice(f.i("begin_mask"), f.i("end_mask"), f.i("ellipsis_mask"), f.i("new_axis_mask"),
            f.i("shrink_axis_mask"), f.z("offset"));
        case 35 -> new Split(f.i("num_splits"));
        case 37 -> new Cast(f.i("in_data_type"), f.i("out_data_type"));
        case 49 -> new TransposeConv(f.pad("padding"), f.i("stride_w"), f.i("stride_h"), f.act(),
            f.i("quantized_bias_type"));
        case 55 -> new Shape(f.i("out_type"));
        case 59 -> new Pack(f.i("values_count"), f.i("axis"));
        case 64 -> new Unpack(f.i("num"), f.i("axis"));
        case 71 -> new UnidirectionalSequenceLstm(f.act(), f.f("cell_clip"), f.f("proj_clip"), f.z("time_major"),
            f.z("asymmetric_quantize_inputs"), f.z("diagonal_recurrent_tensors"));
        case 74 -> new ResizeNearestNeighbor(f.z("align_corners"), f.z("half_pixel_centers"));
        case 75 -> new LeakyRelu(f.f("alpha"));
        case 79 -> new SplitV(f.i("num_splits"));
        case 92 -> new If(f.i("then_subgraph_index"), f.i("else_subgraph_index"));
        case 93 -> new While(f.i("cond_subgraph_index"), f.i("body_subgraph_index"));
        case 101 -> new BatchMatMul(f.z("adj_x"), f.z("adj_y"), f.z("asymmetric_quantize_inputs"));
        case 103 -> new CallOnce(f.i("init_subgraph_index"));
        case 116 -> new Gelu(f.z("approximate"));
        default -> new Other(type, m);
      };
    } catch (OptionFields.UnknownEnum e) {
      // A value outside the enum the typed record would need: keep the table as read.
      return new Other(type, m);
    }
  }

  /** An empty table of union type {@code type}: every field at its default. */
  static BuiltinOptions empty(int type) {
    return of(type, Map.of());
  }

  // ----------------------------------------------------------------------------------------- typed

  record Conv2D(Padding padding, int strideW, int strideH, Activation fusedActivation, int dilationWFactor,
      int dilationHFactor, int quantizedBiasType) implements BuiltinOptions {
    public Conv2D {
      Objects.requireNonNull(padding);
      Objects.requireNonNull(fusedActivation);
    }

    /** Stride and padding with no dilation, activation or bias type. */
    public Conv2D(Padding padding, int strideW, int strideH, Activation fusedActivation) {
      this(padding, strideW, strideH, fusedActivation, 1, 1, 0);
    }

    @Override public int type() {
      return 1;
    }

    @Override public Map<String, Object> fields() {
      return map("padding", padding.ordinal(), "stride_w", strideW, "stride_h", strideH, "fused_activation_function",
          fusedActivation.ordinal(), "dilation_w_factor", dilationWFactor, "dilation_h_factor", dilationHFactor,
          "quantized_bias_type", quantizedBiasType);
    }
  }

  record DepthwiseConv2D(Padding padding, int strideW, int strideH, int depthMultiplier, Activation fusedActivation,
      int dilationWFactor, int dilationHFactor) implements BuiltinOptions {
    public DepthwiseConv2D {
      Objects.requireNonNull(padding);
      Objects.requireNonNull(fusedActivation);
    }

    @Override public int type() {
      return 2;
    }

    @Override public Map<String, Object> fields() {
      return map("padding", padding.ordinal(), "stride_w", strideW, "stride_h", strideH, "depth_multiplier",
          depthMultiplier, "fused_activation_function", fusedActivation.ordinal(), "dilation_w_factor",
          dilationWFactor, "dilation_h_factor", dilationHFactor);
    }
  }

  /** For AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D. */
  record Pool2D(Padding padding, int strideW, int strideH, int filterWidth, int filterHeight,
      Activation fusedActivation) implements BuiltinOptions {
    public Pool2D {
      Objects.requireNonNull(padding);
      Objects.requireNonNull(fusedActivation);
    }

    @Override public int type() {
      return 5;
    }

    @Override public Map<String, Object> fields() {
      return map("padding", padding.ordinal(), "stride_w", strideW, "stride_h", strideH, "filter_width", filterWidth,
          "filter_height", filterHeight, "fused_activation_function", fusedActivation.ordinal());
    }
  }

  /** {@code weightsFormat}: 0 DEFAULT, 1 SHUFFLED4x16INT8; {@code quantizedBiasType}: a TensorType id, 0 = unset. */
  record FullyConnected(Activation fusedActivation, int weightsFormat, boolean keepNumDims,
      boolean asymmetricQuantizeInputs, int quantizedBiasType) implements BuiltinOptions {
    public FullyConnected {
      Objects.requireNonNull(fusedActivation);
    }

    @Override public int type() {
      return 8;
    }

    @Override public Map<String, Object> fields() {
      return map("fused_activation_function", fusedActivation.ordinal(), "weights_format", weightsFormat,
          "keep_num_dims", keepNumDims, "asymmetric_quantize_inputs", asymmetricQuantizeInputs,
          "quantized_bias_type", quantizedBiasType);
    }
  }

  record Softmax(float beta) implements BuiltinOptions {
    @Override public int type() {
      return 9;
    }

    @Override public Map<String, Object> fields() {
      return map("beta", beta);
    }
  }

  record Concatenation(int axis, Activation fusedActivation) implements BuiltinOptions {
    public Concatenation {
      Objects.requireNonNull(fusedActivation);
    }

    @Override public int type() {
      return 10;
    }

    @Override public Map<String, Object> fields() {
      return map("axis", axis, "fused_activation_function", fusedActivation.ordinal());
    }
  }

  /** {@code potScaleInt16} defaults to true in the schema. */
  record Add(Activation fusedActivation, boolean potScaleInt16) implements BuiltinOptions {
    public Add {
      Objects.requireNonNull(fusedActivation);
    }

    @Override public int type() {
      return 11;
    }

    @Override public Map<String, Object> fields() {
      return map("fused_activation_function", fusedActivation.ordinal(), "pot_scale_int16", potScaleInt16);
    }
  }

  record Sub(Activation fusedActivation, boolean potScaleInt16) implements BuiltinOptions {
    public Sub {
      Objects.requireNonNull(fusedActivation);
    }

    @Override public int type() {
      return 28;
    }

    @Override public Map<String, Object> fields() {
      return map("fused_activation_function", fusedActivation.ordinal(), "pot_scale_int16", potScaleInt16);
    }
  }

  record Mul(Activation fusedActivation) implements BuiltinOptions {
    public Mul {
      Objects.requireNonNull(fusedActivation);
    }

    @Override public int type() {
      return 21;
    }

    @Override public Map<String, Object> fields() {
      return map("fused_activation_function", fusedActivation.ordinal());
    }
  }

  record Div(Activation fusedActivation) implements BuiltinOptions {
    public Div {
      Objects.requireNonNull(fusedActivation);
    }

    @Override public int type() {
      return 29;
    }

    @Override public Map<String, Object> fields() {
      return map("fused_activation_function", fusedActivation.ordinal());
    }
  }

  /** Legacy files carry the target shape here; current converters pass it as the second input. */
  record Reshape(List<Integer> newShape) implements BuiltinOptions {
    public Reshape {
      newShape = newShape == null ? null : List.copyOf(newShape);
    }

    @Override public int type() {
      return 17;
    }

    @Override public Map<String, Object> fields() {
      return map("new_shape", newShape);
    }
  }

  record ResizeBilinear(boolean alignCorners, boolean halfPixelCenters) implements BuiltinOptions {
    @Override public int type() {
      return 15;
    }

    @Override public Map<String, Object> fields() {
      return map("align_corners", alignCorners, "half_pixel_centers", halfPixelCenters);
    }
  }

  record ResizeNearestNeighbor(boolean alignCorners, boolean halfPixelCenters) implements BuiltinOptions {
    @Override public int type() {
      return 74;
    }

    @Override public Map<String, Object> fields() {
      return map("align_corners", alignCorners, "half_pixel_centers", halfPixelCenters);
    }
  }

  record Gather(int axis, int batchDims) implements BuiltinOptions {
    @Override public int type() {
      return 23;
    }

    @Override public Map<String, Object> fields() {
      return map("axis", axis, "batch_dims", batchDims);
    }
  }

  /** For MEAN, SUM, REDUCE_MAX/MIN/PROD/ANY/ALL. */
  record Reducer(boolean keepDims) implements BuiltinOptions {
    @Override public int type() {
      return 27;
    }

    @Override public Map<String, Object> fields() {
      return map("keep_dims", keepDims);
    }
  }

  record Squeeze(List<Integer> squeezeDims) implements BuiltinOptions {
    public Squeeze {
      squeezeDims = squeezeDims == null ? null : List.copyOf(squeezeDims);
    }

    @Override public int type() {
      return 30;
    }

    @Override public Map<String, Object> fields() {
      return map("squeeze_dims", squeezeDims);
    }
  }

  record StridedSlice(int beginMask, int endMask, int ellipsisMask, int newAxisMask, int shrinkAxisMask,
      boolean offset) implements BuiltinOptions {
    @Override public int type() {
      return 32;
    }

    @Override public Map<String, Object> fields() {
      return map("begin_mask", beginMask, "end_mask", endMask, "ellipsis_mask", ellipsisMask, "new_axis_mask",
          newAxisMask, "shrink_axis_mask", shrinkAxisMask, "offset", offset);
    }
  }

  record Split(int numSplits) implements BuiltinOptions {
    @Override public int type() {
      return 35;
    }

    @Override public Map<String, Object> fields() {
      return map("num_splits", numSplits);
    }
  }

  record SplitV(int numSplits) implements BuiltinOptions {
    @Override public int type() {
      return 79;
    }

    @Override public Map<String, Object> fields() {
      return map("num_splits", numSplits);
    }
  }

  /** TensorType ids; converters usually leave both 0. */
  record Cast(int inDataType, int outDataType) implements BuiltinOptions {
    @Override public int type() {
      return 37;
    }

    @Override public Map<String, Object> fields() {
      return map("in_data_type", inDataType, "out_data_type", outDataType);
    }
  }

  record TransposeConv(Padding padding, int strideW, int strideH, Activation fusedActivation,
      int quantizedBiasType) implements BuiltinOptions {
    public TransposeConv {
      Objects.requireNonNull(padding);
      Objects.requireNonNull(fusedActivation);
    }

    @Override public int type() {
      return 49;
    }

    @Override public Map<String, Object> fields() {
      return map("padding", padding.ordinal(), "stride_w", strideW, "stride_h", strideH, "fused_activation_function",
          fusedActivation.ordinal(), "quantized_bias_type", quantizedBiasType);
    }
  }

  /** {@code outType}: INT32 (2) or INT64 (4). */
  record Shape(int outType) implements BuiltinOptions {
    @Override public int type() {
      return 55;
    }

    @Override public Map<String, Object> fields() {
      return map("out_type", outType);
    }
  }

  record Pack(int valuesCount, int axis) implements BuiltinOptions {
    @Override public int type() {
      return 59;
    }

    @Override public Map<String, Object> fields() {
      return map("values_count", valuesCount, "axis", axis);
    }
  }

  record Unpack(int num, int axis) implements BuiltinOptions {
    @Override public int type() {
      return 64;
    }

    @Override public Map<String, Object> fields() {
      return map("num", num, "axis", axis);
    }
  }

  record UnidirectionalSequenceLstm(Activation fusedActivation, float cellClip, float projClip, boolean timeMajor,
      boolean asymmetricQuantizeInputs, boolean diagonalRecurrentTensors) implements BuiltinOptions {
    public UnidirectionalSequenceLstm {
      Objects.requireNonNull(fusedActivation);
    }

    @Override public int type() {
      return 71;
    }

    @Override public Map<String, Object> fields() {
      return map("fused_activation_function", fusedActivation.ordinal(), "cell_clip", cellClip, "proj_clip", projClip,
          "time_major", timeMajor, "asymmetric_quantize_inputs", asymmetricQuantizeInputs,
          "diagonal_recurrent_tensors", diagonalRecurrentTensors);
    }
  }

  record LeakyRelu(float alpha) implements BuiltinOptions {
    @Override public int type() {
      return 75;
    }

    @Override public Map<String, Object> fields() {
      return map("alpha", alpha);
    }
  }

  record If(int thenSubgraphIndex, int elseSubgraphIndex) implements BuiltinOptions {
    @Override public int type() {
      return 92;
    }

    @Override public Map<String, Object> fields() {
      return map("then_subgraph_index", thenSubgraphIndex, "else_subgraph_index", elseSubgraphIndex);
    }
  }

  record While(int condSubgraphIndex, int bodySubgraphIndex) implements BuiltinOptions {
    @Override public int type() {
      return 93;
    }

    @Override public Map<String, Object> fields() {
      return map("cond_subgraph_index", condSubgraphIndex, "body_subgraph_index", bodySubgraphIndex);
    }
  }

  record BatchMatMul(boolean adjX, boolean adjY, boolean asymmetricQuantizeInputs) implements BuiltinOptions {
    @Override public int type() {
      return 101;
    }

    @Override public Map<String, Object> fields() {
      return map("adj_x", adjX, "adj_y", adjY, "asymmetric_quantize_inputs", asymmetricQuantizeInputs);
    }
  }

  record CallOnce(int initSubgraphIndex) implements BuiltinOptions {
    @Override public int type() {
      return 103;
    }

    @Override public Map<String, Object> fields() {
      return map("init_subgraph_index", initSubgraphIndex);
    }
  }

  record Gelu(boolean approximate) implements BuiltinOptions {
    @Override public int type() {
      return 116;
    }

    @Override public Map<String, Object> fields() {
      return map("approximate", approximate);
    }
  }

  /**
   * Any other member of the union (empty tables such as TransposeOptions included), its fields as
   * read; construct it through {@link BuiltinOptions#of}, which checks names and value types.
   */
  record Other(int type, Map<String, Object> fields) implements BuiltinOptions {
    public Other {
      fields = OptionsSchema.normalize(type, fields);
    }
  }

  // ---------------------------------------------------------------------------------------- helpers

  private static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return java.util.Collections.unmodifiableMap(m);
  }
}
