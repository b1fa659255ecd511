package org.tfport.runtime.ops;

/**
 * gemmlowp's 16-bit fixed-point arithmetic, which TFLite's integer LSTM uses for its gate
 * activations: a value with {@code m} integer bits is an int16 raw r meaning r / 2^(15 − m).
 * Everything here reproduces the C++ on int16_t exactly: plain additions wrap modulo 2^16 (the
 * result is stored back into an int16), products are the saturating rounding doubling high
 * multiply, rescalings saturate or round as gemmlowp's {@code SaturatingRoundingMultiplyByPOT}
 * does, and the 32-bit constants of the polynomial and Newton–Raphson steps are narrowed with a
 * rounding shift by 16. Values are carried in {@code int}s holding int16 values.
 */
final class Int16FixedPoint {
  private Int16FixedPoint() {}

  private static final int ONE_F0 = Short.MAX_VALUE; // "1" with 0 integer bits saturates

  /** exp(−2^k) for k = −2..4, gemmlowp's barrel-shifter multipliers as 32-bit constants. */
  private static final int[] EXP_STEP_EXPONENT = {-2, -1, 0, 1, 2, 3, 4};

  private static final int[] EXP_STEP_MULTIPLIER = {
    1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242
  };

  /** gemmlowp logistic: input with {@code integerBits} integer bits, result with 0. */
  static int logistic(int a, int integerBits) {
    if (a == 0) {
      return constant(1 << 30); // 0.5
    }
    boolean positive = a > 0;
    int abs = positive ? a : neg(a);
    int ifPositive = oneOverOnePlusX(expOnNegativeValues(neg(abs), integerBits));
    return positive ? ifPositive : sub(ONE_F0, ifPositive);
  }

  /** gemmlowp tanh: input with {@code integerBits} integer bits, result with 0. */
  static int tanh(int a, int integerBits) {
    if (a == 0) {
      return 0;
    }
    boolean negative = a < 0;
    int n = negative ? a : neg(a);
    // -tanh(n) for n < 0, through exp(2n): the doubling only relabels the integer bits.
    int t = oneMinusXOverOnePlusX(expOnNegativeValues(n, integerBits + 1));
    return negative ? neg(t) : t;
  }

  /** exp(a) for a ≤ 0 with {@code integerBits} integer bits; the result has 0. */
  static int expOnNegativeValues(int a, int integerBits) {
    int fractionalBits = 15 - integerBits;
    int quarter = 1 << (fractionalBits - 2);
    int mask = sub(quarter, 1);
    int modQuarterMinusQuarter = sub(a & mask, quarter);
    int result =
        expOnIntervalNegativeQuarterToZero(
            multiplyByPowerOfTwo(modQuarterMinusQuarter, integerBits));
    int remainder = sub(modQuarterMinusQuarter, a);
    for (int k = 0; k < EXP_STEP_EXPONENT.length; k++) {
      int exponent = EXP_STEP_EXPONENT[k];
      if (integerBits > exponent) {
        int bit = (short) (1 << (fractionalBits + exponent));
        if ((remainder & bit) != 0) {
          result = mul(result, constant(EXP_STEP_MULTIPLIER[k]));
        }
      }
    }
    if (integerBits > 5 && a < constant(-(1 << (36 - integerBits)))) {
      result = 0; // below −32 exp is 0
    }
    return a == 0 ? ONE_F0 : result;
  }

  /** exp(a) for a in [−1/4, 0), 0 integer bits: a Taylor expansion around −1/8. */
  private static int expOnIntervalNegativeQuarterToZero(int a) {
    int constantTerm = constant(1895147668); // exp(-1/8)
    int oneThird = constant(715827883);
    int x = add(a, 1 << 12); // a + 1/8
    int x2 = mul(x, x);
    int x3 = mul(x2, x);
    int x4 = mul(x2, x2);
    int x4Over4 = multiplyByPowerOfTwo(x4, -2);
    int poly = multiplyByPowerOfTwo(add(mul(add(x4Over4, x3), oneThird), x2), -1);
    return saturatingAdd(constantTerm, mul(constantTerm, add(x, poly)));
  }

  /** (1 − a) / (1 + a) for a in (0, 1), by three Newton–Raphson steps. */
  private static int oneMinusXOverOnePlusX(int a) {
    return multiplyByPowerOfTwo(sub(reciprocalOfHalfDenominator(a), 1 << 13), 2);
  }

  /** 1 / (1 + a) for a in (0, 1). */
  private static int oneOverOnePlusX(int a) {
    return multiplyByPowerOfTwo(reciprocalOfHalfDenominator(a), 1);
  }

  /** 1 / ((1 + a) / 2) with 2 integer bits, the common Newton–Raphson division of both. */
  private static int reciprocalOfHalfDenominator(int a) {
    int halfDenominator = roundingHalfSum(a, ONE_F0);
    int x =
        add(constant(1515870810), mul(halfDenominator, constant(-1010580540))); // 48/17 − 32/17·d
    for (int i = 0; i < 3; i++) {
      int oneMinusDx = sub(1 << 13, mul(halfDenominator, x));
      x = add(x, multiplyByPowerOfTwo(mul(x, oneMinusDx), 2));
    }
    return x;
  }

  // -------------------------------------------------------------------------------------------
  // int16 primitives

  static int add(int a, int b) {
    return (short) (a + b);
  }

  static int sub(int a, int b) {
    return (short) (a - b);
  }

  static int neg(int a) {
    return (short) -a;
  }

  static int saturatingAdd(int a, int b) {
    return Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, a + b));
  }

  /** The saturating rounding doubling high multiply of two int16 values. */
  static int mul(int a, int b) {
    if (a == Short.MIN_VALUE && b == Short.MIN_VALUE) {
      return Short.MAX_VALUE;
    }
    int ab = a * b;
    int nudge = ab >= 0 ? 1 << 14 : 1 - (1 << 14);
    return (short) ((ab + nudge) / (1 << 15));
  }

  /** (a + b) / 2 rounded half away from zero. */
  static int roundingHalfSum(int a, int b) {
    int sum = a + b;
    return (short) ((sum + (sum >= 0 ? 1 : -1)) / 2);
  }

  /** x / 2^e rounded to nearest, halves away from zero, on int16. */
  static int roundingDivideByPOT(int x, int e) {
    int mask = (short) ((1 << e) - 1);
    int remainder = x & mask;
    int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (short) ((x >> e) + (remainder > threshold ? 1 : 0));
  }

  /** x·2^e: a saturating left shift for e > 0, a rounding right shift for e < 0. */
  static int multiplyByPowerOfTwo(int x, int e) {
    if (e == 0) {
      return x;
    }
    if (e < 0) {
      return roundingDivideByPOT(x, -e);
    }
    int threshold = (1 << (15 - e)) - 1;
    if (x > threshold) {
      return Short.MAX_VALUE;
    }
    if (x < -threshold) {
      return Short.MIN_VALUE;
    }
    return (short) (x << e);
  }

  /** A gemmlowp constant given as its 32-bit raw value, narrowed to 16 bits. */
  private static int constant(int raw32) {
    return (short) FixedPoint.roundingDivideByPOT(raw32, 16);
  }
}
