/**
 * TF.js model artifacts and IO handlers: {@code file://} and {@code http(s)://} schemes, and more
 * through {@link org.tfport.io.IORouter} providers.
 */
module org.tfport.io {
  requires transitive org.tfport.formats;
  requires java.net.http;

  exports org.tfport.io;

  uses org.tfport.io.IORouter;
}
