package org.tfport.io;

/** {@code file://PATH}, the path taken literally after the scheme as tfjs-node does. */
final class FileRouter implements IORouter {
  static final String SCHEME = "file://";

  @Override
  public String name() {
    return "file";
  }

  @Override
  public IOHandler saveHandler(String url, LoadOptions options) {
    return url.startsWith(SCHEME) ? new FileHandler(url) : null;
  }

  @Override
  public IOHandler loadHandler(String url, LoadOptions options) {
    return url.startsWith(SCHEME) ? new FileHandler(url) : null;
  }
}
