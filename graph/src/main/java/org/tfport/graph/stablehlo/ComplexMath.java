package org.tfport.graph.stablehlo;

import static org.tfport.graph.stablehlo.ComplexLowering.bin;
import static org.tfport.graph.stablehlo.ComplexLowering.select;
import static org.tfport.graph.stablehlo.ComplexLowering.un;

import java.util.List;
import org.tfport.core.DType;
import org.tfport.graph.stablehlo.ComplexLowering.Cx;
import org.tfport.graph.stablehlo.Lowerer.Refusal;
import org.tfport.graph.stablehlo.Lowerer.V;

/** Complex elementwise math on (re, im) pairs of real tensors, for {@link ComplexLowering}. */
final class ComplexMath {
  private ComplexMath() {}

  static Cx lower(Lowerer l, String name, List<Cx> z) {
    return switch (name) {
      case "stablehlo.multiply" -> mul(l, z.get(0), z.get(1));
      case "stablehlo.divide" -> div(l, z.get(0), z.get(1));
      case "stablehlo.exponential" -> exp(l, z.get(0));
      case "stablehlo.log" -> log(l, z.get(0));
      case "stablehlo.sqrt" -> sqrt(l, z.get(0));
      case "stablehlo.tanh" -> tanh(l, z.get(0));
      case "stablehlo.logistic" -> logistic(l, z.get(0));
      case "stablehlo.sine" -> sin(l, z.get(0));
      case "stablehlo.cosine" -> cos(l, z.get(0));
      default -> throw new Refusal("no lowering for complex operands");
    };
  }

  static Cx mul(Lowerer l, Cx a, Cx b) {
    V re = bin(l, "Sub", bin(l, "Mul", a.re(), b.re()), bin(l, "Mul", a.im(), b.im()));
    V im = bin(l, "AddV2", bin(l, "Mul", a.re(), b.im()), bin(l, "Mul", a.im(), b.re()));
    return new Cx(re, im);
  }

  /**
   * Smith's division: scales by the larger part of the divisor, so that |c|^2 + |d|^2 is never
   * formed and cannot overflow or underflow where the quotient itself is representable.
   */
  static Cx div(Lowerer l, Cx a, Cx b) {
    V absC = un(l, "Abs", b.re());
    V absD = un(l, "Abs", b.im());
    V cBigger = l.binary("GreaterEqual", absC, absD, DType.BOOL);
    // |c| >= |d|: r = d/c, den = c + d r, re = (a + b r)/den, im = (b - a r)/den. Where c is 0, d
    // is too: r is 0 (as a 0/0 would not be), and the quotient a/0 is infinite or NaN.
    V cZero = l.binary("Equal", b.re(), l.scalar(b.re().dtype(), 0), DType.BOOL);
    V one = l.broadcastTo(l.scalar(b.re().dtype(), 1), b.re().shape());
    V r1 = bin(l, "RealDiv", b.im(), select(l, cZero, one, b.re()));
    V den1 = bin(l, "AddV2", b.re(), bin(l, "Mul", b.im(), r1));
    V re1 = bin(l, "RealDiv", bin(l, "AddV2", a.re(), bin(l, "Mul", a.im(), r1)), den1);
    V im1 = bin(l, "RealDiv", bin(l, "Sub", a.im(), bin(l, "Mul", a.re(), r1)), den1);
    // |d| > |c|: r = c/d, den = c r + d, re = (a r + b)/den, im = (b r - a)/den; d is not 0 where
    // this branch is picked.
    V r2 = bin(l, "RealDiv", b.re(), b.im());
    V den2 = bin(l, "AddV2", bin(l, "Mul", b.re(), r2), b.im());
    V re2 = bin(l, "RealDiv", bin(l, "AddV2", bin(l, "Mul", a.re(), r2), a.im()), den2);
    V im2 = bin(l, "RealDiv", bin(l, "Sub", bin(l, "Mul", a.im(), r2), a.re()), den2);
    return new Cx(select(l, cBigger, re1, re2), select(l, cBigger, im1, im2));
  }

  /** e^(a+ib) = e^a (cos b + i sin b). */
  static Cx exp(Lowerer l, Cx z) {
    V ea = un(l, "Exp", z.re());
    return new Cx(bin(l, "Mul", ea, un(l, "Cos", z.im())), bin(l, "Mul", ea, un(l, "Sin", z.im())));
  }

  /** log z = log|z| + i arg z. */
  static Cx log(Lowerer l, Cx z) {
    V abs = ComplexLowering.abs(l, z, z.re().shape());
    return new Cx(un(l, "Log", abs), bin(l, "Atan2", z.im(), z.re()));
  }

  /** The principal root: sqrt|z| (cos(arg/2) + i sin(arg/2)). */
  static Cx sqrt(Lowerer l, Cx z) {
    V root = un(l, "Sqrt", ComplexLowering.abs(l, z, z.re().shape()));
    V half = bin(l, "Mul", bin(l, "Atan2", z.im(), z.re()), l.scalar(z.re().dtype(), 0.5));
    return new Cx(bin(l, "Mul", root, un(l, "Cos", half)), bin(l, "Mul", root, un(l, "Sin", half)));
  }

  /**
   * tanh(a+ib) from t = tanh a and s = tan b: (t (1 + s^2) + i s (1 - t^2)) / (1 + t^2 s^2), which
   * stays finite for large |a| where the sinh/cosh form overflows.
   */
  static Cx tanh(Lowerer l, Cx z) {
    V t = un(l, "Tanh", z.re());
    // tan as sin/cos: TFLite has no TAN.
    V s = bin(l, "RealDiv", un(l, "Sin", z.im()), un(l, "Cos", z.im()));
    V one = l.scalar(t.dtype(), 1);
    V t2 = bin(l, "Mul", t, t);
    V s2 = bin(l, "Mul", s, s);
    V den = bin(l, "AddV2", one, bin(l, "Mul", t2, s2));
    V re = bin(l, "RealDiv", bin(l, "Mul", t, bin(l, "AddV2", one, s2)), den);
    V im = bin(l, "RealDiv", bin(l, "Mul", s, bin(l, "Sub", one, t2)), den);
    return new Cx(re, im);
  }

  /** 1 / (1 + e^-z). */
  static Cx logistic(Lowerer l, Cx z) {
    Cx e = exp(l, new Cx(un(l, "Neg", z.re()), un(l, "Neg", z.im())));
    V one = l.scalar(z.re().dtype(), 1);
    Cx den = new Cx(bin(l, "AddV2", one, e.re()), e.im());
    return div(
        l, new Cx(l.broadcastTo(one, z.re().shape()), ComplexLowering.zeros(l, z.re())), den);
  }

  /** sin(a+ib) = sin a cosh b + i cos a sinh b. */
  static Cx sin(Lowerer l, Cx z) {
    return new Cx(
        bin(l, "Mul", un(l, "Sin", z.re()), un(l, "Cosh", z.im())),
        bin(l, "Mul", un(l, "Cos", z.re()), un(l, "Sinh", z.im())));
  }

  /** cos(a+ib) = cos a cosh b - i sin a sinh b. */
  static Cx cos(Lowerer l, Cx z) {
    return new Cx(
        bin(l, "Mul", un(l, "Cos", z.re()), un(l, "Cosh", z.im())),
        un(l, "Neg", bin(l, "Mul", un(l, "Sin", z.re()), un(l, "Sinh", z.im()))));
  }
}
