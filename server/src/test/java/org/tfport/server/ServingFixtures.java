package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.tfport.server.TestServer.Reply;
import tools.jackson.databind.JsonNode;

/** Uploads and predict calls the serving tests share. */
final class ServingFixtures {
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
}
