package org.tfport.runtime.ops;

/** Double-precision functions java.lang.Math lacks, accurate to a few units in the last place. */
final class SpecialFunctions {
  private SpecialFunctions() {}

  private static final double LN2 = Math.log(2);
  private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

  /** Beyond this x² no longer matters next to 1 (or 2x). */
  private static final double HUGE = 0x1p28;

  static double asinh(double x) {
    double a = Math.abs(x);
    double r;
    if (a > HUGE) {
      r = Math.log(a) + LN2;
    } else {
      // log(a + sqrt(a² + 1)) written to keep small arguments exact: a + a²/(1 + sqrt(1 + a²)) =
      // that sum − 1.
      r = Math.log1p(a + a * a / (1 + Math.sqrt(1 + a * a)));
    }
    return Math.copySign(r, x);
  }

  static double acosh(double x) {
    if (!(x >= 1)) {
      return Double.NaN;
    }
    if (x > HUGE) {
      return Math.log(x) + LN2;
    }
    double t = x - 1;
    return Math.log1p(t + Math.sqrt(2 * t + t * t));
  }

  static double atanh(double x) {
    double a = Math.abs(x);
    if (a > 1 || Double.isNaN(x)) {
      return Double.NaN;
    }
    // atanh(a) = ½·log((1 + a)/(1 − a)) = ½·log1p(2a/(1 − a)).
    return Math.copySign(0.5 * Math.log1p(2 * a / (1 - a)), x);
  }

  static double erf(double x) {
    double a = Math.abs(x);
    if (Double.isNaN(x)) {
      return x;
    }
    double r = a < 2.5 ? erfSeries(a) : 1 - erfcFraction(a);
    return Math.copySign(r, x);
  }

  static double erfc(double x) {
    if (Double.isNaN(x)) {
      return x;
    }
    if (x < 0) {
      return 2 - erfc(-x);
    }
    return x < 2.5 ? 1 - erfSeries(x) : erfcFraction(x);
  }

  /**
   * erf(a) = 2/√π · e^(−a²) · Σ 2ⁿ a^(2n+1) / (1·3·5···(2n+1)), a series of positive terms (no
   * cancellation), used for a below 2.5 where it converges in under 60 terms.
   */
  private static double erfSeries(double a) {
    double term = a;
    double sum = a;
    double a2 = a * a;
    for (int n = 1; n < 200; n++) {
      term *= 2 * a2 / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) {
        break;
      }
    }
    return TWO_OVER_SQRT_PI * Math.exp(-a2) * sum;
  }

  /**
   * erfc(a) = e^(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...))))), Laplace's continued
   * fraction, evaluated by the modified Lentz method; fast for a at least 2.5.
   */
  private static double erfcFraction(double a) {
    if (a > 27) {
      return 0;
    }
    double tiny = 1e-300;
    double f = a;
    double c = a;
    double d = 0;
    for (int n = 1; n < 500; n++) {
      double an = n / 2.0;
      d = a + an * d;
      d = d == 0 ? tiny : 1 / d;
      c = a + an / c;
      c = c == 0 ? tiny : c;
      double delta = c * d;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) {
        break;
      }
    }
    return Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  }
}
