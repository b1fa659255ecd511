package org.tfport.convert.tfjs;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.tfjs.Quantization;
import org.tfport.formats.tfjs.WeightEntry;
import org.tfport.runtime.tflite.QuantizedConstant;

/**
 * {@code --keep_quantization} for a {@code .tflite} source: the quantized integer weights the
 * importer dequantized are written back as the file's integers.
 *
 * <p>TensorFlow graphs get the integer constant (a checkpoint variable in a SavedModel) followed by
 * {@code Cast} to float32, {@code Sub} of the zero point (left out when every zero point is 0) and
 * {@code Mul} by the scale, the scale and zero point broadcast per tensor or per channel. TFLite
 * dequantizes as {@code scale · (float)(q − zero_point)} with one float rounding. TensorFlow's
 * {@code Dequantize} does not compute that in general:
 *
 * <ul>
 *   <li>{@code MIN_COMBINED} computes {@code (q + half_range) · (max − min)/range + min}: two more
 *       roundings (the step and the offset), so results differ from TFLite's in the last bit.
 *   <li>{@code MIN_FIRST} rescales the range by {@code 2^bits/(2^bits − 1)} and rounds the offset
 *       to a step; it also has no per-channel ({@code axis}) kernel.
 *   <li>{@code SCALED} computes {@code (float) q · max(min_range/min_T, max_range/max_T)}. With
 *       {@code min_range = −128·scale} (exact: a power-of-two multiple) it is TFLite's product bit
 *       for bit, per channel too, but only for zero point 0 and only on {@code qint8} input; uint8
 *       weights (zero point 128 and the like) and asymmetric int8 ones have no SCALED form.
 * </ul>
 *
 * The Cast/Sub/Mul chain is exact for every zero point ({@code q − zp} is an integer below 2^17,
 * exact in float32, and the Mul is TFLite's one rounding), one form for int8, uint8 and int16, per
 * tensor or per channel, and keeps the weight a plain int8/uint8 tensor that TensorFlow's variable
 * ops, its checkpoint reader and tfport's runtime all hold; {@code qint8} would make the variable a
 * type that no arithmetic op takes.
 *
 * <p>TF.js has no dequantize op; its weights manifest stores a weight as uint8/uint16 with {@code
 * real = u · scale + min}, per tensor only. A per-tensor weight keeps its bytes there ({@code u = q
 * − q_min}, {@code min = scale · (q_min − zero_point)}): TF.js computes {@code u·scale + min} in
 * double precision, where both terms are exact multiples of the scale's last bit below 2^53, so the
 * sum is {@code scale · (q − zp)} exactly and the one rounding to float32 is TFLite's. Per-channel
 * weights cannot be expressed and stay float32, with a note each.
 *
 * <p>float16 weights (TFLite's DEQUANTIZE of a float16 constant) need no arithmetic: every half
 * widens to float32 exactly, so TensorFlow gets the half constant and a {@code Cast}, and TF.js the
 * manifest's {@code float16} quantization, both the file's bytes.
 */
final class KeptQuantization {
  private KeptQuantization() {}

  /**
   * Replaces each float32 {@code Const} of {@code kept} by the integer chain, the chain's last node
   * taking the constant's name so its consumers stay as they are.
   *
   * @return how many constants were replaced
   */
  static int intoGraph(Graph g, List<QuantizedConstant> kept) {
    int n = 0;
    for (QuantizedConstant q : kept) {
      if (q.function() == null) {
        Node old = g.node(q.node());
        if (!matches(old, q)) {
          continue;
        }
        g.remove(q.node());
        chain(q, g::has).forEach(g::add);
      } else {
        GraphFunction f = g.function(q.function());
        if (f == null) {
          continue;
        }
        int at = -1;
        for (int i = 0; i < f.nodes().size(); i++) {
          if (f.nodes().get(i).name().equals(q.node())) {
            at = i;
          }
        }
        if (at < 0 || !matches(f.nodes().get(at), q)) {
          continue;
        }
        Set<String> names = new HashSet<>();
        f.nodes().forEach(x -> names.add(x.name()));
        f.nodes().remove(at);
        f.nodes().addAll(at, chain(q, names::contains));
      }
      n++;
    }
    return n;
  }

  /**
   * The manifest quantization of each per-tensor weight by its TF.js weight name; a note for each
   * per-channel one, which stays float32.
   */
  static Map<String, Quantization> forTfjs(List<QuantizedConstant> kept, List<String> notices) {
    Map<String, Quantization> out = new LinkedHashMap<>();
    for (QuantizedConstant q : kept) {
      if (q.integers().dtype() == DType.FLOAT16) {
        out.put(q.weightName(), Quantization.float16());
        continue;
      }
      if (!q.perTensor()) {
        notices.add(
            "weight '"
                + q.weightName()
                + "' (tensor '"
                + q.tensor()
                + "') is quantized per channel ("
                + q.scales().length
                + " scales), which a TF.js weights manifest cannot hold (one scale per"
                + " weight): stored dequantized as float32");
        continue;
      }
      DType t = q.integers().dtype();
      long lowest = t == DType.INT8 ? -128 : t == DType.INT16 ? -32768 : 0;
      double scale = q.scales()[0];
      // Exact in double: a 24-bit significand times an integer below 2^17.
      double min = scale * (lowest - q.zeroPoints()[0]);
      out.put(
          q.weightName(),
          Quantization.affine(t == DType.INT16 ? DType.UINT16 : DType.UINT8, min, scale));
    }
    return out;
  }

