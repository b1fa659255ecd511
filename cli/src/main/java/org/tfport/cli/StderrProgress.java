package org.tfport.cli;

import java.io.PrintWriter;
import org.tfport.core.ProgressListener;

/** A one-line progress display on stderr, shown only on a terminal and only for large jobs. */
final class StderrProgress implements ProgressListener {
  private static final long MIN_TOTAL = 32L << 20;
  private final PrintWriter err;
  private long lastPercent = -1;
  private boolean shown;

  private StderrProgress(PrintWriter err) {
    this.err = err;
  }

  static ProgressListener forConsole(PrintWriter err) {
    return System.console() == null ? ProgressListener.NONE : new StderrProgress(err);
  }

  @Override
  public void progress(String stage, long done, long total) {
    if (total < MIN_TOTAL) {
      return;
    }
    long pct = done * 100 / total;
    if (pct != lastPercent) {
      lastPercent = pct;
      shown = true;
      err.printf("\r%s: %3d%% (%,d of %,d MB)", stage, pct, done >> 20, total >> 20);
      err.flush();
    }
  }

  static void clear(PrintWriter err, ProgressListener p) {
    if (p instanceof StderrProgress s && s.shown) {
      err.print("\r\033[K");
      err.flush();
    }
  }
}
