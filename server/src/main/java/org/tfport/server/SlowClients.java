package org.tfport.server;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Cuts off clients too slow in sending a request: headers that take longer than a deadline, or a
 * body that arrives slower than a minimum rate. The idle timeout alone does neither: a client
 * sending one byte every few seconds is never idle (the slow-loris attack, on the headers or on an
 * upload's body), and Jetty 12 keeps {@code HttpConfiguration.setMinRequestDataRate} but no longer
 * enforces it. Four times a second this looks at every open connection; one whose parser has been
 * inside the same request's headers longer than the limit, or inside its body long enough to judge
 * (from the first body byte read) and at a lower average rate, is closed, which frees its thread
 * and socket and touches no other client. The handler reading the body then fails, so a cut-off
 * upload stores nothing.
 */
final class SlowClients implements Runnable {
  private static final long TICK_MILLIS = 250;

  /** When a connection was first seen in a request's headers or body, and that request. */
  private record Started(long nanos, long messagesIn, boolean body) {}

  private final ServerConnector connector;
  private final Scheduler scheduler;
  private final long headerLimitNanos;
  private final long minBodyBytesPerSecond;
  private final long bodyGraceNanos;
  private final Map<HttpConnection, Started> watched = new ConcurrentHashMap<>();
  private volatile boolean stopped;

  private SlowClients(
      ServerConnector connector,
      long headerLimitMillis,
      long minBodyBytesPerSecond,
      long bodyGraceMillis) {
    this.connector = connector;
    this.scheduler = connector.getScheduler();
    this.headerLimitNanos = TimeUnit.MILLISECONDS.toNanos(headerLimitMillis);
    this.minBodyBytesPerSecond = minBodyBytesPerSecond;
    this.bodyGraceNanos = TimeUnit.MILLISECONDS.toNanos(bodyGraceMillis);
  }

  static SlowClients start(
      ServerConnector connector,
      long headerLimitMillis,
      long minBodyBytesPerSecond,
      long bodyGraceMillis) {
    SlowClients d =
        new SlowClients(connector, headerLimitMillis, minBodyBytesPerSecond, bodyGraceMillis);
    d.schedule();
    return d;
  }

  void stop() {
    stopped = true;
  }

  private void schedule() {
    if (!stopped && scheduler.isRunning()) {
      scheduler.schedule(this, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void run() {
    try {
      sweep(System.nanoTime());
    } finally {
      schedule();
    }
  }

  private void sweep(long now) {
    Set<HttpConnection> seen = new HashSet<>();
    for (EndPoint ep : connector.getConnectedEndPoints()) {
      HttpConnection c = http(ep.getConnection());
      if (c == null) {
        continue;
      }
      HttpParser parser = c.getParser();
      // START is a connection waiting for its next request: the idle timeout covers that.
      boolean headers = parser.getState() != HttpParser.State.START && parser.inHeaderState();
      // A body is judged from its first byte read: before that the request may be waiting for the
      // server (a busy pool, a handler not reading yet), which is no fault of the client's; a
      // client that sends nothing at all is idle, and the idle timeout closes it.
      boolean body = parser.inContentState() && parser.getContentRead() > 0;
      if (!headers && !body) {
        continue;
      }
      seen.add(c);
      long messages = c.getMessagesIn();
      Started s = watched.get(c);
      if (s == null || s.messagesIn() != messages || s.body() != body) {
        watched.put(c, new Started(now, messages, body));
        continue;
      }
      long elapsed = now - s.nanos();
      if (headers && elapsed > headerLimitNanos) {
        ep.close(new TimeoutException("request headers too slow"));
      } else if (body
          && elapsed > bodyGraceNanos
          && parser.getContentRead() * 1_000_000_000.0 / elapsed < minBodyBytesPerSecond) {
        ep.close(
            new TimeoutException("request body slower than " + minBodyBytesPerSecond + " B/s"));
      }
    }
    watched.keySet().retainAll(seen);
  }

  private static HttpConnection http(Connection c) {
    if (c instanceof HttpConnection h) {
      return h;
    }
    if (c instanceof SslConnection ssl) {
      return http(ssl.getSslEndPoint().getConnection());
    }
    return null;
  }
}
