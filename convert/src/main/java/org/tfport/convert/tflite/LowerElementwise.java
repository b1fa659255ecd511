package org.tfport.convert.tflite;

import static org.tfport.convert.tflite.Lowering.MOVABLE;
import static org.tfport.convert.tflite.Lowering.arithmetic;
import static org.tfport.convert.tflite.Lowering.ref;
import static org.tfport.formats.tflite.TfliteBuiltin.*;
import static org.tfport.formats.tflite.TfliteOptionsType.*;

import java.util.ArrayList;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.Node;
import org.tfport.formats.tflite.TfliteType;

/**
 * The lowering of element-wise TF ops TFLite has no builtin for, as short sequences of builtins
 * computing TF's expression (OnesLike, ClipByValue, Reciprocal, Softplus, Selu, Softsign, Log1p,
 * Expm1), and AddN.
 */
final class LowerElementwise {
  private final Lowering core;
  private final ModelBuilder.Sub sub;

  LowerElementwise(Lowering core) {
    this.core = core;
    this.sub = core.sub;
  }

  /** TFLite has ZEROS_LIKE but no ONES_LIKE: {@code zeros_like(x) + 1}. */
  boolean onesLike(Node n) {
    int dt = core.dtypeOf(ref(n.name(), 0));
    if (dt != DType.FLOAT32.tfEnum() && dt != DType.INT32.tfEnum()) {
      return false;
    }
    ModelBuilder.T xt = sub.t(core.in(n, 0));
    int zeros =
        sub.add(
            new ModelBuilder.T(
                n.name() + "/zeros",
                xt.type,
                xt.shape.clone(),
                xt.signature == null ? null : xt.signature.clone()));
    sub.t(zeros).hasRank = xt.hasRank;
    sub.op(ZEROS_LIKE, NONE, List.of(core.in(n, 0)), List.of(zeros));
    byte[] one =
        java.nio.ByteBuffer.allocate(4)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN)
            .putInt(dt == DType.FLOAT32.tfEnum() ? Float.floatToIntBits(1f) : 1)
            .array();
    int c =
        sub.constant(
            n.name() + "/one",
            dt == DType.FLOAT32.tfEnum() ? TfliteType.FLOAT32 : TfliteType.INT32,
            new int[0],
            one);
    core.simple(n, ADD, ADD_OPTIONS, List.of(zeros, c)).opt("fused_activation_function", 0);
    return true;
  }

  /**
   * {@code ClipByValue(t, lo, hi)}: RELU6 or RELU_N1_TO_1 for constant float bounds [0, 6] / [-1,
   * 1], else MINIMUM(t, hi) then MAXIMUM(·, lo), TF's order (so lo > hi gives lo, as in TF).
   */
  boolean clipByValue(Node n) {
    int dt = core.dtypeOf(ref(n.name(), 0));
    if (!MOVABLE.contains(dt)) {
      return false;
    }
    Tensor lo = core.constant(n.input(1));
    Tensor hi = core.constant(n.input(2));
    if (dt == DType.FLOAT32.tfEnum()
        && lo != null
        && hi != null
        && lo.size() == 1
        && hi.size() == 1
        && lo.dtype() == DType.FLOAT32
        && hi.dtype() == DType.FLOAT32) {
      float l = lo.toFloatArray()[0];
      float h = hi.toFloatArray()[0];
      if (l == 0f && h == 6f) {
        return core.unary(n, RELU6, NONE);
      }
      if (l == -1f && h == 1f) {
        return core.unary(n, RELU_N1_TO_1, NONE);
      }
    }
    int x = core.in(n, 0);
    int low = core.tensor(n.input(1));
    int high = core.tensor(n.input(2));
    int clipped = core.like(n, "/clip_max", x, null);
    sub.op(MINIMUM, NONE, List.of(x, high), List.of(clipped)).tfName = n.name();
    core.simple(n, MAXIMUM, NONE, List.of(clipped, low));
    return true;
  }

  /** {@code Reciprocal}/{@code Inv}: DIV(1, x), the division TF's kernel does. */
  boolean reciprocal(Node n) {
    arithmetic(
        core.simple(n, DIV, DIV_OPTIONS, List.of(core.scalar(n, "/one", 1f), core.in(n, 0))));
    return true;
  }

  /**
   * {@code Softplus}: TF returns x above 13.94, exp(x) below -13.94 and log1p(exp(x)) between;
   * TFLite has no builtin, and relu(x) + log(1 + exp(-|x|)) equals all three within float rounding
   * (about 6e-8 absolute) with no overflow for large |x|.
   */
  boolean softplus(Node n) {
    int x = core.in(n, 0);
    int abs = core.intermediate(n, "/abs", ABS, NONE, x);
    int neg = core.intermediate(n, "/neg_abs", NEG, NEG_OPTIONS, abs);
    int exp = core.intermediate(n, "/exp", EXP, EXP_OPTIONS, neg);
    int one = core.intermediate(n, "/one_plus", ADD, ADD_OPTIONS, exp, core.scalar(n, "/one", 1f));
    int log = core.intermediate(n, "/log", LOG, NONE, one);
    int relu = core.intermediate(n, "/relu", RELU, NONE, x);
    arithmetic(core.simple(n, ADD, ADD_OPTIONS, List.of(relu, log)));
    return true;
  }

  /**
   * {@code Selu}: TF selects scale·alpha·(exp(x) − 1) where x < 0, else scale·x; the same select
   * over ELU (expm1 for x < 0) times TF's constants.
   */
  boolean selu(Node n) {
    int x = core.in(n, 0);
    int negative = core.like(n, "/negative", x, TfliteType.BOOL);
    sub.op(LESS, NONE, List.of(x, core.scalar(n, "/zero", 0f)), List.of(negative)).tfName =
        n.name();
    int elu = core.intermediate(n, "/elu", ELU, NONE, x);
    int low =
        core.intermediate(
            n,
            "/scaled_elu",
            MUL,
            MUL_OPTIONS,
            elu,
            core.scalar(n, "/scale_alpha", 1.7580993408473768599402175208123f));
    int high =
        core.intermediate(
            n,
            "/scaled",
            MUL,
            MUL_OPTIONS,
            x,
            core.scalar(n, "/scale", 1.0507009873554804934193349852946f));
    core.simple(n, SELECT_V2, SELECT_V2_OPTIONS, List.of(negative, low, high));
    return true;
  }

  /** {@code Softsign}: x / (|x| + 1), TF's expression. */
  boolean softsign(Node n) {
    int x = core.in(n, 0);
    int abs = core.intermediate(n, "/abs", ABS, NONE, x);
    int den =
        core.intermediate(n, "/abs_plus_one", ADD, ADD_OPTIONS, abs, core.scalar(n, "/one", 1f));
    arithmetic(core.simple(n, DIV, DIV_OPTIONS, List.of(x, den)));
    return true;
  }

  /** {@code Log1p}: log(1 + x); rounding 1 + x costs at most about 6e-8 absolute. */
  boolean log1p(Node n) {
    int plus =
        core.intermediate(
            n, "/one_plus", ADD, ADD_OPTIONS, core.in(n, 0), core.scalar(n, "/one", 1f));
    core.simple(n, LOG, NONE, List.of(plus));
    return true;
  }

  /** {@code Expm1}: exp(x) − 1; off by about 1e-7 · max(1, exp(x)). */
  boolean expm1(Node n) {
    int exp = core.intermediate(n, "/exp", EXP, EXP_OPTIONS, core.in(n, 0));
    arithmetic(core.simple(n, SUB, SUB_OPTIONS, List.of(exp, core.scalar(n, "/one", 1f))));
    return true;
  }

  /** {@code AddN}: ADD_N (float32 and int32 kernels only); one input is the input itself. */
  boolean addN(Node n) {
    List<String> data = n.dataInputs();
    int dt = core.dtypeOf(ref(n.name(), 0));
    if (data.isEmpty() || dt != DType.FLOAT32.tfEnum() && dt != DType.INT32.tfEnum()) {
      return false;
    }
    if (data.size() == 1) {
      return core.alias(n);
    }
    List<Integer> ins = new ArrayList<>();
    for (String d : data) {
      ins.add(core.tensor(d));
    }
    core.simple(n, ADD_N, NONE, ins);
    return true;
  }
}
