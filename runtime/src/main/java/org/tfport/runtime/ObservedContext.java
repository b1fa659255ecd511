package org.tfport.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;
import org.tfport.runtime.kernel.RunContext;

/**
 * The run context of an observed run: the session's context plus the observer and the functions
 * entered so far. Plans look for it once per run, so an unobserved run only pays one {@code
 * instanceof}.
 */
final class ObservedContext implements RunContext {
  private final RunContext session;
  final RunObserver observer;
  final List<String> callPath;

  ObservedContext(RunContext session, RunObserver observer, List<String> callPath) {
    this.session = session;
    this.observer = observer;
    this.callPath = callPath;
  }

  /** The context of a call to function {@code name} from this one. */
  ObservedContext enter(String name) {
    List<String> path = new ArrayList<>(callPath.size() + 1);
    path.addAll(callPath);
    path.add(name);
    return new ObservedContext(session, observer, List.copyOf(path));
  }

  @Override
  public int threads() {
    return session.threads();
  }

  @Override
  public ForkJoinPool pool() {
    return session.pool();
  }

  @Override
  public float[] floats(int n) {
    return session.floats(n);
  }

  @Override
  public void giveBack(float[] scratch) {
    session.giveBack(scratch);
  }

  @Override
  public void fork(Runnable task, int helpers) {
    session.fork(task, helpers);
  }

  @Override
  public <T> T sessionState(String key, Supplier<T> create) {
    return session.sessionState(key, create);
  }
}
