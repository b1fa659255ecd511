package org.tfport.convert.tflite;

import static org.tfport.formats.tflite.TfliteBuiltin.*;

import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteType;

/**
 * The version the TFLite converter assigns an operator for the features it uses (spec 2.4, from
 * {@code tools/versioning/op_version.cc}): the lowest version that expresses the op, so older
 * runtimes still load the file.
 */
final class OpVersions {
  private OpVersions() {}

  static int version(ModelBuilder.Sub s, ModelBuilder.Op o) {
    TfliteType in0 = type(s, o, 0);
    TfliteType in1 = type(s, o, 1);
    boolean hybrid = in0 == TfliteType.FLOAT32 && in1 == TfliteType.INT8;
    boolean int8 = in0 == TfliteType.INT8 || in0 == TfliteType.UINT8;
    boolean int16 = in0 == TfliteType.INT16;
    boolean perChannel =
        o.inputs.size() > 1
            && o.inputs.get(1) >= 0
            && s.t(o.inputs.get(1)).quantization != null
            && s.t(o.inputs.get(1)).quantization.isPerAxis();
    return switch (o.builtin) {
      case CONV_2D -> hybrid ? (perChannel ? 5 : 2) : int16 ? 4 : int8 ? 3 : grouped(s, o) ? 6 : 1;
      case DEPTHWISE_CONV_2D ->
          hybrid
              ? (perChannel ? 6 : 4)
              : int16
                  ? 5
                  : int8 ? 3 : o.i("dilation_w_factor") > 1 || o.i("dilation_h_factor") > 1 ? 2 : 1;
      case FULLY_CONNECTED ->
          hybrid
              ? (perChannel
                  ? 12
                  : Boolean.TRUE.equals(o.options.get("asymmetric_quantize_inputs")) ? 9 : 3)
              : int16 ? 7 : int8 ? 4 : Boolean.TRUE.equals(o.options.get("keep_num_dims")) ? 5 : 1;
      case DEQUANTIZE ->
          in0 == TfliteType.FLOAT16 || in0 == TfliteType.INT16
              ? 3
              : s.t(o.inputs.get(0)).quantization != null
                      && s.t(o.inputs.get(0)).quantization.isPerAxis()
                  ? 5
                  : in0 == TfliteType.INT8 ? 2 : 1;
      case QUANTIZE -> type(s, o, -1) == TfliteType.INT16 ? 2 : 1;
      // int16 ADD/SUB with general scales (pot_scale_int16 false): ADD 3, SUB 5; the power-of-two
      // kernel is the
      // op's first version.
      case ADD -> int16 ? (potScaleInt16(o) ? 1 : 3) : int8 ? 2 : 1;
      case SUB -> int16 ? (potScaleInt16(o) ? 1 : 5) : int8 ? 2 : 1;
      case MUL -> int16 ? 4 : int8 ? (mulRescalesUp(s, o) ? 3 : 2) : 1;
      // LEAKY_RELU: int8 needs no new version, int16 needs 2.
      case LEAKY_RELU -> int16 ? 2 : 1;
      // BROADCAST_TO: version 1 was the custom op's, the builtin starts at 2.
      case BROADCAST_TO -> 2;
      case SPLIT ->
          type(s, o, 1) == TfliteType.INT16 ? 4 : type(s, o, 1) == TfliteType.INT8 ? 2 : 1;
      case AVERAGE_POOL_2D,
          MAX_POOL_2D,
          SOFTMAX,
          CONCATENATION,
          MEAN,
          PAD,
          PADV2,
          TRANSPOSE,
          LOGISTIC,
          TANH,
          RELU,
          RELU6,
          STRIDED_SLICE,
          GATHER,
          PACK,
          RESIZE_BILINEAR,
          REDUCE_MAX,
          REDUCE_MIN,
          SUM,
          SQUEEZE,
          SLICE,
          MAXIMUM,
          MINIMUM,
          UNPACK ->
          versionFloatOr(s, o, int8 ? 2 : 1, int16 ? int16Version(o.builtin) : 1);
      // RESIZE_NEAREST_NEIGHBOR: either sampling flag needs version 3 (whatever the type but int16,
      // which is 4).
      case RESIZE_NEAREST_NEIGHBOR ->
          int16
              ? 4
              : Boolean.TRUE.equals(o.options.get("align_corners"))
                      || Boolean.TRUE.equals(o.options.get("half_pixel_centers"))
                  ? 3
                  : int8 ? 2 : 1;
      // WHERE: a condition of another type than bool needs version 2.
      case WHERE -> in0 == TfliteType.BOOL ? 1 : 2;
      // SELECT: 5-D operands need version 3.
      case SELECT ->
          o.inputs.stream().anyMatch(i -> i >= 0 && s.t(i).shape.length == 5) ? 3 : int8 ? 2 : 1;
      // DIV broadcasting beyond 4-D needs version 2.
      case DIV ->
          o.inputs.size() == 2
                  && !java.util.Arrays.equals(
                      s.t(o.inputs.get(0)).shape, s.t(o.inputs.get(1)).shape)
                  && o.inputs.stream().anyMatch(i -> s.t(i).shape.length > 4)
              ? 2
              : 1;
      default -> 1;
    };
  }

  /**
   * The first version of {@code op} with an int16-activation kernel (op_version.cc); 1 where the
   * op's int16 support is not versioned (STRIDED_SLICE, SQUEEZE, SUM).
   */
  private static int int16Version(TfliteBuiltin op) {
    return switch (op) {
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
    return switch (o.builtin) {
      case STRIDED_SLICE ->
          Math.max(
              v, o.i("ellipsis_mask") != 0 || o.i("new_axis_mask") != 0 ? 6 : rank > 4 ? 4 : 1);
      case TRANSPOSE -> Math.max(v, rank > 5 ? 6 : rank > 4 ? 4 : 1);
      case PAD, PADV2 -> Math.max(v, rank > 4 ? 4 : 1);
      case GATHER -> Math.max(v, o.i("batch_dims") != 0 ? 5 : 1);
      case RESIZE_BILINEAR ->
          Math.max(v, Boolean.TRUE.equals(o.options.get("half_pixel_centers")) ? 3 : 1);
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
