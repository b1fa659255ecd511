package org.tfport.server;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.runtime.Session;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;
import org.tfport.runtime.kernel.KernelException;

/**
 * Runs predictions on a fixed set of worker threads behind a bounded queue: a call that finds the
 * queue full is answered 503 at once rather than waiting without bound, and one that does not
 * finish within the timeout is answered 504. With batching on, calls of a signature whose inputs
 * all have a free batch dimension wait up to the batch wait for others of the same shape and run as
 * one batch, each getting back its own rows; the rows a model computes do not depend on their
 * neighbours, so the answers are the unbatched ones.
 */
final class Predictor implements AutoCloseable {
  private final ServingConfig config;
  private final Metrics metrics;

  /** Package-private so a test can hold the workers busy. */
  final ThreadPoolExecutor workers;

  private final ScheduledThreadPoolExecutor timer;

  Predictor(ServingConfig config, Metrics metrics) {
    this.config = config;
    this.metrics = metrics;
    BlockingQueue<Runnable> q =
        config.queue() == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(config.queue());
    AtomicInteger n = new AtomicInteger();
    this.workers =
        new ThreadPoolExecutor(
            config.workers(),
            config.workers(),
            60,
            TimeUnit.SECONDS,
            q,
            r -> {
              Thread t = new Thread(r, "tfport-predict-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "tfport-batch-timer");
              t.setDaemon(true);
              return t;
            });
    timer.setRemoveOnCancelPolicy(true);
  }

  /**
   * Runs {@code sig} of the held model on {@code inputs} and returns its outputs by name, within
   * the timeout counted from {@code startNanos}.
   */
  Map<String, Tensor> run(
      Servables.Loaded model, Signature sig, Map<String, Tensor> inputs, long startNanos) {
    CompletableFuture<Map<String, Tensor>> f;
    int rows = batchRows(sig, inputs);
    if (config.maxBatch() > 1 && rows > 0 && rows < config.maxBatch()) {
      f = batch(model, sig, inputs).add(inputs, rows);
    } else {
      f = new CompletableFuture<>();
      CompletableFuture<Map<String, Tensor>> g = f;
      submit(
          () -> {
            if (g.isDone()) {
              return; // timed out while it waited
            }
            try {
              g.complete(runOnce(model, sig, inputs, rows > 0 ? rows : 1));
            } catch (RuntimeException e) {
              g.completeExceptionally(e);
            }
          },
          List.of(f));
    }
    long left = config.timeoutMillis() * 1_000_000L - (System.nanoTime() - startNanos);
    try {
      return f.get(Math.max(0, left), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      f.cancel(false);
      throw new HttpError(
          504,
          "the prediction did not finish within "
              + config.timeoutMillis()
              + " ms (tfport serve --predict-timeout-ms)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HttpError(503, "the server is stopping");
    } catch (ExecutionException e) {
      throw translate(e.getCause());
    }
  }

  private void submit(Runnable task, List<CompletableFuture<Map<String, Tensor>>> waiting) {
    try {
      workers.execute(task);
    } catch (RejectedExecutionException e) {
      metrics.overloaded();
      HttpError busy =
          new HttpError(
              503,
              "the server is overloaded: "
                  + config.queue()
                  + " predictions are already waiting; try again later"
                  + " (tfport serve --predict-queue, --predict-threads)");
      waiting.forEach(w -> w.completeExceptionally(busy));
    }
  }

  private static RuntimeException translate(Throwable t) {
    return switch (t) {
      case HttpError h -> h;
      case UnsupportedModelException u ->
          new HttpError(501, firstLine(u.getMessage()) + " (tfport's runtime cannot run it)", u);
      case UsageException u -> new HttpError(400, firstLine(u.getMessage()), u);
      case KernelException k -> new HttpError(400, firstLine(k.getMessage()), k);
      case RuntimeException r -> new HttpError(500, "the prediction failed: " + r, r);
      default -> new HttpError(500, "the prediction failed: " + t, t);
    };
  }

  private static String firstLine(String s) {
    return s == null ? "error" : s.lines().findFirst().orElse("error");
  }

  private Map<String, Tensor> runOnce(
      Servables.Loaded model, Signature sig, Map<String, Tensor> inputs, int rows) {
    Servables.Lease lease = model.lease(sig, inputs);
    Session s = lease.session();
    try {
      Map<String, Tensor> out = s.run(sig.key(), inputs);
      metrics.batch(rows);
      if (lease.resizedFrom() == null) {
        model.returnSession(s);
      } else {
        s.close();
      }
      return out;
    } catch (KernelException | UsageException e) {
      s.close();
      throw lease.resizedFrom() == null ? e : lease.resizedFrom().refused(sig, inputs, e);
    } catch (RuntimeException e) {
      // A session a run failed in may hold half-updated state; it is not reused.
      s.close();
      throw e;
    }
  }

  /**
   * The rows of a call that can join a batch: every input of the signature has a free first
   * dimension and the call's inputs agree on it; -1 otherwise.
   */
  private static int batchRows(Signature sig, Map<String, Tensor> inputs) {
    long rows = -1;
    for (TensorSpec spec : sig.inputs()) {
      long[] shape = spec.shape();
      Tensor t = inputs.get(spec.name());
      if (shape == null || shape.length == 0 || shape[0] != -1 || t == null) {
        return -1;
      }
      long[] d = t.shape().dims();
      // A tensor the signature does not describe (fed unchecked) may not be rows at all.
      if (!spec.accepts(d) || d.length == 0 || d[0] < 1 || rows >= 0 && d[0] != rows) {
        return -1;
      }
      rows = d[0];
    }
    return rows > Integer.MAX_VALUE ? -1 : (int) rows;
  }

  private Batch batch(Servables.Loaded model, Signature sig, Map<String, Tensor> inputs) {
    StringBuilder key = new StringBuilder(sig.key());
    for (Tensor t : inputs.values()) {
      long[] d = t.shape().dims();
      key.append('|').append(t.dtype()).append(Arrays.toString(Arrays.copyOfRange(d, 1, d.length)));
    }
    // Kept with the loaded model, so a version unloaded and loaded again batches anew.
    return (Batch) model.batches.computeIfAbsent(key.toString(), k -> new Batch(model, sig));
  }

  /** Calls waiting to run together: same model, signature, dtypes and row shapes. */
  private final class Batch {
    private final Servables.Loaded model;
    private final Signature sig;
    private List<Pending> pending = new ArrayList<>();
    private int rows;

    private record Pending(
        Map<String, Tensor> inputs, int rows, CompletableFuture<Map<String, Tensor>> result) {}

    Batch(Servables.Loaded model, Signature sig) {
      this.model = model;
      this.sig = sig;
    }

    CompletableFuture<Map<String, Tensor>> add(Map<String, Tensor> inputs, int n) {
      CompletableFuture<Map<String, Tensor>> f = new CompletableFuture<>();
      List<Pending> full = null;
      synchronized (this) {
        if (rows + n > config.maxBatch()) {
          full = take();
        }
        pending.add(new Pending(inputs, n, f));
        rows += n;
        if (rows >= config.maxBatch()) {
          List<Pending> now = take();
          if (full == null) {
            full = now;
          } else {
            dispatch(full);
            full = now;
          }
        } else if (pending.size() == 1) {
          List<Pending> mine = pending;
          timer.schedule(() -> flush(mine), config.batchWaitMicros(), TimeUnit.MICROSECONDS);
        }
      }
      if (full != null) {
        dispatch(full);
      }
      return f;
    }

    /** Runs the batch {@code list} when it is still the one waiting (no one filled it first). */
    private void flush(List<Pending> list) {
      List<Pending> go = null;
      synchronized (this) {
        if (pending == list && !list.isEmpty()) {
          go = take();
        }
      }
      if (go != null) {
        dispatch(go);
      }
    }

    private List<Pending> take() {
      List<Pending> out = pending;
      pending = new ArrayList<>();
      rows = 0;
      return out;
    }

    private void dispatch(List<Pending> list) {
      submit(() -> runBatch(list), list.stream().map(Pending::result).toList());
    }

    private void runBatch(List<Pending> list) {
      List<Pending> live = list.stream().filter(p -> !p.result().isDone()).toList();
      if (live.isEmpty()) {
        return;
      }
      try {
        if (live.size() == 1) {
          Pending p = live.get(0);
          p.result().complete(runOnce(model, sig, p.inputs(), p.rows()));
          return;
        }
        int total = live.stream().mapToInt(Pending::rows).sum();
        Map<String, Tensor> merged = new LinkedHashMap<>();
        for (String name : live.get(0).inputs().keySet()) {
          merged.put(name, concat(live.stream().map(p -> p.inputs().get(name)).toList(), total));
        }
        Map<String, Tensor> out = runOnce(model, sig, merged, total);
        for (Tensor t : out.values()) {
          long[] d = t.shape().dims();
          if (d.length == 0 || d[0] != total) {
            // Outputs that do not follow the rows cannot be split back; each call runs alone.
            for (Pending p : live) {
              p.result().complete(runOnce(model, sig, p.inputs(), p.rows()));
            }
            return;
          }
        }
        int start = 0;
        for (Pending p : live) {
          Map<String, Tensor> mine = new LinkedHashMap<>();
          for (Map.Entry<String, Tensor> e : out.entrySet()) {
            mine.put(e.getKey(), rows(e.getValue(), start, p.rows(), total));
          }
          start += p.rows();
          p.result().complete(mine);
        }
      } catch (RuntimeException e) {
        for (Pending p : live) {
          if (!p.result().isDone()) {
            // One call's bad values fail the whole batch, so each is retried alone for its own
            // answer.
            try {
              p.result().complete(runOnce(model, sig, p.inputs(), p.rows()));
            } catch (RuntimeException alone) {
              p.result().completeExceptionally(alone);
            }
          }
        }
      }
    }
  }

  /** Tensors of equal row shape stacked along the first dimension. */
  static Tensor concat(List<Tensor> parts, int total) {
    Tensor first = parts.get(0);
    long[] d = first.shape().dims().clone();
    d[0] = total;
    int bytes = 0;
    for (Tensor t : parts) {
      bytes = Math.addExact(bytes, t.byteLength());
    }
    ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    for (Tensor t : parts) {
      // Strings are length-prefixed elements in order, so they concatenate byte-wise too.
      b.put(t.bytes());
    }
    return new Tensor(first.dtype(), Shape.of(d), b.flip());
  }

  /** Rows {@code [start, start + n)} of a tensor of {@code total} rows. */
  static Tensor rows(Tensor t, int start, int n, int total) {
    long[] d = t.shape().dims().clone();
    d[0] = n;
    if (t.dtype() == DType.STRING) {
      List<byte[]> all = t.toByteStrings();
      int per = all.size() / total;
      List<byte[]> mine = all.subList(start * per, (start + n) * per);
      int bytes = 0;
      for (byte[] s : mine) {
        bytes += 4 + s.length;
      }
      ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
      for (byte[] s : mine) {
        b.putInt(s.length).put(s);
      }
      return new Tensor(DType.STRING, Shape.of(d), b.flip());
    }
    int rowBytes = t.byteLength() / total;
    ByteBuffer src = t.bytes();
    src.position(start * rowBytes).limit((start + n) * rowBytes);
    ByteBuffer b = ByteBuffer.allocate(n * rowBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.put(src);
    return new Tensor(t.dtype(), Shape.of(d), b.flip());
  }

  @Override
  public void close() {
    timer.shutdownNow();
    workers.shutdownNow();
  }
}
