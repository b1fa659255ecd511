package org.tfport.convert.tflite;

import org.tfport.formats.tflite.TfliteType;

/**
 * Builtin operator codes (schema {@code BuiltinOperator}) and the version the TFLite converter assigns an operator
 * for the features it uses (spec 2.4, from {@code tools/versioning/op_version.cc}): the lowest version that
 * expresses the op, so older runtimes still load the file.
 */
final class OpVersions {
  static final int ADD = 0, AVERAGE_POOL_2D = 1, CONCATENATION = 2, CONV_2D = 3, DEPTHWISE_CONV_2D = 4,
      DEQUANTIZE = 6, FLOOR = 8, FULLY_CONNECTED = 9, LOGISTIC = 14, MAX_POOL_2D = 17, MUL = 18, RELU = 19,
      RELU_N1_TO_1 = 20, RELU6 = 21, RESHAPE = 22, RESIZE_BILINEAR = 23, SOFTMAX = 25, TANH = 28, CUSTOM = 32,
      PAD = 34, GATHER = 36, TRANSPOSE = 39, MEAN = 40, SUB = 41, DIV = 42, SQUEEZE = 43, STRIDED_SLICE = 45,
      EXP = 47, SPLIT = 49, LOG_SOFTMAX = 50, CAST = 53, MAXIMUM = 55, ARG_MAX = 56, MINIMUM = 57, NEG = 59,
      PADV2 = 60, SLICE = 65, TRANSPOSE_CONV = 67, TILE = 69, EXPAND_DIMS = 70, SUM = 74, SQRT = 75, RSQRT = 76,
      SHAPE = 77, POW = 78, REDUCE_PROD = 81, REDUCE_MAX = 82, PACK = 83, UNPACK = 88, REDUCE_MIN = 89,
      SQUARE = 92, FILL = 94, SQUARED_DIFFERENCE = 99, LEAKY_RELU = 98, RESIZE_NEAREST_NEIGHBOR = 97,
      SPLIT_V = 102, ABS = 101, QUANTIZE = 114, HARD_SWISH = 117, WHILE = 119, SELECT_V2 = 123,
      BATCH_MATMUL = 126, LOG = 73, GELU = 150, ELU = 111;

  /** Options table ids (schema {@code BuiltinOptions} union). */
  static final int O_CONV = 1, O_DW = 2, O_POOL = 5, O_FC = 8, O_SOFTMAX = 9, O_CONCAT = 10, O_ADD = 11,
      O_RESHAPE = 17, O_MUL = 21, O_PAD = 22, O_GATHER = 23, O_TRANSPOSE = 26, O_REDUCER = 27, O_SUB = 28,
      O_DIV = 29, O_SQUEEZE = 30, O_STRIDED_SLICE = 32, O_EXP = 33, O_SPLIT = 35, O_LOG_SOFTMAX = 36, O_CAST = 37,
      O_DEQUANTIZE = 38, O_ARG_MAX = 40, O_NEG = 42, O_PADV2 = 43, O_EXPAND_DIMS = 52, O_SHAPE = 55, O_PACK = 59,
      O_UNPACK = 64, O_SQUARE = 66, O_RANGE = 73, O_LEAKY_RELU = 75, O_SPLIT_V = 79, O_REVERSE_V2 = 81,
      O_BATCH_MATMUL = 101, O_GELU = 116;

  private OpVersions() {}

