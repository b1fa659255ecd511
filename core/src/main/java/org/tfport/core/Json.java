package org.tfport.core;

import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.json.JsonMapper;

/** The one JSON mapper, with limits raised for deep Keras configs and large graph topologies. */
public final class Json {
  public static final JsonMapper MAPPER =
      JsonMapper.builder(
              JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder()
                          .maxNestingDepth(5000)
                          .maxStringLength(1 << 30)
                          .maxDocumentLength(-1)
                          .build())
                  .build())
          .build();

  private Json() {}
}
