package org.tfport.train;

import java.util.Map;

/** Told about each finished epoch; returns false to stop training there. */
@FunctionalInterface
public interface Callback {
  /**
   * @param epoch the epoch just finished, from 0
   * @param logs its loss and metrics (and validation ones), by history key
   * @param millis how long it took
   * @return whether to go on
   */
  boolean onEpochEnd(int epoch, Map<String, Double> logs, long millis);
}
