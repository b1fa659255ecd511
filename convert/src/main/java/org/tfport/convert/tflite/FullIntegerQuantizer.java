package org.tfport.convert.tflite;

import static org.tfport.convert.tflite.QuantizedKernels.*;
import static org.tfport.formats.tflite.TfliteBuiltin.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.convert.tflite.QuantizedKernels.Precision;
import org.tfport.convert.tflite.QuantizedKernels.QP;
import org.tfport.convert.tflite.RangeCalibration.Ranges;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.tflite.TfliteOptionsType;
import org.tfport.formats.tflite.TfliteQuantization;
import org.tfport.formats.tflite.TfliteType;

/**
 * Full integer post-training quantization of a float subgraph (spec 3.2, 3.5, 3.6): calibrate on
 * representative samples ({@link RangeCalibration}), then rewrite conv/FC weights to INT8
 * (symmetric, narrow range, per output channel) and activations to either
 *
 * <ul>
 *   <li>{@link Precision#INT8}: INT8, asymmetric per tensor, biases INT32 (full int8), or
 *   <li>{@link Precision#INT16}: INT16, symmetric per tensor (zero point 0, as TFLite's int16
 *       kernels require), biases INT64 (16x8: {@code
 *       EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8}).
 * </ul>
 *
 * The two differ only in the activation parameters, the fixed output parameters, the bias width and
 * which ops have integer kernels; the graph rewrite is the same.
 *
 * <p>Throughout, {@code real = scale · (q − zero_point)}.
 */
final class FullIntegerQuantizer {
  private final ModelBuilder.Sub s;
  private final Ranges ranges;
  private final Precision precision;
  private final QP[] params;
  private final Set<Integer> acts = new HashSet<>();

  /** Ops left float (no integer kernel here), as "OP (node)". */
  final List<String> floatOps = new ArrayList<>();

  FullIntegerQuantizer(ModelBuilder.Sub s, Ranges ranges) {
    this(s, ranges, Precision.INT8);
  }

  FullIntegerQuantizer(ModelBuilder.Sub s, Ranges ranges, Precision precision) {
    this.s = s;
    this.ranges = ranges;
    this.precision = precision;
    this.params = new QP[s.tensors.size()];
  }

  /** "OP (tf node)", how messages name an operator. */
  static String describe(ModelBuilder.Op o) {
    String name = o.builtin == CUSTOM ? o.custom : o.builtin.name();
    return name + " (" + (o.tfName == null ? "?" : o.tfName) + ")";
  }

  // ---------------------------------------------------------------------------------------------
  // math

  /** {@code round(v / scale) + zp}, clamped to this precision's range. */
  private long quantizeTo(float v, QP p) {
    long q = Math.round(v / (double) p.scale()) + p.zp();
    return Math.max(precision.qmin, Math.min(precision.qmax, q));
  }

  // -------------------------------------------------------------------------------------------
  // rewrite

  private boolean isAct(int t) {
    return t >= 0 && s.t(t).type == TfliteType.FLOAT32 && s.t(t).data == null;
  }

  private boolean isFloatConst(int t) {
    return t >= 0 && s.t(t).type == TfliteType.FLOAT32 && s.t(t).data != null;
  }

  private QP rangeParams(int t) {
    return precision.params(ranges.min()[t], ranges.max()[t]);
  }

  /** Parameters of a float constant from its own values. */
  private QP constParams(int t) {
    float lo = Float.POSITIVE_INFINITY;
    float hi = Float.NEGATIVE_INFINITY;
    for (float x : s.t(t).floats()) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    return precision.params(lo, hi);
  }

  /** The input whose values a SAME_AS_INPUT op moves. */
  private static int dataInput(ModelBuilder.Op o) {
    return o.builtin == SPLIT ? 1 : 0;
  }

  /** Whether the op reads or writes a float tensor, so quantization concerns it. */
  private boolean touchesFloat(ModelBuilder.Op o) {
    for (int t : o.inputs) {
      if (isAct(t) || isFloatConst(t)) {
        return true;
      }
    }
    for (int t : o.outputs) {
      if (isAct(t)) {
        return true;
      }
    }
    return false;
  }

