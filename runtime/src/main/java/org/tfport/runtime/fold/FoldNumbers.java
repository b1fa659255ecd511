package org.tfport.runtime.fold;

import static org.tfport.runtime.fold.FoldRules.FIXED_WIDTH;
import static org.tfport.runtime.fold.FoldRules.FLOATS;
import static org.tfport.runtime.fold.FoldRules.INTS;
import static org.tfport.runtime.fold.FoldRules.cap;
import static org.tfport.runtime.fold.FoldRules.need;

import java.util.EnumSet;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.Value;

/**
 * The folding checks that look at numbers rather than ops: denormals (TensorFlow flushes them to
 * zero, so arithmetic meeting one is left to it), {@code Range}'s size and steps, and casts of
 * floats that C++ leaves undefined outside the target's range.
 */
final class FoldNumbers {
  /** Integer types a cast reads or makes. */
  private static final Set<DType> CAST_INTS =
      EnumSet.of(DType.INT8, DType.INT16, DType.INT32, DType.INT64, DType.UINT8, DType.UINT16);

  private FoldNumbers() {}

  /** TensorFlow's RangeOp: the size from the bounds, then {@code start + i * delta} in the type. */
  static void range(Value[] in) {
    DType t = in[0].dtype();
    need(in[1].dtype() == t && in[2].dtype() == t && (INTS.contains(t) || FLOATS.contains(t)));
    need(in[0].size() == 1 && in[1].size() == 1 && in[2].size() == 1);
    switch (t) {
      case INT32, INT64 -> {
        long s = in[0].longAt(0);
        long l = in[1].longAt(0);
        long d = in[2].longAt(0);
        need(d != 0 && (d > 0 ? s <= l : s >= l));
        cap((Math.abs(l - s) + Math.abs(d) - 1) / Math.abs(d));
      }
      case FLOAT32 -> {
        float s = in[0].floats()[0];
        float l = in[1].floats()[0];
        float d = in[2].floats()[0];
        need(normal(s) && normal(l) && normal(d) && d != 0 && (d > 0 ? s <= l : s >= l));
        need(normal(l - s) && normal((l - s) / d));
        double size = Math.ceil(Math.abs((l - s) / d));
        cap(size);
        for (int i = 0; i < size; i++) {
          need(normal(i * d) && normal(s + i * d));
        }
      }
      default -> {
        double s = in[0].doubles()[0];
        double l = in[1].doubles()[0];
        double d = in[2].doubles()[0];
        need(normal(s) && normal(l) && normal(d) && d != 0 && (d > 0 ? s <= l : s >= l));
        need(normal(l - s) && normal((l - s) / d));
        double size = Math.ceil(Math.abs((l - s) / d));
        cap(size);
        for (int i = 0; i < size; i++) {
          need(normal(i * d) && normal(s + i * d));
        }
      }
    }
  }

  /** A cast to {@code to} (null when the node does not say). */
  static void cast(Value[] in, DType to) {
    DType from = in[0].dtype();
    need(to != null && FIXED_WIDTH.contains(to));
    if (from == to) {
      return;
    }
    need(FLOATS.contains(from) || CAST_INTS.contains(from) || from == DType.BOOL);
    need(FLOATS.contains(to) || CAST_INTS.contains(to) || to == DType.BOOL);
    if (FLOATS.contains(from)) {
      noDenormals(in[0]);
      if (CAST_INTS.contains(to)) {
        // C++ leaves a float outside the target's range undefined.
        for (int i = 0; i < in[0].size(); i++) {
          double x = in[0].doubleAt(i);
          need(
              x == x
                  && (to == DType.INT64
                      ? x >= -0x1p63 && x < 0x1p63
                      : x > min(to) - 1 && x < max(to) + 1));
        }
      }
    }
  }

  private static double min(DType t) {
    return switch (t) {
      case INT8 -> Byte.MIN_VALUE;
      case INT16 -> Short.MIN_VALUE;
      case INT32 -> Integer.MIN_VALUE;
      default -> 0;
    };
  }

  private static double max(DType t) {
    return switch (t) {
      case INT8 -> Byte.MAX_VALUE;
      case INT16 -> Short.MAX_VALUE;
      case INT32 -> Integer.MAX_VALUE;
      case UINT8 -> 255;
      default -> 65535;
    };
  }

  /**
   * Whether {@code x} is zero or normal: not a denormal, which TensorFlow would have flushed to
   * zero.
   */
  static boolean normal(float x) {
    return x == 0 || !(Math.abs(x) < Float.MIN_NORMAL);
  }

  static boolean normal(double x) {
    return x == 0 || !(Math.abs(x) < Double.MIN_NORMAL);
  }

  static void noDenormals(Value v) {
    if (v.dtype() == DType.FLOAT32) {
      for (float x : v.floats()) {
        need(normal(x));
      }
    } else if (v.dtype() == DType.FLOAT64) {
      for (double x : v.doubles()) {
        need(normal(x));
      }
    }
  }
}
