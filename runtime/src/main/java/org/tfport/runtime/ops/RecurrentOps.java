package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.FixedPoint.Multiplier;
import org.tfport.runtime.ops.QuantizedConvOps.Quant;

/**
 * TFLite's recurrent builtins, which have no TensorFlow op of their own: the LSTM cell of {@code
 * LSTM}, {@code UNIDIRECTIONAL_SEQUENCE_LSTM} and each direction of {@code
 * BIDIRECTIONAL_SEQUENCE_LSTM} ({@code TfliteLstm}), and {@code SVDF} in float ({@code TfliteSvdf})
 * and in TFLite's int8 arithmetic ({@code TfliteQuantizedSvdf}).
 *
 * <p>The state tensors TFLite keeps between invocations start, on every run, from the value the
 * file gives them (zeros when it gives none): a run is one TFLite invocation after the interpreter
 * is made.
 *
 * <p>{@code TfliteLstm} reads TFLite's 24 LSTM tensors through the attribute {@code slots}: entry k
 * is the node input holding TFLite tensor k (input, the four input weights, the four recurrent
 * weights, three peephole vectors, four gate biases, projection weights and bias, output and cell
 * state, four layer-norm coefficients), or -1 when the model omits it. Without input-gate weights
 * the cell is CIFG (input gate = 1 − forget gate). Each gate is its bias (0 with layer norm) plus
 * W_x·x plus W_h·h (each product summed on its own, then added), plus the peephole term, then
 * normalized over the cells (mean and variance, 1e-8 when the variance is 0), scaled by its
 * coefficients and biased when layer norm is on, then activated; the cell state is f·c + i·g,
 * clipped by {@code cell_clip}; the output is o·act(c), projected and clipped by {@code proj_clip}
 * when there is a projection.
 */
final class RecurrentOps implements OpFamily {
  /** TFLite's LSTM tensor numbering, the index into {@code slots}. */
  static final int INPUT = 0;

  static final int INPUT_WEIGHTS = 1; // input, forget, cell, output: 1..4

  static final int RECURRENT_WEIGHTS = 5; // 5..8

  static final int PEEPHOLE = 9; // input, forget, output: 9..11

  static final int BIAS = 12; // 12..15

  static final int PROJECTION_WEIGHTS = 16;
  static final int PROJECTION_BIAS = 17;
  static final int OUTPUT_STATE = 18;
  static final int CELL_STATE = 19;
  static final int LAYER_NORM = 20; // 20..23
  static final int SLOTS = 24;

  @Override
  public void register(KernelRegistry r) {
    r.reference("TfliteLstm", RecurrentOps::bindLstm);
    r.reference("TfliteSvdf", RecurrentOps::bindSvdf);
    r.reference("TfliteQuantizedSvdf", RecurrentOps::bindQuantizedSvdf);
  }

  // -------------------------------------------------------------------------------------------
  // activations

  /** TFLite's float activation of {@code name} (the fused-activation names, plus SIGMOID). */
  static float activate(String name, float x) {
    return switch (name) {
      case "NONE" -> x;
      case "RELU" -> Math.max(0f, x);
      case "RELU6" -> Math.min(6f, Math.max(0f, x));
      case "RELU_N1_TO_1" -> Math.min(1f, Math.max(-1f, x));
      case "TANH" -> (float) Math.tanh(x);
      case "SIGMOID" -> 1f / (1f + (float) Math.exp(-x));
      default -> throw new KernelException("activation '" + name + "' is not one TFLite applies");
    };
  }

  private static String activationAttr(BindContext b, String name) {
    String a = b.stringAttr(name, "NONE");
    activate(a, 0f); // refuses an unknown name at bind time
    return a;
  }

  // -------------------------------------------------------------------------------------------
  // LSTM

  /** Which of TFLite's tensors are present, and where; read once at bind time. */
  private record Layout(int[] slot) {
    boolean has(int k) {
      return slot[k] >= 0;
    }

    float[] floats(Value[] ins, int k) {
      return slot[k] < 0 ? null : floatsOf(ins[slot[k]], k);
    }
  }

  private static float[] floatsOf(Value v, int k) {
    if (v.dtype() != DType.FLOAT32) {
      throw new KernelException(
          "LSTM tensor " + k + " is " + v.dtype().jsName() + "; the float LSTM takes float32");
    }
    return v.floats();
  }

