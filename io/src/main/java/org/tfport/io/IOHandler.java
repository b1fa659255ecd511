package org.tfport.io;

import org.tfport.core.TfportException.UsageException;

/**
 * Saves and loads {@link ModelArtifacts} somewhere, as TF.js's {@code IOHandler}: a handler may do
 * both, or only one (an upload endpoint only saves). Obtain one from {@link Models} by URL, or
 * implement one.
 */
public interface IOHandler {
  /** Stores the artifacts; the default refuses. */
  default SaveResult save(ModelArtifacts artifacts) {
    throw new UsageException(this + " cannot save models");
  }

  /** Reads the artifacts; the default refuses. */
  default ModelArtifacts load() {
    throw new UsageException(this + " cannot load models");
  }
}
