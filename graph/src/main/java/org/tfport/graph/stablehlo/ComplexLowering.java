package org.tfport.graph.stablehlo;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.formats.stablehlo.Attr;
import org.tfport.formats.stablehlo.DenseElements;
import org.tfport.formats.stablehlo.MlirType;
import org.tfport.formats.stablehlo.Op;
import org.tfport.graph.stablehlo.Lowerer.Refusal;
import org.tfport.graph.stablehlo.Lowerer.V;

/**
 * Complex values lower to pairs of real tensors ({@code complex<f32>} to two float32 tensors,
 * {@code complex<f64>} to two float64 ones), so that complex arithmetic runs, in full precision, on
 * the real kernels every target has. Only a function's complex arguments and results are complex64
 * tensors, taken apart and put together with TensorFlow's {@code Real}/{@code Imag}/ {@code
 * Complex}; {@code complex<f64>} there is refused, tfport's tensors having no complex128.
 */
final class ComplexLowering {
  private ComplexLowering() {}

  /** A complex value: its real and imaginary parts, of the same real type and shape. */
  record Cx(V re, V im) {}

  static final Set<String> NAMES = Set.of("stablehlo.complex", "stablehlo.real", "stablehlo.imag");

  /** Ops applied to each part alike: they move or pick elements, never mix the parts. */
  private static final Set<String> PARTWISE =
      Set.of(
          "stablehlo.broadcast_in_dim",
          "stablehlo.broadcast",
          "stablehlo.reshape",
          "stablehlo.transpose",
          "stablehlo.reverse",
          "stablehlo.slice",
          "stablehlo.dynamic_slice",
          "stablehlo.dynamic_update_slice",
          "stablehlo.concatenate",
          "stablehlo.pad",
          "stablehlo.select",
          "stablehlo.gather",
          "stablehlo.add",
          "stablehlo.subtract",
          "stablehlo.negate");

  static boolean isComplex(MlirType t) {
    return t.isTensor() && t.element().startsWith("complex<");
  }

  /** Whether {@code op} reads or makes a complex value, so that this class lowers it. */
  static boolean involves(Lowerer l, Op op) {
    if (NAMES.contains(op.name())) {
      return true;
    }
    for (MlirType t : op.resultTypes()) {
      if (isComplex(t)) {
        return true;
      }
    }
    for (MlirType t : op.operandTypes()) {
      if (isComplex(t)) {
        return true;
      }
    }
    for (String o : op.operands()) {
      if (l.complex(o) != null) {
        return true;
      }
    }
    return false;
  }

  /** The real type of a complex element type's parts. */
  static DType partType(MlirType t) {
    return switch (t.element()) {
      case "complex<f32>" -> DType.FLOAT32;
      case "complex<f64>" -> DType.FLOAT64;
      default -> throw new Refusal("element type " + t.element() + " (complex of a non-float)");
    };
  }

  /**
   * Lowers {@code op}, binding its results; an operand whose producer was refused (and named)
   * leaves them unbound.
   */
  static void lower(Lowerer l, Op op) {
    List<Cx> ins = new ArrayList<>();
    for (String o : op.operands()) {
      Cx c = l.complex(o);
      if (c == null) {
        V v = l.lookup(o);
        if (v == null) {
          return;
        }
        c = new Cx(v, null);
      }
      ins.add(c);
    }
    try {
      List<Cx> outs = lowerOp(l, op, ins);
      for (int i = 0; i < outs.size(); i++) {
        Cx c = outs.get(i);
        if (c.im() == null) {
          l.env.put(op.results().get(i), c.re());
        } else {
          l.complexEnv.put(op.results().get(i), c);
        }
      }
    } catch (Refusal r) {
      l.refusals.add(new StableHloLowering.Problem("line " + op.line(), op.name(), r.getMessage()));
    }
  }

