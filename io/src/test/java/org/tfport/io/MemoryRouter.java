package org.tfport.io;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A {@code mem://NAME} router found through ServiceLoader, as a third-party plug-in would be. */
public final class MemoryRouter implements IORouter {
  static final Map<String, ModelArtifacts> STORE = new ConcurrentHashMap<>();

  public MemoryRouter() {}

  @Override
  public String name() {
    return "memory";
  }

  private static IOHandler handler(String url) {
    String key = url.substring("mem://".length());
    return new IOHandler() {
      @Override
      public SaveResult save(ModelArtifacts a) {
        STORE.put(key, a);
        return new SaveResult(a.info(), List.of());
      }

      @Override
      public ModelArtifacts load() {
        ModelArtifacts a = STORE.get(key);
        if (a == null) {
          throw new ModelIOException("no model " + key + " in memory");
        }
        return a;
      }
    };
  }

  @Override
  public IOHandler saveHandler(String url, LoadOptions options) {
    return url.startsWith("mem://") ? handler(url) : null;
  }

  @Override
  public IOHandler loadHandler(String url, LoadOptions options) {
    return url.startsWith("mem://") ? handler(url) : null;
  }
}
