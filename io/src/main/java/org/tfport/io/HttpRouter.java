package org.tfport.io;

import java.util.regex.Pattern;

/** {@code http://} and {@code https://}; TF.js's pattern, but also in capitals. */
final class HttpRouter implements IORouter {
  private static final Pattern HTTP = Pattern.compile("^https?://", Pattern.CASE_INSENSITIVE);

  @Override
  public String name() {
    return "http";
  }

  @Override
  public IOHandler saveHandler(String url, LoadOptions options) {
    return HTTP.matcher(url).find() ? new HttpHandler(url, options) : null;
  }

  @Override
  public IOHandler loadHandler(String url, LoadOptions options) {
    return HTTP.matcher(url).find() ? new HttpHandler(url, options) : null;
  }
}
