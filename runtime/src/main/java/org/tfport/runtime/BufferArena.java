package org.tfport.runtime;

import java.lang.ref.SoftReference;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import org.tfport.runtime.kernel.Value;

/**
 * A session's float and byte buffers, reused run after run: optimized kernels take their outputs
 * and scratch from it ({@link org.tfport.runtime.kernel.RunContext#floats}), and a plan gives an
 * output back when its slot dies. A network runs the same shapes every run, so after the first run
 * every request finds a buffer of its exact length, and the heap holds about the largest live set
 * instead of a run's worth of garbage, which the collector would promote and the heap grow for.
 *
 * <p>Only buffers this arena lent are taken back, and only when nothing else can see them: the plan
 * checks that no other slot holds the array and that no op of the plan could have kept it ({@link
 * Plan#recycles()}); outputs leave the arena for good. Used by the session's thread only.
 */
final class BufferArena {
  // Softly held: a server keeps many idle sessions, and the collector may take their buffers back
  // before it runs out of heap.
  private final Map<Integer, ArrayDeque<SoftReference<float[]>>> free = new HashMap<>();
  // 8-bit models' activations (uint8/int8 codes): MobileNet V2 uint8 made 16 MB of them a run.
  private final Map<Integer, ArrayDeque<SoftReference<byte[]>>> freeBytes = new HashMap<>();
  private final Set<Object> lent = Collections.newSetFromMap(new IdentityHashMap<>());
  private boolean active;

  // Bytes of the arrays lent now, their peak over runs, and of every array the arena made (tests).
  private long lentBytes;
  private long peakLentBytes;
  private long madeBytes;

  /**
   * Starts a run: when {@code recycling} (its plan {@link Plan#recycles()}), buffers are lent and
   * taken back; otherwise every request is a new array the arena forgets.
   */
  void begin(boolean recycling) {
    active = recycling;
  }

  /**
   * Ends a run: whatever is still lent has left with the outputs or was dropped by a failed run,
   * and is forgotten.
   */
  void end() {
    active = false;
    lent.clear();
    lentBytes = 0;
  }

  /** A buffer of exactly {@code n} floats with unspecified contents. */
  float[] take(int n) {
    if (!active) {
      return new float[n];
    }
    float[] a = reused(free, n);
    if (a == null) {
      a = new float[n];
      madeBytes += 4L * n;
    }
    lent.add(a);
    lentBytes += 4L * n;
    peakLentBytes = Math.max(peakLentBytes, lentBytes);
    return a;
  }

  /** A buffer of exactly {@code n} bytes with unspecified contents. */
  byte[] takeBytes(int n) {
    if (!active) {
      return new byte[n];
    }
    byte[] a = reused(freeBytes, n);
    if (a == null) {
      a = new byte[n];
      madeBytes += n;
    }
    lent.add(a);
    lentBytes += n;
    peakLentBytes = Math.max(peakLentBytes, lentBytes);
    return a;
  }

  private static <T> T reused(Map<Integer, ArrayDeque<SoftReference<T>>> pool, int n) {
    ArrayDeque<SoftReference<T>> q = pool.get(n);
    T a = null;
    while (a == null && q != null && !q.isEmpty()) {
      a = q.pollLast().get();
    }
    return a;
  }

  private static long sizeOf(Object a) {
    return a instanceof float[] f ? 4L * f.length : a instanceof byte[] b ? b.length : 0;
  }

  /** Takes back {@code a} (a float[] or byte[]) if this arena lent it and it is still out. */
  void giveBack(Object a) {
    if (a == null || !lent.remove(a)) {
      return;
    }
    lentBytes -= sizeOf(a);
    if (a instanceof float[] f) {
      free.computeIfAbsent(f.length, k -> new ArrayDeque<>()).addLast(new SoftReference<>(f));
    } else if (a instanceof byte[] b) {
      freeBytes.computeIfAbsent(b.length, k -> new ArrayDeque<>()).addLast(new SoftReference<>(b));
    }
  }

  /** Forgets a lent buffer that leaves the session (an output): it is never taken back. */
  void escape(Value v) {
    if (v != null && !v.isHandle() && lent.remove(v.data())) {
      lentBytes -= sizeOf(v.data());
    }
  }

  /**
   * Takes back the buffer of {@code dead}, a value whose slot just died, unless a slot of {@code
   * live} still holds the same array.
   */
  void release(Value dead, Value[] live) {
    if (dead == null || dead.isHandle()) {
      return;
    }
    Object a = dead.data();
    if (!lent.contains(a)) {
      return;
    }
    for (Value v : live) {
      if (v != null && !v.isHandle() && v.data() == a) {
        return;
      }
    }
    giveBack(a);
  }

  /** Bytes held by buffers waiting to be reused (tests). */
  long freeBytes() {
    long b = 0;
    for (ArrayDeque<SoftReference<float[]>> q : free.values()) {
      for (SoftReference<float[]> r : q) {
        float[] a = r.get();
        b += a == null ? 0 : 4L * a.length;
      }
    }
    for (ArrayDeque<SoftReference<byte[]>> q : freeBytes.values()) {
      for (SoftReference<byte[]> r : q) {
        byte[] a = r.get();
        b += a == null ? 0 : a.length;
      }
    }
    return b;
  }

  long peakLentBytes() {
    return peakLentBytes;
  }

  long madeBytes() {
    return madeBytes;
  }
}