  /** Whether tfport quantizes this op to its integer kernel. */
  private boolean quantizable(ModelBuilder.Op o) {
    if (precision == Precision.INT16 && NO_INT16.contains(o.builtin)) {
      return false;
    }
    if (WEIGHTED.contains(o.builtin)) {
      boolean biasOk = o.inputs.size() < 3 || o.inputs.get(2) < 0 || isFloatConst(o.inputs.get(2));
      return isAct(o.inputs.get(0)) && isFloatConst(o.inputs.get(1)) && biasOk;
    }
    if (o.builtin == TRANSPOSE_CONV) {
      // [output_shape, weights, x, bias]: the shape is int32, weights and bias constants.
      boolean biasOk = o.inputs.size() < 4 || o.inputs.get(3) < 0 || isFloatConst(o.inputs.get(3));
      return !isAct(o.inputs.get(0))
          && !isFloatConst(o.inputs.get(0))
          && isFloatConst(o.inputs.get(1))
          && isAct(o.inputs.get(2))
          && biasOk;
    }
    if (SAME_AS_INPUT.contains(o.builtin)) {
      int d = o.inputs.get(dataInput(o));
      // Only the data input may be float (shapes, axes, indices are integer).
      for (int k = 0; k < o.inputs.size(); k++) {
        if (k != dataInput(o)
            && !(o.builtin == PADV2 && k == 2)
            && (isAct(o.inputs.get(k)) || isFloatConst(o.inputs.get(k)))) {
          return false;
        }
      }
      return isAct(d) || isFloatConst(d);
    }
    return ARITH.contains(o.builtin)
        || OWN_RANGE.contains(o.builtin)
        || precision.fixed(o.builtin) != null
        || SHARED.contains(o.builtin)
        || INT_OUT.contains(o.builtin) && isAct(o.inputs.get(0));
  }

  /**
   * Rewrites the subgraph. {@code inType}/{@code outType}: float32 (QUANTIZE after each float
   * input, DEQUANTIZE before each float output), the precision's own type ({@code int8} or {@code
   * int16}: the I/O tensors themselves become integer) or, for int8 only, uint8 (I/O tensors uint8
   * with zero point + 128, converted by QUANTIZE, which requantizes between the two types). With
   * {@code integerOnly}, an op without an integer kernel here is an error; otherwise it stays float
   * between DEQUANTIZE and QUANTIZE.
   */
  void run(String inType, String outType, boolean integerOnly) {
    List<String> missing = new ArrayList<>();
    for (ModelBuilder.Op o : s.ops) {
      if (touchesFloat(o) && !quantizable(o)) {
        missing.add(describe(o));
      }
    }
    if (integerOnly && !missing.isEmpty()) {
      throw new UnsupportedModelException(
          missing.size()
              + " op"
              + (missing.size() == 1 ? " has" : "s have")
              + " no "
              + precision.ioName()
              + " kernel in tfport's full integer quantization: "
              + String.join(", ", missing)
              + "; add TFLITE_BUILTINS to TfliteOutputOptions.opSets to keep them float");
    }
    floatOps.addAll(missing);
    for (int t = 0; t < s.tensors.size(); t++) {
      if (isAct(t)) {
        acts.add(t);
      }
    }
    assignParams();

    List<ModelBuilder.Op> out = new ArrayList<>();
    // Inputs. Readers are re-pointed to the int8 copies after the loop below, which goes by the
    // float types.
    Map<Integer, Integer> inputs = new LinkedHashMap<>();
    for (int t : s.inputs) {
      if (!acts.contains(t)) {
        continue;
      }
      QP p = params[t];
      ModelBuilder.T in = s.t(t);
      if (inType.equals(precision.ioName())) {
        continue;
      }
      int q =
          s.add(
              new ModelBuilder.T(
                  in.name + "_" + precision.ioName(),
                  precision.type,
                  in.shape.clone(),
                  in.signature == null ? null : in.signature.clone()));
      s.t(q).quantization = TfliteQuantization.perTensor(p.scale(), p.zp());
      inputs.put(t, q);
      out.add(new ModelBuilder.Op(QUANTIZE, List.of(t), List.of(q), TfliteOptionsType.NONE));
    }
    int head = out.size();
    Map<Integer, Integer> dequantized = new HashMap<>();
    for (ModelBuilder.Op o : s.ops) {
      if (!touchesFloat(o)) {
        out.add(o);
      } else if (quantizable(o)) {
        rewrite(o, out);
      } else {
        keepFloat(o, out, dequantized);
      }
    }
    // Types change only now: the loop above recognizes activations by their float type.
    for (Map.Entry<Integer, Integer> e : inputs.entrySet()) {
      redirectReads(out.subList(head, out.size()), e.getKey(), e.getValue());
      if (inType.equals("uint8")) {
        // Same scale, zero point shifted by 128: uint8 value u and int8 value u − 128 mean the same
        // real.
        QP p = params[e.getKey()];
        s.t(e.getKey()).type = TfliteType.UINT8;
        s.t(e.getKey()).quantization = TfliteQuantization.perTensor(p.scale(), p.zp() + 128);
      }
    }
    for (int t : acts) {
      if (!s.inputs.contains(t) || inType.equals(precision.ioName())) {
        setQuantized(t, params[t]);
      }
    }
    // Outputs.
    Map<Integer, Integer> done = new LinkedHashMap<>();
    List<ModelBuilder.Op> tail = new ArrayList<>();
    for (int k = 0; k < s.outputs.size(); k++) {
      int t = s.outputs.get(k);
      if (!acts.contains(t)
          || s.inputs.contains(t)
          || outType.equals(precision.ioName())
          || done.containsKey(t)) {
        continue;
      }
      ModelBuilder.T o = s.t(t);
      QP p = params[t];
      int q =
          s.add(
              new ModelBuilder.T(
                  o.name + "_" + precision.ioName(),
                  precision.type,
                  o.shape.clone(),
                  o.signature == null ? null : o.signature.clone()));
      s.t(q).quantization = TfliteQuantization.perTensor(p.scale(), p.zp());
      for (ModelBuilder.Op op : out) {
        op.outputs.replaceAll(x -> x == t ? q : x);
      }
      redirectReads(out, t, q);
      if (outType.equals("uint8")) {
        o.type = TfliteType.UINT8;
        o.quantization = TfliteQuantization.perTensor(p.scale(), p.zp() + 128);
        tail.add(new ModelBuilder.Op(QUANTIZE, List.of(q), List.of(t), TfliteOptionsType.NONE));
      } else {
        o.type = TfliteType.FLOAT32;
        o.quantization = null;
        tail.add(new ModelBuilder.Op(DEQUANTIZE, List.of(q), List.of(t), TfliteOptionsType.NONE));
      }
      done.put(t, q);
    }
    out.addAll(tail);
    s.ops.clear();
    s.ops.addAll(out);
  }

