package org.tfport.runtime;

import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Memory;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.runtime.kernel.WorkerPool;

/**
 * Runs a {@link Model}: holds what persists between runs (hash tables filled by the initializer)
 * and the threads kernels may use. Not thread-safe: each thread uses its own session; sessions are
 * cheap, as the compiled model is shared.
 */
public final class Session implements AutoCloseable {
  private final Model model;
  private final KernelRegistry.Mode mode;

  /**
   * The signatures this session has run or could run when made, so they outlive the model's close.
   */
  private final Map<String, Model.Bound> bound = new HashMap<>();

  /** Initializers already run, by identity: each part's runs once per session. */
  private final Set<Plan> initialized = Collections.newSetFromMap(new IdentityHashMap<>());

  private final int threads;

  /** Whether inputs must fit the signature's shapes; see {@link SessionOptions#checkShapes()}. */
  private final boolean checkShapes;

  private final Map<String, Object> state = new ConcurrentHashMap<>();
  private ForkJoinPool pool;

  /** The helpers kernels split an op over; made on the first parallel op. */
  private WorkerPool workers;

  /** Stops the helpers of a session dropped without {@link #close}. */
  private Cleaner.Cleanable stopWorkers;

  private static final Cleaner CLEANER = Cleaner.create();

  /** Float buffers reused across runs; see {@link BufferArena}. */
  private final BufferArena arena = new BufferArena();