  /**
   * The node input of each of TFLite's 24 LSTM tensors (attribute {@code slots}), -1 when absent.
   */
  static int[] slots(BindContext b) {
    long[] s = b.intsAttr("slots", null);
    if (s == null || s.length != SLOTS) {
      throw new KernelException("attribute 'slots' must list TFLite's " + SLOTS + " LSTM tensors");
    }
    int[] slot = new int[SLOTS];
    for (int k = 0; k < SLOTS; k++) {
      if (s[k] < -1 || s[k] >= b.inputCount()) {
        throw new KernelException("slot " + k + " names input " + s[k] + " of " + b.inputCount());
      }
      slot[k] = (int) s[k];
    }
    return slot;
  }

  /**
   * TFLite keeps an LSTM's states in variable tensors of the file's shape, which resizing the
   * inputs does not change, and its Prepare refuses a batch they do not hold: attribute {@code
   * state_sizes} gives the output and cell states' value counts (-1 when not static).
   */
  static void checkStates(long[] sizes, int batch, int nOut, int nCell) {
    if (sizes == null) {
      return;
    }
    long[] need = {(long) batch * nOut, (long) batch * nCell};
    String[] what = {"output state", "cell state"};
    for (int k = 0; k < Math.min(2, sizes.length); k++) {
      if (sizes[k] >= 0 && sizes[k] != need[k]) {
        throw new KernelException(
            "the LSTM's "
                + what[k]
                + " tensor holds "
                + sizes[k]
                + " values, but a batch of "
                + batch
                + " needs "
                + need[k]
                + " (TFLite keeps the state's shape when the inputs are resized)");
      }
    }
  }

  private static Kernel bindLstm(BindContext b) {
    int[] slot = slots(b);
    Layout l = new Layout(slot);
    for (int k : new int[] {INPUT, INPUT_WEIGHTS + 1, INPUT_WEIGHTS + 2, INPUT_WEIGHTS + 3}) {
      if (!l.has(k)) {
        throw new KernelException("LSTM tensor " + k + " is required");
      }
    }
    boolean sequence = b.boolAttr("sequence", true);
    boolean timeMajor = b.boolAttr("time_major", false);
    boolean reverse = b.boolAttr("reverse", false);
    String act = activationAttr(b, "activation");
    float cellClip = b.floatAttr("cell_clip", 0f);
    float projClip = b.floatAttr("proj_clip", 0f);
    long[] stateSizes = b.intsAttr("state_sizes", null);
    return (ins, ctx) -> {
      Value x = ins[slot[INPUT]];
      Value wOut = ins[slot[INPUT_WEIGHTS + 3]];
      Value rOut = ins[slot[RECURRENT_WEIGHTS + 3]];
      if (x.rank() != (sequence ? 3 : 2) || wOut.rank() != 2 || rOut.rank() != 2) {
        throw new KernelException(
            "LSTM input is "
                + x.rank()
                + "-D (expected "
                + (sequence ? 3 : 2)
                + ") or its weights are not matrices");
      }
      int steps = sequence ? (int) x.dim(timeMajor ? 0 : 1) : 1;
      int batch = (int) x.dim(sequence && !timeMajor ? 0 : sequence ? 1 : 0);
      int nIn = (int) x.dim(x.rank() - 1);
      int nCell = (int) wOut.dim(0);
      int nOut = (int) rOut.dim(1);
      if (wOut.dim(1) != nIn || rOut.dim(0) != nCell) {
        throw new KernelException(
            "LSTM weights ["
                + wOut.dim(0)
                + ", "
                + wOut.dim(1)
                + "] do not take "
                + nIn
                + " inputs");
      }
      checkStates(stateSizes, batch, nOut, nCell);
      Cell cell = new Cell(l, ins, batch, nIn, nCell, nOut, act, cellClip, projClip);
      long[] shape =
          !sequence
              ? new long[] {batch, nOut}
              : timeMajor ? new long[] {steps, batch, nOut} : new long[] {batch, steps, nOut};
      float[] out = Value.zeros(DType.FLOAT32, shape).floats();
      float[] in = x.floats();
      float[] xt = new float[batch * nIn];
      for (int k = 0; k < steps; k++) {
        int t = reverse ? steps - 1 - k : k;
        for (int bi = 0; bi < batch; bi++) {
          int from = sequence && !timeMajor ? (bi * steps + t) * nIn : (t * batch + bi) * nIn;
          System.arraycopy(in, from, xt, bi * nIn, nIn);
        }
        float[] h = cell.step(xt);
        for (int bi = 0; bi < batch; bi++) {
          int to = sequence && !timeMajor ? (bi * steps + t) * nOut : (t * batch + bi) * nOut;
          System.arraycopy(h, bi * nOut, out, to, nOut);
        }
      }
      return new Value[] {Value.of(DType.FLOAT32, shape, out)};
    };
  }

