package org.tfport.io;

/**
 * Turns a URL-like string into an {@link IOHandler} when the string is for it, as TF.js's routers
 * do. {@link Models} asks every router it knows and needs exactly one to answer; more routers are
 * found with {@link java.util.ServiceLoader} (list the class in {@code
 * META-INF/services/org.tfport.io.IORouter}) or added by {@link Models#registerRouter}.
 */
public interface IORouter {
  /** A short name for error messages: {@code "file"}, {@code "http"}. */
  String name();

  /** A handler that saves to {@code url}, or null when the URL is not one this router serves. */
  default IOHandler saveHandler(String url, LoadOptions options) {
    return null;
  }

  /** A handler that loads from {@code url}, or null when the URL is not one this router serves. */
  default IOHandler loadHandler(String url, LoadOptions options) {
    return null;
  }
}
