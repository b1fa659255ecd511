package org.tfport.server;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.runtime.LoadOptions;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.runtime.SessionOptions;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;

/**
 * One version built again for input shapes its signature does not declare, as TF Serving's TFLite
 * session resizes the interpreter's inputs to each request's tensors: a {@code .tflite} file is
 * imported for the request's shapes (every op's shapes then follow from them, as after TFLite's
 * {@code ResizeInputTensor}), a Keras or TF.js layers model is built for the request's batch size.
 * Their graphs hold the shapes they were built for, so a model built for other shapes would answer
 * wrongly or not at all. One model per signature and set of shapes, the {@value #MAX} most recently
 * used kept; a set of shapes the model cannot be built for is remembered with its answer.
 */
final class ResizedModels implements AutoCloseable {
  static final int MAX = 8;

  /** How a version is built for other shapes. */
  enum Kind {
    /** Any known dims: TFLite's resize. */
    TFLITE,
    /** Another batch size only: the layers are built for it. */
    LAYERS
  }

  private final Path file;
  private final Path versionDir;
  private final Kind kind;
  private final String name;

  /** A built model or the error its shapes gave; access order. Guarded by {@code this}. */
  private final LinkedHashMap<String, Object> byShapes = new LinkedHashMap<>(16, 0.75f, true);

  private boolean closed;

  /** Told after a model is built for new shapes, outside this object's lock. */
  private volatile Runnable onBuilt = () -> {};

  /**
   * @param versionDir the version's folder, which answers do not show
   * @param name how answers name the model ({@code 'm' version 1})
   */
  ResizedModels(Path file, Path versionDir, Kind kind, String name) {
    this.file = file;
    this.versionDir = versionDir;
    this.kind = kind;
    this.name = name;
  }

  /** Runs {@code r} each time a model is built for new shapes (the cache counts their bytes). */
  void onBuilt(Runnable r) {
    onBuilt = r;
  }

  /** How many models built for other shapes are kept now. */
  synchronized int builtCount() {
    int n = 0;
    for (Object o : byShapes.values()) {
      if (o instanceof Model) {
        n++;
      }
    }
    return n;
  }

  /**
   * A new session of the model built for the shapes of {@code inputs}, to run {@code sig} once;
   * null when the inputs fit the signature as declared, or when this kind of model cannot be built
   * for them (the declared model's check then answers).
   *
   * @throws HttpError 400 when the model cannot be built for these shapes (naming the op and the
   *     shapes)
   */
  Session session(Signature sig, Map<String, Tensor> inputs) {
    Map<String, Shape> shapes = shapes(sig, inputs);
    if (shapes == null) {
      return null;
    }
    StringBuilder key = new StringBuilder(sig.key());
    shapes.forEach((k, v) -> key.append('|').append(k).append(v));
    List<Model> out = new ArrayList<>();
    boolean built = false;
    try {
      synchronized (this) {
        if (closed) {
          throw new HttpError(503, "the server is stopping");
        }
        Object got = byShapes.get(key.toString());
        if (got == null) {
          got = build(sig, shapes);
          byShapes.put(key.toString(), got);
          built = got instanceof Model;
          var it = byShapes.values().iterator();
          while (byShapes.size() > MAX && it.hasNext()) {
            Object old = it.next();
            it.remove();
            if (old instanceof Model m) {
              out.add(m);
            }
          }
        }
        if (got instanceof HttpError e) {
          throw new HttpError(e.status, e.getMessage());
        }
        // Made under the lock, so an eviction cannot close the model in between.
        return ((Model) got).newSession(SessionOptions.defaults());
      }
    } finally {
      // Sessions already made keep running their plans; only new ones are refused.
      out.forEach(Model::close);
      if (built) {
        onBuilt.run();
      }
    }
  }

  /**
   * The 400 for a run of a model built for {@code inputs}' shapes that an op refused: the op's
   * message with the shapes asked for.
   */
  HttpError refused(Signature sig, Map<String, Tensor> inputs, RuntimeException e) {
    Map<String, Shape> shapes = new LinkedHashMap<>();
    inputs.forEach((k, v) -> shapes.put(k, v.shape()));
    String m =
        e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
    return new HttpError(
        400,
        "model "
            + name
            + " cannot take the inputs "
            + describe(shapes)
            + " (signature '"
            + sig.key()
            + "' declares "
            + declared(sig)
            + "): "
            + Servables.clean(m, versionDir),
        e);
  }

  /** The shapes to build for, or null when the declared model answers. */
  private Map<String, Shape> shapes(Signature sig, Map<String, Tensor> inputs) {
    boolean fits = true;
    long batch = -1;
    Map<String, Shape> shapes = new LinkedHashMap<>();
    for (TensorSpec spec : sig.inputs()) {
      Tensor t = inputs.get(spec.name());
      if (t == null || spec.dtype() != null && spec.dtype() != t.dtype()) {
        return null; // the declared model's check names what is wrong
      }
      long[] d = t.shape().dims();
      fits &= spec.accepts(d);
      if (kind == Kind.LAYERS) {
        long[] declared = spec.shape();
        if (declared == null || declared.length != d.length || d.length == 0) {
          return null;
        }
        long[] rest = d.clone();
        rest[0] = declared[0];
        if (!spec.accepts(rest) || batch >= 0 && d[0] != batch) {
          return null;
        }
        batch = d[0];
      }
      shapes.put(spec.name(), t.shape());
    }
    return fits || shapes.isEmpty() ? null : shapes;
  }

  /** The model built for {@code shapes}, or the 400 that says why it cannot be. */
  private Object build(Signature sig, Map<String, Shape> shapes) {
    try {
      return Model.load(
          file,
          LoadOptions.defaults()
              .withSignatureName(kind == Kind.TFLITE ? sig.key() : null)
              .withInputShapes(shapes));
    } catch (TfportException e) {
      return new HttpError(
          400,
          "model "
              + name
              + " cannot take the inputs "
              + describe(shapes)
              + " (signature '"
              + sig.key()
              + "' declares "
              + declared(sig)
              + "): "
              + Servables.clean(e.getMessage(), versionDir));
    }
  }

  static String describe(Map<String, Shape> shapes) {
    StringBuilder b = new StringBuilder();
    shapes.forEach(
        (k, v) -> b.append(b.isEmpty() ? "" : ", ").append(k).append(Arrays.toString(v.dims())));
    return b.toString();
  }

  private static String declared(Signature sig) {
    StringBuilder b = new StringBuilder();
    for (TensorSpec s : sig.inputs()) {
      b.append(b.isEmpty() ? "" : ", ").append(s.name()).append(' ').append(s.describe());
    }
    return b.toString();
  }

  @Override
  public void close() {
    List<Model> all = new ArrayList<>();
    synchronized (this) {
      closed = true;
      byShapes.values().forEach(o -> all.add(o instanceof Model m ? m : null));
      byShapes.clear();
    }
    all.stream().filter(m -> m != null).forEach(Model::close);
  }
}