  /** One LSTM's weights and its running state, for one run. */
  private static final class Cell {
    final int batch;
    final int nIn;
    final int nCell;
    final int nOut;
    final float[][] wx = new float[4][];
    final float[][] wh = new float[4][];
    final float[][] peephole = new float[4][]; // input, forget, (none for cell), output
    final float[][] bias = new float[4][];
    final float[][] norm = new float[4][];
    final float[] projection;
    final float[] projectionBias;
    final String act;
    final float cellClip;
    final float projClip;
    final float[] h;
    final float[] c;

    Cell(
        Layout l,
        Value[] ins,
        int batch,
        int nIn,
        int nCell,
        int nOut,
        String act,
        float cellClip,
        float projClip) {
      this.batch = batch;
      this.nIn = nIn;
      this.nCell = nCell;
      this.nOut = nOut;
      this.act = act;
      this.cellClip = cellClip;
      this.projClip = projClip;
      for (int g = 0; g < 4; g++) {
        wx[g] = sized(l.floats(ins, INPUT_WEIGHTS + g), nCell * nIn, INPUT_WEIGHTS + g);
        wh[g] = sized(l.floats(ins, RECURRENT_WEIGHTS + g), nCell * nOut, RECURRENT_WEIGHTS + g);
        bias[g] = sized(l.floats(ins, BIAS + g), nCell, BIAS + g);
        norm[g] = sized(l.floats(ins, LAYER_NORM + g), nCell, LAYER_NORM + g);
      }
      peephole[0] = sized(l.floats(ins, PEEPHOLE), nCell, PEEPHOLE);
      peephole[1] = sized(l.floats(ins, PEEPHOLE + 1), nCell, PEEPHOLE + 1);
      peephole[3] = sized(l.floats(ins, PEEPHOLE + 2), nCell, PEEPHOLE + 2);
      if ((wx[0] == null) != (wh[0] == null) || wh[1] == null || wh[2] == null || wh[3] == null) {
        throw new KernelException("LSTM recurrent weights are missing");
      }
      projection = sized(l.floats(ins, PROJECTION_WEIGHTS), nOut * nCell, PROJECTION_WEIGHTS);
      projectionBias = sized(l.floats(ins, PROJECTION_BIAS), nOut, PROJECTION_BIAS);
      if (projection == null && nOut != nCell) {
        throw new KernelException(
            "LSTM output size "
                + nOut
                + " differs from its "
                + nCell
                + " cells without projection");
      }
      h = initial(l, ins, OUTPUT_STATE, batch * nOut);
      c = initial(l, ins, CELL_STATE, batch * nCell);
    }

    private static float[] initial(Layout l, Value[] ins, int k, int n) {
      float[] v = l.floats(ins, k);
      if (v == null) {
        return new float[n];
      }
      if (v.length != n) {
        throw new KernelException("LSTM state " + k + " has " + v.length + " values, not " + n);
      }
      return v.clone();
    }

    /** One time step on {@code x} [batch, nIn]; returns the new output state [batch, nOut]. */
    float[] step(float[] x) {
      boolean cifg = wx[0] == null;
      float[] in = cifg ? null : gate(0, x, "SIGMOID");
      float[] forget = gate(1, x, "SIGMOID");
      float[] g = gate(2, x, act);
      for (int i = 0; i < c.length; i++) {
        float ig = cifg ? 1f - forget[i] : in[i];
        c[i] = forget[i] * c[i] + g[i] * ig;
        if (cellClip > 0) {
          c[i] = Math.min(cellClip, Math.max(-cellClip, c[i]));
        }
      }
      float[] o = gate(3, x, "SIGMOID");
      float[] m = new float[batch * nCell];
      for (int i = 0; i < m.length; i++) {
        m[i] = o[i] * activate(act, c[i]);
      }
      if (projection == null) {
        System.arraycopy(m, 0, h, 0, h.length);
      } else {
        for (int bi = 0; bi < batch; bi++) {
          for (int r = 0; r < nOut; r++) {
            float dot = 0;
            for (int k = 0; k < nCell; k++) {
              dot += projection[r * nCell + k] * m[bi * nCell + k];
            }
            float v = (projectionBias == null ? 0f : projectionBias[r]) + dot;
            h[bi * nOut + r] = projClip > 0 ? Math.min(projClip, Math.max(-projClip, v)) : v;
          }
        }
      }
      return h;
    }

