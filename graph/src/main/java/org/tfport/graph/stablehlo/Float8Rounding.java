package org.tfport.graph.stablehlo;

import java.util.List;
import org.tfport.core.DType;
import org.tfport.formats.stablehlo.Float8;
import org.tfport.graph.stablehlo.Lowerer.V;

/**
 * 8-bit float values live in the graph as float32 tensors holding only values of their format:
 * every op whose result is of an 8-bit type is followed by this rounding, built from ordinary
 * TensorFlow ops so that it runs everywhere the rest of the graph does. It computes {@link
 * Float8#round}: the spacing of the value's binade (clamped to the format's normal range, so that
 * subnormals share the smallest normal spacing and values past the range round in the top one),
 * {@code Round} for ties to even (TF.js and TFLite have it, not {@code Rint}), then infinity or NaN
 * past the largest finite value.
 */
final class Float8Rounding {
  private Float8Rounding() {}

  static V round(Lowerer l, V x, Float8 f) {
    DType t = DType.FLOAT32;
    long[] s = x.shape();
    V abs = l.op("Abs", t, s, List.of(x));
    V lo = l.binary("Maximum", abs, l.scalar(t, Math.scalb(1.0, f.minExponent())), t);
    V a = l.binary("Minimum", lo, l.scalar(t, f.max()), t);
    // floor(log2 a) from Log can be one off near a power of two: step it by comparing 2^e with a.
    V log2 = l.binary("Mul", l.op("Log", t, s, List.of(a)), l.scalar(t, 1 / Math.log(2)), t);
    V e0 = l.op("Floor", t, s, List.of(log2));
    V two = l.scalar(t, 2);
    V p = l.binary("Pow", two, e0, t);
    V over = l.cast(l.binary("Greater", p, a, DType.BOOL), t);
    V under = l.cast(l.binary("LessEqual", l.binary("Mul", p, two, t), a, DType.BOOL), t);
    V e = l.binary("AddV2", l.binary("Sub", e0, over, t), under, t);
    V quantum = l.binary("Pow", two, l.binary("Sub", e, l.scalar(t, f.mantissaBits()), t), t);
    V steps = l.op("Round", t, s, List.of(l.binary("RealDiv", x, quantum, t)));
    V r = l.binary("Mul", steps, quantum, t);
    V tooBig = l.binary("Greater", l.op("Abs", t, s, List.of(r)), l.scalar(t, f.max()), DType.BOOL);
    V past =
        f.hasInfinity()
            ? l.binary(
                "Mul", l.op("Sign", t, s, List.of(x)), l.scalar(t, Double.POSITIVE_INFINITY), t)
            : l.op("Mul", t, s, List.of(x, l.scalar(t, Double.NaN)));
    if (f.family() == Float8.Family.FNUZ) {
      // These formats have no negative zero: -0 + 0 is +0.
      r = l.binary("AddV2", r, l.scalar(t, 0), t);
    }
    return l.op("SelectV2", t, s, List.of(tooBig, past, r), "T", Lowerer.type(t));
  }
}
