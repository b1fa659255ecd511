package org.tfport.runtime.ops;

import static org.tfport.runtime.ops.RecurrentOps.BIAS;
import static org.tfport.runtime.ops.RecurrentOps.CELL_STATE;
import static org.tfport.runtime.ops.RecurrentOps.INPUT;
import static org.tfport.runtime.ops.RecurrentOps.INPUT_WEIGHTS;
import static org.tfport.runtime.ops.RecurrentOps.LAYER_NORM;
import static org.tfport.runtime.ops.RecurrentOps.OUTPUT_STATE;
import static org.tfport.runtime.ops.RecurrentOps.PEEPHOLE;
import static org.tfport.runtime.ops.RecurrentOps.PROJECTION_BIAS;
import static org.tfport.runtime.ops.RecurrentOps.PROJECTION_WEIGHTS;
import static org.tfport.runtime.ops.RecurrentOps.RECURRENT_WEIGHTS;
import static org.tfport.runtime.ops.RecurrentOps.SLOTS;

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
 * TFLite's integer LSTM ({@code TfliteQuantizedLstm}: LSTM and UNIDIRECTIONAL_SEQUENCE_LSTM with
 * int8 input, weights and output state, int16 cell state, int32 biases), the "8x8_16" kernel:
 *
 * <ul>
 *   <li>each gate accumulates W_x·x and W_h·h in int32 with the zero points folded into the biases
 *       (the gate bias joins the input product unless layer norm is on), rescales each product to
 *       the gate's intermediate scale (2^-12, or the file's intermediate tensor with layer norm)
 *       and adds them saturating into int16; the peephole term likewise; layer norm normalizes in
 *       fixed point (mean and inverse square root) then scales and biases; the gate is gemmlowp's
 *       16-bit logistic (tanh for the cell gate) of a Q3.12 value;
 *   <li>the cell state (a power-of-two scale 2^k) becomes f·c / 2^15 + i·g / 2^(30+k), saturated
 *       and clipped; the hidden value is o·tanh(c) rescaled to int8 by 2^-30 / hidden scale plus
 *       the hidden zero point (the fifth intermediate tensor); a projection multiplies it into the
 *       output state, else it is the output state. An int8 state starts at its zero point, as
 *       TFLite resets variable tensors.
 * </ul>
 *
 * <p>Effective scales are computed in float32 as TFLite's Prepare does, then split into 32-bit
 * multipliers. Attributes: {@code slots} (as {@code TfliteLstm}), {@code sequence}, {@code
 * time_major}, {@code input_*}, {@code output_state_*}, {@code cell_state_scale}, {@code
 * output_scale}, {@code weight_scales} (24, per slot), {@code gate_scales} (the four gate
 * intermediates), {@code hidden_*} (the fifth intermediate), {@code cell_clip}, {@code proj_clip}.
 */
