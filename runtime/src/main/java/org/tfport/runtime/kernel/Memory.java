package org.tfport.runtime.kernel;

import java.util.Arrays;
import java.util.Locale;
import org.tfport.core.DType;

/**
 * What a tensor would take of the JVM's heap, checked before it is allocated: a shape that needs
 * more than the heap's maximum (or more elements than one Java array holds) is refused with one
 * line saying how much it needs and how much there is, rather than failing mid-allocation.
 */
public final class Memory {
  private Memory() {}

  /** The longest Java array the JVM allocates (a few header words below Integer.MAX_VALUE). */
  static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

  /** How to give the JVM more, as the CLI's launcher reads it. */
  public static final String REMEDY = "give Java more with JAVA_OPTS=-Xmx…";

  /** The heap's maximum size (-Xmx), in bytes. */
  public static long heapLimit() {
    return Runtime.getRuntime().maxMemory();
  }

  /**
   * Bytes of the runtime's storage for a tensor of {@code dtype} and {@code shape} (a string counts
   * as its 8-byte reference, the least it takes); Long.MAX_VALUE when that overflows, -1 when a
   * dimension is unknown.
   */
  public static long bytes(DType dtype, long[] shape) {
    long n = elements(shape);
    if (n < 0) {
      return n;
    }
    long width = dtype == DType.STRING ? 8 : dtype == DType.COMPLEX64 ? 8 : dtype.byteSize();
    return Math.multiplyHigh(n, width) != 0 || n * width < 0 ? Long.MAX_VALUE : n * width;
  }

  /** The element count; Long.MAX_VALUE when it overflows, -1 when a dimension is unknown. */
  static long elements(long[] shape) {
    long n = 1;
    boolean overflow = false;
    for (long d : shape) {
      if (d < 0) {
        return -1;
      }
      if (d == 0) {
        return 0;
      }
      if (Math.multiplyHigh(n, d) != 0 || n * d < 0) {
        overflow = true;
      } else {
        n *= d;
      }
    }
    return overflow ? Long.MAX_VALUE : n;
  }

  /**
   * Why a tensor of {@code dtype} and {@code shape} cannot be held ("float32[60000, 60000] needs
   * 13.4 GiB, and the JVM's heap is at most 4.0 GiB; ..."), or null when it can.
   */
  public static String shortfall(DType dtype, long[] shape) {
    long n = elements(shape);
    String what = dtype.jsName() + Arrays.toString(shape);
    long need = bytes(dtype, shape);
    if (need > heapLimit()) {
      return what
          + " needs "
          + human(need)
          + ", and the JVM's heap is at most "
          + human(heapLimit())
          + "; "
          + REMEDY;
    }
    long slots = dtype == DType.COMPLEX64 && n <= MAX_ARRAY ? 2 * n : n;
    if (slots > MAX_ARRAY) {
      return what + " has " + n + " elements, more than one Java array holds (" + MAX_ARRAY + ")";
    }
    return null;
  }

  /** Refuses, before allocating, a tensor the heap cannot hold (see {@link #shortfall}). */
  public static void reserve(DType dtype, long[] shape) {
    String why = shortfall(dtype, shape);
    if (why != null) {
      throw new KernelException("the output " + why);
    }
  }

  /** Bytes as a reader wants them: "812 bytes", "3.5 MiB", "13.4 GiB". */
  public static String human(long bytes) {
    if (bytes == Long.MAX_VALUE) {
      return "more than 8 EiB";
    }
    if (bytes < 1024) {
      return bytes + " bytes";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
