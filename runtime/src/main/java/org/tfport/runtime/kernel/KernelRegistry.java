package org.tfport.runtime.kernel;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Kernels by op name, two kinds per op: the reference kernel (plain Java, exact; the test oracle
 * and what constant folding uses) and optionally an optimized one (vectorized, packed, threaded)
 * that must compute the same values within float rounding.
 */
public final class KernelRegistry {
  /** Which kernel the planner binds. */
  public enum Mode {
    REFERENCE,
    OPTIMIZED
  }

  private final Map<String, KernelFactory> reference = new HashMap<>();
  private final Map<String, KernelFactory> optimized = new HashMap<>();

  /** A registry holding the kernels of {@code families}. */
  public static KernelRegistry of(Iterable<? extends OpFamily> families) {
    KernelRegistry r = new KernelRegistry();
    for (OpFamily f : families) {
      f.register(r);
    }
    return r;
  }

  public KernelRegistry reference(String op, KernelFactory factory) {
    if (reference.putIfAbsent(op, factory) != null) {
      throw new IllegalStateException("two reference kernels for " + op);
    }
    return this;
  }

  /** Registers the same reference factory under several op names (aliases such as AddV2/Add). */
  public KernelRegistry reference(KernelFactory factory, String... ops) {
    for (String op : ops) {
      reference(op, factory);
    }
    return this;
  }

  public KernelRegistry optimized(String op, KernelFactory factory) {
    if (optimized.putIfAbsent(op, factory) != null) {
      throw new IllegalStateException("two optimized kernels for " + op);
    }
    return this;
  }

  /**
   * The factory the planner uses for {@code op} in {@code mode}, or null when tfport has no kernel
   * for it.
   */
  public KernelFactory factory(String op, Mode mode) {
    if (mode == Mode.OPTIMIZED) {
      KernelFactory f = optimized.get(op);
      if (f != null) {
        return f;
      }
    }
    return reference.get(op);
  }

  public boolean has(String op) {
    return reference.containsKey(op);
  }

  /** Every op with a reference kernel, sorted. */
  public Set<String> ops() {
    return Collections.unmodifiableSet(new TreeSet<>(reference.keySet()));
  }
}
