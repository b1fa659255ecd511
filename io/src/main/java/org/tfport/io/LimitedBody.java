package org.tfport.io;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Collects a response body into one buffer, refusing more than a limit: a declared Content-Length
 * over it is refused before a byte is read, and a body that grows past it is cut off at once, so a
 * hostile server cannot make the client allocate what it likes. Error bodies are kept up to 64 KiB,
 * silently truncated, for the message.
 */
final class LimitedBody implements HttpResponse.BodySubscriber<ByteBuffer> {
  static final int ERROR_BODY_LIMIT = 64 * 1024;

  /** Thrown (as the completion of the body) when a limit is hit. */
  static final class TooLarge extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TooLarge(String message) {
      super(message, null, false, false);
    }
  }

  private final CompletableFuture<ByteBuffer> result = new CompletableFuture<>();
  private final long declared;
  private final long limit;
  private final AtomicLong budget;
  private final boolean truncate;
  private final String what;
  private Flow.Subscription subscription;
  private ByteBuffer exact;
  private final List<ByteBuffer> chunks = new ArrayList<>();
  private long received;
  private boolean done;

  /**
   * @param budget bytes left for all bodies of one load together, decremented as bytes arrive; null
   *     for none
   */
  private LimitedBody(long declared, long limit, AtomicLong budget, boolean truncate, String what) {
    this.declared = declared;
    this.limit = limit;
    this.budget = budget;
    this.truncate = truncate;
    this.what = what;
  }

  /** A handler that keeps 2xx bodies up to {@code limit} bytes and others up to 64 KiB. */
  static HttpResponse.BodyHandler<ByteBuffer> handler(
      long limit, AtomicLong budget, String what, Runnable onHeaders) {
    return info -> {
      if (onHeaders != null) {
        onHeaders.run();
      }
      long declared = info.headers().firstValueAsLong("content-length").orElse(-1);
      boolean ok = info.statusCode() / 100 == 2;
      return ok
          ? new LimitedBody(declared, Math.min(limit, Integer.MAX_VALUE - 8), budget, false, what)
          : new LimitedBody(declared, ERROR_BODY_LIMIT, null, true, what);
    };
  }

  @Override
  public CompletionStage<ByteBuffer> getBody() {
    return result;
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    subscription = s;
    if (!truncate && declared > limit) {
      fail(what + " declares " + declared + " bytes, over the limit of " + limit);
      return;
    }
    if (!truncate && declared >= 0) {
      exact = ByteBuffer.allocate((int) declared);
    }
    s.request(Long.MAX_VALUE);
  }

  @Override
  public void onNext(List<ByteBuffer> items) {
    if (done) {
      return;
    }
    for (ByteBuffer b : items) {
      int n = b.remaining();
      received += n;
      if (budget != null && budget.addAndGet(-n) < 0) {
        fail(what + ": the weights exceed the limit of all shards together (maxWeightBytes)");
        return;
      }
      if (received > limit) {
        if (truncate) {
          b.limit(b.position() + (int) Math.max(0, n - (received - limit)));
        } else {
          fail(what + " is over the limit of " + limit + " bytes");
          return;
        }
      }
      if (exact != null) {
        if (b.remaining() > exact.remaining()) {
          fail(what + " sent more bytes than its Content-Length of " + declared);
          return;
        }
        exact.put(b);
      } else if (b.hasRemaining()) {
        ByteBuffer copy = ByteBuffer.allocate(b.remaining());
        copy.put(b).flip();
        chunks.add(copy);
      }
    }
  }

  @Override
  public void onError(Throwable t) {
    if (!done) {
      done = true;
      result.completeExceptionally(t);
    }
  }

  @Override
  public void onComplete() {
    if (done) {
      return;
    }
    done = true;
    if (exact != null) {
      if (exact.hasRemaining()) {
        result.completeExceptionally(
            new java.io.IOException(
                what + " ended after " + exact.position() + " of its " + declared + " bytes"));
        return;
      }
      result.complete(exact.flip());
      return;
    }
    long total = 0;
    for (ByteBuffer c : chunks) {
      total += c.remaining();
    }
    ByteBuffer all = ByteBuffer.allocate((int) total);
    chunks.forEach(all::put);
    chunks.clear();
    result.complete(all.flip());
  }

  private void fail(String message) {
    done = true;
    chunks.clear();
    exact = null;
    subscription.cancel();
    result.completeExceptionally(new TooLarge(message));
  }
}
