package org.tfport.runtime.ops;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/**
 * A C printf number conversion (%d, %f, %e or %g) as glibc prints it, for AsString: {@code flag} is
 * one of " +-0#" or 0 for none, width and precision -1 when absent. Floating values are rounded
 * from their exact binary value, half to even; java.util.Formatter rounds from the shortest decimal
 * instead and differs.
 */
record CFormat(char flag, int width, int precision, char conversion) {
  /** As %d, or as %u when {@code unsigned} (which takes no '+' or ' ' sign). */
  String integer(BigInteger v, boolean unsigned) {
    String digits = v.abs().toString();
    return pad(unsigned ? "" : sign(v.signum() < 0), digits, true);
  }

  /**
   * As %f, %e or %g. Subnormal values print as zero of their sign: TensorFlow runs kernels with
   * denormals flushed to zero.
   */
  String real(double v, boolean float32) {
    if (v != 0 && Math.abs(v) < (float32 ? Float.MIN_NORMAL : Double.MIN_NORMAL)) {
      v = Math.copySign(0.0, v);
    }
    boolean negative = (Double.doubleToRawLongBits(v) & Long.MIN_VALUE) != 0;
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return pad(sign(negative), Double.isNaN(v) ? "nan" : "inf", false);
    }
    BigDecimal x = new BigDecimal(v).abs();
    int p = precision < 0 ? 6 : precision;
    String body =
        switch (conversion) {
          case 'f' -> fixed(x, p, flag == '#');
          case 'e' -> scientific(x, p, flag == '#');
          default -> general(x, p == 0 ? 1 : p);
        };
    return pad(sign(negative), body, true);
  }

  private String sign(boolean negative) {
    return negative ? "-" : flag == '+' ? "+" : flag == ' ' ? " " : "";
  }

  private String pad(String sign, String body, boolean zeroAllowed) {
    int fill = width - sign.length() - body.length();
    if (fill <= 0) {
      return sign + body;
    }
    if (flag == '-') {
      return sign + body + " ".repeat(fill);
    }
    if (flag == '0' && zeroAllowed) {
      return sign + "0".repeat(fill) + body;
    }
    return " ".repeat(fill) + sign + body;
  }

  private static String fixed(BigDecimal x, int p, boolean point) {
    String s = x.setScale(p, RoundingMode.HALF_EVEN).toPlainString();
    return p == 0 && point ? s + "." : s;
  }

  /** The digits of |x| rounded to {@code p} places after the first, and the decimal exponent. */
  private static Object[] mantissa(BigDecimal x, int p) {
    if (x.signum() == 0) {
      return new Object[] {BigInteger.ZERO, 0};
    }
    int exp = x.precision() - x.scale() - 1;
    BigInteger digits = x.movePointLeft(exp - p).setScale(0, RoundingMode.HALF_EVEN).toBigInteger();
    if (digits.toString().length() > p + 1) {
      exp++;
      digits = x.movePointLeft(exp - p).setScale(0, RoundingMode.HALF_EVEN).toBigInteger();
    }
    return new Object[] {digits, exp};
  }

  private static String scientific(BigDecimal x, int p, boolean point) {
    Object[] m = mantissa(x, p);
    String d = ((BigInteger) m[0]).toString();
    d = "0".repeat(Math.max(0, p + 1 - d.length())) + d;
    int exp = (Integer) m[1];
    String mant = p == 0 ? d + (point ? "." : "") : d.charAt(0) + "." + d.substring(1);
    String e = Integer.toString(Math.abs(exp));
    return mant + "e" + (exp < 0 ? "-" : "+") + (e.length() < 2 ? "0" + e : e);
  }

  private String general(BigDecimal x, int p) {
    int exp = (Integer) mantissa(x, p - 1)[1];
    boolean keepZeros = flag == '#';
    String s =
        p > exp && exp >= -4 ? fixed(x, p - 1 - exp, keepZeros) : scientific(x, p - 1, keepZeros);
    if (keepZeros) {
      return s;
    }
    int e = s.indexOf('e');
    String mant = e < 0 ? s : s.substring(0, e);
    String tail = e < 0 ? "" : s.substring(e);
    if (mant.indexOf('.') >= 0) {
      mant = mant.replaceAll("0+$", "");
      if (mant.endsWith(".")) {
        mant = mant.substring(0, mant.length() - 1);
      }
    }
    return mant + tail;
  }
}