  static int version(ModelBuilder.Sub s, ModelBuilder.Op o) {
    TfliteType in0 = type(s, o, 0);
    TfliteType in1 = type(s, o, 1);
    boolean hybrid = in0 == TfliteType.FLOAT32 && in1 == TfliteType.INT8;
    boolean int8 = in0 == TfliteType.INT8 || in0 == TfliteType.UINT8;
    boolean int16 = in0 == TfliteType.INT16;
    boolean perChannel = o.inputs.size() > 1 && o.inputs.get(1) >= 0 && s.t(o.inputs.get(1)).quantization != null
        && s.t(o.inputs.get(1)).quantization.isPerAxis();
    return switch (o.code) {
      case CONV_2D -> hybrid ? (perChannel ? 5 : 2) : int16 ? 4 : int8 ? 3 : grouped(s, o) ? 6 : 1;
      case DEPTHWISE_CONV_2D -> hybrid ? (perChannel ? 6 : 4) : int16 ? 5 : int8 ? 3
          : o.i("dilation_w_factor") > 1 || o.i("dilation_h_factor") > 1 ? 2 : 1;
      case FULLY_CONNECTED -> hybrid ? (perChannel ? 12 : Boolean.TRUE.equals(o.options.get("asymmetric_quantize_inputs"))
          ? 9 : 3) : int16 ? 7 : int8 ? 4 : Boolean.TRUE.equals(o.options.get("keep_num_dims")) ? 5 : 1;
      case DEQUANTIZE -> in0 == TfliteType.FLOAT16 || in0 == TfliteType.INT16 ? 3
          : s.t(o.inputs.get(0)).quantization != null && s.t(o.inputs.get(0)).quantization.isPerAxis() ? 5
          : in0 == TfliteType.INT8 ? 2 : 1;
      case QUANTIZE -> type(s, o, -1) == TfliteType.INT16 ? 2 : 1;
      // int16 ADD/SUB with general scales (pot_scale_int16 false): ADD 3, SUB 5; the power-of-two kernel is the
      // op's first version.
      case ADD -> int16 ? (potScaleInt16(o) ? 1 : 3) : int8 ? 2 : 1;
      case SUB -> int16 ? (potScaleInt16(o) ? 1 : 5) : int8 ? 2 : 1;
      case MUL -> int16 ? 4 : int8 ? (mulRescalesUp(s, o) ? 3 : 2) : 1;
      // LEAKY_RELU: int8 needs no new version, int16 needs 2.
      case LEAKY_RELU -> int16 ? 2 : 1;
      // BROADCAST_TO (130): version 1 was the custom op's, the builtin starts at 2.
      case 130 -> 2;
      case SPLIT -> type(s, o, 1) == TfliteType.INT16 ? 4 : type(s, o, 1) == TfliteType.INT8 ? 2 : 1;
      case AVERAGE_POOL_2D, MAX_POOL_2D, SOFTMAX, CONCATENATION, MEAN, PAD, PADV2, TRANSPOSE, LOGISTIC, TANH, RELU,
          RELU6, STRIDED_SLICE, GATHER, PACK, RESIZE_BILINEAR, REDUCE_MAX, REDUCE_MIN, SUM, SQUEEZE, SLICE, MAXIMUM,
          MINIMUM, UNPACK -> versionFloatOr(s, o, int8 ? 2 : 1, int16 ? int16Version(o.code) : 1);
      // RESIZE_NEAREST_NEIGHBOR: either sampling flag needs version 3 (whatever the type but int16, which is 4).
      case RESIZE_NEAREST_NEIGHBOR -> int16 ? 4 : Boolean.TRUE.equals(o.options.get("align_corners"))
          || Boolean.TRUE.equals(o.options.get("half_pixel_centers")) ? 3 : int8 ? 2 : 1;
      // WHERE (109): a condition of another type than bool needs version 2.
      case 109 -> in0 == TfliteType.BOOL ? 1 : 2;
      // SELECT (64): 5-D operands need version 3.
      case 64 -> o.inputs.stream().anyMatch(i -> i >= 0 && s.t(i).shape.length == 5) ? 3 : int8 ? 2 : 1;
      // DIV broadcasting beyond 4-D needs version 2.
      case DIV -> o.inputs.size() == 2 && !java.util.Arrays.equals(s.t(o.inputs.get(0)).shape,
          s.t(o.inputs.get(1)).shape) && o.inputs.stream().anyMatch(i -> s.t(i).shape.length > 4) ? 2 : 1;
      default -> 1;
    };
  }

  /**
   * The first version of {@code code} with an int16-activation kernel (op_version.cc); 1 where the op's int16
   * support is not versioned (STRIDED_SLICE, SQUEEZE, SUM).
   */
  private static int int16Version(int code) {
    return switch (code) {
      case TRANSPOSE -> 5;
      case GATHER, SLICE, MAXIMUM, MINIMUM, UNPACK, RESIZE_BILINEAR -> 4;
      case STRIDED_SLICE, SQUEEZE, SUM -> 1;
      default -> 3;
    };
  }

  /** AddOptions/SubOptions pot_scale_int16, true unless set (the schema default). */
  private static boolean potScaleInt16(ModelBuilder.Op o) {
    return !Boolean.FALSE.equals(o.options.get("pot_scale_int16"));
  }

  private static int versionFloatOr(ModelBuilder.Sub s, ModelBuilder.Op o, int int8, int int16) {
    int v = Math.max(int8, int16);
    int rank = o.inputs.isEmpty() || o.inputs.get(0) < 0 ? 0 : s.t(o.inputs.get(0)).shape.length;
    return switch (o.code) {
      case STRIDED_SLICE -> Math.max(v, o.i("ellipsis_mask") != 0 || o.i("new_axis_mask") != 0 ? 6 : rank > 4 ? 4 : 1);
      case TRANSPOSE -> Math.max(v, rank > 5 ? 6 : rank > 4 ? 4 : 1);
      case PAD, PADV2 -> Math.max(v, rank > 4 ? 4 : 1);
      case GATHER -> Math.max(v, o.i("batch_dims") != 0 ? 5 : 1);
      case RESIZE_BILINEAR -> Math.max(v, Boolean.TRUE.equals(o.options.get("half_pixel_centers")) ? 3 : 1);
      default -> v;
    };
  }

  /** int8 MUL whose s_in1 · s_in2 / s_out is at least 1 needs the kernel of version 3. */
  private static boolean mulRescalesUp(ModelBuilder.Sub s, ModelBuilder.Op o) {
    float[] sc = new float[3];
    int[] ts = {o.inputs.get(0), o.inputs.get(1), o.outputs.get(0)};
    for (int k = 0; k < 3; k++) {
      var q = s.t(ts[k]).quantization;
      if (q == null || q.scale().isEmpty()) {
        return false;
      }
      sc[k] = q.scale().get(0);
    }
    return sc[0] * sc[1] / sc[2] >= 1;
  }

  private static boolean grouped(ModelBuilder.Sub s, ModelBuilder.Op o) {
    int[] x = s.t(o.inputs.get(0)).shape;
    int[] w = s.t(o.inputs.get(1)).shape;
    return x.length == 4 && w.length == 4 && x[3] != w[3] && x[3] > 0;
  }

  /** Input {@code i}'s type (-1: output 0's), or null. */
  private static TfliteType type(ModelBuilder.Sub s, ModelBuilder.Op o, int i) {
    if (i < 0) {
      return o.outputs.isEmpty() ? null : s.t(o.outputs.get(0)).type;
    }
    return i < o.inputs.size() && o.inputs.get(i) >= 0 ? s.t(o.inputs.get(i)).type : null;
  }
}
