package org.tfport.convert.tflite;

import org.tfport.core.Permutation;
import static org.tfport.formats.tflite.TfliteBuiltin.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteType;

/**
 * A reference float interpreter for the subgraphs {@link Lowering} builds, used to calibrate full integer
 * quantization: runs the float32 model on representative inputs so the quantizer knows each tensor's range. Every
 * tensor is held as {@code float[]} (integer tensors too: shapes, axes and indices are small), in row-major NHWC
 * order as in TFLite. Semantics follow the TFLite float kernels (SAME padding splits the excess with the smaller
 * half first, average pooling divides by the in-bounds count, fused activations clamp the result); exactness to
 * the last ulp does not matter here, only ranges.
 */
final class CalibrationInterpreter {
  /** A tensor value. */
  record V(int[] shape, float[] d) {
    static V scalar(float x) {
      return new V(new int[0], new float[] {x});
    }
  }

  /** The builtin ops {@link #run} implements. */
  static final Set<TfliteBuiltin> SUPPORTED = Set.of(CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, BATCH_MATMUL, ADD,
      SUB,
      MUL, DIV, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, POW, RELU, RELU6, RELU_N1_TO_1, ELU, TANH, LOGISTIC, EXP, LOG,
      SQRT, RSQRT, SQUARE, NEG, ABS, FLOOR, HARD_SWISH, SOFTMAX, LOG_SOFTMAX, LEAKY_RELU, MAX_POOL_2D,
      AVERAGE_POOL_2D, RESHAPE, SQUEEZE, EXPAND_DIMS, TRANSPOSE, TILE, CONCATENATION, PACK, UNPACK, SPLIT, MEAN, SUM,
      REDUCE_MAX, REDUCE_MIN, REDUCE_PROD, CAST, STRIDED_SLICE, SLICE, PAD, PADV2, GATHER, SHAPE, ARG_MAX, FILL,
      SELECT_V2, TRANSPOSE_CONV, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND,
      RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR, ADD_N, SPLIT_V, SELECT,
      GATHER_ND, MIRROR_PAD, DEPTH_TO_SPACE, SPACE_TO_DEPTH,
      ONE_HOT, TOPK_V2, CUMSUM, LOCAL_RESPONSE_NORMALIZATION, CONV_3D,
      REVERSE_V2, RANGE, BROADCAST_TO, DYNAMIC_UPDATE_SLICE,
      WHERE, ARG_MIN, RANK, LESS, LESS_EQUAL,
      GREATER, GREATER_EQUAL, EQUAL, NOT_EQUAL,
      LOGICAL_AND, LOGICAL_OR, LOGICAL_NOT, ZEROS_LIKE,
      SIN, COS, CEIL, ROUND,
      SIGN, FLOOR_DIV, FLOOR_MOD, GELU);
  /** Control flow, run when the evaluator knows the model's other subgraphs. */
  static final Set<TfliteBuiltin> CONTROL_FLOW = Set.of(WHILE, IF);
  /** A WHILE that has not ended after this many iterations on a calibration sample is an error, not a hang. */
  static final int MAX_ITERATIONS = 1_000_000;

  private final ModelBuilder model;
  private final ModelBuilder.Sub s;
  /** Called with every subgraph run (this one and the WHILE/IF subgraphs it calls) and its tensor values. */
  private final java.util.function.BiConsumer<ModelBuilder.Sub, V[]> observer;
  private V[] constants;

  CalibrationInterpreter(ModelBuilder.Sub s) {
    this(null, s, null);
  }

  /**
   * An evaluator of {@code s}, a subgraph of {@code model} (which may be null when {@code s} calls no other
   * subgraph); {@code observer} (may be null) sees each subgraph run's values, for calibrating their ranges.
   */
  CalibrationInterpreter(ModelBuilder model, ModelBuilder.Sub s,
      java.util.function.BiConsumer<ModelBuilder.Sub, V[]> observer) {
    this.model = model;
    this.s = s;
    this.observer = observer;
  }

  /** "OP (tf node)" for each operator {@link #run} cannot execute; empty when the whole subgraph runs. */
  static List<String> unsupported(ModelBuilder.Sub s) {
    return unsupported(null, s);
  }

  /** As {@link #unsupported(ModelBuilder.Sub)}, following WHILE/IF into {@code model}'s subgraphs. */
  static List<String> unsupported(ModelBuilder model, ModelBuilder.Sub s) {
    List<String> out = new ArrayList<>();
    unsupported(model, s, new java.util.HashSet<>(), out);
    return out;
  }

