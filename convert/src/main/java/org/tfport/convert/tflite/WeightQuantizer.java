package org.tfport.convert.tflite;

import static org.tfport.formats.tflite.TfliteBuiltin.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tfport.formats.tflite.TfliteOptionsType;
import org.tfport.formats.tflite.TfliteQuantization;
import org.tfport.formats.tflite.TfliteType;

/**
 * Post-training weight quantization of a built subgraph: float16 weights and dynamic-range int8
 * (spec 3.3, 3.4).
 */
final class WeightQuantizer {
  /** Weights smaller than this stay float in dynamic-range mode, as upstream. */
  static final int DYNAMIC_RANGE_MIN_ELEMENTS = 1024;

  private WeightQuantizer() {}

  /**
   * Float16: every float32 constant read by an operator becomes a FLOAT16 tensor (IEEE half, round
   * to nearest even, values clamped to ±65504) with a DEQUANTIZE (fp16 to fp32) feeding the
   * original readers. The DEQUANTIZE ops go first, so the operator order stays topological.
   */
  static void float16(ModelBuilder.Sub s) {
    Map<Integer, Integer> replaced = new HashMap<>();
    List<ModelBuilder.Op> deqs = new ArrayList<>();
    for (ModelBuilder.Op o : s.ops) {
      for (int k = 0; k < o.inputs.size(); k++) {
        int t = o.inputs.get(k);
        if (t < 0) {
          continue;
        }
        ModelBuilder.T c = s.t(t);
        if (c.data == null || c.type != TfliteType.FLOAT32 || s.outputs.contains(t)) {
          continue;
        }
        Integer r = replaced.get(t);
        if (r == null) {
          float[] v = c.floats();
          ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
          for (float x : v) {
            b.putShort(Float.floatToFloat16(Math.max(-65504f, Math.min(65504f, x))));
          }
          int half = s.constant(c.name, TfliteType.FLOAT16, c.shape, b.array());
          // The original tensor becomes the (computed) float32 result of the DEQUANTIZE.
          c.data = null;
          c.name = c.name + "_dequantize";
          deqs.add(
              new ModelBuilder.Op(DEQUANTIZE, List.of(half), List.of(t), TfliteOptionsType.NONE));
          replaced.put(t, t);
        }
      }
    }
    s.ops.addAll(0, deqs);
  }

  /**
   * Dynamic range: the constant weights of CONV_2D and DEPTHWISE_CONV_2D (per channel: dim 0, dim
   * 3) and FULLY_CONNECTED (per tensor) with at least 1024 elements become INT8, symmetric
   * narrow-range: {@code scale = max(|w|) / 127}, {@code q = clamp(round(w / scale), -127, 127)},
   * zero point 0, so {@code w ≈ scale · q} with error at most {@code scale / 2} per weight. The
   * float op reads them directly and runs its hybrid kernel (inputs quantized on the fly,
   * asymmetrically for FC); biases stay float.
   *
   * @return how many weights were quantized
   */
  static int dynamicRange(ModelBuilder.Sub s) {
    int quantized = 0;
    for (ModelBuilder.Op o : s.ops) {
      int axis;
      if (o.builtin == CONV_2D) {
        axis = 0;
      } else if (o.builtin == DEPTHWISE_CONV_2D) {
        axis = 3;
      } else if (o.builtin == FULLY_CONNECTED) {
        axis = -1;
      } else {
        continue;
      }
      int t = o.inputs.get(1);
      ModelBuilder.T w = s.t(t);
      if (w.data == null
          || w.type != TfliteType.FLOAT32
          || w.elements() < DYNAMIC_RANGE_MIN_ELEMENTS
          || s.t(o.inputs.get(0)).type != TfliteType.FLOAT32) {
        continue;
      }
      if (s.uses(t) != 1) {
        continue;
      }
      quantizeSymmetric(w, axis);
      quantized++;
      if (o.builtin == FULLY_CONNECTED) {
        o.opt("asymmetric_quantize_inputs", true);
      }
    }
    return quantized;
  }

  /**
   * Replaces float32 {@code w} by symmetric int8 along {@code axis} (-1: one scale for the tensor).
   */
  static void quantizeSymmetric(ModelBuilder.T w, int axis) {
    float[] v = w.floats();
    int channels = axis < 0 ? 1 : w.shape[axis];
    int inner = 1;
    if (axis >= 0) {
      for (int i = axis + 1; i < w.shape.length; i++) {
        inner *= w.shape[i];
      }
    }
    float[] max = new float[channels];
    for (int i = 0; i < v.length; i++) {
      int c = axis < 0 ? 0 : (i / inner) % channels;
      max[c] = Math.max(max[c], Math.abs(v[i]));
    }
    float[] scale = new float[channels];
    for (int c = 0; c < channels; c++) {
      // An all-zero channel is widened to [-5e-7, 5e-7] first (MLIR quantizer), so the scale is
      // never 0.
      scale[c] = Math.max(max[c], 5e-7f) / 127f;
    }
    byte[] q = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      int c = axis < 0 ? 0 : (i / inner) % channels;
      q[i] = (byte) Math.max(-127, Math.min(127, Math.round(v[i] / scale[c])));
    }
    w.data = q;
    w.type = TfliteType.INT8;
    List<Float> scales = new ArrayList<>();
    List<Long> zps = new ArrayList<>();
    for (float x : scale) {
      scales.add(x);
      zps.add(0L);
    }
    w.quantization =
        axis < 0
            ? TfliteQuantization.perTensor(scale[0], 0)
            : TfliteQuantization.perAxis(scales, zps, axis);
  }
}