    /** Gate {@code k} (0 input, 1 forget, 2 cell, 3 output) over the batch. */
    private float[] gate(int k, float[] x, String activation) {
      boolean layerNorm = norm[k] != null;
      float[] z = new float[batch * nCell];
      for (int bi = 0; bi < batch; bi++) {
        for (int r = 0; r < nCell; r++) {
          float v = layerNorm || bias[k] == null ? 0f : bias[k][r];
          float dot = 0;
          for (int j = 0; j < nIn; j++) {
            dot += wx[k][r * nIn + j] * x[bi * nIn + j];
          }
          v += dot;
          dot = 0;
          for (int j = 0; j < nOut; j++) {
            dot += wh[k][r * nOut + j] * h[bi * nOut + j];
          }
          v += dot;
          if (peephole[k] != null) {
            v += peephole[k][r] * c[bi * nCell + r];
          }
          z[bi * nCell + r] = v;
        }
        if (layerNorm) {
          normalize(z, bi * nCell, nCell);
          for (int r = 0; r < nCell; r++) {
            int i = bi * nCell + r;
            z[i] = z[i] * norm[k][r] + (bias[k] == null ? 0f : bias[k][r]);
          }
        }
      }
      for (int i = 0; i < z.length; i++) {
        z[i] = activate(activation, z[i]);
      }
      return z;
    }
  }

  /** TFLite's mean/stddev normalization of {@code n} values from {@code off}, in place. */
  static void normalize(float[] v, int off, int n) {
    float sum = 0;
    float sumSq = 0;
    for (int i = 0; i < n; i++) {
      sum += v[off + i];
      sumSq += v[off + i] * v[off + i];
    }
    float mean = sum / n;
    float variance = sumSq / n - mean * mean;
    float inv = variance == 0 ? 1f / (float) Math.sqrt(1e-8f) : 1f / (float) Math.sqrt(variance);
    for (int i = 0; i < n; i++) {
      v[off + i] = (v[off + i] - mean) * inv;
    }
  }

  private static float[] sized(float[] v, int n, int k) {
    if (v != null && v.length != n) {
      throw new KernelException("LSTM tensor " + k + " has " + v.length + " values, expected " + n);
    }
    return v;
  }

  // -------------------------------------------------------------------------------------------
  // SVDF

  /** SVDF's sizes, from the input [batch, in], weights_feature [filters, in] and weights_time. */
  private record Svdf(int batch, int nIn, int filters, int memory, int units, int rank) {
    static Svdf of(Value x, Value feature, Value time, int rank) {
      if (x.rank() != 2 || feature.rank() != 2 || time.rank() != 2) {
        throw new KernelException("SVDF takes a 2-D input and 2-D weights");
      }
      int filters = (int) feature.dim(0);
      if (rank <= 0
          || filters % rank != 0
          || time.dim(0) != filters
          || feature.dim(1) != x.dim(1)) {
        throw new KernelException(
            "SVDF weights ["
                + filters
                + ", "
                + feature.dim(1)
                + "] and rank "
                + rank
                + " disagree");
      }
      return new Svdf(
          (int) x.dim(0), (int) x.dim(1), filters, (int) time.dim(1), filters / rank, rank);
    }

    int stateSize() {
      return batch * filters * memory;
    }
  }

  private static Kernel bindSvdf(BindContext b) {
    int rank = (int) b.intAttr("rank", 1);
    String act = activationAttr(b, "fused_activation_function");
    boolean hasBias = b.boolAttr("has_bias", false);
    return (ins, ctx) -> {
      Value x = ins[0];
      Svdf d = Svdf.of(x, ins[1], ins[2], rank);
      float[] state = new float[d.stateSize()];
      int stateInput = hasBias ? 4 : 3;
      if (ins.length > stateInput) {
        if (ins[stateInput].size() != state.length) {
          throw new KernelException(
              "SVDF state has " + ins[stateInput].size() + " values, not " + state.length);
        }
        System.arraycopy(floatsOf(ins[stateInput], 4), 0, state, 0, state.length);
      }
      float[] in = floatsOf(x, 0);
      float[] feature = floatsOf(ins[1], 1);
      float[] time = floatsOf(ins[2], 2);
      float[] bias = hasBias ? floatsOf(ins[3], 3) : null;
      // The newest activation goes in each filter's last memory column.
      for (int bi = 0; bi < d.batch(); bi++) {
        for (int f = 0; f < d.filters(); f++) {
          float dot = 0;
          for (int j = 0; j < d.nIn(); j++) {
            dot += feature[f * d.nIn() + j] * in[bi * d.nIn() + j];
          }
          state[(bi * d.filters() + f) * d.memory() + d.memory() - 1] = dot;
        }
      }
      float[] out = Value.zeros(DType.FLOAT32, new long[] {d.batch(), d.units()}).floats();
      for (int bi = 0; bi < d.batch(); bi++) {
        for (int u = 0; u < d.units(); u++) {
          float v = bias == null ? 0f : bias[u];
          for (int r = 0; r < d.rank(); r++) {
            int f = u * d.rank() + r;
            float dot = 0;
            for (int m = 0; m < d.memory(); m++) {
              dot += time[f * d.memory() + m] * state[(bi * d.filters() + f) * d.memory() + m];
            }
            v += dot;
          }
          out[bi * d.units() + u] = activate(act, v);
        }
      }
      return new Value[] {Value.of(DType.FLOAT32, new long[] {d.batch(), d.units()}, out)};
    };
  }