  private void setQuantized(int t, QP p) {
    ModelBuilder.T x = s.t(t);
    x.type = precision.type;
    x.quantization = TfliteQuantization.perTensor(p.scale(), p.zp());
  }

  private static void redirectReads(List<ModelBuilder.Op> ops, int from, int to) {
    for (ModelBuilder.Op o : ops) {
      o.inputs.replaceAll(x -> x == from ? to : x);
    }
  }

  /** Output parameters of every float activation, in operator order. */
  private void assignParams() {
    for (int t : s.inputs) {
      if (acts.contains(t)) {
        params[t] = rangeParams(t);
      }
    }
    for (ModelBuilder.Op o : s.ops) {
      if (!touchesFloat(o)) {
        continue;
      }
      QP shared = null;
      if (quantizable(o)) {
        if (precision.fixed(o.builtin) != null) {
          shared = precision.fixed(o.builtin);
        } else if (SAME_AS_INPUT.contains(o.builtin)) {
          int d = o.inputs.get(dataInput(o));
          shared = isAct(d) ? params[d] : constParams(d);
        } else if (SHARED.contains(o.builtin)) {
          shared = rangeParams(o.outputs.get(0));
        }
      }
      for (int t : o.outputs) {
        if (acts.contains(t)) {
          params[t] = shared != null ? shared : rangeParams(t);
        }
      }
    }
  }