  private static void unsupported(ModelBuilder model, ModelBuilder.Sub s, Set<ModelBuilder.Sub> seen,
      List<String> out) {
    if (!seen.add(s)) {
      return;
    }
    for (ModelBuilder.Op o : s.ops) {
      if (CONTROL_FLOW.contains(o.builtin) && model != null) {
        for (int i : called(o)) {
          if (i < 0 || i >= model.subgraphs.size()) {
            out.add(describe(o) + " calls missing subgraph " + i);
          } else {
            unsupported(model, model.subgraphs.get(i), seen, out);
          }
        }
        continue;
      }
      boolean ok = SUPPORTED.contains(o.builtin)
          && !(o.builtin == STRIDED_SLICE && (o.i("ellipsis_mask") != 0 || o.i("new_axis_mask") != 0))
          && !(o.builtin == GATHER && o.i("batch_dims") != 0);
      if (!ok) {
        out.add(describe(o));
      }
    }
  }

  /** The subgraph indices a WHILE (cond, body) or IF (then, else) calls. */
  static int[] called(ModelBuilder.Op o) {
    return o.builtin == WHILE ? new int[] {o.i("cond_subgraph_index"), o.i("body_subgraph_index")}
        : new int[] {o.i("then_subgraph_index"), o.i("else_subgraph_index")};
  }

  static String describe(ModelBuilder.Op o) {
    String name = o.builtin == CUSTOM ? o.custom : o.builtin.name();
    return name + " (" + (o.tfName == null ? "?" : o.tfName) + ")";
  }

  /**
   * Runs every operator on {@code inputs} (one per subgraph input, in order) and returns each tensor's value by
   * index (null for tensors no operator computed).
   */
  V[] run(List<V> inputs) {
    if (constants == null) {
      // Decoded once: a loop body runs many times. Kernels never write into their inputs, so sharing is safe.
      constants = new V[s.tensors.size()];
      for (int i = 0; i < s.tensors.size(); i++) {
        ModelBuilder.T t = s.t(i);
        if (t.data != null) {
          constants[i] = constant(t);
        }
      }
    }
    V[] v = constants.clone();
    if (inputs.size() != s.inputs.size()) {
      throw new UnsupportedModelException("calibration: subgraph '" + s.name + "' takes " + s.inputs.size()
          + " inputs, got " + inputs.size());
    }
    for (int k = 0; k < s.inputs.size(); k++) {
      v[s.inputs.get(k)] = inputs.get(k);
    }
    for (ModelBuilder.Op o : s.ops) {
      V[] in = new V[o.inputs.size()];
      for (int k = 0; k < in.length; k++) {
        in[k] = o.inputs.get(k) < 0 ? null : v[o.inputs.get(k)];
      }
      V[] out;
      try {
        out = eval(o, in);
      } catch (RuntimeException e) {
        throw new UnsupportedModelException("calibration: " + describe(o) + " failed on a sample: "
            + e.getMessage());
      }
      if (out.length < o.outputs.size()) {
        throw new UnsupportedModelException("calibration: " + describe(o) + " gave " + out.length + " of its "
            + o.outputs.size() + " outputs");
      }
      for (int k = 0; k < out.length && k < o.outputs.size(); k++) {
        if (o.outputs.get(k) >= 0) {
          v[o.outputs.get(k)] = out[k];
        }
      }
    }
    if (observer != null) {
      observer.accept(s, v);
    }
    return v;
  }

  /** Runs subgraph {@code index} of the model on {@code args} and returns its outputs. */
  private List<V> call(int index, List<V> args, java.util.Map<Integer, CalibrationInterpreter> cache) {
    if (model == null) {
      throw new IllegalStateException("control flow needs the model's subgraphs");
    }
    CalibrationInterpreter e = cache.computeIfAbsent(index, i -> new CalibrationInterpreter(model, model.subgraphs.get(i),
        observer));
    V[] v = e.run(args);
    List<V> out = new ArrayList<>();
    for (int t : e.s.outputs) {
      if (v[t] == null) {
        throw new IllegalStateException("subgraph '" + e.s.name + "' left output " + e.s.t(t).name
            + " uncomputed");
      }
      out.add(v[t]);
    }
    return out;
  }

  private final java.util.Map<Integer, CalibrationInterpreter> callees = new java.util.HashMap<>();

  /** WHILE: loop variables through body while cond holds (a scalar bool). IF: then or else on the arguments. */
  private V[] controlFlow(ModelBuilder.Op o, V[] in) {
    int[] fns = called(o);
    if (o.builtin == WHILE) {
      List<V> vars = new ArrayList<>(Arrays.asList(in));
      for (int it = 0; ; it++) {
        if (it > MAX_ITERATIONS) {
          throw new IllegalStateException("loop did not end after " + MAX_ITERATIONS + " iterations");
        }
        if (call(fns[0], vars, callees).get(0).d[0] == 0) {
          return vars.toArray(new V[0]);
        }
        vars = call(fns[1], vars, callees);
      }
    }
    List<V> args = Arrays.asList(in).subList(1, in.length);
    return call(in[0].d[0] != 0 ? fns[0] : fns[1], args, callees).toArray(new V[0]);
  }

