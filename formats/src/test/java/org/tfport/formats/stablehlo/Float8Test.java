package org.tfport.formats.stablehlo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The 8-bit float formats against the values LLVM's APFloat and ml_dtypes document (largest finite
 * values, special patterns, subnormals) and rounding against a brute-force nearest search over all
 * 256 patterns, ties to the even pattern.
 */
class Float8Test {
  private static final List<String> NAMES =
      List.of(
          "f8E5M2", "f8E4M3", "f8E3M4", "f8E4M3FN", "f8E4M3FNUZ", "f8E5M2FNUZ", "f8E4M3B11FNUZ");

  @Test
  void documentedPatternsDecode() {
    Float8 e4m3fn = Float8.of("f8E4M3FN");
    assertThat(e4m3fn.decode(0x7E)).isEqualTo(448.0);
    assertThat(e4m3fn.decode(0x7F)).isNaN();
    assertThat(e4m3fn.decode(0x78)).isEqualTo(256.0);
    assertThat(e4m3fn.decode(0x01)).isEqualTo(Math.scalb(1.0, -9));
    Float8 e4m3 = Float8.of("f8E4M3");
    assertThat(e4m3.decode(0x77)).isEqualTo(240.0);
    assertThat(e4m3.decode(0x78)).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(e4m3.decode(0xF8)).isEqualTo(Double.NEGATIVE_INFINITY);
    assertThat(e4m3.decode(0x79)).isNaN();
    assertThat(Float8.of("f8E3M4").decode(0x6F)).isEqualTo(15.5);
    assertThat(Float8.of("f8E3M4").decode(0x01)).isEqualTo(Math.scalb(1.0, -6));
    assertThat(Float8.of("f8E5M2").decode(0x7B)).isEqualTo(57344.0);
    assertThat(Float8.of("f8E5M2").decode(0x7C)).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(Float8.of("f8E4M3FNUZ").decode(0x80)).isNaN();
    assertThat(Float8.of("f8E4M3FNUZ").decode(0x7F)).isEqualTo(240.0);
    assertThat(Float8.of("f8E5M2FNUZ").decode(0x7F)).isEqualTo(57344.0);
    assertThat(Float8.of("f8E4M3B11FNUZ").decode(0x7F)).isEqualTo(30.0);
    for (String n : NAMES) {
      Float8 f = Float8.of(n);
      double largest = 0;
      for (int b = 0; b < 128; b++) {
        double v = f.decode(b);
        if (Double.isFinite(v)) {
          largest = Math.max(largest, v);
        }
      }
      assertThat(f.max()).as(n).isEqualTo(largest);
    }
  }

  @Test
  void roundingIsNearestTiesToEven() {
    Random random = new Random(18);
    for (String n : NAMES) {
      Float8 f = Float8.of(n);
      for (int b = 0; b < 256; b++) {
        double v = f.decode(b);
        if (Double.isFinite(v)) {
          assertThat(f.round(v)).as(n + " pattern " + b).isEqualTo(v);
        }
      }
      for (int k = 0; k < 4000; k++) {
        // Half of the samples are exact midpoints of neighbours, where ties decide.
        double x = (random.nextDouble() * 2 - 1) * f.max();
        if (k % 2 == 0) {
          int b = random.nextInt(256);
          double v = f.decode(b);
          double w = f.decode(b + 1);
          if (!Double.isFinite(v) || !Double.isFinite(w) || ((b + 1) & 0x7f) == 0) {
            continue;
          }
          x = (v + w) / 2;
        }
        // within(0.0): a tie between -0 and the smallest subnormal may come back as either zero.
        assertThat(f.round(x)).as(n + " " + x).isCloseTo(nearest(f, x), within(0.0));
      }
    }
  }

  @Test
  void overflowBecomesInfinityOrNan() {
    assertThat(Float8.of("f8E4M3").round(140)).isEqualTo(144.0);
    assertThat(Float8.of("f8E4M3").round(247.9)).isEqualTo(240.0);
    assertThat(Float8.of("f8E4M3").round(248)).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(Float8.of("f8E4M3").round(-1e9)).isEqualTo(Double.NEGATIVE_INFINITY);
    // 464 is halfway between 448 (even pattern 0x7E) and the NaN pattern: it stays 448.
    assertThat(Float8.of("f8E4M3FN").round(464)).isEqualTo(448.0);
    assertThat(Float8.of("f8E4M3FN").round(465)).isNaN();
    assertThat(Float8.of("f8E4M3FN").round(Double.POSITIVE_INFINITY)).isNaN();
    assertThat(Float8.of("f8E5M2").round(Double.POSITIVE_INFINITY))
        .isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(1 / Float8.of("f8E4M3FNUZ").round(-1e-9)).isEqualTo(Double.POSITIVE_INFINITY);
  }

  /** The finite value nearest {@code x}, a tie going to the pattern with a zero low bit. */
  private static double nearest(Float8 f, double x) {
    double best = Double.NaN;
    int bestBits = -1;
    for (int b = 0; b < 256; b++) {
      double v = f.decode(b);
      if (!Double.isFinite(v)) {
        continue;
      }
      double d = Math.abs(v - x);
      double bd = Math.abs(best - x);
      if (bestBits < 0 || d < bd || (d == bd && (bestBits & 1) == 1 && (b & 1) == 0 && v != best)) {
        best = v;
        bestBits = b;
      }
    }
    return best;
  }
}