  private void rewrite(ModelBuilder.Op o, List<ModelBuilder.Op> out) {
    if (WEIGHTED.contains(o.builtin)) {
      int axis = o.builtin == DEPTHWISE_CONV_2D ? 3 : 0;
      int w = own(o, 1);
      WeightQuantizer.quantizeSymmetric(s.t(w), axis);
      if (o.inputs.size() > 2 && o.inputs.get(2) >= 0) {
        int b = own(o, 2);
        quantizeBias(s.t(b), params[o.inputs.get(0)].scale(), s.t(w).quantization.scale());
      }
      if (o.builtin == FULLY_CONNECTED) {
        o.options.remove("asymmetric_quantize_inputs");
      }
    } else if (o.builtin == TRANSPOSE_CONV) {
      // Weights OHWI per output channel (dim 0), symmetric; bias at s_x · s_w[c] like a
      // convolution's: the
      // kernel accumulates Σ q_x·q_w per output element, then rescales by s_x·s_w[c]/s_out.
      int w = own(o, 1);
      WeightQuantizer.quantizeSymmetric(s.t(w), 0);
      if (o.inputs.size() > 3 && o.inputs.get(3) >= 0) {
        int b = own(o, 3);
        quantizeBias(s.t(b), params[o.inputs.get(2)].scale(), s.t(w).quantization.scale());
      }
    } else if (ARITH.contains(o.builtin)
        || OWN_RANGE.contains(o.builtin)
        || precision.fixed(o.builtin) != null
        || INT_OUT.contains(o.builtin)) {
      if (precision == Precision.INT16 && (o.builtin == ADD || o.builtin == SUB)) {
        // pot_scale_int16 (default true) selects the older int16 kernel that needs power-of-two
        // scales on
        // inputs and output; false selects the general one, which rescales like the int8 kernel and
        // so takes
        // the calibrated symmetric scales as they are (the reference 16x8 quantizer writes false
        // too).
        o.opt("pot_scale_int16", false);
      }
      for (int k = 0; k < o.inputs.size(); k++) {
        int t = o.inputs.get(k);
        if (isFloatConst(t)) {
          int c = own(o, k);
          quantizeConst(c, constParams(c));
        }
      }
    } else if (SAME_AS_INPUT.contains(o.builtin)) {
      int d = o.inputs.get(dataInput(o));
      QP p = isAct(d) ? params[d] : constParams(d);
      if (isFloatConst(d)) {
        quantizeConst(own(o, dataInput(o)), p);
      }
      if (o.builtin == PADV2 && o.inputs.size() > 2 && isFloatConst(o.inputs.get(2))) {
        // The pad value must be stored with the data's parameters: the kernel copies it as is.
        quantizeConst(own(o, 2), p);
      }
    } else if (SHARED.contains(o.builtin)) {
      QP p = params[o.outputs.get(0)];
      for (int k = 0; k < o.inputs.size(); k++) {
        int t = o.inputs.get(k);
        if (isFloatConst(t)) {
          quantizeConst(own(o, k), p);
        } else if (acts.contains(t) && !params[t].equals(p)) {
          ModelBuilder.T src = s.t(t);
          int r =
              s.add(
                  new ModelBuilder.T(
                      src.name + "_requantized",
                      precision.type,
                      src.shape.clone(),
                      src.signature == null ? null : src.signature.clone()));
          s.t(r).quantization = TfliteQuantization.perTensor(p.scale(), p.zp());
          ModelBuilder.Op rq =
              new ModelBuilder.Op(QUANTIZE, List.of(t), List.of(r), TfliteOptionsType.NONE);
          rq.tfName = o.tfName;
          out.add(rq);
          o.inputs.set(k, r);
        }
      }
    }
    out.add(o);
  }

  /**
   * A float op between DEQUANTIZE (of each integer input, shared by readers) and QUANTIZE (of each
   * output).
   */
  private void keepFloat(
      ModelBuilder.Op o, List<ModelBuilder.Op> out, Map<Integer, Integer> dequantized) {
    for (int k = 0; k < o.inputs.size(); k++) {
      int t = o.inputs.get(k);
      if (!acts.contains(t)) {
        continue;
      }
      Integer f = dequantized.get(t);
      if (f == null) {
        ModelBuilder.T src = s.t(t);
        f =
            s.add(
                new ModelBuilder.T(
                    src.name + "_dequantized",
                    TfliteType.FLOAT32,
                    src.shape.clone(),
                    src.signature == null ? null : src.signature.clone()));
        ModelBuilder.Op dq =
            new ModelBuilder.Op(DEQUANTIZE, List.of(t), List.of(f), TfliteOptionsType.NONE);
        dq.tfName = o.tfName;
        out.add(dq);
        dequantized.put(t, f);
      }
      o.inputs.set(k, f);
    }
    List<ModelBuilder.Op> after = new ArrayList<>();
    for (int k = 0; k < o.outputs.size(); k++) {
      int t = o.outputs.get(k);
      if (!acts.contains(t)) {
        continue;
      }
      ModelBuilder.T dst = s.t(t);
      int f =
          s.add(
              new ModelBuilder.T(
                  dst.name + "_float",
                  TfliteType.FLOAT32,
                  dst.shape.clone(),
                  dst.signature == null ? null : dst.signature.clone()));
      o.outputs.set(k, f);
      ModelBuilder.Op q =
          new ModelBuilder.Op(QUANTIZE, List.of(f), List.of(t), TfliteOptionsType.NONE);
      q.tfName = o.tfName;
      after.add(q);
    }
    out.add(o);
    out.addAll(after);
  }

