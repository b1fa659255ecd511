package org.tfport.formats.tfjs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;

class QuantMathTest {

  // Range -1..254 gives scale exactly 1 and zero point 1, so q = rint(x + 1) and the ties are
  // visible.
  @Test
  void uint8RoundsHalfToEven() {
    QuantMath.AffineResult r =
        QuantMath.quantizeAffine(new float[] {-1f, 0f, 0.5f, 1.5f, 2.5f, 254f}, DType.UINT8);
    assertThat(r.metadata().scale()).isEqualTo(1.0);
    assertThat(r.metadata().min()).isEqualTo(-1.0);
    // 1.5 -> 2, 2.5 -> 2, 3.5 -> 4: numpy's round, not Math.round.
    assertThat(r.q()).containsExactly(0, 1, 2, 2, 4, 255);
    assertThat(r.metadata().dtype()).isEqualTo(DType.UINT8);
    assertThat(r.metadata().originalDtype()).isEqualTo(DType.FLOAT32);
  }

  @Test
  void zeroPointTieRoundsToEvenAndNudgesMinToNegativeZero() {
    // scale = 255/255 = 1; zero point = rint(0.5) = 0, so nudged min is -0.0 and max is 255.
    QuantMath.AffineResult r = QuantMath.quantizeAffine(new float[] {-0.5f, 254.5f}, DType.UINT8);
    assertThat(r.metadata().scale()).isEqualTo(1.0);
    assertThat(Double.doubleToRawLongBits(r.metadata().min()))
        .isEqualTo(Double.doubleToRawLongBits(-0.0));
    assertThat(r.q()).containsExactly(0, 254);
    assertThat(QuantMath.dequantizeAffine(r.q(), r.metadata())).containsExactly(0f, 254f);
  }

  @Test
  void nudgingShiftsTheRangeSoZeroIsExact() {
    // zero point = rint(1.5) = 2: nudged range is -2..253 and the top value clips to 253.
    QuantMath.AffineResult r =
        QuantMath.quantizeAffine(new float[] {-1.5f, 0f, 253.5f}, DType.UINT8);
    assertThat(r.metadata().min()).isEqualTo(-2.0);
    assertThat(r.q()).containsExactly(0, 2, 255);
    assertThat(QuantMath.dequantizeAffine(r.q(), r.metadata())).containsExactly(-2f, 0f, 253f);
  }

  @Test
  void zeroStaysExactlyZeroForAnyRangeAroundIt() {
    QuantMath.AffineResult r = QuantMath.quantizeAffine(new float[] {-0.3f, 0f, 1f}, DType.UINT8);
    float[] d = QuantMath.dequantizeAffine(r.q(), r.metadata());
    assertThat(d[1]).isEqualTo(0f);
    // Hand computation: scale = 1.3/255, zp = rint(0.3/scale) = rint(58.846) = 59.
    double scale = (1.0 - (double) -0.3f) / 255;
    assertThat(r.metadata().scale()).isEqualTo(scale);
    assertThat(r.metadata().min()).isEqualTo(-59 * scale);
    assertThat(r.q()[1]).isEqualTo(59);
  }

  @Test
  void allPositiveTensorIsNotNudged() {
    QuantMath.AffineResult r = QuantMath.quantizeAffine(new float[] {2f, 3f, 4f, 7f}, DType.UINT8);
    assertThat(r.metadata().min()).isEqualTo(2.0);
    assertThat(r.metadata().scale()).isEqualTo(5.0 / 255);
    assertThat(r.q()).containsExactly(0, 51, 102, 255);
  }

  @Test
  void allNegativeTensorIsNotNudged() {
    QuantMath.AffineResult r = QuantMath.quantizeAffine(new float[] {-10f, -5f}, DType.UINT8);
    assertThat(r.metadata().min()).isEqualTo(-10.0);
    assertThat(r.metadata().scale()).isEqualTo(5.0 / 255);
    assertThat(r.q()).containsExactly(0, 255);
  }

