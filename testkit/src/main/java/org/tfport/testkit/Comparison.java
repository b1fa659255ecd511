package org.tfport.testkit;

import java.util.Locale;

/**
 * Element-wise agreement of two float arrays under the numpy {@code isclose} rule {@code |actual -
 * expected| <= atol + rtol * |expected|}. Two NaNs agree; so do two infinities of the same sign. A
 * NaN or infinity against anything else is a mismatch with infinite error.
 *
 * @param count elements compared
 * @param maxAbs largest {@code |actual - expected|}
 * @param maxRel largest {@code |actual - expected| / |expected|} over elements whose expected value
 *     is not zero (0 when there are none)
 * @param mismatches elements outside the tolerance
 * @param worstIndex the element that exceeds its tolerance by the most (the largest absolute error
 *     when all agree), or -1 for empty arrays
 * @param expectedAtWorst expected value there
 * @param actualAtWorst actual value there
 */
public record Comparison(
    int count,
    double maxAbs,
    double maxRel,
    int mismatches,
    int worstIndex,
    float expectedAtWorst,
    float actualAtWorst,
    double atol,
    double rtol) {

  /**
   * Compares {@code actual} against {@code expected}.
   *
   * @throws IllegalArgumentException when the lengths differ
   */
  public static Comparison of(float[] expected, float[] actual, double atol, double rtol) {
    if (expected.length != actual.length) {
      throw new IllegalArgumentException(
          "length mismatch: expected " + expected.length + " values, got " + actual.length);
    }
    double maxAbs = 0;
    double maxRel = 0;
    int mismatches = 0;
    int worst = expected.length == 0 ? -1 : 0;
    double worstExcess = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < expected.length; i++) {
      float e = expected[i];
      float a = actual[i];
      double diff = difference(e, a);
      double excess = diff - (atol + rtol * (Float.isFinite(e) ? Math.abs((double) e) : 0));
      if (!TfjsOracle.close(a, e, atol, rtol)) {
        mismatches++;
      }
      maxAbs = Math.max(maxAbs, diff);
      if (e != 0 && !Float.isNaN(e)) {
        maxRel =
            Math.max(
                maxRel,
                Float.isInfinite(e)
                    ? (diff == 0 ? 0 : Double.POSITIVE_INFINITY)
                    : diff / Math.abs((double) e));
      }
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
    return new Comparison(
        expected.length,
        maxAbs,
        maxRel,
        mismatches,
        worst,
        worst < 0 ? Float.NaN : expected[worst],
        worst < 0 ? Float.NaN : actual[worst],
        atol,
        rtol);
  }

  private static double difference(float e, float a) {
    if (Float.isNaN(e) && Float.isNaN(a)) {
      return 0;
    }
    if (Float.isNaN(e) || Float.isNaN(a)) {
      return Double.POSITIVE_INFINITY;
    }
    if (Float.isInfinite(e) || Float.isInfinite(a)) {
      return e == a ? 0 : Double.POSITIVE_INFINITY;
    }
    return Math.abs((double) a - (double) e);
  }

  /** True when every element is within tolerance. */
  public boolean ok() {
    return mismatches == 0;
  }

  /**
   * Throws an {@link AssertionError} naming {@code what} and the worst element unless {@link
   * #ok()}.
   */
  public Comparison assertOk(String what) {
    if (!ok()) {
      throw new AssertionError(what + ": " + this);
    }
    return this;
  }

  @Override
  public String toString() {
    return String.format(
        Locale.ROOT,
        "%d/%d outside atol=%.3g rtol=%.3g; max abs %.4g, max rel %.4g; worst [%d] expected %s got %s",
        mismatches,
        count,
        atol,
        rtol,
        maxAbs,
        maxRel,
        worstIndex,
        expectedAtWorst,
        actualAtWorst);
  }
}
