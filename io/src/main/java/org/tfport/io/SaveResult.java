package org.tfport.io;

import java.util.List;

/**
 * What a save did, as TF.js's {@code SaveResult}.
 *
 * @param responses the HTTP responses of an upload (status and body), empty for other handlers
 */
public record SaveResult(ModelArtifactsInfo modelArtifactsInfo, List<Response> responses) {
  public SaveResult {
    responses = responses == null ? List.of() : List.copyOf(responses);
  }

  /** One HTTP response; the body is cut at 1 MiB. */
  public record Response(int status, String body) {}
}
