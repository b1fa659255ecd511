package org.tfport.io;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.tfport.core.TfportException.UsageException;

/**
 * Loads and saves models by URL, as {@code tf.loadLayersModel(url)} and {@code model.save(url)}
 * find their handler: {@code file://PATH} (a folder, or {@code NAME.json} for downloads-style
 * names), {@code http://} and {@code https://}, plus any {@link IORouter} on the class path or
 * registered here. Exactly one router must accept a URL; none or several is an error naming the
 * candidates.
 */
public final class Models {
  /**
   * Providers listed in META-INF/services that could not be loaded, named in "no handler" errors.
   */
  private static final List<String> BROKEN = new CopyOnWriteArrayList<>();

  private static final List<IORouter> ROUTERS = new CopyOnWriteArrayList<>(builtIn());

  private Models() {}

  private static List<IORouter> builtIn() {
    List<IORouter> l = new ArrayList<>();
    l.add(new FileRouter());
    l.add(new HttpRouter());
    // A broken plug-in must not take file:// and http:// down with it.
    Iterator<IORouter> it =
        ServiceLoader.load(IORouter.class, Models.class.getClassLoader()).iterator();
    while (true) {
      try {
        if (!it.hasNext()) {
          break;
        }
        l.add(it.next());
      } catch (ServiceConfigurationError e) {
        BROKEN.add(e.getMessage());
        if (BROKEN.size() > 100) {
          break;
        }
      }
    }
    return l;
  }

  public static ModelArtifacts load(String url) {
    return load(url, LoadOptions.defaults());
  }

  public static ModelArtifacts load(String url, LoadOptions options) {
    return only(url, options, false).load();
  }

  public static SaveResult save(ModelArtifacts artifacts, String url) {
    return save(artifacts, url, LoadOptions.defaults());
  }

  public static SaveResult save(ModelArtifacts artifacts, String url, LoadOptions options) {
    return only(url, options, true).save(artifacts);
  }

  /** Loads from one URL and saves to another, as {@code tf.io.copyModel}. */
  public static SaveResult copy(String from, String to, LoadOptions options) {
    return save(load(from, options), to, options);
  }

  /** Every handler that would save to {@code url}, as TF.js's {@code getSaveHandlers}. */
  public static List<IOHandler> saveHandlers(String url, LoadOptions options) {
    return matches(url, options, true).stream().map(Match::handler).toList();
  }

  /** Every handler that would load from {@code url}, as TF.js's {@code getLoadHandlers}. */
  public static List<IOHandler> loadHandlers(String url, LoadOptions options) {
    return matches(url, options, false).stream().map(Match::handler).toList();
  }

  /** Adds a router, asked after the ones already known. */
  public static void registerRouter(IORouter router) {
    ROUTERS.add(router);
  }

  /** Removes a router added by {@link #registerRouter}. */
  public static void unregisterRouter(IORouter router) {
    ROUTERS.remove(router);
  }

  private record Match(IORouter router, IOHandler handler) {}

  private static List<Match> matches(String url, LoadOptions options, boolean save) {
    if (url == null || url.isBlank()) {
      throw new UsageException(
          "the model URL is empty; give file://PATH, http://... or https://...");
    }
    LoadOptions o = options == null ? LoadOptions.defaults() : options;
    List<Match> out = new ArrayList<>();
    for (IORouter r : ROUTERS) {
      IOHandler h = save ? r.saveHandler(url, o) : r.loadHandler(url, o);
      if (h != null) {
        out.add(new Match(r, h));
      }
    }
    return out;
  }

  private static IOHandler only(String url, LoadOptions options, boolean save) {
    List<Match> m = matches(url, options, save);
    String what = save ? "save" : "load";
    if (m.isEmpty()) {
      throw new UsageException(
          "no "
              + what
              + " handler for URL '"
              + url
              + "'; the routers known ("
              + ROUTERS.stream().map(IORouter::name).collect(Collectors.joining(", "))
              + ") take file://PATH, http://... and https://..."
              + (BROKEN.isEmpty()
                  ? ""
                  : "; routers that failed to load: " + String.join("; ", BROKEN)));
    }
    if (m.size() > 1) {
      throw new UsageException(
          "found more than one ("
              + m.size()
              + ") "
              + what
              + " handlers for URL '"
              + url
              + "': "
              + m.stream()
                  .map(x -> x.router().name() + " (" + x.router().getClass().getName() + ")")
                  .collect(Collectors.joining(", "))
              + "; remove or unregister all but one of these routers");
    }
    return m.get(0).handler();
  }
}