  /**
   * Stores each weight of {@code keep} with its quantization when its float32 values are exactly
   * what that quantization gives back; a note names each that is not (the optimizer folded it into
   * another constant, or dropped it).
   *
   * <p>When float16 weights are kept, the TF.js optimizer has folded some into other constants (a
   * filter behind DEQUANTIZE re-laid out by a folded {@code Transpose}, a PReLU slope negated):
   * their values are still float16 ones, so every other float32 weight that float16 holds bit for
   * bit is stored as float16 too, which gives back the same float32 values.
   */
  static void intoManifest(
      List<WeightEntry> weights, Map<String, Quantization> keep, List<String> notices) {
    Set<String> found = new HashSet<>();
    boolean halves = keep.values().stream().anyMatch(q -> q.dtype() == DType.FLOAT16);
    Quantization half = Quantization.float16();
    int kept = 0;
    int keptHalves = 0;
    int derived = 0;
    for (int i = 0; i < weights.size(); i++) {
      WeightEntry e = weights.get(i);
      Quantization q = keep.get(e.name());
      if (q == null) {
        if (halves && e.dtype() == DType.FLOAT32 && storesExactly(e.data().get(), half)) {
          weights.set(
              i, new WeightEntry(e.name(), e.dtype(), e.shape(), e.data(), e.group(), half));
          derived++;
        }
        continue;
      }
      found.add(e.name());
      Tensor t = e.data().get();
      if (!storesExactly(t, q)) {
        notices.add(
            "weight '" + e.name() + "' was changed by the optimizer and is stored as float32");
        continue;
      }
      weights.set(i, new WeightEntry(e.name(), e.dtype(), e.shape(), e.data(), e.group(), q));
      if (q.dtype() == DType.FLOAT16) {
        keptHalves++;
      } else {
        kept++;
      }
    }
    if (kept > 0) {
      notices.add(
          kept
              + " quantized weight"
              + (kept == 1 ? "" : "s")
              + " kept as stored (uint8/uint16 with the manifest's scale and min, bit-exact)");
    }
    if (keptHalves > 0) {
      notices.add(
          keptHalves
              + " float16 weight"
              + (keptHalves == 1 ? "" : "s")
              + " kept as stored (the manifest's float16, bit-exact)");
    }
    if (derived > 0) {
      notices.add(
          derived
              + " weight"
              + (derived == 1 ? "" : "s")
              + " the optimizer folded from float16 ones (or that float16 holds exactly) stored"
              + " as float16, bit-exact");
    }
    for (String k : keep.keySet()) {
      if (!found.contains(k) && keep.get(k).dtype() != DType.FLOAT16) {
        notices.add(
            "quantized weight '"
                + k
                + "' was folded into another constant by the optimizer and is stored as float32");
      }
    }
  }

