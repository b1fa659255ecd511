package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.ops.FixedPoint.Multiplier;

/**
 * TFLite's fixed-point primitives against values worked out by hand from their definitions
 * (runtime.md §3).
 */
class FixedPointTest {
  @Test
  void multipliersAreFrexpSignificandsRoundedTo31Bits() {
    // 0.5 = 0.5·2^0; 1 = 0.5·2^1; 0.75 = 0.75·2^0; 0.1 = 0.8·2^-3 and 0.8·2^31 = 1717986918.4.
    assertThat(Multiplier.of(0.5)).isEqualTo(new Multiplier(1 << 30, 0));
    assertThat(Multiplier.of(1.0)).isEqualTo(new Multiplier(1 << 30, 1));
    assertThat(Multiplier.of(0.75)).isEqualTo(new Multiplier(1610612736, 0));
    assertThat(Multiplier.of(0.1)).isEqualTo(new Multiplier(1717986918, -3));
    // (1 − 2^-40)·2^31 rounds to 2^31, which is carried: 2^30 with one more shift.
    assertThat(Multiplier.of(1 - Math.scalb(1.0, -40))).isEqualTo(new Multiplier(1 << 30, 1));
    // Below 2^-32 every bit would be shifted out: flushed to zero.
    assertThat(Multiplier.of(Math.scalb(1.0, -40))).isEqualTo(new Multiplier(0, 0));
    assertThat(Multiplier.of(0)).isEqualTo(new Multiplier(0, 0));
    assertThatThrownBy(() -> Multiplier.of(-1))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("negative");
  }

  @Test
  void saturatingRoundingDoublingHighMul() {
    // 2^30·2^30·2 / 2^32 = 2^29, the nudge 2^30 adds half a unit that truncation drops.
    assertThat(FixedPoint.saturatingRoundingDoublingHighMul(1 << 30, 1 << 30)).isEqualTo(1 << 29);
    // 3·0.5 = 1.5 rounds up; −1.5: (−3·2^30 + 1 − 2^30) / 2^31 = −1.99…, truncated to −1.
    assertThat(FixedPoint.saturatingRoundingDoublingHighMul(3, 1 << 30)).isEqualTo(2);
    assertThat(FixedPoint.saturatingRoundingDoublingHighMul(-3, 1 << 30)).isEqualTo(-1);
    assertThat(FixedPoint.saturatingRoundingDoublingHighMul(Integer.MIN_VALUE, Integer.MIN_VALUE))
        .isEqualTo(Integer.MAX_VALUE);
    // (−2^31)·(2^31 − 1)·2 / 2^32 = −(2^31 − 1): no saturation needed.
    assertThat(FixedPoint.saturatingRoundingDoublingHighMul(Integer.MIN_VALUE, Integer.MAX_VALUE))
        .isEqualTo(-Integer.MAX_VALUE);
  }

  @Test
  void roundingDivideByPowerOfTwoRoundsHalvesAwayFromZero() {
    assertThat(FixedPoint.roundingDivideByPOT(5, 1)).isEqualTo(3); // 2.5
    assertThat(FixedPoint.roundingDivideByPOT(-5, 1)).isEqualTo(-3); // −2.5
    assertThat(FixedPoint.roundingDivideByPOT(6, 2)).isEqualTo(2); // 1.5
    assertThat(FixedPoint.roundingDivideByPOT(-3, 2)).isEqualTo(-1); // −0.75
    assertThat(FixedPoint.roundingDivideByPOT(5, 2)).isEqualTo(1); // 1.25
    assertThat(FixedPoint.roundingDivideByPOT(-6, 2)).isEqualTo(-2); // −1.5
    assertThat(FixedPoint.roundingDivideByPOT(7, 0)).isEqualTo(7);
  }

