package org.tfport.runtime.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The elementwise loops of {@link VectorMicrokernel} (activations and running maxima), kept apart
 * from its GEMM tiles. Each element is selected by a compare mask and a blend, the same float
 * operation as the scalar loop's branch, so results are bit for bit the reference's.
 */
final class VectorLoops {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  private static final VectorSpecies<Float> H = VectorDepthwise.H;
  private static final int HL = H == null ? Integer.MAX_VALUE : H.length();

  private VectorLoops() {}

  static void prelu(float[] x, int xOff, float[] alpha, int aOff, float[] y, int yOff, int n) {
    int i = 0;
    for (int bound = S.loopBound(n); i < bound; i += L) {
      FloatVector v = FloatVector.fromArray(S, x, xOff + i);
      FloatVector a = FloatVector.fromArray(S, alpha, aOff + i);
      v.blend(v.mul(a), v.lt(0f)).intoArray(y, yOff + i);
    }
    if (i < n) {
      VectorMask<Float> m = S.indexInRange(i, n);
      FloatVector v = FloatVector.fromArray(S, x, xOff + i, m);
      FloatVector a = FloatVector.fromArray(S, alpha, aOff + i, m);
      v.blend(v.mul(a), v.lt(0f)).intoArray(y, yOff + i, m);
    }
  }

  static void leakyRelu(float[] x, int xOff, float alpha, float[] y, int yOff, int n) {
    int i = 0;
    for (int bound = S.loopBound(n); i < bound; i += L) {
      FloatVector v = FloatVector.fromArray(S, x, xOff + i);
      v.blend(v.mul(alpha), v.lt(0f)).intoArray(y, yOff + i);
    }
    if (i < n) {
      VectorMask<Float> m = S.indexInRange(i, n);
      FloatVector v = FloatVector.fromArray(S, x, xOff + i, m);
      v.blend(v.mul(alpha), v.lt(0f)).intoArray(y, yOff + i, m);
    }
  }

  static void maxInto(float[] x, int xOff, float[] y, int yOff, int n) {
    int i = 0;
    for (int bound = S.loopBound(n); i < bound; i += L) {
      FloatVector v = FloatVector.fromArray(S, x, xOff + i);
      FloatVector w = FloatVector.fromArray(S, y, yOff + i);
      w.blend(v, v.compare(VectorOperators.GT, w)).intoArray(y, yOff + i);
    }
    if (i < n) {
      VectorMask<Float> m = S.indexInRange(i, n);
      FloatVector v = FloatVector.fromArray(S, x, xOff + i, m);
      FloatVector w = FloatVector.fromArray(S, y, yOff + i, m);
      w.blend(v, v.compare(VectorOperators.GT, w)).intoArray(y, yOff + i, m);
    }
  }

  static void epilogue(
      float[] y,
      int off,
      int n,
      float[] bias,
      int c0,
      float[] addend,
      int act,
      float[] alpha,
      float leaky) {
    int i = 0;
    for (int bound = S.loopBound(n); i < bound; i += L) {
      FloatVector v = FloatVector.fromArray(S, y, off + i);
      if (bias != null) {
        v = v.add(FloatVector.fromArray(S, bias, c0 + i));
      }
      if (addend != null) {
        v = v.add(FloatVector.fromArray(S, addend, off + i));
      }
      activate(v, act, alpha, c0 + i, leaky, null).intoArray(y, off + i);
    }
    if (n - i >= HL) {
      // A row of 8 channels (a narrow layer's, once per pixel) in one half-width vector: unmasked.
      FloatVector v = FloatVector.fromArray(H, y, off + i);
      if (bias != null) {
        v = v.add(FloatVector.fromArray(H, bias, c0 + i));
      }
      if (addend != null) {
        v = v.add(FloatVector.fromArray(H, addend, off + i));
      }
      v =
          switch (act) {
            case Microkernel.RELU -> v.max(0f);
            case Microkernel.RELU6 -> v.max(0f).min(6f);
            case Microkernel.LEAKY_RELU -> v.blend(v.mul(leaky), v.lt(0f));
            case Microkernel.PRELU ->
                v.blend(v.mul(FloatVector.fromArray(H, alpha, c0 + i)), v.lt(0f));
            default -> v;
          };
      v.intoArray(y, off + i);
      i += HL;
    }
    if (i < n) {
      VectorMask<Float> m = S.indexInRange(i, n);
      FloatVector v = FloatVector.fromArray(S, y, off + i, m);
      if (bias != null) {
        v = v.add(FloatVector.fromArray(S, bias, c0 + i, m));
      }
      if (addend != null) {
        v = v.add(FloatVector.fromArray(S, addend, off + i, m));
      }
      activate(v, act, alpha, c0 + i, leaky, m).intoArray(y, off + i, m);
    }
  }

  /**
   * The commonest epilogue, bias then ReLU or ReLU6 or nothing, on {@code rows} rows {@code ldc}
   * apart: one call per tile, the bias of an 8-channel row kept in a register.
   */
  static void biasRows(
      float[] y,
      int off,
      int ldc,
      int rows,
      int n,
      float[] bias,
      int c0,
      boolean relu,
      boolean relu6) {
    int full = S.loopBound(n);
    boolean half = n - full >= HL;
    int rest = half ? full + HL : full;
    VectorMask<Float> m = rest < n ? S.indexInRange(rest, n) : null;
    FloatVector hb = half ? FloatVector.fromArray(H, bias, c0 + full) : null;
    for (int r = 0; r < rows; r++) {
      int o = off + r * ldc;
      for (int i = 0; i < full; i += L) {
        FloatVector v =
            FloatVector.fromArray(S, y, o + i).add(FloatVector.fromArray(S, bias, c0 + i));
        if (relu) {
          v = v.max(0f);
        }
        if (relu6) {
          v = v.min(6f);
        }
        v.intoArray(y, o + i);
      }
      if (half) {
        FloatVector v = FloatVector.fromArray(H, y, o + full).add(hb);
        if (relu) {
          v = v.max(0f);
        }
        if (relu6) {
          v = v.min(6f);
        }
        v.intoArray(y, o + full);
      }
      if (m != null) {
        FloatVector v =
            FloatVector.fromArray(S, y, o + rest, m)
                .add(FloatVector.fromArray(S, bias, c0 + rest, m));
        if (relu) {
          v = v.max(0f);
        }
        if (relu6) {
          v = v.min(6f);
        }
        v.intoArray(y, o + rest, m);
      }
    }
  }

  private static FloatVector activate(
      FloatVector v, int act, float[] alpha, int a, float leaky, VectorMask<Float> m) {
    return switch (act) {
      case Microkernel.RELU -> v.max(0f);
      case Microkernel.RELU6 -> v.max(0f).min(6f);
      case Microkernel.LEAKY_RELU -> v.blend(v.mul(leaky), v.lt(0f));
      case Microkernel.PRELU -> {
        FloatVector w =
            m == null ? FloatVector.fromArray(S, alpha, a) : FloatVector.fromArray(S, alpha, a, m);
        yield v.blend(v.mul(w), v.lt(0f));
      }
      default -> v;
    };
  }
}
