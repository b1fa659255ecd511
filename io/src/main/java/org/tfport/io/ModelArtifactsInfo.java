package org.tfport.io;

import java.time.Instant;
import java.util.Objects;
import org.tfport.core.Json;
import org.tfport.formats.tfjs.WeightSpec;
import tools.jackson.databind.node.ArrayNode;

/**
 * Sizes of saved artifacts, as TF.js's {@code getModelArtifactsInfoForJSON} computes them: the byte
 * counts are the UTF-8 lengths of {@code JSON.stringify} of the topology and of the weight specs,
 * so they match what TF.js stores next to a model in IndexedDB or localStorage.
 *
 * @param modelTopologyType always {@code "JSON"}, the only kind TF.js produces
 */
public record ModelArtifactsInfo(
    Instant dateSaved,
    String modelTopologyType,
    long modelTopologyBytes,
    long weightSpecsBytes,
    long weightDataBytes) {
  public ModelArtifactsInfo {
    Objects.requireNonNull(dateSaved, "dateSaved");
    Objects.requireNonNull(modelTopologyType, "modelTopologyType");
  }

  /** The info for {@code artifacts}, dated now. */
  public static ModelArtifactsInfo of(ModelArtifacts artifacts) {
    long topology =
        artifacts.modelTopology() == null
            ? 0
            : utf8Length(JsJson.stringify(artifacts.modelTopology()));
    long specs = 0;
    if (artifacts.weightSpecs() != null) {
      ArrayNode a = Json.MAPPER.createArrayNode();
      for (WeightSpec s : artifacts.weightSpecs()) {
        a.add(s.toJson());
      }
      specs = utf8Length(JsJson.stringify(a));
    }
    return new ModelArtifactsInfo(
        Instant.now(), "JSON", topology, specs, artifacts.weightDataBytes());
  }

  /** UTF-8 length without encoding; JsJson output never holds a lone surrogate. */
  static long utf8Length(CharSequence s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }
}
