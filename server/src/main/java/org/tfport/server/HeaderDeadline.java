package org.tfport.server;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Cuts off clients that take too long to send a request's headers. The idle timeout alone does not:
 * a client sending one byte every few seconds is never idle (the slow-loris attack). Twice a second
 * this looks at every open connection; one whose parser has been inside the same request's headers
 * longer than the limit is closed, which frees its thread and socket and touches no other client.
 */
final class HeaderDeadline implements Runnable {
  private static final long TICK_MILLIS = 250;

  /** When a connection was first seen inside headers, with the request count it had then. */
  private record Started(long nanos, long messagesIn) {}

  private final ServerConnector connector;
  private final Scheduler scheduler;
  private final long limitNanos;
  private final Map<HttpConnection, Started> inHeaders = new ConcurrentHashMap<>();
  private volatile boolean stopped;

  private HeaderDeadline(ServerConnector connector, long limitMillis) {
    this.connector = connector;
    this.scheduler = connector.getScheduler();
    this.limitNanos = TimeUnit.MILLISECONDS.toNanos(limitMillis);
  }

  static HeaderDeadline start(ServerConnector connector, long limitMillis) {
    HeaderDeadline d = new HeaderDeadline(connector, limitMillis);
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
      HttpParser.State state = c.getParser().getState();
      // START is a connection waiting for its next request: the idle timeout covers that.
      if (state == HttpParser.State.START || !c.getParser().inHeaderState()) {
        continue;
      }
      seen.add(c);
      long messages = c.getMessagesIn();
      Started s = inHeaders.get(c);
      if (s == null || s.messagesIn() != messages) {
        inHeaders.put(c, new Started(now, messages));
      } else if (now - s.nanos() > limitNanos) {
        ep.close(new java.util.concurrent.TimeoutException("request headers too slow"));
      }
    }
    inHeaders.keySet().retainAll(seen);
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
