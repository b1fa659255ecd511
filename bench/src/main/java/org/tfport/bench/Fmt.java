package org.tfport.bench;

import java.util.Locale;

/** Number formatting for the report. */
final class Fmt {
  private Fmt() {}

  static String mib(long bytes) {
    return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
  }

  static String mibBare(long bytes) {
    return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", bytes / 1048576.0);
  }

  static String secs(long nanos) {
    return nanos < 0 ? "n/a" : String.format(Locale.ROOT, "%.3f", nanos / 1e9);
  }

  static String ratio(double r) {
    return Double.isNaN(r) ? "n/a" : String.format(Locale.ROOT, "%.2fx", r);
  }

  static String bytes(long b) {
    return String.format(Locale.ROOT, "%,d", b);
  }
}