  static V constant(ModelBuilder.T t) {
    ByteBuffer b = ByteBuffer.wrap(t.data).order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) t.elements();
    float[] d = new float[n];
    for (int i = 0; i < n; i++) {
      d[i] = switch (t.type) {
        case FLOAT32 -> b.getFloat(4 * i);
        case FLOAT16 -> Float.float16ToFloat(b.getShort(2 * i));
        case FLOAT64 -> (float) b.getDouble(8 * i);
        case INT32 -> b.getInt(4 * i);
        case INT64 -> b.getLong(8 * i);
        case INT16 -> b.getShort(2 * i);
        case INT8 -> b.get(i);
        case UINT8, BOOL -> b.get(i) & 0xff;
        default -> throw new UnsupportedModelException("calibration: constant '" + t.name + "' has type "
            + t.type + ", which the float evaluator cannot read");
      };
    }
    return new V(t.shape.clone(), d);
  }

  // --------------------------------------------------------------------------------------------- dispatch

  private V[] eval(ModelBuilder.Op o, V[] in) {
    int act = o.i("fused_activation_function");
    return switch (o.builtin) {
      case CONV_2D -> one(act(conv(o, in[0], in[1], in[2], false), act));
      case DEPTHWISE_CONV_2D -> one(act(conv(o, in[0], in[1], in[2], true), act));
      case FULLY_CONNECTED -> one(act(fc(o, in[0], in[1], in.length > 2 ? in[2] : null), act));
      case BATCH_MATMUL -> one(batchMatmul(in[0], in[1], Boolean.TRUE.equals(o.options.get("adj_x")),
          Boolean.TRUE.equals(o.options.get("adj_y"))));
      case ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, POW -> one(act(binary(o.builtin, in[0], in[1]), act));
      case RELU, RELU6, RELU_N1_TO_1, ELU, TANH, LOGISTIC, EXP, LOG, SQRT, RSQRT, SQUARE, NEG, ABS, FLOOR,
          HARD_SWISH, LEAKY_RELU -> one(unary(o, in[0]));
      case SOFTMAX, LOG_SOFTMAX -> one(softmax(in[0], o.builtin == LOG_SOFTMAX,
          o.options.get("beta") instanceof Number n ? n.floatValue() : 1f));
      case MAX_POOL_2D, AVERAGE_POOL_2D -> one(act(pool(o, in[0]), act));
      case RESHAPE -> one(reshape(o, in[0], in.length > 1 ? in[1] : null));
      case SQUEEZE -> one(squeeze(o, in[0]));
      case EXPAND_DIMS -> one(expandDims(in[0], (int) in[1].d[0]));
      case TRANSPOSE -> one(transpose(in[0], ints(in[1])));
      case TILE -> one(tile(in[0], ints(in[1])));
      case CONCATENATION -> one(act(concat(Arrays.asList(in), o.i("axis")), act));
      case PACK -> one(pack(Arrays.asList(in), o.i("axis")));
      case UNPACK -> unpack(in[0], o.i("axis"));
      case SPLIT -> split(in[1], (int) in[0].d[0], o.i("num_splits"));
      case MEAN, SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_PROD -> one(reduce(o.builtin, in[0], ints(in[1]),
          Boolean.TRUE.equals(o.options.get("keep_dims"))));
      case CAST -> one(cast(in[0], s.t(o.outputs.get(0)).type));
      case STRIDED_SLICE -> one(stridedSlice(o, in[0], ints(in[1]), ints(in[2]), ints(in[3])));
      case SLICE -> one(slice(in[0], ints(in[1]), ints(in[2])));
      case PAD, PADV2 -> one(pad(in[0], ints(in[1]), in.length > 2 && in[2] != null ? in[2].d[0] : 0f));
      case GATHER -> one(gather(in[0], in[1], o.i("axis")));
      case SHAPE -> one(shape(in[0]));
      case ARG_MAX -> one(argMax(in[0], (int) in[1].d[0]));
      case FILL -> one(fill(ints(in[0]), in[1].d[0]));
      case SELECT_V2 -> one(select(in[0], in[1], in[2]));
      case WHILE -> controlFlow(o, in);
      case IF -> controlFlow(o, in);
      default -> CalibrationKernels.eval(o, in, s);
    };
  }

  static V[] one(V v) {
    return new V[] {v};
  }

  static float activate(float x, int act) {
    return switch (act) {
      case 1 -> Math.max(0, x);
      case 2 -> Math.max(-1, Math.min(1, x));
      case 3 -> Math.max(0, Math.min(6, x));
      case 4 -> (float) Math.tanh(x);
      default -> x;
    };
  }

  static V act(V v, int act) {
    if (act != 0) {
      for (int i = 0; i < v.d.length; i++) {
        v.d[i] = activate(v.d[i], act);
      }
    }
    return v;
  }

  // -------------------------------------------------------------------------------------------- kernels

  /** Output size and leading pad of one spatial dim: SAME pads (total excess)/2 before, the rest after. */
  static int[] window(int in, int k, int stride, int dilation, boolean same) {
    int ek = (k - 1) * dilation + 1;
    int out = same ? (in + stride - 1) / stride : (in - ek + stride) / stride;
    int pad = same ? Math.max(0, ((out - 1) * stride + ek - in) / 2) : 0;
    return new int[] {Math.max(0, out), pad};
  }

  private V conv(ModelBuilder.Op o, V x, V w, V bias, boolean depthwise) {
    int n = x.shape[0], h = x.shape[1], wd = x.shape[2], c = x.shape[3];
    int oc = depthwise ? w.shape[3] : w.shape[0];
    int kh = w.shape[1], kw = w.shape[2], wc = w.shape[3];
    boolean same = o.i("padding") == 0;
    int dh = Math.max(1, o.i("dilation_h_factor")), dw = Math.max(1, o.i("dilation_w_factor"));
    int[] ry = window(h, kh, o.i("stride_h"), dh, same);
    int[] rx = window(wd, kw, o.i("stride_w"), dw, same);
    int oh = ry[0], ow = rx[0], sh = o.i("stride_h"), sw = o.i("stride_w");
    float[] out = new float[n * oh * ow * oc];
    int groupOut = depthwise ? 1 : oc / (c / wc);
    int mult = depthwise ? oc / c : 0;
    for (int b = 0; b < n; b++) {
      for (int y = 0; y < oh; y++) {
        for (int xx = 0; xx < ow; xx++) {
          for (int f = 0; f < oc; f++) {
            double acc = bias == null ? 0 : bias.d[f];
            for (int ky = 0; ky < kh; ky++) {
              int iy = y * sh - ry[1] + ky * dh;
              if (iy < 0 || iy >= h) {
                continue;
              }
              for (int kx = 0; kx < kw; kx++) {
                int ix = xx * sw - rx[1] + kx * dw;
                if (ix < 0 || ix >= wd) {
                  continue;
                }
                int base = ((b * h + iy) * wd + ix) * c;
                if (depthwise) {
                  acc += x.d[base + f / mult] * w.d[(ky * kw + kx) * oc + f];
                } else {
                  int g0 = (f / groupOut) * wc;
                  int wb = ((f * kh + ky) * kw + kx) * wc;
                  for (int i = 0; i < wc; i++) {
                    acc += x.d[base + g0 + i] * w.d[wb + i];
                  }
                }
              }
            }
            out[((b * oh + y) * ow + xx) * oc + f] = (float) acc;
          }
        }
      }
    }
    return new V(new int[] {n, oh, ow, oc}, out);
  }

  private static V fc(ModelBuilder.Op o, V x, V w, V bias) {
    int units = w.shape[0], k = w.shape[1];
    int rows = x.d.length / k;
    float[] out = new float[rows * units];
    for (int r = 0; r < rows; r++) {
      for (int u = 0; u < units; u++) {
        double acc = bias == null ? 0 : bias.d[u];
        for (int i = 0; i < k; i++) {
          acc += x.d[r * k + i] * w.d[u * k + i];
        }
        out[r * units + u] = (float) acc;
      }
    }
    int[] shape;
    if (Boolean.TRUE.equals(o.options.get("keep_num_dims"))) {
      shape = x.shape.clone();
      shape[shape.length - 1] = units;
    } else {
      shape = new int[] {rows, units};
    }
    return new V(shape, out);
  }

  private static V batchMatmul(V a, V b, boolean adjA, boolean adjB) {
    int ra = a.shape.length, rb = b.shape.length;
    int m = adjA ? a.shape[ra - 1] : a.shape[ra - 2], k = adjA ? a.shape[ra - 2] : a.shape[ra - 1];
    int n = adjB ? b.shape[rb - 2] : b.shape[rb - 1];
    int[] ba = Arrays.copyOf(a.shape, ra - 2), bb = Arrays.copyOf(b.shape, rb - 2);
    int[] batch = broadcastShape(ba, bb);
    int nb = size(batch);
    int[] ia = broadcastIndex(ba, batch), ib = broadcastIndex(bb, batch);
    float[] out = new float[nb * m * n];
    for (int p = 0; p < nb; p++) {
      int oa = ia[p] * m * k, ob = ib[p] * k * n;
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double acc = 0;
          for (int q = 0; q < k; q++) {
            float x = adjA ? a.d[oa + q * m + i] : a.d[oa + i * k + q];
            float y = adjB ? b.d[ob + j * k + q] : b.d[ob + q * n + j];
            acc += x * y;
          }
          out[(p * m + i) * n + j] = (float) acc;
        }
      }
    }
    int[] shape = Arrays.copyOf(batch, batch.length + 2);
    shape[batch.length] = m;
    shape[batch.length + 1] = n;
    return new V(shape, out);
  }

  static V binary(TfliteBuiltin code, V a, V b) {
    int[] shape = broadcastShape(a.shape, b.shape);
    int[] ia = broadcastIndex(a.shape, shape), ib = broadcastIndex(b.shape, shape);
    float[] out = new float[ia.length];
    for (int i = 0; i < out.length; i++) {
      float x = a.d[ia[i]], y = b.d[ib[i]];
      out[i] = switch (code) {
        case ADD -> x + y;
        case SUB -> x - y;
        case MUL -> x * y;
        case DIV -> x / y;
        case MAXIMUM -> Math.max(x, y);
        case MINIMUM -> Math.min(x, y);
        case SQUARED_DIFFERENCE -> (x - y) * (x - y);
        default -> (float) Math.pow(x, y);
      };
    }
    return new V(shape, out);
  }

  private static V unary(ModelBuilder.Op o, V x) {
    float alpha = o.options.get("alpha") instanceof Number n ? n.floatValue() : 0.2f;
    float[] out = new float[x.d.length];
    for (int i = 0; i < out.length; i++) {
      float v = x.d[i];
      out[i] = switch (o.builtin) {
        case RELU -> Math.max(0, v);
        case RELU6 -> Math.max(0, Math.min(6, v));
        case RELU_N1_TO_1 -> Math.max(-1, Math.min(1, v));
        case ELU -> v < 0 ? (float) Math.expm1(v) : v;
        case TANH -> (float) Math.tanh(v);
        case LOGISTIC -> (float) (1 / (1 + Math.exp(-v)));
        case EXP -> (float) Math.exp(v);
        case LOG -> (float) Math.log(v);
        case SQRT -> (float) Math.sqrt(v);
        case RSQRT -> (float) (1 / Math.sqrt(v));
        case SQUARE -> v * v;
        case NEG -> -v;
        case ABS -> Math.abs(v);
        case FLOOR -> (float) Math.floor(v);
        case HARD_SWISH -> v * Math.max(0, Math.min(6, v + 3)) / 6;
        default -> v < 0 ? alpha * v : v;
      };
    }
    return new V(x.shape.clone(), out);
  }

  private static V softmax(V x, boolean log, float beta) {
    int c = x.shape.length == 0 ? 1 : x.shape[x.shape.length - 1];
    float[] out = new float[x.d.length];
    for (int r = 0; r < x.d.length / Math.max(c, 1); r++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < c; i++) {
        max = Math.max(max, x.d[r * c + i]);
      }
      double sum = 0;
      for (int i = 0; i < c; i++) {
        sum += Math.exp((x.d[r * c + i] - max) * beta);
      }
      for (int i = 0; i < c; i++) {
        double z = (x.d[r * c + i] - max) * beta;
        out[r * c + i] = (float) (log ? z - Math.log(sum) : Math.exp(z) / sum);
      }
    }
    return new V(x.shape.clone(), out);
  }

  private static V pool(ModelBuilder.Op o, V x) {
    int n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
    boolean same = o.i("padding") == 0, max = o.builtin == MAX_POOL_2D;
    int fh = o.i("filter_height"), fw = o.i("filter_width"), sh = o.i("stride_h"), sw = o.i("stride_w");
    int[] ry = window(h, fh, sh, 1, same), rx = window(w, fw, sw, 1, same);
    int oh = ry[0], ow = rx[0];
    float[] out = new float[n * oh * ow * c];
    for (int b = 0; b < n; b++) {
      for (int y = 0; y < oh; y++) {
        for (int xx = 0; xx < ow; xx++) {
          for (int ch = 0; ch < c; ch++) {
            double acc = max ? Double.NEGATIVE_INFINITY : 0;
            int count = 0;
            for (int ky = 0; ky < fh; ky++) {
              int iy = y * sh - ry[1] + ky;
              for (int kx = 0; kx < fw; kx++) {
                int ix = xx * sw - rx[1] + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                  continue;
                }
                float v = x.d[((b * h + iy) * w + ix) * c + ch];
                acc = max ? Math.max(acc, v) : acc + v;
                count++;
              }
            }
            out[((b * oh + y) * ow + xx) * c + ch] = (float) (max ? acc : count == 0 ? 0 : acc / count);
          }
        }
      }
    }
    return new V(new int[] {n, oh, ow, c}, out);
  }

  @SuppressWarnings("unchecked")
  private static V reshape(ModelBuilder.Op o, V x, V shapeTensor) {
    int[] shape;
    if (shapeTensor != null) {
      shape = ints(shapeTensor);
    } else if (o.options.get("new_shape") instanceof List<?> l) {
      shape = ((List<Number>) l).stream().mapToInt(Number::intValue).toArray();
    } else {
      throw new IllegalStateException("no target shape");
    }
    shape = shape.clone();
    int known = 1, unknown = -1;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        unknown = i;
      } else {
        known *= shape[i];
      }
    }
    if (unknown >= 0) {
      shape[unknown] = known == 0 ? 0 : x.d.length / known;
    }
    if (size(shape) != x.d.length) {
      throw new IllegalStateException("cannot reshape " + Arrays.toString(x.shape) + " to " + Arrays.toString(shape));
    }
    return new V(shape, x.d);
  }

  @SuppressWarnings("unchecked")
  private static V squeeze(ModelBuilder.Op o, V x) {
    List<Number> dims = o.options.get("squeeze_dims") instanceof List<?> l ? (List<Number>) l : List.of();
    boolean[] drop = new boolean[x.shape.length];
    for (Number d : dims) {
      int a = d.intValue() < 0 ? d.intValue() + x.shape.length : d.intValue();
      drop[a] = true;
    }
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < x.shape.length; i++) {
      boolean squeeze = dims.isEmpty() ? x.shape[i] == 1 : drop[i] && x.shape[i] == 1;
      if (!squeeze) {
        out.add(x.shape[i]);
      }
    }
    return new V(out.stream().mapToInt(Integer::intValue).toArray(), x.d);
  }

  private static V expandDims(V x, int axis) {
    int r = x.shape.length;
    int a = axis < 0 ? axis + r + 1 : axis;
    int[] shape = new int[r + 1];
    for (int i = 0, j = 0; i <= r; i++) {
      shape[i] = i == a ? 1 : x.shape[j++];
    }
    return new V(shape, x.d);
  }

  static V transpose(V x, int[] perm) {
    long[] dims = java.util.Arrays.stream(x.shape).asLongStream().toArray();
    int[] shape = java.util.Arrays.stream(Permutation.apply(dims, perm)).mapToInt(d -> (int) d).toArray();
    int[] src = Permutation.sourceIndices(dims, perm);
    float[] out = new float[x.d.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = x.d[src[i]];
    }
    return new V(shape, out);
  }

  private static V tile(V x, int[] mult) {
    int r = x.shape.length;
    int[] shape = new int[r];
    for (int i = 0; i < r; i++) {
      shape[i] = x.shape[i] * mult[i];
    }
    int[] st = strides(x.shape);
    float[] out = new float[size(shape)];
    int[] idx = new int[r];
    for (int i = 0; i < out.length; i++) {
      int src = 0;
      for (int k = 0; k < r; k++) {
        src += (idx[k] % x.shape[k]) * st[k];
      }
      out[i] = x.d[src];
      increment(idx, shape);
    }
    return new V(shape, out);
  }

  static V concat(List<V> xs, int axis) {
    int r = xs.get(0).shape.length;
    int a = axis < 0 ? axis + r : axis;
    int[] shape = xs.get(0).shape.clone();
    shape[a] = 0;
    for (V x : xs) {
      shape[a] += x.shape[a];
    }
    int outer = 1;
    for (int i = 0; i < a; i++) {
      outer *= shape[i];
    }
    float[] out = new float[size(shape)];
    int pos = 0;
    for (int o = 0; o < outer; o++) {
      for (V x : xs) {
        int chunk = x.d.length / Math.max(outer, 1);
        System.arraycopy(x.d, o * chunk, out, pos, chunk);
        pos += chunk;
      }
    }
    return new V(shape, out);
  }

  private static V pack(List<V> xs, int axis) {
    List<V> expanded = new ArrayList<>();
    for (V x : xs) {
      expanded.add(expandDims(x, axis));
    }
    return concat(expanded, axis < 0 ? axis + xs.get(0).shape.length + 1 : axis);
  }

  private static V[] unpack(V x, int axis) {
    int a = axis < 0 ? axis + x.shape.length : axis;
    V[] parts = split(x, a, x.shape[a]);
    for (int i = 0; i < parts.length; i++) {
      parts[i] = squeezeAxis(parts[i], a);
    }
    return parts;
  }

  private static V squeezeAxis(V x, int a) {
    int[] shape = new int[x.shape.length - 1];
    for (int i = 0, j = 0; i < x.shape.length; i++) {
      if (i != a) {
        shape[j++] = x.shape[i];
      }
    }
    return new V(shape, x.d);
  }

  static V[] split(V x, int axis, int num) {
    int a = axis < 0 ? axis + x.shape.length : axis;
    int len = x.shape[a] / num;
    V[] out = new V[num];
    for (int k = 0; k < num; k++) {
      int[] begin = new int[x.shape.length];
      int[] sizes = x.shape.clone();
      begin[a] = k * len;
      sizes[a] = len;
      out[k] = slice(x, begin, sizes);
    }
    return out;
  }

  private static V reduce(TfliteBuiltin code, V x, int[] axes, boolean keep) {
    int r = x.shape.length;
    boolean[] red = new boolean[r];
    for (int a : axes) {
      red[a < 0 ? a + r : a] = true;
    }
    int[] kept = new int[r];
    for (int i = 0; i < r; i++) {
      kept[i] = red[i] ? 1 : x.shape[i];
    }
    int n = size(kept);
    double[] acc = new double[n];
    Arrays.fill(acc, switch (code) {
      case REDUCE_MAX -> Double.NEGATIVE_INFINITY;
      case REDUCE_MIN -> Double.POSITIVE_INFINITY;
      case REDUCE_PROD -> 1;
      default -> 0;
    });
    int[] ks = strides(kept);
    int[] idx = new int[r];
    for (int i = 0; i < x.d.length; i++) {
      int o = 0;
      for (int k = 0; k < r; k++) {
        o += red[k] ? 0 : idx[k] * ks[k];
      }
      float v = x.d[i];
      acc[o] = switch (code) {
        case REDUCE_MAX -> Math.max(acc[o], v);
        case REDUCE_MIN -> Math.min(acc[o], v);
        case REDUCE_PROD -> acc[o] * v;
        default -> acc[o] + v;
      };
      increment(idx, x.shape);
    }
    int count = n == 0 ? 0 : x.d.length / n;
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (code == MEAN ? acc[i] / count : acc[i]);
    }
    List<Integer> shape = new ArrayList<>();
    for (int i = 0; i < r; i++) {
      if (!red[i] || keep) {
        shape.add(kept[i]);
      }
    }
    return new V(shape.stream().mapToInt(Integer::intValue).toArray(), out);
  }

  private static V cast(V x, TfliteType to) {
    float[] out = x.d.clone();
    if (to == TfliteType.BOOL) {
      for (int i = 0; i < out.length; i++) {
        out[i] = out[i] != 0 ? 1 : 0;
      }
    } else if (to != TfliteType.FLOAT32 && to != TfliteType.FLOAT16 && to != TfliteType.FLOAT64) {
      for (int i = 0; i < out.length; i++) {
        out[i] = (float) (long) out[i];
      }
    }
    return new V(x.shape.clone(), out);
  }

  private static V stridedSlice(ModelBuilder.Op o, V x, int[] begin, int[] end, int[] strides) {
    int r = x.shape.length;
    int bm = o.i("begin_mask"), em = o.i("end_mask"), sm = o.i("shrink_axis_mask");
    int[] start = new int[r], step = new int[r], count = new int[r];
    List<Integer> outShape = new ArrayList<>();
    for (int i = 0; i < r; i++) {
      int dim = x.shape[i];
      int st = i < strides.length ? strides[i] : 1;
      boolean given = i < begin.length;
      int b, e;
      if (given && (sm >> i & 1) != 0) {
        b = begin[i] < 0 ? begin[i] + dim : begin[i];
        e = b + 1;
        st = 1;
      } else {
        b = !given || (bm >> i & 1) != 0 ? (st > 0 ? 0 : dim - 1) : clampIndex(begin[i], dim, st);
        e = !given || (em >> i & 1) != 0 ? (st > 0 ? dim : -1) : clampIndex(end[i], dim, st);
      }
      int c = st > 0 ? Math.max(0, (e - b + st - 1) / st) : Math.max(0, (b - e - st - 1) / -st);
      start[i] = b;
      step[i] = st;
      count[i] = c;
      if (!(given && (sm >> i & 1) != 0)) {
        outShape.add(c);
      }
    }
    return new V(outShape.stream().mapToInt(Integer::intValue).toArray(), gatherStrided(x, start, step, count));
  }

  private static int clampIndex(int v, int dim, int stride) {
    int x = v < 0 ? v + dim : v;
    return stride > 0 ? Math.max(0, Math.min(dim, x)) : Math.max(-1, Math.min(dim - 1, x));
  }

  private static float[] gatherStrided(V x, int[] start, int[] step, int[] count) {
    int r = x.shape.length;
    int[] st = strides(x.shape);
    float[] out = new float[size(count)];
    int[] idx = new int[r];
    for (int i = 0; i < out.length; i++) {
      int src = 0;
      for (int k = 0; k < r; k++) {
        src += (start[k] + idx[k] * step[k]) * st[k];
      }
      out[i] = x.d[src];
      increment(idx, count);
    }
    return out;
  }

  static V slice(V x, int[] begin, int[] sizes) {
    int r = x.shape.length;
    int[] count = new int[r], step = new int[r];
    for (int i = 0; i < r; i++) {
      count[i] = sizes[i] < 0 ? x.shape[i] - begin[i] : sizes[i];
      step[i] = 1;
    }
    return new V(count, gatherStrided(x, begin, step, count));
  }

  static V pad(V x, int[] pads, float value) {
    int r = x.shape.length;
    int[] shape = new int[r];
    for (int i = 0; i < r; i++) {
      shape[i] = x.shape[i] + pads[2 * i] + pads[2 * i + 1];
    }
    float[] out = new float[size(shape)];
    Arrays.fill(out, value);
    int[] os = strides(shape);
    int[] idx = new int[r];
    for (int i = 0; i < x.d.length; i++) {
      int dst = 0;
      for (int k = 0; k < r; k++) {
        dst += (idx[k] + pads[2 * k]) * os[k];
      }
      out[dst] = x.d[i];
      increment(idx, x.shape);
    }
    return new V(shape, out);
  }

  private static V gather(V params, V indices, int axis) {
    int r = params.shape.length;
    int a = axis < 0 ? axis + r : axis;
    int outer = 1, inner = 1;
    for (int i = 0; i < a; i++) {
      outer *= params.shape[i];
    }
    for (int i = a + 1; i < r; i++) {
      inner *= params.shape[i];
    }
    int n = indices.d.length, dim = params.shape[a];
    float[] out = new float[outer * n * inner];
    for (int o = 0; o < outer; o++) {
      for (int j = 0; j < n; j++) {
        int ix = (int) indices.d[j];
        if (ix < 0 || ix >= dim) {
          throw new IllegalStateException("index " + ix + " out of range [0, " + dim + ")");
        }
        System.arraycopy(params.d, (o * dim + ix) * inner, out, (o * n + j) * inner, inner);
      }
    }
    int[] shape = new int[r - 1 + indices.shape.length];
    int p = 0;
    for (int i = 0; i < a; i++) {
      shape[p++] = params.shape[i];
    }
    for (int d : indices.shape) {
      shape[p++] = d;
    }
    for (int i = a + 1; i < r; i++) {
      shape[p++] = params.shape[i];
    }
    return new V(shape, out);
  }

  private static V shape(V x) {
    float[] d = new float[x.shape.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = x.shape[i];
    }
    return new V(new int[] {d.length}, d);
  }

  static V argMax(V x, int axis) {
    int r = x.shape.length;
    int a = axis < 0 ? axis + r : axis;
    int outer = 1, inner = 1, dim = x.shape[a];
    for (int i = 0; i < a; i++) {
      outer *= x.shape[i];
    }
    for (int i = a + 1; i < r; i++) {
      inner *= x.shape[i];
    }
    float[] out = new float[outer * inner];
    for (int o = 0; o < outer; o++) {
      for (int in = 0; in < inner; in++) {
        int best = 0;
        for (int j = 1; j < dim; j++) {
          if (x.d[(o * dim + j) * inner + in] > x.d[(o * dim + best) * inner + in]) {
            best = j;
          }
        }
        out[o * inner + in] = best;
      }
    }
    int[] shape = new int[r - 1];
    for (int i = 0, j = 0; i < r; i++) {
      if (i != a) {
        shape[j++] = x.shape[i];
      }
    }
    return new V(shape, out);
  }

  private static V fill(int[] dims, float value) {
    float[] d = new float[size(dims)];
    Arrays.fill(d, value);
    return new V(dims.clone(), d);
  }

  static V select(V c, V x, V y) {
    int[] shape = broadcastShape(broadcastShape(c.shape, x.shape), y.shape);
    int[] ic = broadcastIndex(c.shape, shape), ix = broadcastIndex(x.shape, shape), iy = broadcastIndex(y.shape,
        shape);
    float[] out = new float[ic.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = c.d[ic[i]] != 0 ? x.d[ix[i]] : y.d[iy[i]];
    }
    return new V(shape, out);
  }

  // -------------------------------------------------------------------------------------------- helpers

  static int[] ints(V v) {
    int[] r = new int[v.d.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = (int) v.d[i];
    }
    return r;
  }

  static int size(int[] shape) {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    if (n > Integer.MAX_VALUE - 16) {
      throw new IllegalStateException("tensor of shape " + Arrays.toString(shape) + " is too large");
    }
    return (int) n;
  }

  static int[] strides(int[] shape) {
    int[] st = new int[shape.length];
    int s = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      st[i] = s;
      s *= shape[i];
    }
    return st;
  }

  /** Row-major odometer step. */
  static void increment(int[] idx, int[] shape) {
    for (int k = idx.length - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) {
        return;
      }
      idx[k] = 0;
    }
  }

  /** NumPy broadcasting of two shapes. */
  static int[] broadcastShape(int[] a, int[] b) {
    int r = Math.max(a.length, b.length);
    int[] out = new int[r];
    for (int i = 0; i < r; i++) {
      int x = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
      int y = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
      if (x != y && x != 1 && y != 1) {
        throw new IllegalStateException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
            + " do not broadcast");
      }
      out[i] = x == 1 ? y : x;
    }
    return out;
  }

  /** For each element of {@code out} (row-major), the flat index of the element of {@code in} broadcast to it. */
  static int[] broadcastIndex(int[] in, int[] out) {
    int r = out.length;
    int[] st = strides(in);
    int[] bst = new int[r];
    for (int i = 0; i < in.length; i++) {
      bst[r - in.length + i] = in[i] == 1 ? 0 : st[i];
    }
    int[] res = new int[size(out)];
    int[] idx = new int[r];
    for (int i = 0; i < res.length; i++) {
      int p = 0;
      for (int k = 0; k < r; k++) {
        p += idx[k] * bst[k];
      }
      res[i] = p;
      increment(idx, out);
    }
    return res;
  }
}
