package org.tfport.formats.stablehlo;

/**
 * The 8-bit float element types of MLIR/StableHLO, as ml_dtypes and LLVM's APFloat define them: one
 * sign bit, {@code 7 - mantissaBits} exponent bits with {@code bias}, and the special values of one
 * of three families. IEEE types ({@code f8E5M2}, {@code f8E4M3}, {@code f8E3M4}) keep IEEE 754's
 * infinities and NaNs (all-ones exponent); {@code FN} types have no infinity and spend only the
 * all-ones pattern on NaN ({@code f8E4M3FN}, max 448); {@code FNUZ} types have no infinity and no
 * negative zero, the pattern {@code 0x80} being their only NaN.
 *
 * @param name the MLIR element name
 * @param mantissaBits stored fraction bits
 * @param bias the exponent bias
 * @param family how the format spells its special values
 */
public record Float8(String name, int mantissaBits, int bias, Family family) {

  /** How a format spells infinities and NaNs. */
  public enum Family {
    IEEE,
    FN,
    FNUZ
  }

  /**
   * The format of an MLIR element type name, or null when it is not an 8-bit float tfport knows.
   */
  public static Float8 of(String element) {
    return switch (element) {
      case "f8E5M2" -> new Float8(element, 2, 15, Family.IEEE);
      case "f8E4M3" -> new Float8(element, 3, 7, Family.IEEE);
      case "f8E3M4" -> new Float8(element, 4, 3, Family.IEEE);
      case "f8E4M3FN" -> new Float8(element, 3, 7, Family.FN);
      case "f8E4M3FNUZ" -> new Float8(element, 3, 8, Family.FNUZ);
      case "f8E5M2FNUZ" -> new Float8(element, 2, 16, Family.FNUZ);
      case "f8E4M3B11FNUZ" -> new Float8(element, 3, 11, Family.FNUZ);
      default -> null;
    };
  }

  int exponentBits() {
    return 7 - mantissaBits;
  }

  /** The unbiased exponent of the smallest normal number; subnormals share its spacing. */
  public int minExponent() {
    return 1 - bias;
  }

  /** The unbiased exponent of the largest finite number. */
  public int maxExponent() {
    int top = (1 << exponentBits()) - 1;
    return (family == Family.IEEE ? top - 1 : top) - bias;
  }

  /** The largest finite value. */
  public double max() {
    double unit = Math.scalb(1.0, -mantissaBits);
    // IEEE and FNUZ use every fraction pattern of the top binade; FN loses the all-ones one to NaN.
    double significand = family == Family.FN ? 2 - 2 * unit : 2 - unit;
    return Math.scalb(significand, maxExponent());
  }

  /** Whether a value past {@link #max()} becomes an infinity (else NaN). */
  public boolean hasInfinity() {
    return family == Family.IEEE;
  }

  /** The value of the bit pattern {@code bits} (its low 8 bits). */
  public double decode(int bits) {
    bits &= 0xff;
    boolean negative = (bits & 0x80) != 0;
    int exponentField = (bits >>> mantissaBits) & ((1 << exponentBits()) - 1);
    int fraction = bits & ((1 << mantissaBits) - 1);
    int allOnes = (1 << exponentBits()) - 1;
    switch (family) {
      case IEEE -> {
        if (exponentField == allOnes) {
          return fraction != 0
              ? Double.NaN
              : negative ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        }
      }
      case FN -> {
        if (exponentField == allOnes && fraction == (1 << mantissaBits) - 1) {
          return Double.NaN;
        }
      }
      case FNUZ -> {
        if (bits == 0x80) {
          return Double.NaN;
        }
      }
    }
    double magnitude =
        exponentField == 0
            ? Math.scalb((double) fraction, minExponent() - mantissaBits)
            : Math.scalb(1.0 + Math.scalb((double) fraction, -mantissaBits), exponentField - bias);
    return negative ? -magnitude : magnitude;
  }

  /**
   * {@code x} rounded to this format, to nearest with ties to even as ml_dtypes converts: a value
   * whose rounding passes {@link #max()} becomes an infinity, or NaN in formats without one.
   */
  public double round(double x) {
    if (Double.isNaN(x)) {
      return x;
    }
    double a = Math.abs(x);
    int e = Math.getExponent(Math.min(Math.max(a, Math.scalb(1.0, minExponent())), max()));
    double quantum = Math.scalb(1.0, e - mantissaBits);
    double r = Math.rint(x / quantum) * quantum;
    if (Math.abs(r) > max()) {
      return hasInfinity() ? Math.copySign(Double.POSITIVE_INFINITY, x) : Double.NaN;
    }
    return family == Family.FNUZ && r == 0 ? 0.0 : r;
  }
}
