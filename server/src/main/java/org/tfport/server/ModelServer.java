package org.tfport.server;

import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.tfport.core.TfportException;

/**
 * {@code tfport serve}: a model store behind an HTTP API that TensorFlow.js talks to directly
 * ({@code model.save('http://HOST/models/NAME')}, {@code
 * tf.loadLayersModel('http://HOST/models/NAME/model.json')}), plus a web page to look at and run
 * the models, and TensorFlow Serving's REST API answered by tfport's runtime ({@link ServingApi}).
 * See {@link Api} for the routes.
 */
public final class ModelServer implements AutoCloseable {
  /** The TF.js release whose browser bundle the page uses. */
  public static final String TFJS_VERSION = Web.TFJS_VERSION;

  private final Server server;
  private final ServerConnector connector;
  private final Web web;
  private final ModelStore store;
  private final ServingApi serving;
  private final SlowClients slowClients;
  private final boolean tls;

  private ModelServer(
      Server server,
      ServerConnector connector,
      Web web,
      ModelStore store,
      ServingApi serving,
      SlowClients slowClients,
      boolean tls) {
    this.server = server;
    this.slowClients = slowClients;
    this.tls = tls;
    this.connector = connector;
    this.web = web;
    this.store = store;
    this.serving = serving;
  }

  /** Opens the store (deleting what a killed server left in staging) and starts listening. */
  public static ModelServer start(ServerConfig config) {
    ServerSecurity sec = config.security();
    // Certificates are read first: a wrong file is the user's to fix, before anything listens.
    TlsKeys.Loaded keys = sec.tls() == null ? null : TlsKeys.load(sec.tls());
    ModelStore store = new ModelStore(config.store(), sec.maxStoreBytes());
    Web web = new Web(config.tfjsBundle());
    QueuedThreadPool pool = new QueuedThreadPool(256, 8);
    pool.setName("tfport-serve");
    // Uploads block while they parse and convert; virtual threads make that cheap.
    pool.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
    Server server = new Server(pool);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    // Let odd paths (%2e%2e, %2F, ..) reach the API, which splits the raw path itself and names the
    // problem.
    http.setUriCompliance(UriCompliance.UNSAFE);
    http.setRequestHeaderSize(sec.maxHeaderBytes());
    http.setIdleTimeout(sec.idleTimeoutMillis());
    ServerConnector connector;
    if (keys == null) {
      connector = new ServerConnector(server, new HttpConnectionFactory(http));
    } else {
      SecureRequestCustomizer secure = new SecureRequestCustomizer();
      // Clients reaching the server by IP or another name still get its one certificate.
      secure.setSniHostCheck(false);
      http.addCustomizer(secure);
      SslContextFactory.Server ssl = new SslContextFactory.Server();
      ssl.setKeyStore(keys.store());
      ssl.setKeyStorePassword(keys.password());
      ssl.setKeyManagerPassword(keys.password());
      connector =
          new ServerConnector(
              server,
              new SslConnectionFactory(ssl, HttpVersion.HTTP_1_1.asString()),
              new HttpConnectionFactory(http));
    }
    connector.setHost(config.host());
    connector.setPort(config.port());
    connector.setIdleTimeout(sec.idleTimeoutMillis());
    server.addConnector(connector);
    if (sec.accessLog() != null) {
      server.setRequestLog(new AccessLog(sec.accessLog()));
    }
    server.setErrorHandler(new JsonErrors());
    Metrics metrics = new Metrics();
    ServingApi serving = new ServingApi(store, config.serving(), metrics);
    server.setHandler(new Api(config, store, web, serving, metrics));
    // Without a graceful handler a stop timeout only delays shutdown; an upload cut short is
    // discarded whole.
    server.setStopTimeout(0);
    try {
      server.start();
    } catch (Exception e) {
      serving.close();
      try {
        server.stop();
      } catch (Exception ignored) {
        // Already failing; the start error is the one to report.
      }
      throw new TfportException(
          "cannot listen on "
              + config.host()
              + ":"
              + config.port()
              + " ("
              + e.getMessage()
              + "); is the port in use?",
          e);
    }
    SlowClients slow =
        SlowClients.start(
            connector,
            sec.headerTimeoutMillis(),
            sec.minBodyBytesPerSecond(),
            ServerSecurity.BODY_RATE_GRACE_MILLIS);
    return new ModelServer(server, connector, web, store, serving, slow, keys != null);
  }

  /** The port listened on (the real one when 0 was asked for). */
  public int port() {
    return connector.getLocalPort();
  }

  /** {@code http(s)://HOST:PORT}, with a loopback address when listening on all interfaces. */
  public URI uri() {
    String host = connector.getHost();
    if (host == null || host.equals("0.0.0.0") || host.equals("::")) {
      host = "127.0.0.1";
    }
    return URI.create(
        (tls ? "https://" : "http://")
            + (host.contains(":") ? "[" + host + "]" : host)
            + ":"
            + port());
  }

  public Path store() {
    return store.root();
  }

  /**
   * Where the page's TF.js bundle comes from (a file, or the copy bundled in the jar), or null when
   * there is none.
   */
  public String tfjsBundle() {
    return web.tfjs();
  }

  /** Blocks until the server stops. */
  public void join() throws InterruptedException {
    server.join();
  }

  @Override
  public void close() {
    slowClients.stop();
    try {
      server.stop();
    } catch (Exception e) {
      throw new TfportException("stopping the server failed: " + e.getMessage(), e);
    } finally {
      serving.close();
    }
  }
}
