package org.tfport.server;

import org.tfport.core.TfportException.UsageException;

/**
 * How {@code tfport serve} runs predictions (the TensorFlow Serving REST API under {@code /v1}).
 *
 * @param cacheBytes the loaded models kept, by the bytes of their stored files; the least recently
 *     used is unloaded past this
 * @param maxRequestBytes the largest predict body accepted
 * @param maxTensorElements the most elements one input tensor may have
 * @param timeoutMillis how long one predict call may wait and run before it is answered 504
 * @param workers the threads running models
 * @param queue the predictions that may wait for a worker; past this a call is answered 503 at once
 * @param maxBatch the most rows concurrent calls are merged into (1: no batching)
 * @param batchWaitMicros how long a call waits for others to join its batch
 */
public record ServingConfig(
    long cacheBytes,
    long maxRequestBytes,
    long maxTensorElements,
    long timeoutMillis,
    int workers,
    int queue,
    int maxBatch,
    long batchWaitMicros) {
  public static final long DEFAULT_CACHE_BYTES = 1L << 30;
  public static final long DEFAULT_MAX_REQUEST_BYTES = 64L << 20;
  public static final long DEFAULT_MAX_TENSOR_ELEMENTS = 16L << 20;
  public static final long DEFAULT_TIMEOUT_MILLIS = 30_000;
  public static final int DEFAULT_QUEUE = 256;

  public ServingConfig {
    if (cacheBytes <= 0 || maxRequestBytes <= 0 || maxTensorElements <= 0) {
      throw new UsageException(
          "ServingConfig.cacheBytes, maxRequestBytes and maxTensorElements must be positive");
    }
    if (timeoutMillis <= 0) {
      throw new UsageException(
          "ServingConfig.timeoutMillis must be positive, got " + timeoutMillis);
    }
    if (workers < 1 || queue < 0) {
      throw new UsageException(
          "ServingConfig.workers must be at least 1 and ServingConfig.queue >= 0");
    }
    if (maxBatch < 1 || batchWaitMicros < 0) {
      throw new UsageException(
          "ServingConfig.maxBatch must be at least 1 and ServingConfig.batchWaitMicros >= 0");
    }
  }

  /** One worker per processor, no batching. */
  public static ServingConfig defaults() {
    return new ServingConfig(
        DEFAULT_CACHE_BYTES,
        DEFAULT_MAX_REQUEST_BYTES,
        DEFAULT_MAX_TENSOR_ELEMENTS,
        DEFAULT_TIMEOUT_MILLIS,
        Runtime.getRuntime().availableProcessors(),
        DEFAULT_QUEUE,
        1,
        0);
  }

  public ServingConfig withBatching(int maxBatch, long waitMicros) {
    return new ServingConfig(
        cacheBytes,
        maxRequestBytes,
        maxTensorElements,
        timeoutMillis,
        workers,
        queue,
        maxBatch,
        waitMicros);
  }

  public ServingConfig withLimits(
      long maxRequestBytes, long maxTensorElements, long timeoutMillis) {
    return new ServingConfig(
        cacheBytes,
        maxRequestBytes,
        maxTensorElements,
        timeoutMillis,
        workers,
        queue,
        maxBatch,
        batchWaitMicros);
  }

  public ServingConfig withWorkers(int workers, int queue) {
    return new ServingConfig(
        cacheBytes,
        maxRequestBytes,
        maxTensorElements,
        timeoutMillis,
        workers,
        queue,
        maxBatch,
        batchWaitMicros);
  }

  public ServingConfig withCacheBytes(long bytes) {
    return new ServingConfig(
        bytes,
        maxRequestBytes,
        maxTensorElements,
        timeoutMillis,
        workers,
        queue,
        maxBatch,
        batchWaitMicros);
  }
}
