package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.tfport.core.DType;
import org.tfport.server.TestServer.Reply;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.TfjsOracle;
import tools.jackson.databind.JsonNode;

/**
 * Uploads, predict calls and the reading of answers that the serving tests share: signatures from
 * the metadata endpoint, JSON bodies built from flat values, answers flattened and compared.
 */
final class ServingFixtures {
  /** The tolerance for served answers against an oracle: |a-b| <= 1e-5 + 1e-4·|b|. */
  static final double ATOL = 1e-5;

  static final double RTOL = 1e-4;

  private ServingFixtures() {}

  /** A SavedModel folder zipped under one top folder, as a user would zip it for upload. */
  static byte[] zip(Path savedModel) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out);
        Stream<Path> files = Files.walk(savedModel)) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        z.putNextEntry(
            new ZipEntry("model/" + savedModel.relativize(f).toString().replace('\\', '/')));
        z.write(Files.readAllBytes(f));
        z.closeEntry();
      }
    }
    return out.toByteArray();
  }

  /** Uploads a zipped SavedModel as the next version of {@code name} through the upload API. */
  static int uploadSavedModel(TestServer s, String name, Path dir, String token)
      throws IOException {
    Reply r = s.post("/models/" + name, "application/zip", zip(dir), token);
    assertThat(r.status()).as(r.text()).isEqualTo(201);
    return r.json().path("version").asInt();
  }

  /** Uploads a TF.js model folder (model.json plus its shards) as TF.js's model.save sends it. */
  static int uploadTfjs(TestServer s, String name, Path modelJson, String token)
      throws IOException {
    TestServer.Multipart m =
        new TestServer.Multipart()
            .part("model.json", "model.json", "application/json", Files.readAllBytes(modelJson));
    JsonNode root = org.tfport.core.Json.MAPPER.readTree(modelJson.toFile());
    for (JsonNode g : root.path("weightsManifest")) {
      for (JsonNode p : g.path("paths")) {
        Path f = modelJson.resolveSibling(p.stringValue());
        m.part(f.getFileName().toString(), f.getFileName().toString(), null, Files.readAllBytes(f));
      }
    }
    Reply r = s.upload(name, m, token);
    assertThat(r.status()).as(r.text()).isEqualTo(201);
    return r.json().path("version").asInt();
  }

  static Reply predict(TestServer s, String path, String body) {
    return s.post(path, "application/json", body.getBytes(StandardCharsets.UTF_8), null);
  }

  /** Parses a response that may hold NaN/Infinity, as TF Serving's clients must. */
  static JsonNode json(Reply r) {
    return TensorJson.READER.readTree(r.body());
  }

  /** The served signature {@code serving_default}, else the first, from the metadata endpoint. */
  static JsonNode signature(TestServer s, String name) {
    Reply meta = s.get("/v1/models/" + name + "/metadata");
    assertThat(meta.status()).as(meta.text()).isEqualTo(200);
    JsonNode defs = meta.json().at("/metadata/signature_def/signature_def");
    return defs.has("serving_default")
        ? defs.get("serving_default")
        : defs.values().iterator().next();
  }

  static List<String> outputNames(TestServer s, String name) {
    return new ArrayList<>(signature(s, name).path("outputs").propertyNames());
  }

  /** Each input's declared shape from the served metadata (-1 for a free dimension). */
  static Map<String, long[]> declaredShapes(TestServer s, String name) {
    Map<String, long[]> out = new LinkedHashMap<>();
    for (var e : signature(s, name).path("inputs").properties()) {
      List<Long> dims = new ArrayList<>();
      for (JsonNode d : e.getValue().path("tensor_shape").path("dim")) {
        dims.add(Long.parseLong(d.path("size").asString("")));
      }
      out.put(e.getKey(), dims.stream().mapToLong(Long::longValue).toArray());
    }
    return out;
  }

  /** A declared shape made concrete: a free first dimension {@code batch}, any other {@code 2}. */
  static long[] concrete(long[] declared, int batch) {
    long[] c = new long[declared.length];
    for (int i = 0; i < c.length; i++) {
      c[i] = declared[i] >= 0 ? declared[i] : i == 0 ? batch : 2;
    }
    return c;
  }

  /** The DType TF Serving's metadata names {@code DT_...}. */
  static DType dtype(String tf) {
    for (DType d : DType.values()) {
      if (d.tfName().equals(tf)) {
        return d;
      }
    }
    throw new AssertionError("unexpected dtype " + tf);
  }

  /** Calls :predict with a columnar body; the outputs flattened by name (null: the only one). */
  static Map<String, float[]> columnar(TestServer s, String name, String body) {
    Reply r = predict(s, "/v1/models/" + name + ":predict", body);
    assertThat(r.status()).as(name + ": " + r.text()).isEqualTo(200);
    JsonNode outputs = json(r).get("outputs");
    Map<String, float[]> out = new LinkedHashMap<>();
    if (outputs.isObject()) {
      for (var e : outputs.properties()) {
        out.put(e.getKey(), flatten(e.getValue()));
      }
    } else {
      out.put(null, flatten(outputs));
    }
    return out;
  }

  /** Every number of a nested JSON value in order, booleans as 0 and 1; empty for null. */
  static float[] flatten(JsonNode v) {
    List<Float> vals = new ArrayList<>();
    flatten(v, vals);
    float[] f = new float[vals.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = vals.get(i);
    }
    return f;
  }

  private static void flatten(JsonNode v, List<Float> into) {
    if (v == null) {
      return;
    }
    if (v.isArray()) {
      for (JsonNode e : v) {
        flatten(e, into);
      }
    } else if (v.isBoolean()) {
      into.add(v.booleanValue() ? 1f : 0f);
    } else {
      into.add((float) v.doubleValue());
    }
  }

  /** The values as a nested JSON array of the given shape. */
  static String nested(float[] x, long[] shape) {
    return nested(i -> Float.toString(x[i]), shape);
  }

  /** Values {@code value(0), value(1), ...} as a nested JSON array of the given shape. */
  static String nested(IntFunction<String> value, long[] shape) {
    StringBuilder b = new StringBuilder();
    nested(b, value, shape, 0, new int[] {0});
    return b.toString();
  }

  /** Appends the values from {@code at[0]} on as a nested array of {@code shape[dim..]}. */
  static void nested(StringBuilder b, IntFunction<String> value, long[] shape, int dim, int[] at) {
    if (dim == shape.length) {
      b.append(value.apply(at[0]++));
      return;
    }
    b.append('[');
    for (long i = 0; i < shape[dim]; i++) {
      b.append(i > 0 ? ", " : "");
      nested(b, value, shape, dim + 1, at);
    }
    b.append(']');
  }

  /** Within {@link #ATOL} + {@link #RTOL}·|expected|, and as many values. */
  static void assertClose(String what, float[] actual, float[] expected) {
    assertClose(what, actual, expected, ATOL, RTOL);
  }

  static void assertClose(String what, float[] actual, float[] expected, double atol, double rtol) {
    assertThat(actual).as(what + ": missing from the answer").isNotNull();
    Comparison c = TfjsOracle.compare(expected, actual, atol, rtol);
    assertThat(c.mismatches()).as(what + ": " + c).isZero();
    assertThat(actual.length).as(what).isEqualTo(expected.length);
  }
}
