package org.tfport.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.Json;
import tools.jackson.databind.JsonNode;

/**
 * Checks the TF.js layers model the CLI wrote for a {@link SyntheticModel}: manifest, shard sizes,
 * and bytes.
 */
final class LayersModelCheck {
  private LayersModelCheck() {}

  /**
   * Checks model.json names every weight with its shape as float32, and that the shards hold
   * exactly the weight bytes; with {@code content}, that they hold exactly the generated values in
   * manifest order.
   */
  static String verify(Path dir, SyntheticModel model, boolean content) {
    Path json = dir.resolve("model.json");
    if (!Files.isRegularFile(json)) {
      return "BAD: no model.json";
    }
    try {
      JsonNode root = Json.MAPPER.readTree(Files.readString(json));
      if (!"Sequential"
          .equals(
              root.path("modelTopology").path("model_config").path("class_name").asString(""))) {
        return "BAD: modelTopology.model_config is not the Sequential model";
      }
      Map<String, SyntheticModel.Weight> byName = new HashMap<>();
      model.weights.forEach(w -> byName.put(w.name(), w));
      List<Path> shards = new ArrayList<>();
      List<SyntheticModel.Weight> order = new ArrayList<>();
      for (JsonNode group : root.path("weightsManifest")) {
        for (JsonNode p : group.path("paths")) {
          shards.add(dir.resolve(p.asString()));
        }
        for (JsonNode w : group.path("weights")) {
          SyntheticModel.Weight expected = byName.get(w.path("name").asString());
          if (expected == null) {
            return "BAD: unexpected weight " + w.path("name");
          }
          List<Long> shape = new ArrayList<>();
          w.path("shape").forEach(d -> shape.add(d.asLong()));
          List<Long> want = new ArrayList<>();
          for (long d : expected.dims()) {
            want.add(d);
          }
          if (!shape.equals(want)
              || !"float32".equals(w.path("dtype").asString())
              || w.has("quantization")) {
            return "BAD: weight " + expected.name() + " is " + w;
          }
          order.add(expected);
        }
      }
      if (order.size() != model.weights.size()) {
        return "BAD: manifest has " + order.size() + " weights, the model " + model.weights.size();
      }
      long shardBytes = 0;
      for (Path s : shards) {
        shardBytes += Measure.size(s);
      }
      if (shardBytes != model.weightBytes()) {
        return "BAD: shards hold " + shardBytes + " bytes, the weights " + model.weightBytes();
      }
      String summary = "ok (" + shards.size() + " shards, " + Fmt.bytes(shardBytes) + " B";
      if (!content) {
        return summary + ")";
      }
      List<InputStream> streams = new ArrayList<>();
      for (Path s : shards) {
        streams.add(Files.newInputStream(s));
      }
      try (InputStream in =
          new BufferedInputStream(
              new SequenceInputStream(Collections.enumeration(streams)), 1 << 20)) {
        for (SyntheticModel.Weight w : order) {
          long at = SyntheticModel.compare(w, in);
          if (at >= 0) {
            return "BAD: weight " + w.name() + " differs at byte " + at;
          }
        }
        if (in.read() >= 0) {
          return "BAD: shards hold bytes past the last weight";
        }
      }
      return summary + ", byte-identical)";
    } catch (IOException | RuntimeException e) {
      return "BAD: " + e;
    }
  }
}