  /**
   * Input {@code k}'s constant, private to {@code o}: when other operators read it too (they may
   * need it float, or with other parameters), {@code o} gets a copy. The original is pruned later
   * if nothing reads it.
   */
  private int own(ModelBuilder.Op o, int k) {
    int t = o.inputs.get(k);
    if (s.uses(t) == 1) {
      return t;
    }
    ModelBuilder.T src = s.t(t);
    ModelBuilder.T copy =
        new ModelBuilder.T(
            src.name,
            src.type,
            src.shape.clone(),
            src.signature == null ? null : src.signature.clone());
    copy.data = src.data.clone();
    int c = s.add(copy);
    o.inputs.set(k, c);
    return c;
  }

  /**
   * A float constant read as an activation, stored in the activation type with parameters {@code
   * p}.
   */
  private void quantizeConst(int t, QP p) {
    ModelBuilder.T c = s.t(t);
    float[] v = c.floats();
    ByteBuffer q =
        ByteBuffer.allocate(v.length * (precision == Precision.INT8 ? 1 : 2))
            .order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      long z = quantizeTo(x, p);
      if (precision == Precision.INT8) {
        q.put((byte) z);
      } else {
        q.putShort((short) z);
      }
    }
    c.data = q.array();
    c.type = precision.type;
    c.quantization = TfliteQuantization.perTensor(p.scale(), p.zp());
  }

  /**
   * Bias to INT32 (int8) or INT64 (16x8) with scale s_in · s_w[c] per output channel and zero point
   * 0, the scale of the accumulator Σ q_in·q_w, so the kernel adds it without rescaling: q_b =
   * round(b / (s_in · s_w[c])). 16x8 needs the wider type: with int16 inputs s_in is ~256 times
   * smaller, so q_b is ~256 times larger, and the int16·int8 products summed over a long dot
   * product exceed int32 anyway (the kernel accumulates in int64).
   */
  private void quantizeBias(ModelBuilder.T b, float inScale, List<Float> wScales) {
    float[] v = b.floats();
    boolean wide = precision.bias == TfliteType.INT64;
    ByteBuffer buf = ByteBuffer.allocate((wide ? 8 : 4) * v.length).order(ByteOrder.LITTLE_ENDIAN);
    List<Float> scales = new ArrayList<>();
    List<Long> zps = new ArrayList<>();
    for (int c = 0; c < v.length; c++) {
      float sc = inScale * wScales.get(wScales.size() == 1 ? 0 : c);
      scales.add(sc);
      zps.add(0L);
      long q = Math.round(v[c] / (double) sc);
      if (wide) {
        buf.putLong(q);
      } else {
        buf.putInt((int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, q)));
      }
    }
    b.data = buf.array();
    b.type = precision.bias;
    b.quantization =
        wScales.size() == 1
            ? TfliteQuantization.perTensor(scales.get(0), 0)
            : TfliteQuantization.perAxis(scales, zps, 0);
  }

  /**
   * Drops tensors nothing reads or writes (float originals of copied constants) and returns old
   * index → new index (-1 when dropped), so SignatureDefs can be re-pointed.
   */
  static int[] prune(ModelBuilder.Sub s) {
    boolean[] used = new boolean[s.tensors.size()];
    s.inputs.forEach(t -> used[t] = true);
    s.outputs.forEach(t -> used[t] = true);
    for (ModelBuilder.Op o : s.ops) {
      o.inputs.stream().filter(t -> t >= 0).forEach(t -> used[t] = true);
      o.outputs.stream().filter(t -> t >= 0).forEach(t -> used[t] = true);
    }
    int[] map = new int[used.length];
    List<ModelBuilder.T> kept = new ArrayList<>();
    for (int i = 0; i < used.length; i++) {
      map[i] = used[i] ? kept.size() : -1;
      if (used[i]) {
        kept.add(s.t(i));
      }
    }
    s.tensors.clear();
    s.tensors.addAll(kept);
    s.inputs.replaceAll(t -> map[t]);
    s.outputs.replaceAll(t -> map[t]);
    for (ModelBuilder.Op o : s.ops) {
      o.inputs.replaceAll(t -> t < 0 ? t : map[t]);
      o.outputs.replaceAll(t -> t < 0 ? t : map[t]);
    }
    return map;
  }
}