  @Test
  void requantizationOfAccumulators() {
    // 100·0.5; 100·2^2·0.5 (shift 2 goes left first); 100·0.1: high mul gives 80 (80.49…), /8
    // rounds to 10.
    assertThat(FixedPoint.multiply(100, 1 << 30, 0)).isEqualTo(50);
    assertThat(FixedPoint.multiply(100, 1 << 30, 2)).isEqualTo(200);
    assertThat(FixedPoint.multiply(100, 1717986918, -3)).isEqualTo(10);
    assertThat(Multiplier.of(0.1).apply(-100)).isEqualTo(-10);
    // 64-bit form: significand 2^30 reduced to 2^14, one shift by 15 with 2^14 added: halves round
    // up.
    assertThat(FixedPoint.multiply(1000L, 1 << 30, 0)).isEqualTo(500);
    assertThat(FixedPoint.multiply(1001L, 1 << 30, 0)).isEqualTo(501);
    assertThat(FixedPoint.multiply(-1001L, 1 << 30, 0)).isEqualTo(-500);
    // 2^30 · 0.1 (shift −3): significand 1717986918 reduced to 16 bits is 26214, and (2^30·26214 +
    // 2^17) >> 18 =
    // 2^12·26214 = 107372544 (the exact 107374182.4 less the 16-bit significand's error).
    assertThat(FixedPoint.multiply(1L << 30, 1717986918, -3)).isEqualTo(107372544);
  }

  @Test
  void roundingAndActivationRanges() {
    assertThat(FixedPoint.roundHalfAway(2.5)).isEqualTo(3);
    assertThat(FixedPoint.roundHalfAway(-2.5)).isEqualTo(-3);
    assertThat(FixedPoint.roundHalfAway(0.49999997f)).isEqualTo(0);
    // RELU6 on int8 with scale 0.05, zero point −10: [−10 + 0, −10 + 120].
    assertThat(FixedPoint.activationRange("RELU6", DType.INT8, 0.05f, -10))
        .containsExactly(-10, 110);
    assertThat(FixedPoint.activationRange("RELU", DType.UINT8, 0.1f, 3)).containsExactly(3, 255);
    assertThat(FixedPoint.activationRange("RELU_N1_TO_1", DType.INT8, 0.001f, 0))
        .containsExactly(-128, 127);
    assertThat(FixedPoint.activationRange("NONE", DType.INT16, 0.001f, 0))
        .containsExactly(-32768, 32767);
  }

  @Test
  void int16SigmoidAndTanhTables() {
    // sigmoid(0) = 0.5 → 2^15 in 0.16; the table saturates at 65535; it rises.
    assertThat(QuantizedActivationOps.SIGMOID_TABLE[0]).isEqualTo(32768);
    assertThat(QuantizedActivationOps.SIGMOID_TABLE[255]).isEqualTo(65535);
    for (int i = 1; i < 256; i++) {
      assertThat(QuantizedActivationOps.SIGMOID_TABLE[i])
          .isGreaterThanOrEqualTo(QuantizedActivationOps.SIGMOID_TABLE[i - 1]);
    }
    // On the table grid: sigmoid(0) = 0.5 = 16384 in Q0.15, tanh(0) = 0, and saturation.
    assertThat(QuantizedActivationOps.sigmoid16(0)).isEqualTo(16384);
    assertThat(QuantizedActivationOps.tanh16(0)).isEqualTo(0);
    assertThat(QuantizedActivationOps.tanh16(1 << 20)).isEqualTo(32767);
    assertThat(QuantizedActivationOps.tanh16(-(1 << 20))).isEqualTo(-32767);
    // Input scale 2^-12 is 3 grid steps per code; 2^-11 six; 0.001 doubles 12.288 eleven times to
    // 25165.8.
    assertThat(QuantizedActivationOps.int16Grid(Math.scalb(1f, -12))).containsExactly(3, 0);
    assertThat(QuantizedActivationOps.int16Grid(Math.scalb(1f, -11))).containsExactly(6, 0);
    assertThat(QuantizedActivationOps.int16Grid(0.001f)).containsExactly(25165, 11);
  }
}
