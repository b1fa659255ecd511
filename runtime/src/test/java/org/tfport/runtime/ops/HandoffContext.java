package org.tfport.runtime.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;
import org.tfport.runtime.kernel.RunContext;

/**
 * A context of {@code threads} threads for split tests: it records each handoff's helper count and
 * runs the handed-off tasks inline, before the caller starts its own part, or never (a split's
 * caller then does every chunk no helper took).
 */
final class HandoffContext implements RunContext {
  final int threads;
  final boolean runHelpers;
  final List<Integer> helpersAsked = new ArrayList<>();
  private final Map<String, Object> state = new ConcurrentHashMap<>();

  HandoffContext(int threads, boolean runHelpers) {
    this.threads = threads;
    this.runHelpers = runHelpers;
  }

  @Override
  public int threads() {
    return threads;
  }

  @Override
  public ForkJoinPool pool() {
    return ForkJoinPool.commonPool();
  }

  @Override
  public void fork(Runnable task, int helpers) {
    helpersAsked.add(helpers);
    for (int i = 0; runHelpers && i < helpers; i++) {
      task.run();
    }
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> T sessionState(String key, Supplier<T> create) {
    return (T) state.computeIfAbsent(key, k -> create.get());
  }
}
