package org.tfport.server;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.tfport.core.Json;
import org.tfport.core.TfportException;
import org.tfport.formats.tfjs.ModelJsonParser;
import org.tfport.formats.tfjs.TfjsReader;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A version's {@code .version.json}: name, time, source, the TF.js files with their sizes and
 * hashes, the kept original, and the summary the model list shows. A version whose upload has no
 * TF.js form (a {@code .tflite} file TF.js's ops cannot compute) lists no files and says why in
 * {@value #NO_TFJS}.
 */
final class VersionMeta {
  /** The member holding why a version has no TF.js form; absent when it has one. */
  static final String NO_TFJS = "noTfjs";

  private VersionMeta() {}

  /** Why the version has no TF.js save, or null when it has one. */
  static String noTfjs(JsonNode meta) {
    JsonNode n = meta.path(NO_TFJS);
    return n.isString() ? n.stringValue() : null;
  }

  /** Checks the assembled TF.js save with the TF.js reader and writes the version's metadata. */
  static ObjectNode write(
      String name, Path model, String source, long uploadBytes, long maxModelJsonBytes)
      throws IOException {
    Path json = model.resolve("model.json");
    ModelJsonParser.Parsed parsed = ModelJsonCheck.parse(json, maxModelJsonBytes);
    try {
      TfjsReader.open(json);
    } catch (TfportException e) {
      throw new HttpError(400, Upload.clean(e.getMessage(), model), e);
    }
    ObjectNode files = Json.MAPPER.createObjectNode();
    long weightBytes = 0;
    int weightFiles = 0;
    List<Path> all = new ArrayList<>();
    try (var s = Files.list(model)) {
      s.sorted().forEach(all::add);
    }
    for (Path f : all) {
      String fn = f.getFileName().toString();
      if (fn.equals(Upload.ORIGINAL)) {
        continue;
      }
      long size = Files.size(f);
      files.putObject(fn).put("bytes", size).put("sha256", Hashes.sha256(f));
      if (!fn.equals("model.json")) {
        weightBytes += size;
        weightFiles++;
      }
    }
    ObjectNode meta = common(name, source, uploadBytes, model);
    meta.set("files", files);
    meta.set("summary", Summary.of(parsed, Files.size(json), weightBytes, weightFiles));
    return save(model, meta);
  }

  /**
   * The metadata of a version that keeps only its original: no TF.js files, the reason, and a
   * summary the caller made from the original.
   */
  static ObjectNode writeOriginalOnly(
      String name, Path model, String source, long uploadBytes, String noTfjs, ObjectNode summary)
      throws IOException {
    ObjectNode meta = common(name, source, uploadBytes, model);
    if (!meta.has("original")) {
      throw new IllegalStateException("a version without a TF.js save must keep its original");
    }
    meta.putObject("files");
    meta.put(NO_TFJS, noTfjs);
    meta.set("summary", summary);
    return save(model, meta);
  }

  private static ObjectNode common(String name, String source, long uploadBytes, Path model)
      throws IOException {
    ObjectNode meta = Json.MAPPER.createObjectNode();
    meta.put("name", name);
    meta.put("created", Instant.now().toString());
    meta.put("source", source);
    meta.put("uploadBytes", uploadBytes);
    Path kept = model.resolve(Upload.ORIGINAL);
    if (Files.isDirectory(kept)) {
      meta.set("original", original(kept));
    }
    return meta;
  }

  private static ObjectNode save(Path model, ObjectNode meta) throws IOException {
    try (OutputStream out = Files.newOutputStream(model.resolve(ModelStore.META))) {
      Json.MAPPER.writeValue(out, meta);
    }
    return meta;
  }

  /** The metadata of the kept original: its path in the version and its bytes. */
  private static ObjectNode original(Path dir) throws IOException {
    List<Path> kept;
    try (var s = Files.list(dir)) {
      kept = s.toList();
    }
    if (kept.size() != 1) {
      throw new IllegalStateException(
          Upload.ORIGINAL + " holds " + kept.size() + " entries, not one");
    }
    Path p = kept.get(0);
    long bytes = 0;
    try (var s = Files.walk(p)) {
      for (Path f : (Iterable<Path>) s::iterator) {
        bytes += Files.isRegularFile(f) ? Files.size(f) : 0;
      }
    }
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("path", Upload.ORIGINAL + "/" + p.getFileName());
    o.put("bytes", bytes);
    return o;
  }
}
