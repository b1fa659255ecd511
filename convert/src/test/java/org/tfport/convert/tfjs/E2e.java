package org.tfport.convert.tfjs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Tensor;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.testkit.TfjsOracle;
import tools.jackson.databind.JsonNode;

/**
 * Shared steps of the end-to-end tests: what to feed TF.js, and how results are compared and
 * reported.
 */
final class E2e {
  static final double ATOL = 1e-5;
  static final double RTOL = 1e-4;

  private E2e() {}

  static JsonNode modelJson(Path dir) throws Exception {
    return Json.MAPPER.readTree(java.nio.file.Files.readString(dir.resolve("model.json")));
  }

  /**
   * When freezing left a graph with no placeholder, the TF.js oracle (which only loads a model
   * given no inputs) still has to execute it: feeding a constant its own value changes nothing and
   * makes it run.
   */
  static TfjsOracle.Input constantFeed(Path dir) throws Exception {
    JsonNode json = modelJson(dir);
    Map<String, Tensor> weights = TfjsReader.read(dir.resolve("model.json")).weightsByName();
    for (JsonNode n : json.path("modelTopology").path("node")) {
      String name = n.path("name").stringValue();
      if (!"Const".equals(n.path("op").stringValue())
          || n.has("input")
          || !weights.containsKey(name)) {
        continue;
      }
      Tensor t = weights.get(name);
      long[] shape = t.shape().dims();
      if (t.dtype() == DType.FLOAT32) {
        return TfjsOracle.Input.f32(name, shape, t.toFloatArray());
      }
      if (t.dtype() == DType.INT32) {
        float[] f = t.toFloatArray();
        int[] v = new int[f.length];
        for (int i = 0; i < v.length; i++) {
          v[i] = (int) f[i];
        }
        return TfjsOracle.Input.i32(name, shape, v);
      }
    }
    throw new IllegalStateException(dir + ": no constant to feed");
  }

  /** The signature outputs of a converted model, as tensor names in file order. */
  static List<String> outputNames(Path dir) throws Exception {
    List<String> out = new ArrayList<>();
    modelJson(dir)
        .path("signature")
        .path("outputs")
        .properties()
        .forEach(e -> out.add(e.getValue().path("name").stringValue()));
    return out;
  }

  static List<String> outputKeys(Path dir) throws Exception {
    List<String> out = new ArrayList<>();
    modelJson(dir).path("signature").path("outputs").properties().forEach(e -> out.add(e.getKey()));
    return out;
  }
}
