package org.tfport.train;

import java.util.Map;

/**
 * Stops when {@code monitor} ({@code val_loss} by default, else {@code loss}) has not improved by
 * more than {@code minDelta} for {@code patience} epochs, as Keras' callback does; accuracy-like
 * keys improve upwards, the rest downwards.
 */
public final class EarlyStopping implements Callback {
  private final String monitor;
  private final double minDelta;
  private final int patience;
  private double best = Double.NaN;
  private int wait;
  private int stoppedEpoch = -1;

  public EarlyStopping(String monitor, double minDelta, int patience) {
    this.monitor = monitor;
    this.minDelta = Math.abs(minDelta);
    this.patience = patience;
  }

  @Override
  public boolean onEpochEnd(int epoch, Map<String, Double> logs, long millis) {
    String key = monitor != null ? monitor : logs.containsKey("val_loss") ? "val_loss" : "loss";
    Double v = logs.get(key);
    if (v == null) {
      return true;
    }
    boolean up = key.contains("acc");
    boolean improved = Double.isNaN(best) || (up ? v - minDelta > best : v + minDelta < best);
    if (improved) {
      best = v;
      wait = 0;
      return true;
    }
    if (++wait >= patience) {
      stoppedEpoch = epoch;
      return false;
    }
    return true;
  }

  /** The epoch training stopped after, or -1. */
  public int stoppedEpoch() {
    return stoppedEpoch;
  }
}