  private static List<Cx> lowerOp(Lowerer l, Op op, List<Cx> ins) {
    String name = op.name();
    if (name.startsWith("check.")) {
      check(l, op, ins);
      return List.of();
    }
    if (op.results().size() != 1) {
      throw new Refusal("complex values through an op of several results (loops, conditionals)");
    }
    MlirType rt = op.resultTypes().get(0);
    long[] shape = Lowerer.shape(rt);
    if (name.equals("stablehlo.constant")) {
      return List.of(constant(l, op));
    }
    if (name.equals("stablehlo.real") || name.equals("stablehlo.imag")) {
      Cx a = ins.get(0);
      if (a.im() == null) {
        return List.of(real(name.equals("stablehlo.real") ? l.identity(a.re()) : zeros(l, a.re())));
      }
      return List.of(real(l.identity(name.equals("stablehlo.real") ? a.re() : a.im())));
    }
    if (!isComplex(rt)) {
      if (name.equals("stablehlo.abs")) {
        Cx a = ins.get(0);
        return List.of(real(abs(l, a, shape)));
      }
      if (name.equals("stablehlo.convert")) {
        return List.of(real(l.cast(l.identity(ins.get(0).re()), Lowerer.dtype(rt))));
      }
      throw new Refusal("no lowering for complex operands");
    }
    DType t = partType(rt);
    if (name.equals("stablehlo.complex")) {
      return List.of(new Cx(l.cast(ins.get(0).re(), t), l.cast(ins.get(1).re(), t)));
    }
    if (name.equals("stablehlo.convert")) {
      Cx a = ins.get(0);
      V re = l.cast(a.re(), t);
      return List.of(new Cx(re, a.im() == null ? zeros(l, re) : l.cast(a.im(), t)));
    }
    List<Cx> cs = ins.stream().map(c -> c.im() == null ? c : widen(l, c, t)).toList();
    if (PARTWISE.contains(name)) {
      Op part = partOp(op);
      V re = only(Dispatch.lower(l, part, parts(cs, true, name)));
      V im = only(Dispatch.lower(l, part, parts(cs, false, name)));
      return List.of(new Cx(re, im));
    }
    if (name.equals("stablehlo.dot_general") || name.equals("stablehlo.dot")) {
      Op part = partOp(op);
      Cx a = complexOf(l, cs.get(0));
      Cx b = complexOf(l, cs.get(1));
      V rr = only(Dispatch.lower(l, part, List.of(a.re(), b.re())));
      V ii = only(Dispatch.lower(l, part, List.of(a.im(), b.im())));
      V ri = only(Dispatch.lower(l, part, List.of(a.re(), b.im())));
      V ir = only(Dispatch.lower(l, part, List.of(a.im(), b.re())));
      return List.of(new Cx(bin(l, "Sub", rr, ii), bin(l, "AddV2", ri, ir)));
    }
    return List.of(ComplexMath.lower(l, name, cs.stream().map(c -> complexOf(l, c)).toList()));
  }

  private static Cx real(V v) {
    return new Cx(v, null);
  }

  private static V only(List<V> vs) {
    return vs.get(0);
  }

  static V bin(Lowerer l, String tf, V a, V b) {
    return l.binary(tf, a, b, a.dtype());
  }

  static V bin(Lowerer l, String tf, V a, V b, DType out) {
    return l.binary(tf, a, b, out);
  }

  static V select(Lowerer l, V cond, V a, V b) {
    return l.op(
        "SelectV2", a.dtype(), a.shape(), List.of(cond, a, b), "T", Lowerer.type(a.dtype()));
  }

  static V un(Lowerer l, String tf, V a) {
    return l.op(tf, a.dtype(), a.shape(), List.of(a));
  }

  static V zeros(Lowerer l, V like) {
    return l.op("ZerosLike", like.dtype(), like.shape(), List.of(like));
  }

  /** |z| as hypot: the larger part times sqrt(1 + (smaller/larger)^2), so no square overflows. */
  static V abs(Lowerer l, Cx z, long[] shape) {
    if (z.im() == null) {
      return un(l, "Abs", z.re());
    }
    V ar = un(l, "Abs", z.re());
    V ai = un(l, "Abs", z.im());
    V big = bin(l, "Maximum", ar, ai);
    V small = bin(l, "Minimum", ar, ai);
    // 0/0 where z is 0: picked away (TFLite has no DivNoNan).
    V zero = bin(l, "Equal", big, l.scalar(big.dtype(), 0), DType.BOOL);
    V ratio = select(l, zero, zeros(l, big), bin(l, "RealDiv", small, big));
    V root = un(l, "Sqrt", bin(l, "AddV2", l.scalar(big.dtype(), 1), bin(l, "Mul", ratio, ratio)));
    return bin(l, "Mul", big, root);
  }

  /** A real operand where a complex one is read: its imaginary part is zero. */
  static Cx complexOf(Lowerer l, Cx c) {
    return c.im() != null ? c : new Cx(c.re(), zeros(l, c.re()));
  }

  /** Casts a complex value's parts to {@code t} (a {@code complex<f32>} read as f64, ...). */
  private static Cx widen(Lowerer l, Cx c, DType t) {
    return new Cx(l.cast(c.re(), t), l.cast(c.im(), t));
  }

  /**
   * The operands for one part: complex operands' part, real operands (predicates, indices) as they
   * are.
   */
  private static List<V> parts(List<Cx> cs, boolean re, String name) {
    List<V> out = new ArrayList<>();
    for (Cx c : cs) {
      if (c.im() == null && (name.equals("stablehlo.add") || name.equals("stablehlo.subtract"))) {
        throw new Refusal("a complex and a real operand");
      }
      out.add(c.im() == null ? c.re() : re ? c.re() : c.im());
    }
    return out;
  }

  /** {@code op} with its complex types replaced by their part's real type. */
  static Op partOp(Op op) {
    return new Op(
        op.results(),
        op.name(),
        op.operands(),
        op.attributes(),
        op.regions(),
        op.operandTypes().stream().map(ComplexLowering::partTypeOf).toList(),
        op.resultTypes().stream().map(ComplexLowering::partTypeOf).toList(),
        op.line());
  }