  private boolean closed;
  private final RunContext context =
      new RunContext() {
        @Override
        public int threads() {
          return threads;
        }

        @Override
        public ForkJoinPool pool() {
          return Session.this.pool();
        }

        @Override
        public float[] floats(int n) {
          return arena.take(n);
        }

        @Override
        public void giveBack(float[] scratch) {
          arena.giveBack(scratch);
        }

        @Override
        public byte[] bytes(int n) {
          return arena.takeBytes(n);
        }

        @Override
        public void giveBack(byte[] scratch) {
          arena.giveBack(scratch);
        }

        @Override
        public void fork(Runnable task, int helpers) {
          Session.this.workers().post(task, helpers);
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T sessionState(String key, Supplier<T> create) {
          return (T) state.computeIfAbsent(key, k -> create.get());
        }
      };

  Session(Model model, List<Model.Bound> ready, SessionOptions options) {
    this.model = model;
    this.mode = options.kernels();
    for (Model.Bound b : ready) {
      bound.put(b.signature().key(), b);
    }
    this.threads = options.threads();
    this.checkShapes = options.checkShapes();
  }

  private synchronized ForkJoinPool pool() {
    if (threads == 1) {
      return ForkJoinPool.commonPool();
    }
    if (pool == null) {
      pool = new ForkJoinPool(threads);
    }
    return pool;
  }

  private synchronized WorkerPool workers() {
    if (workers == null) {
      WorkerPool w = new WorkerPool(threads - 1, "tfport-session");
      workers = w;
      stopWorkers = CLEANER.register(this, w::close);
    }
    return workers;
  }

  /** The session's buffers (tests). */
  BufferArena arena() {
    return arena;
  }

  /**
   * How many tasks this session handed to its helper threads and how many of those had to wake a
   * parked helper: per run, the second stays near zero when helpers stay hot between ops.
   */
  public record Handoffs(long posts, long wakeups) {}

  /** The handoffs so far (zeros at 1 thread or before the first parallel op). */
  public synchronized Handoffs handoffs() {
    return workers == null ? new Handoffs(0, 0) : new Handoffs(workers.posts(), workers.wakeups());
  }

  /**
   * Runs the model's default signature (its only one, else {@value Signature#DEFAULT_KEY}).
   *
   * @param inputs every input of the signature, by name
   * @return every output of the signature, by name, in signature order
   * @throws UsageException for an unknown, missing or mistyped input, or a shape the signature does
   *     not accept
   * @throws KernelException when an op rejects its values (the message names the node)
   */
  public Map<String, Tensor> run(Map<String, Tensor> inputs) {
    return run(model.defaultSignature().key(), inputs);
  }

  /**
   * Runs signature {@code signatureKey}; see {@link #run(Map)}. A SavedModel signature not loaded
   * yet is loaded and compiled first.
   *
   * @throws org.tfport.core.TfportException.UnsupportedModelException when that signature cannot be
   *     loaded
   */
  public Map<String, Tensor> run(String signatureKey, Map<String, Tensor> inputs) {
    return run(signatureKey, inputs, null);
  }

  /**
   * Runs signature {@code signatureKey} as {@link #run(String, Map)}, showing {@code observer} (may
   * be null) every value the run computes, inside loops and branches too.
   */
  public Map<String, Tensor> run(
      String signatureKey, Map<String, Tensor> inputs, RunObserver observer) {
    return run(signatureKey, inputs, observer, null);
  }

  /**
   * Runs signature {@code signatureKey} as {@link #run(String, Map)}, the same plan, telling {@code
   * timer} how long each node took.
   */
  public Map<String, Tensor> runTimed(
      String signatureKey, Map<String, Tensor> inputs, StepTimer timer) {
    return run(signatureKey, inputs, null, timer);
  }

  private Map<String, Tensor> run(
      String signatureKey, Map<String, Tensor> inputs, RunObserver observer, StepTimer timer) {
    if (closed) {
      throw new UsageException(model.source() + ": the session is closed");
    }
    Model.Bound b = bound.get(signatureKey);
    if (b == null) {
      b = model.bound(mode, signatureKey);
      bound.put(signatureKey, b);
    }
    Signature sig = b.signature();
    check(sig, inputs);
    initialize(b.initializer());
    RunContext ctx = observer == null ? context : new ObservedContext(context, observer, List.of());
    // The observer sees every node's value, which a fused plan does not compute; the initializer
    // stays the one the session already ran.
    Plan plan = observer == null ? b.plan() : model.bound(mode, signatureKey, true).plan();
    Value[] out;
    // An observer may keep any value it is shown: its runs lend nothing.
    arena.begin(observer == null && plan.recycles());
    Value[] args = copyInputs(sig, inputs);
    WorkerPool helpers = threads > 1 ? workers() : null;
    if (helpers != null) {
      helpers.runStarted();
    }
    try {
      out =
          plan.run(
              args, ctx, timer == null ? null : timing(timer), observer == null ? arena : null);
    } finally {
      arena.end();
      if (helpers != null) {
        helpers.runEnded();
      }
    }
    Map<String, Tensor> result = new LinkedHashMap<>();
    for (int i = 0; i < out.length; i++) {
      TensorSpec spec = sig.outputs().get(i);
      if (out[i].isHandle()) {
        throw new UnsupportedModelException(
            model.source()
                + ": the output '"
                + spec.name()
                + "' ("
                + spec.tensor()
                + ") is a "
                + out[i]
                + ", not a tensor");
      }
      result.put(spec.name(), Values.toTensor(out[i]));
    }
    return result;
  }

  /** A probe that times each step from the end of the one before, the first from now. */
  private static Plan.Probe timing(StepTimer timer) {
    long[] last = {System.nanoTime()};
    return (step, slots) -> {
      long now = System.nanoTime();
      timer.ran(step.node(), step.op(), now - last[0]);
      last[0] = now;
    };
  }

  /**
   * Fills the session's tables the first time a signature of the part runs; a failed one is tried
   * again.
   */
  private void initialize(Plan initializer) {
    if (initializer != null && !initialized.contains(initializer)) {
      initializer.run(new Value[0], context);
      initialized.add(initializer);
    }
  }

  /** Checks the inputs' names, types and shapes against the signature's specs. */
  private void check(Signature sig, Map<String, Tensor> inputs) {
    for (String name : inputs.keySet()) {
      if (sig.inputs().stream().noneMatch(s -> s.name().equals(name))) {
        throw new UsageException(
            model.source()
                + ": signature '"
                + sig.key()
                + "' has no input '"
                + name
                + "'; its inputs are "
                + sig.inputNames());
      }
    }
    for (TensorSpec spec : sig.inputs()) {
      Tensor t = inputs.get(spec.name());
      if (t == null) {
        throw new UsageException(
            model.source()
                + ": input '"
                + spec.name()
                + "' ("
                + spec.describe()
                + ") is missing; signature '"
                + sig.key()
                + "' takes "
                + sig.inputNames());
      }
      long[] dims = t.shape().dims();
      if (spec.dtype() != null && spec.dtype() != t.dtype() || checkShapes && !spec.accepts(dims)) {
        throw new UsageException(
            model.source()
                + ": input '"
                + spec.name()
                + "' wants "
                + spec.describe()
                + ", got "
                + t.dtype().jsName()
                + Arrays.toString(dims));
      }
      // The run copies the input onto the heap.
      String shortfall = Memory.shortfall(t.dtype(), dims);
      if (shortfall != null) {
        throw new TfportException(model.source() + ": input '" + spec.name() + "' " + shortfall);
      }
    }
  }

  /**
   * The (checked) inputs as values in the signature's order. A float or 8-bit input's copy is lent
   * by the arena, which takes it back when its slot dies: a new copy each run lived across the
   * young collections of a run that allocates (before the JIT has compiled the kernels), was
   * promoted and stayed in the old generation, which the serial collector grows instead of
   * collecting (nsfwjs MobileNetV2 .tflite, 300 warm-up runs: a 50-58 MB heap, once 253 MB; 41-42
   * MB lent).
   */
  private Value[] copyInputs(Signature sig, Map<String, Tensor> inputs) {
    Value[] values = new Value[sig.inputs().size()];
    for (int i = 0; i < values.length; i++) {
      Tensor t = inputs.get(sig.inputs().get(i).name());
      if (t.dtype() == DType.FLOAT32) {
        float[] a = arena.take(Math.toIntExact(t.size()));
        t.bytes().asFloatBuffer().get(a);
        values[i] = Value.of(DType.FLOAT32, t.shape().dims(), a);
      } else if (t.dtype() == DType.UINT8 || t.dtype() == DType.INT8) {
        byte[] a = arena.takeBytes(Math.toIntExact(t.size()));
        t.bytes().get(a);
        values[i] = Value.of(t.dtype(), t.shape().dims(), a);
      } else {
        values[i] = Values.fromTensor(t);
      }
    }
    return values;
  }

  @Override
  public synchronized void close() {
    closed = true;
    state.clear();
    if (pool != null) {
      pool.shutdown();
      pool = null;
    }
    if (workers != null) {
      stopWorkers.clean();
      workers = null;
    }
  }
}