  /**
   * Whether every float32 value of {@code t} is one {@code q} dequantizes to, bit for bit, the way
   * TF.js does ({@code (float)(u·scale + min)} in double, or a half widened), so the writer stores
   * the file's bytes.
   */
  static boolean storesExactly(Tensor t, Quantization q) {
    if (t.dtype() != DType.FLOAT32) {
      return false;
    }
    ByteBuffer b = t.bytes();
    int n = Math.toIntExact(t.size());
    if (q.dtype() == DType.FLOAT16) {
      for (int i = 0; i < n; i++) {
        float x = b.getFloat(4 * i);
        if (Float.floatToRawIntBits(Float.float16ToFloat(Float.floatToFloat16(x)))
            != Float.floatToRawIntBits(x)) {
          return false;
        }
      }
      return true;
    }
    long top = q.dtype() == DType.UINT16 ? 65535 : 255;
    for (int i = 0; i < n; i++) {
      float x = b.getFloat(4 * i);
      long u = Math.round((x - q.min()) / q.scale());
      if (u < 0
          || u > top
          || Float.floatToRawIntBits((float) (u * q.scale() + q.min()))
              != Float.floatToRawIntBits(x)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether {@code old} is the float32 constant {@code q} describes and the chain would give back
   * its values bit for bit (a check that the importer's record and node agree).
   */
  private static boolean matches(Node old, QuantizedConstant q) {
    if (old == null || !old.op().equals("Const")) {
      return false;
    }
    TensorValue tv = old.tensorAttr("value");
    Tensor v = tv == null ? null : tv.value();
    if (v == null
        || v.dtype() != DType.FLOAT32
        || !java.util.Arrays.equals(v.shape().dims(), q.integers().shape().dims())) {
      return false;
    }
    ByteBuffer f = v.bytes();
    if (q.integers().dtype() == DType.FLOAT16) {
      ByteBuffer h = q.integers().bytes().order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < v.size(); i++) {
        if (Float.floatToRawIntBits(Float.float16ToFloat(h.getShort(2 * i)))
            != Float.floatToRawIntBits(f.getFloat(4 * i))) {
          return false;
        }
      }
      return true;
    }
    int[] channel = channels(q.integers().shape().dims(), q.scaleShape());
    for (int i = 0; i < channel.length; i++) {
      int c = channel[i];
      float want = q.scales()[c] * (float) (integerAt(q.integers(), i) - q.zeroPoints()[c]);
      if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(f.getFloat(4 * i))) {
        return false;
      }
    }
    return true;
  }

  /** The nodes replacing {@code q}'s constant, in order; the last is named as the constant. */
  private static List<Node> chain(QuantizedConstant q, Predicate<String> taken) {
    String base = q.node();
    Set<String> made = new HashSet<>();
    Predicate<String> used = s -> taken.test(s) || made.contains(s);
    List<Node> out = new ArrayList<>();
    Tensor ints = q.integers();
    String integers = fresh(base + "/quantized", used, made);
    out.add(constant(integers, ints));
    String cast = ints.dtype() == DType.FLOAT16 ? base : fresh(base + "/Cast", used, made);
    out.add(
        new Node(
            cast,
            "Cast",
            List.of(integers),
            "",
            attrs(
                "SrcT",
                type(ints.dtype()),
                "DstT",
                type(DType.FLOAT32),
                "Truncate",
                new AttrValue.Bool(false))));
    if (ints.dtype() == DType.FLOAT16) {
      return out;
    }
    String x = cast;
    Shape s = Shape.of(q.scaleShape());
    boolean offset = false;
    float[] zero = new float[q.zeroPoints().length];
    for (int c = 0; c < zero.length; c++) {
      zero[c] = q.zeroPoints()[c];
      offset |= q.zeroPoints()[c] != 0;
    }
    if (offset) {
      String zp = fresh(base + "/zero_point", used, made);
      out.add(constant(zp, Tensor.ofFloats(s, zero)));
      String sub = fresh(base + "/sub", used, made);
      out.add(new Node(sub, "Sub", List.of(cast, zp), "", attrs("T", type(DType.FLOAT32))));
      x = sub;
    }
    String scale = fresh(base + "/scale", used, made);
    out.add(constant(scale, Tensor.ofFloats(s, q.scales().clone())));
    out.add(new Node(base, "Mul", List.of(x, scale), "", attrs("T", type(DType.FLOAT32))));
    return out;
  }

  private static String fresh(String name, Predicate<String> used, Set<String> made) {
    String n = name;
    for (int k = 1; used.test(n); k++) {
      n = name + "_" + k;
    }
    made.add(n);
    return n;
  }

  /** Per element of a tensor of {@code dims}, the index of its scale in {@code scaleShape}. */
  private static int[] channels(long[] dims, long[] scaleShape) {
    int n = 1;
    for (long d : dims) {
      n = Math.multiplyExact(n, (int) d);
    }
    int[] out = new int[n];
    if (scaleShape.length == 0) {
      return out;
    }
    int rank = dims.length;
    int[] index = new int[rank];
    for (int i = 0; i < n; i++) {
      int c = 0;
      for (int k = 0; k < rank; k++) {
        c = c * (int) scaleShape[k] + (scaleShape[k] == 1 ? 0 : index[k]);
      }
      out[i] = c;
      for (int k = rank - 1; k >= 0; k--) {
        if (++index[k] < dims[k]) {
          break;
        }
        index[k] = 0;
      }
    }
    return out;
  }

  private static long integerAt(Tensor q, int i) {
    return switch (q.dtype()) {
      case INT8 -> q.bytes().get(i);
      case UINT8 -> q.bytes().get(i) & 0xff;
      default -> q.bytes().order(ByteOrder.LITTLE_ENDIAN).getShort(2 * i);
    };
  }

  private static Node constant(String name, Tensor value) {
    return new Node(
        name,
        "Const",
        List.of(),
        "",
        attrs(
            "dtype",
            type(value.dtype()),
            "value",
            new AttrValue.TensorAttr(
                new TensorValue(
                    value.dtype().tfEnum(), TensorShape.of(value.shape().dims()), value))));
  }

  private static AttrValue.Type type(DType t) {
    return new AttrValue.Type(t.tfEnum());
  }

  private static Map<String, AttrValue> attrs(Object... kv) {
    Map<String, AttrValue> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], (AttrValue) kv[i + 1]);
    }
    return m;
  }
}