  private static MlirType partTypeOf(MlirType t) {
    if (!isComplex(t)) {
      return t;
    }
    String part = t.element().substring("complex<".length(), t.element().length() - 1);
    return new MlirType(t.text().replace(t.element(), part), part, t.dims());
  }

  private static Cx constant(Lowerer l, Op op) {
    if (!(op.attr("value") instanceof Attr.DenseAttr d)) {
      throw new Refusal("a constant whose value is not dense<...>");
    }
    double[][] parts = parts(d.value());
    DType t = partType(d.value().type());
    long[] shape = d.value().type().dims();
    return new Cx(
        l.constant(Lowerer.tensor(t, shape, null, parts[0])),
        l.constant(Lowerer.tensor(t, shape, null, parts[1])));
  }

  /** The real and imaginary parts of a complex {@code dense<...>}, a splat expanded. */
  static double[][] parts(DenseElements d) {
    if (d.hex() != null) {
      throw new Refusal("a complex constant in hex form");
    }
    long n = d.type().elementCount();
    if (n > Integer.MAX_VALUE) {
      throw new Refusal("a constant too large");
    }
    double[][] out = new double[2][(int) n];
    List<String> lits = d.literals();
    for (int k = 0; k < n; k++) {
      String lit = lits.get(lits.size() == 1 ? 0 : k).trim();
      if (!lit.startsWith("(") || !lit.endsWith(")") || lit.indexOf(',') < 0) {
        throw new Refusal("a complex constant element that is not (re, im): " + lit);
      }
      String[] reIm = lit.substring(1, lit.length() - 1).split(",", -1);
      if (reIm.length != 2) {
        throw new Refusal("a complex constant element that is not (re, im): " + lit);
      }
      out[0][k] = number(reIm[0].trim());
      out[1][k] = number(reIm[1].trim());
    }
    return out;
  }

  private static double number(String s) {
    return switch (s) {
      case "inf", "+inf" -> Double.POSITIVE_INFINITY;
      case "-inf" -> Double.NEGATIVE_INFINITY;
      case "nan", "-nan" -> Double.NaN;
      default -> {
        try {
          yield Double.parseDouble(s);
        } catch (NumberFormatException e) {
          throw new Refusal("a complex constant part that is not a number: " + s);
        }
      }
    };
  }

  /**
   * A test program's assertion on complex values: both sides are compared as real tensors with a
   * trailing axis of (re, im).
   */
  private static void check(Lowerer l, Op op, List<Cx> ins) {
    List<V> sides = new ArrayList<>();
    for (Cx c : ins) {
      sides.add(interleave(l, complexOf(l, c)));
    }
    if (op.attr("value") instanceof Attr.DenseAttr d) {
      double[][] p = parts(d.value());
      long[] dims = d.value().type().dims();
      long[] shape = java.util.Arrays.copyOf(dims, dims.length + 1);
      shape[dims.length] = 2;
      double[] both = new double[2 * p[0].length];
      for (int k = 0; k < p[0].length; k++) {
        both[2 * k] = p[0][k];
        both[2 * k + 1] = p[1][k];
      }
      sides.add(l.constant(Lowerer.tensor(partType(d.value().type()), shape, null, both)));
    }
    l.checks.add(new Lowerer.Check(op.name(), sides, op));
  }

  /** A complex value as one real tensor with a trailing (re, im) axis. */
  static V interleave(Lowerer l, Cx c) {
    long[] s = java.util.Arrays.copyOf(c.re().shape(), c.re().rank() + 1);
    s[s.length - 1] = 2;
    return l.op(
        "Pack",
        c.re().dtype(),
        s,
        List.of(c.re(), c.im()),
        "N",
        Lowerer.i(2),
        "axis",
        Lowerer.i(-1));
  }

  /** A function argument of complex type: a complex64 placeholder taken apart. */
  static Cx argument(Lowerer l, V placeholder) {
    AttrPair a = new AttrPair(Lowerer.type(DType.COMPLEX64), Lowerer.type(DType.FLOAT32));
    V re =
        l.op(
            "Real",
            DType.FLOAT32,
            placeholder.shape(),
            List.of(placeholder),
            "T",
            a.in,
            "Tout",
            a.out);
    V im =
        l.op(
            "Imag",
            DType.FLOAT32,
            placeholder.shape(),
            List.of(placeholder),
            "T",
            a.in,
            "Tout",
            a.out);
    return new Cx(re, im);
  }

  private record AttrPair(
      org.tfport.core.graph.AttrValue in, org.tfport.core.graph.AttrValue out) {}

  /** A complex function result: its parts put together as complex64. */
  static V result(Lowerer l, Cx c) {
    if (c.re().dtype() != DType.FLOAT32) {
      throw new Refusal(
          "a complex<f64> result: tfport's tensors hold complex64 only; return the real and"
              + " imaginary parts (stablehlo.real/imag) instead");
    }
    return l.op(
        "Complex",
        DType.COMPLEX64,
        c.re().shape(),
        List.of(c.re(), c.im()),
        "T",
        Lowerer.type(DType.FLOAT32),
        "Tout",
        Lowerer.type(DType.COMPLEX64));
  }
}
