package org.tfport.server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.tfjs.TfjsModelJson;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.runtime.SessionOptions;
import org.tfport.runtime.Signature;
import tools.jackson.databind.JsonNode;

/**
 * The models the runtime has loaded from the store, one per (name, version): loaded on first use,
 * kept while the bytes of their stored files fit {@link ServingConfig#cacheBytes()}, the least
 * recently used unloaded past that (closed once no call holds it). Each keeps a pool of sessions,
 * since a session serves one thread at a time. A version that cannot be loaded is remembered with
 * its reason (versions never change), so it is not read again on every call.
 */
final class Servables implements AutoCloseable {
  /** One loaded version: the model, its idle sessions and the calls holding it. */
  static final class Loaded {
    final String key;
    final Model model;
    final long bytes;

    /** Whether calls' inputs must fit the signature's shapes ({@link #checksShapes}). */
    final boolean checkShapes;

    /** The model built again for inputs the signature does not declare, or null. */
    final ResizedModels resized;

    /** The predictor's batches for this model, by signature and row shape. */
    final Map<String, Object> batches = new ConcurrentHashMap<>();

    private final ConcurrentLinkedDeque<Session> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger holders = new AtomicInteger();
    private volatile boolean evicted;
    private volatile boolean closed;

    Loaded(String key, Model model, long bytes, boolean checkShapes, ResizedModels resized) {
      this.key = key;
      this.model = model;
      this.bytes = bytes;
      this.checkShapes = checkShapes;
      this.resized = resized;
    }

    /**
     * A session to run {@code sig} on {@code inputs}: from the pool, or, for inputs the signature
     * does not declare, of the model built for their shapes (used once: {@link Lease#resizedFrom()}
     * set).
     */
    Lease lease(Signature sig, Map<String, Tensor> inputs) {
      Session s = resized == null ? null : resized.session(sig, inputs);
      return s == null ? new Lease(takeSession(), null) : new Lease(s, resized);
    }

    Session takeSession() {
      Session s = idle.pollFirst();
      return s != null
          ? s
          : model.newSession(SessionOptions.defaults().withShapeCheck(checkShapes));
    }

    void returnSession(Session s) {
      if (evicted || idle.size() >= 64) {
        s.close();
      } else {
        idle.addFirst(s);
      }
    }

    /**
     * What the version counts against the cache: its stored bytes once, and once more for each
     * model built again for other shapes, which holds its own copy of the weights.
     */
    long cost() {
      return bytes * (1 + (resized == null ? 0 : resized.builtCount()));
    }

    void release() {
      if (holders.decrementAndGet() == 0 && evicted) {
        closeNow();
      }
    }

    private synchronized void closeNow() {
      if (closed) {
        return;
      }
      closed = true;
      Session s;
      while ((s = idle.pollFirst()) != null) {
        s.close();
      }
      model.close();
      if (resized != null) {
        resized.close();
      }
    }
  }

  /** A session lent to one run; {@code resizedFrom} is null for the pool's. */
  record Lease(Session session, ResizedModels resizedFrom) {}

  /** A version that failed to load: the status to answer and the one-line reason. */
  record Failure(int status, String message) {}

  private final ModelStore store;
  private final long capacity;
  private final Map<String, Object> loadLocks = new ConcurrentHashMap<>();
  private final Map<String, Failure> failures = new ConcurrentHashMap<>();

  /** Access order: the first entry is the least recently used. Guarded by {@code this}. */
  private final LinkedHashMap<String, Loaded> loaded = new LinkedHashMap<>(16, 0.75f, true);

  Servables(ModelStore store, long capacity) {
    this.store = store;
    this.capacity = capacity;
  }

  /**
   * The loaded version, held until {@link Loaded#release()}; loads it first when it is not loaded.
   */
  Loaded acquire(String name, int version) {
    String key = name + "/" + version;
    Loaded l = hold(key);
    if (l != null) {
      return l;
    }
    Object lock = loadLocks.computeIfAbsent(key, k -> new Object());
    synchronized (lock) {
      l = hold(key);
      if (l != null) {
        return l;
      }
      Failure f = failures.get(key);
      if (f != null) {
        throw new HttpError(f.status(), f.message());
      }
      Model m;
      try {
        m = Model.load(served(name, version));
      } catch (UnsupportedModelException e) {
        throw remember(key, 501, name, version, e);
      } catch (CorruptModelException e) {
        throw remember(key, 500, name, version, e);
      } catch (TfportException e) {
        throw remember(key, 501, name, version, e);
      } catch (RuntimeException e) {
        // Not a verdict on the files (it may pass), so it is not remembered.
        throw new HttpError(
            500,
            "model '"
                + name
                + "' version "
                + version
                + " failed to load: "
                + e.getClass().getSimpleName(),
            e);
      }
      JsonNode meta = store.meta(name, version);
      boolean check = checksShapes(meta);
      ResizedModels resized =
          check
              ? new ResizedModels(
                  served(name, version),
                  store.dir(name, version),
                  meta.path("source").asString("").equals("tflite")
                      ? ResizedModels.Kind.TFLITE
                      : ResizedModels.Kind.LAYERS,
                  "'" + name + "' version " + version)
              : null;
      Loaded made = new Loaded(key, m, storedBytes(name, version), check, resized);
      made.holders.incrementAndGet();
      if (resized != null) {
        resized.onBuilt(() -> charge(made));
      }
      synchronized (this) {
        loaded.put(key, made);
      }
      charge(made);
      return made;
    }
  }