  @Test
  void constantTensorQuantizesToZerosWithScaleOne() {
    QuantMath.AffineResult r =
        QuantMath.quantizeAffine(new float[] {3.25f, 3.25f, 3.25f}, DType.UINT16);
    assertThat(r.q()).containsExactly(0, 0, 0);
    assertThat(r.metadata().scale()).isEqualTo(1.0);
    assertThat(r.metadata().min()).isEqualTo(3.25);
    assertThat(QuantMath.dequantizeAffine(r.q(), r.metadata()))
        .containsExactly(3.25f, 3.25f, 3.25f);
  }

  @Test
  void uint16UsesTheFullRange() {
    QuantMath.AffineResult r =
        QuantMath.quantizeAffine(new float[] {1f, 2.5f, 3.5f, 65536f}, DType.UINT16);
    assertThat(r.metadata().scale()).isEqualTo(1.0);
    assertThat(r.metadata().min()).isEqualTo(1.0);
    assertThat(r.q()).containsExactly(0, 2, 2, 65535);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
  void dequantizationErrorIsAtMostHalfAStep(int seed) {
    Random rnd = new Random(seed);
    float[] xs = new float[5000];
    double shift = seed % 3 == 0 ? 5 : seed % 3 == 1 ? -5 : 0;
    for (int i = 0; i < xs.length; i++) {
      xs[i] = (float) (rnd.nextGaussian() * seed + shift);
    }
    for (DType t : new DType[] {DType.UINT8, DType.UINT16}) {
      QuantMath.AffineResult r = QuantMath.quantizeAffine(xs, t);
      float[] d = QuantMath.dequantizeAffine(r.q(), r.metadata());
      for (int i = 0; i < xs.length; i++) {
        // Half a step, plus the final rounding of the dequantized value to float32.
        assertThat((double) Math.abs(d[i] - xs[i]))
            .as("element %d of %s", i, t)
            .isLessThanOrEqualTo(
                r.metadata().scale() / 2
                    + Math.ulp((float) (Math.abs(xs[i]) + r.metadata().scale())));
        assertThat(r.q()[i]).isBetween(0, QuantMath.qmax(t));
      }
    }
  }

  @Test
  void nonFiniteValuesCannotBeAffineQuantized() {
    assertThatThrownBy(() -> QuantMath.quantizeAffine(new float[] {1f, Float.NaN}, DType.UINT8))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("NaN")
        .hasMessageContaining("element 1");
    assertThatThrownBy(
            () -> QuantMath.quantizeAffine(new float[] {Float.NEGATIVE_INFINITY}, DType.UINT16))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("Infinity");
  }

  @Test
  void float16RoundsToNearestEvenAndOverflowsToInfinity() {
    assertThat(QuantMath.toFloat16(1f)).isEqualTo((short) 0x3C00);
    assertThat(QuantMath.toFloat16(-2f)).isEqualTo((short) 0xC000);
    assertThat(QuantMath.toFloat16(65504f)).isEqualTo((short) 0x7BFF);
    // 65520 is halfway between the largest half (65504) and 65536, which is out of range: ties to
    // even = inf.
    assertThat(QuantMath.toFloat16(65520f)).isEqualTo((short) 0x7C00);
    assertThat(QuantMath.toFloat16(65519f)).isEqualTo((short) 0x7BFF);
    // 1 + 2^-11 is halfway between 1 and the next half: the even mantissa (1) wins.
    assertThat(QuantMath.toFloat16(1f + 0x1p-11f)).isEqualTo((short) 0x3C00);
    assertThat(QuantMath.toFloat16(1f + 3 * 0x1p-11f)).isEqualTo((short) 0x3C02);
    // Subnormals: 2^-24 is the smallest; 2^-25 ties to 0, 1.5 * 2^-24 ties to 2 * 2^-24.
    assertThat(QuantMath.toFloat16(0x1p-24f)).isEqualTo((short) 0x0001);
    assertThat(QuantMath.toFloat16(0x1p-25f)).isEqualTo((short) 0x0000);
    assertThat(QuantMath.toFloat16(1.5f * 0x1p-24f)).isEqualTo((short) 0x0002);
    assertThat(QuantMath.toFloat16(-0f)).isEqualTo((short) 0x8000);
    assertThat(QuantMath.toFloat16(Float.POSITIVE_INFINITY)).isEqualTo((short) 0x7C00);
    assertThat(Float.isNaN(Float.float16ToFloat(QuantMath.toFloat16(Float.NaN)))).isTrue();
  }

  @Test
  void float16DecodesEveryBitPatternExactly() {
    ByteBuffer stored = ByteBuffer.allocate(65536 * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int h = 0; h < 65536; h++) {
      stored.putShort((short) h);
    }
    stored.flip();
    WeightSpec spec =
        new WeightSpec("h", Shape.of(65536), DType.FLOAT32, Quantization.float16(), null);
    Tensor t = QuantMath.decode(spec, stored, "test");
    ByteBuffer b = t.bytes();
    for (int h = 0; h < 65536; h++) {
      float got = b.getFloat(h * 4);
      float want = referenceHalfToFloat(h);
      if (Float.isNaN(want)) {
        assertThat(Float.isNaN(got)).as("0x%04x", h).isTrue();
      } else {
        assertThat(Float.floatToRawIntBits(got))
            .as("0x%04x", h)
            .isEqualTo(Float.floatToRawIntBits(want));
        // And back again: every non-NaN half survives a round trip through float32 unchanged.
        assertThat(QuantMath.toFloat16(got) & 0xffff).as("0x%04x", h).isEqualTo(h);
      }
    }
  }

  /** IEEE binary16 from its definition, independent of the JDK conversion under test. */
  private static float referenceHalfToFloat(int h) {
    int sign = (h >> 15) & 1;
    int exp = (h >> 10) & 0x1f;
    int mant = h & 0x3ff;
    double v;
    if (exp == 0x1f) {
      v = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
    } else if (exp == 0) {
      v = mant * Math.pow(2, -24);
    } else {
      v = (1 + mant / 1024.0) * Math.pow(2, exp - 15);
    }
    return (float) (sign == 1 ? -v : v);
  }

  @Test
  void int32WeightsDequantizeWithJsRounding() {
    ByteBuffer stored = ByteBuffer.wrap(new byte[] {0, 1, 2, 3});
    WeightSpec spec =
        new WeightSpec(
            "i",
            Shape.of(4),
            DType.INT32,
            new Quantization(DType.UINT8, -1.0, 0.5, DType.INT32),
            null);
    Tensor t = QuantMath.decode(spec, stored, "test");
    assertThat(t.dtype()).isEqualTo(DType.INT32);
    ByteBuffer b = t.bytes();
    // -1, -0.5, 0, 0.5: JS Math.round takes halves up, to 0 and 1.
    assertThat(new int[] {b.getInt(0), b.getInt(4), b.getInt(8), b.getInt(12)})
        .containsExactly(-1, 0, 0, 1);
  }

  @Test
  void uint16DecodeReadsUnsignedLittleEndian() {
    ByteBuffer stored = ByteBuffer.wrap(new byte[] {(byte) 0xff, (byte) 0xff, 0x01, 0x00});
    WeightSpec spec =
        new WeightSpec(
            "u", Shape.of(2), DType.FLOAT32, Quantization.affine(DType.UINT16, 1.0, 2.0), null);
    ByteBuffer b = QuantMath.decode(spec, stored, "test").bytes();
    assertThat(b.getFloat(0)).isEqualTo(65535f * 2 + 1);
    assertThat(b.getFloat(4)).isEqualTo(3f);
  }

  @Test
  void decodeRejectsQuantizationWithoutMinOrScale() {
    WeightSpec spec =
        new WeightSpec(
            "w",
            Shape.of(1),
            DType.FLOAT32,
            new Quantization(DType.UINT8, null, 1.0, DType.FLOAT32),
            null);
    assertThatThrownBy(() -> QuantMath.decode(spec, ByteBuffer.allocate(1), "m.json: weight 'w'"))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("m.json: weight 'w'")
        .hasMessageContaining("'min'");
  }
}
