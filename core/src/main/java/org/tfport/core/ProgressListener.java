package org.tfport.core;

/**
 * Told how far a long job has got; the CLI renders it on stderr, libraries ignore it by default.
 */
@FunctionalInterface
public interface ProgressListener {
  ProgressListener NONE = (stage, done, total) -> {};

  /**
   * @param stage a short word for what is happening ("weights", "shards")
   * @param done units done so far (bytes, usually)
   * @param total units in all, or -1 when unknown
   */
  void progress(String stage, long done, long total);
}