  /**
   * Unloads the least recently used versions other than {@code keep} until what is loaded fits the
   * capacity again: after a load, and after a version built a model for other shapes.
   */
  private void charge(Loaded keep) {
    List<Loaded> out = new ArrayList<>();
    synchronized (this) {
      long total = loadedBytes();
      Iterator<Loaded> it = loaded.values().iterator();
      while (total > capacity && it.hasNext()) {
        Loaded old = it.next();
        if (old != keep) {
          it.remove();
          total -= old.cost();
          out.add(old);
        }
      }
    }
    out.forEach(Servables::evict);
  }

  /**
   * What the runtime loads: the upload as it came when the version kept it (a {@code .tflite},
   * {@code .h5}/{@code .keras} file or SavedModel folder), else the TF.js save.
   */
  private Path served(String name, int version) {
    Path dir = store.dir(name, version);
    String original = store.meta(name, version).path("original").path("path").asString("");
    if (original.isEmpty()) {
      return dir.resolve("model.json");
    }
    Path p = dir.resolve(original).normalize();
    if (!p.startsWith(dir.resolve(Upload.ORIGINAL)) || !Files.exists(p)) {
      throw new HttpError(
          500,
          "version "
              + version
              + " of "
              + name
              + " names an original upload '"
              + Names.printable(original)
              + "' it does not hold");
    }
    return p;
  }

  /**
   * Whether a version's inputs are checked against its signature's shapes before a run. TF Serving
   * builds each input as the JSON shapes it and lets the model's ops accept or refuse it; tfport
   * does the same for graphs TensorFlow traced (a SavedModel, a TF.js graph model), whose ops
   * compute their shapes when they run. A graph tfport builds from the declared shapes (a Keras or
   * TF.js layers model) or imports from a TFLite file (whose tensors have static shapes TFLite
   * changes only by preparing every op again) may hold those shapes in constants, where another
   * shape could give a wrong answer no op objects to; those keep the check, and a call of other
   * shapes runs on the model built again for them ({@link ResizedModels}), as TF Serving resizes a
   * TFLite interpreter's inputs.
   */
  static boolean checksShapes(JsonNode meta) {
    String source = meta.path("source").asString("");
    boolean traced =
        source.equals("savedmodel")
            || source.equals("tfjs")
                && meta.path("summary")
                    .path("format")
                    .asString("")
                    .equals(TfjsModelJson.GRAPH_MODEL);
    return !traced;
  }

  private synchronized Loaded hold(String key) {
    Loaded l = loaded.get(key);
    if (l != null) {
      l.holders.incrementAndGet();
    }
    return l;
  }

  private static void evict(Loaded l) {
    l.evicted = true;
    if (l.holders.get() == 0) {
      l.closeNow();
    }
  }

  private HttpError remember(String key, int status, String name, int version, TfportException e) {
    String msg =
        "model '"
            + name
            + "' version "
            + version
            + " cannot be served by tfport's runtime: "
            + clean(e.getMessage(), store.dir(name, version));
    Failure f = new Failure(status, msg);
    failures.put(key, f);
    return new HttpError(status, msg, e);
  }

  /** The reason a version failed to load, or null when it loaded or was not tried. */
  Failure failure(String name, int version) {
    return failures.get(name + "/" + version);
  }

  synchronized boolean isLoaded(String name, int version) {
    return loaded.containsKey(name + "/" + version);
  }

  synchronized int loadedCount() {
    return loaded.size();
  }

  /** What the loaded versions count against the capacity ({@link Loaded#cost()}). */
  synchronized long loadedBytes() {
    long total = 0;
    for (Loaded l : loaded.values()) {
      total += l.cost();
    }
    return total;
  }

  /**
   * The stored files' bytes, from the version's metadata (at least 1, so the cache bounds count).
   */
  private long storedBytes(String name, int version) {
    long n = 0;
    JsonNode meta = store.meta(name, version);
    for (JsonNode f : meta.path("files")) {
      n += Math.max(0, f.path("bytes").asLong(0));
    }
    n += Math.max(0, meta.path("original").path("bytes").asLong(0));
    return Math.max(1, n);
  }

  /** Store paths mean nothing to a client; the message names the model and version instead. */
  static String clean(String message, Path dir) {
    String m = message == null ? "unknown error" : message.lines().findFirst().orElse("");
    return m.replace(dir.resolve("model.json").toString(), "model.json")
        .replace(dir.resolve(Upload.ORIGINAL) + "/", "")
        .replace(dir.toString(), ".");
  }

  @Override
  public void close() {
    List<Loaded> all;
    synchronized (this) {
      all = new ArrayList<>(loaded.values());
      loaded.clear();
    }
    all.forEach(Servables::evict);
  }
}
