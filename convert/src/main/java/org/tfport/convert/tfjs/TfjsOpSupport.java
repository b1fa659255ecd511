package org.tfport.convert.tfjs;

import java.util.Set;

/**
 * The TF.js 4.22 converter's op list ({@link OpCheck}), for tools outside this package (the
 * analyzer).
 */
public final class TfjsOpSupport {
  private TfjsOpSupport() {}

  /** The op types TF.js 4.22 executes. */
  public static Set<String> ops() {
    return OpCheck.supported();
  }

  /** Whether TF.js runs {@code op}; debug ops count as supported, as the converter strips them. */
  public static boolean supports(String op) {
    return OpCheck.supported().contains(op) || OpCheck.DEBUG_OPS.contains(op);
  }
}