final class QuantizedLstmOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("TfliteQuantizedLstm", QuantizedLstmOps::bind);
  }

  /** One gate's integer parameters (k: 0 input, 1 forget, 2 cell, 3 output). */
  private record Gate(
      Multiplier input,
      Multiplier recurrent,
      Multiplier peephole,
      Multiplier layerNorm,
      int varianceGuard) {}

  private record Params(
      Gate[] gates,
      Multiplier hidden,
      int hiddenZeroPoint,
      Multiplier projection,
      int inputZeroPoint,
      int outputStateZeroPoint,
      int cellShift,
      int cellClip,
      int projClip) {}

  private static Kernel bind(BindContext b) {
    int[] slot = RecurrentOps.slots(b);
    for (int k : new int[] {INPUT, INPUT_WEIGHTS + 1, INPUT_WEIGHTS + 2, INPUT_WEIGHTS + 3}) {
      if (slot[k] < 0) {
        throw new KernelException("LSTM tensor " + k + " is required");
      }
    }
    boolean layerNorm = slot[LAYER_NORM + 1] >= 0;
    Params p = params(b, slot, layerNorm);
    boolean sequence = b.boolAttr("sequence", true);
    boolean timeMajor = b.boolAttr("time_major", false);
    long[] stateSizes = b.intsAttr("state_sizes", null);
    return (ins, ctx) -> {
      Value x = ins[slot[INPUT]];
      QuantizedConvOps.checkType(x, DType.INT8, "LSTM input");
      Value wOut = ins[slot[INPUT_WEIGHTS + 3]];
      Value rOut = ins[slot[RECURRENT_WEIGHTS + 3]];
      if (x.rank() != (sequence ? 3 : 2) || wOut.rank() != 2 || rOut.rank() != 2) {
        throw new KernelException(
            "LSTM input is " + x.rank() + "-D or its weights are not matrices");
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
      RecurrentOps.checkStates(stateSizes, batch, nOut, nCell);
      IntegerCell cell = new IntegerCell(p, slot, ins, layerNorm, batch, nIn, nCell, nOut);
      long[] shape =
          !sequence
              ? new long[] {batch, nOut}
              : timeMajor ? new long[] {steps, batch, nOut} : new long[] {batch, steps, nOut};
      byte[] out = new byte[batch * steps * nOut];
      byte[] in = x.bytes();
      int[] xt = new int[batch * nIn];
      for (int t = 0; t < steps; t++) {
        for (int bi = 0; bi < batch; bi++) {
          int from = sequence && !timeMajor ? (bi * steps + t) * nIn : (t * batch + bi) * nIn;
          for (int j = 0; j < nIn; j++) {
            xt[bi * nIn + j] = in[from + j];
          }
        }
        int[] h = cell.step(xt);
        for (int bi = 0; bi < batch; bi++) {
          int to = sequence && !timeMajor ? (bi * steps + t) * nOut : (t * batch + bi) * nOut;
          for (int j = 0; j < nOut; j++) {
            out[to + j] = (byte) h[bi * nOut + j];
          }
        }
      }
      return new Value[] {Value.of(DType.INT8, shape, out)};
    };
  }

  /** TFLite's Prepare: effective scales in float32, then multipliers. */
  private static Params params(BindContext b, int[] slot, boolean layerNorm) {
    Quant input = Quant.of(b, "input");
    Quant outputState = Quant.of(b, "output_state");
    Quant hidden = Quant.of(b, "hidden");
    float cellScale = b.floatAttr("cell_state_scale", Float.NaN);
    int cellShift = log2(cellScale);
    if (15 + cellShift < 0 || 15 + cellShift > 6) {
      throw new KernelException(
          "the cell state scale 2^"
              + cellShift
              + " leaves "
              + (15 + cellShift)
              + " integer bits for its tanh; TFLite's integer LSTM takes 0 to 6");
    }
    float[] w = b.floatsAttr("weight_scales", null);
    float[] gateScales = b.floatsAttr("gate_scales", null);
    if (w == null || w.length != SLOTS || gateScales == null || gateScales.length != 4) {
      throw new KernelException("attributes 'weight_scales' (24) and 'gate_scales' (4) are needed");
    }
    Gate[] gates = new Gate[4];
    for (int g = 0; g < 4; g++) {
      if (slot[INPUT_WEIGHTS + g] < 0) {
        continue; // CIFG: no input gate
      }
      float inter = layerNorm ? gateScales[g] : (float) Math.pow(2, -12);
      if (!(inter > 0)) {
        throw new KernelException("gate " + g + "'s intermediate tensor has no scale");
      }
      float inputScale = w[INPUT_WEIGHTS + g] * input.scale() / inter;
      float recurrentScale = w[RECURRENT_WEIGHTS + g] * outputState.scale() / inter;
      int peepholeSlot = g == 0 ? PEEPHOLE : g == 1 ? PEEPHOLE + 1 : g == 3 ? PEEPHOLE + 2 : -1;
      Multiplier peephole = null;
      if (peepholeSlot >= 0 && slot[peepholeSlot] >= 0) {
        peephole = Multiplier.of((float) (Math.pow(2, cellShift) * w[peepholeSlot] / inter));
      }
      float lnScale = layerNorm ? w[LAYER_NORM + g] : 1f;
      gates[g] =
          new Gate(
              Multiplier.of(inputScale),
              Multiplier.of(recurrentScale),
              peephole,
              Multiplier.of(lnScale),
              Math.max(1, (int) (10000 * lnScale)));
    }
    float hiddenScale = (float) (Math.pow(2, -15) / hidden.scale() * Math.pow(2, -15));
    float projectionScale = w[PROJECTION_WEIGHTS] * hidden.scale() / outputState.scale();
    float cellClip = b.floatAttr("cell_clip", 0f);
    float projClip = b.floatAttr("proj_clip", 0f);
    float outputScale = b.floatAttr("output_scale", 1f);
    return new Params(
        gates,
        Multiplier.of(hiddenScale),
        hidden.zeroPoint(),
        slot[PROJECTION_WEIGHTS] >= 0 ? Multiplier.of(projectionScale) : null,
        input.zeroPoint(),
        outputState.zeroPoint(),
        cellShift,
        cellClip > 0 ? (short) Math.min(Math.max(cellClip / cellScale, -32768f), 32767f) : 0,
        projClip > 0 ? (byte) Math.min(Math.max(projClip / outputScale, -128f), 127f) : 0);
  }

  /** The exponent of a power-of-two scale, as TFLite's CheckedLog2 accepts it. */
  private static int log2(float scale) {
    if (!(scale > 0) || Float.isInfinite(scale)) {
      throw new KernelException("the cell state scale " + scale + " is not a positive number");
    }
    float l = (float) Math.log(scale) * (1f / (float) Math.log(2f));
    float rounded = Math.round(l);
    if (Math.abs(l - rounded) >= 1e-3f) {
      throw new KernelException(
          "the cell state scale " + scale + " is not a power of two, as TFLite requires");
    }
    return (int) rounded;
  }

  /** One integer LSTM's weights and running state, for one run. */
  private static final class IntegerCell {
    final Params p;
    final boolean layerNorm;
    final int batch;
    final int nIn;
    final int nCell;
    final int nOut;
    final int[][] wx = new int[4][];
    final int[][] wh = new int[4][];
    final int[][] inputBias = new int[4][];
    final int[][] recurrentBias = new int[4][];
    final int[][] peephole = new int[4][];
    final int[][] norm = new int[4][];
    final int[][] normBias = new int[4][];
    final int[] projection;
    final int[] projectionBias;
    final int[] h;
    final int[] c;

    IntegerCell(
        Params p,
        int[] slot,
        Value[] ins,
        boolean layerNorm,
        int batch,
        int nIn,
        int nCell,
        int nOut) {
      this.p = p;
      this.layerNorm = layerNorm;
      this.batch = batch;
      this.nIn = nIn;
      this.nCell = nCell;
      this.nOut = nOut;
      for (int g = 0; g < 4; g++) {
        wx[g] = tensor(slot, ins, INPUT_WEIGHTS + g, DType.INT8, nCell * nIn);
        wh[g] = tensor(slot, ins, RECURRENT_WEIGHTS + g, DType.INT8, nCell * nOut);
        if ((wx[g] == null) != (wh[g] == null)) {
          throw new KernelException("LSTM gate " + g + " has input or recurrent weights alone");
        }
        if (wx[g] == null) {
          continue;
        }
        int[] bias = tensor(slot, ins, BIAS + g, DType.INT32, nCell);
        norm[g] = tensor(slot, ins, LAYER_NORM + g, DType.INT16, nCell);
        if (layerNorm && norm[g] == null) {
          throw new KernelException("LSTM gate " + g + " has no layer-norm coefficients");
        }
        normBias[g] = bias == null ? new int[nCell] : bias;
        // The zero points fold into the biases: Σ w·(q − z) = Σ w·q − z·Σ w.
        inputBias[g] = withRowSums(layerNorm ? null : bias, wx[g], -p.inputZeroPoint(), nCell);
        recurrentBias[g] = withRowSums(null, wh[g], -p.outputStateZeroPoint(), nCell);
      }
      if (wx[1] == null || wx[2] == null || wx[3] == null) {
        throw new KernelException("LSTM forget, cell and output weights are required");
      }
      peephole[0] = tensor(slot, ins, PEEPHOLE, DType.INT16, nCell);
      peephole[1] = tensor(slot, ins, PEEPHOLE + 1, DType.INT16, nCell);
      peephole[3] = tensor(slot, ins, PEEPHOLE + 2, DType.INT16, nCell);
      projection = tensor(slot, ins, PROJECTION_WEIGHTS, DType.INT8, nOut * nCell);
      int[] pb = tensor(slot, ins, PROJECTION_BIAS, DType.INT32, nOut);
      projectionBias =
          projection == null ? null : withRowSums(pb, projection, -p.hiddenZeroPoint(), nOut);
      if (projection == null && nOut != nCell) {
        throw new KernelException(
            "LSTM output size "
                + nOut
                + " differs from its "
                + nCell
                + " cells without projection");
      }
      int[] h0 = tensor(slot, ins, OUTPUT_STATE, DType.INT8, batch * nOut);
      int[] c0 = tensor(slot, ins, CELL_STATE, DType.INT16, batch * nCell);
      if (h0 == null) {
        // TFLite resets an int8 variable tensor to its zero point (the real value 0).
        h0 = new int[batch * nOut];
        java.util.Arrays.fill(h0, p.outputStateZeroPoint());
      }
      h = h0;
      c = c0 == null ? new int[batch * nCell] : c0;
    }

    private static int[] tensor(int[] slot, Value[] ins, int k, DType t, int n) {
      if (slot[k] < 0) {
        return null;
      }
      Value v = ins[slot[k]];
      QuantizedConvOps.checkType(v, t, "LSTM tensor " + k);
      if (v.size() != n) {
        throw new KernelException(
            "LSTM tensor " + k + " has " + v.size() + " values, expected " + n);
      }
      return FixedPoint.widen(v);
    }

    /** bias + z·(row sums of w), the zero-point correction of each row's product. */
    private static int[] withRowSums(int[] bias, int[] w, int z, int rows) {
      int[] out = bias == null ? new int[rows] : bias.clone();
      int cols = w.length / rows;
      for (int r = 0; r < rows; r++) {
        int sum = 0;
        for (int j = 0; j < cols; j++) {
          sum += w[r * cols + j];
        }
        out[r] += sum * z;
      }
      return out;
    }

    /** One time step on {@code x} [batch, nIn]; returns the new output state [batch, nOut]. */
    int[] step(int[] x) {
      boolean cifg = wx[0] == null;
      int[] in = cifg ? null : gate(0, x, false);
      int[] forget = gate(1, x, false);
      int[] g = gate(2, x, true);
      int cellShift = p.cellShift();
      for (int i = 0; i < c.length; i++) {
        int fc = (short) FixedPoint.roundingDivideByPOT(forget[i] * c[i], 15);
        int ig = cifg ? (short) (Short.MAX_VALUE - forget[i]) : in[i];
        int update = (short) FixedPoint.roundingDivideByPOT(ig * g[i], 30 + cellShift);
        int v = clamp16(fc + update);
        c[i] = p.cellClip() > 0 ? Math.max(-p.cellClip(), Math.min(p.cellClip(), v)) : v;
      }
      int[] o = gate(3, x, false);
      int[] hidden = new int[batch * nCell];
      for (int i = 0; i < hidden.length; i++) {
        int t = Int16FixedPoint.tanh(c[i], 15 + cellShift);
        int v = p.hidden().apply(o[i] * t) + p.hiddenZeroPoint();
        hidden[i] = Math.max(Byte.MIN_VALUE, Math.min(Byte.MAX_VALUE, v));
      }
      if (projection == null) {
        System.arraycopy(hidden, 0, h, 0, h.length);
        return h;
      }
      for (int bi = 0; bi < batch; bi++) {
        for (int r = 0; r < nOut; r++) {
          int acc = projectionBias[r];
          for (int k = 0; k < nCell; k++) {
            acc += hidden[bi * nCell + k] * projection[r * nCell + k];
          }
          int v = p.projection().apply(acc) + p.outputStateZeroPoint();
          v = Math.max(Byte.MIN_VALUE, Math.min(Byte.MAX_VALUE, v));
          h[bi * nOut + r] =
              p.projClip() > 0 ? Math.max(-p.projClip(), Math.min(p.projClip(), v)) : v;
        }
      }
      return h;
    }

    /** Gate {@code k} over the batch as int16 Q0.15. */
    private int[] gate(int k, int[] x, boolean tanh) {
      Gate q = p.gates()[k];
      int[] z = new int[batch * nCell];
      accumulate(x, inputBias[k], wx[k], q.input(), nIn, z);
      accumulate(h, recurrentBias[k], wh[k], q.recurrent(), nOut, z);
      if (peephole[k] != null) {
        // TFLite walks the peephole product with a vector length of n_output (equal to n_cell
        // unless there is a projection); followed as it is.
        int v = nOut;
        for (int i = 0; i < batch * v && i < z.length; i++) {
          int prod = q.peephole().apply(peephole[k][i % v] * c[i]);
          z[i] = clamp16(prod + z[i]);
        }
      }
      if (layerNorm) {
        for (int bi = 0; bi < batch; bi++) {
          layerNorm(z, bi * nCell, norm[k], normBias[k], q);
        }
      }
      for (int i = 0; i < z.length; i++) {
        z[i] = tanh ? Int16FixedPoint.tanh(z[i], 3) : Int16FixedPoint.logistic(z[i], 3);
      }
      return z;
    }

    /** z += rescale(bias + W·v), saturated to int16, per batch row. */
    private void accumulate(int[] v, int[] bias, int[] w, Multiplier m, int n, int[] z) {
      for (int bi = 0; bi < batch; bi++) {
        for (int r = 0; r < nCell; r++) {
          int acc = bias[r];
          for (int j = 0; j < n; j++) {
            acc += v[bi * n + j] * w[r * n + j];
          }
          z[bi * nCell + r] = clamp16(m.apply(acc) + z[bi * nCell + r]);
        }
      }
    }

    /** TFLite's integer layer norm of the {@code nCell} values from {@code off}, in place. */
    private void layerNorm(int[] z, int off, int[] weights, int[] bias, Gate q) {
      long sum = 0;
      long sumSq = 0;
      for (int j = 0; j < nCell; j++) {
        int v = z[off + j];
        sum += v;
        sumSq += v * v;
      }
      int mean = (int) (sum * 1024 / nCell);
      int temp = (1 << 20) / nCell;
      long variance = sumSq * temp - (long) mean * mean;
      int variance2 = (int) (variance / (1 << 20));
      if (variance2 < 1) {
        variance2 = q.varianceGuard();
      }
      int[] inv = inverseSqrt(variance2);
      Multiplier ln = q.layerNorm();
      for (int j = 0; j < nCell; j++) {
        int shifted = 1024 * z[off + j] - mean;
        int rescaled = FixedPoint.multiply(shifted, inv[0], inv[1]);
        long val3 = rescaled * weights[j] + bias[j];
        int val4 = (int) ((val3 > 0 ? val3 + 512 : val3 - 512) / 1024);
        z[off + j] = clamp16(FixedPoint.multiply(val4, ln.significand(), ln.shift() + 12));
      }
    }
  }

  /**
   * 1/sqrt(x) as a multiplier {significand, shift} (TFLite's GetInvSqrtQuantizedMultiplierExp with
   * reverse_shift −1): Newton–Raphson in gemmlowp's 32-bit Q3.28.
   */
  static int[] inverseSqrt(int input) {
    if (input <= 1) {
      return new int[] {Integer.MAX_VALUE, 0};
    }
    int shift = 11;
    while (input >= 1 << 29) {
      input /= 4;
      shift++;
    }
    int pairs = (Integer.numberOfLeadingZeros(input) - 1) / 2 - 1;
    shift -= pairs;
    input <<= 2 * pairs;
    int halfInput = FixedPoint.roundingDivideByPOT(input >> 1, 1);
    int halfThree = (1 << 28) + (1 << 27);
    int x = 1 << 28; // 1.0 with 3 integer bits
    for (int i = 0; i < 5; i++) {
      int x3 = shiftLeftSaturating(mul32(mul32(x, x), x), 6);
      x = shiftLeftSaturating(mul32(halfThree, x) - mul32(halfInput, x3), 3);
    }
    int inv = mul32(x, 1518500250); // · sqrt(2)/2
    if (shift < 0) {
      inv <<= -shift;
      shift = 0;
    }
    return new int[] {inv, -shift};
  }

  private static int mul32(int a, int b) {
    return FixedPoint.saturatingRoundingDoublingHighMul(a, b);
  }

  private static int shiftLeftSaturating(int x, int e) {
    int threshold = (1 << (31 - e)) - 1;
    if (x > threshold) {
      return Integer.MAX_VALUE;
    }
    if (x < -threshold) {
      return Integer.MIN_VALUE;
    }
    return x << e;
  }

  private static int clamp16(int v) {
    return Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, v));
  }
}