  /**
   * int8 SVDF: the feature products (input codes minus zero point) rescaled by s_in·s_wf / s_state
   * into the int16 state, the time products summed in int32 with the bias, rescaled by s_state·s_wt
   * / s_out onto the int8 output; TFLite applies no activation on this path.
   */
  private static Kernel bindQuantizedSvdf(BindContext b) {
    int rank = (int) b.intAttr("rank", 1);
    boolean hasBias = b.boolAttr("has_bias", false);
    Quant in = Quant.of(b, "input");
    Quant out = Quant.of(b, "output");
    float featureScale = Quant.of(b, "feature").scale();
    float timeScale = Quant.of(b, "time").scale();
    float stateScale = Quant.of(b, "state").scale();
    Multiplier m1 = Multiplier.of((double) in.scale() * featureScale / stateScale);
    Multiplier m2 = Multiplier.of((double) stateScale * timeScale / out.scale());
    return (ins, ctx) -> {
      QuantizedConvOps.checkType(ins[0], DType.INT8, "SVDF input");
      QuantizedConvOps.checkType(ins[1], DType.INT8, "SVDF feature weights");
      QuantizedConvOps.checkType(ins[2], DType.INT16, "SVDF time weights");
      Svdf d = Svdf.of(ins[0], ins[1], ins[2], rank);
      int[] state = new int[d.stateSize()];
      int stateInput = hasBias ? 4 : 3;
      if (ins.length > stateInput) {
        QuantizedConvOps.checkType(ins[stateInput], DType.INT16, "SVDF state");
        if (ins[stateInput].size() != state.length) {
          throw new KernelException(
              "SVDF state has " + ins[stateInput].size() + " values, not " + state.length);
        }
        state = FixedPoint.widen(ins[stateInput]);
      }
      int[] x = FixedPoint.widen(ins[0]);
      int[] feature = FixedPoint.widen(ins[1]);
      int[] time = FixedPoint.widen(ins[2]);
      long[] bias = hasBias ? FixedPoint.bias(ins[3], d.units()) : null;
      for (int bi = 0; bi < d.batch(); bi++) {
        for (int f = 0; f < d.filters(); f++) {
          int dot = 0;
          for (int j = 0; j < d.nIn(); j++) {
            dot += feature[f * d.nIn() + j] * (x[bi * d.nIn() + j] - in.zeroPoint());
          }
          int v = Math.min(Short.MAX_VALUE, Math.max(Short.MIN_VALUE, m1.apply(dot)));
          state[(bi * d.filters() + f) * d.memory() + d.memory() - 1] = v;
        }
      }
      int[] y = new int[d.batch() * d.units()];
      for (int bi = 0; bi < d.batch(); bi++) {
        for (int u = 0; u < d.units(); u++) {
          int acc = bias == null ? 0 : (int) bias[u];
          for (int r = 0; r < d.rank(); r++) {
            int f = u * d.rank() + r;
            int dot = 0;
            for (int k = 0; k < d.memory(); k++) {
              dot += time[f * d.memory() + k] * state[(bi * d.filters() + f) * d.memory() + k];
            }
            acc += dot;
          }
          int q = m2.apply(acc) + out.zeroPoint();
          y[bi * d.units() + u] = Math.min(Byte.MAX_VALUE, Math.max(Byte.MIN_VALUE, q));
        }
      }
      return new Value[] {FixedPoint.narrow(DType.INT8, new long[] {d.batch(), d.units()}, y)};
    };
  }
}
