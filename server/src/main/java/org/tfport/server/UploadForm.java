package org.tfport.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.http.MultiPart;
import org.eclipse.jetty.http.MultiPartConfig;
import org.eclipse.jetty.http.MultiPartFormData;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Attributes;
import org.tfport.formats.tfjs.ModelJsonParser;

/**
 * TF.js's {@code multipart/form-data} upload: {@code model.json} plus weight files matched to its
 * manifest by file name or part name, as {@code tf.io.browserFiles} matches them; each weight file
 * the manifest lists must come, and nothing else.
 */
final class UploadForm {
  private UploadForm() {}

  /**
   * Reads the form into {@code model}; returns null when it was TF.js's form, else the one file of
   * a single-part form (a Keras, TFLite or zip file sent as a form), for the caller to take as a
   * plain body.
   */
  static Path read(
      Content.Source body,
      Attributes attributes,
      String contentType,
      Path staging,
      Path model,
      ServerConfig config)
      throws IOException {
    Path partsDir = staging.resolve("parts");
    Files.createDirectory(partsDir);
    MultiPartConfig mpc =
        new MultiPartConfig.Builder()
            .location(partsDir)
            .maxParts(config.maxParts())
            .maxSize(config.maxUploadBytes())
            .maxPartSize(config.maxUploadBytes())
            .maxMemoryPartSize(64 * 1024)
            .build();
    MultiPartFormData.Parts parts;
    try {
      parts = MultiPartFormData.getParts(body, attributes, contentType, mpc);
    } catch (Exception e) {
      throw multipartError(e);
    }
    try (parts) {
      MultiPart.Part json = null;
      // Keyed by file name when the part has one, else by part name; a part is found under either
      // (curl -F model.weights.bin=@weights.bin names the part, TF.js names the file).
      Map<String, MultiPart.Part> files = new LinkedHashMap<>();
      Map<String, MultiPart.Part> byPartName = new HashMap<>();
      for (MultiPart.Part p : parts) {
        String file = p.getFileName() == null ? null : basename(p.getFileName());
        boolean isJson = "model.json".equals(p.getName()) || "model.json".equals(file);
        if (isJson) {
          if (json != null) {
            throw new HttpError(400, "the upload has two 'model.json' parts; send one");
          }
          json = p;
          continue;
        }
        String key = file != null && !file.isEmpty() ? file : p.getName();
        if (key == null || key.isEmpty()) {
          throw new HttpError(400, "a multipart part has neither a name nor a file name");
        }
        if (files.put(key, p) != null) {
          throw new HttpError(400, "the upload has two parts named '" + Names.printable(key) + "'");
        }
        if (p.getName() != null && !p.getName().isEmpty()) {
          byPartName.putIfAbsent(p.getName(), p);
        }
      }
      if (json == null) {
        if (files.size() == 1) {
          MultiPart.Part only = files.values().iterator().next();
          Path file = staging.resolve("body");
          only.writeTo(file);
          return file;
        }
        throw new HttpError(
            400,
            "the upload has no 'model.json' part (TF.js's model.save(url) sends 'model.json'"
                + " and 'model.weights.bin'); parts received: "
                + (files.isEmpty()
                    ? "none"
                    : String.join(", ", files.keySet().stream().map(Names::printable).toList())));
      }
      if (json.getLength() > config.maxModelJsonBytes()) {
        throw new HttpError(
            413,
            "model.json is "
                + json.getLength()
                + " bytes, over the limit of "
                + config.maxModelJsonBytes());
      }
      Path jsonFile = model.resolve("model.json");
      json.writeTo(jsonFile);
      List<ModelJsonParser.ManifestGroup> manifest =
          ModelJsonCheck.manifest(ModelJsonCheck.parse(jsonFile, config.maxModelJsonBytes()));
      Set<String> wanted = new HashSet<>();
      boolean anyWeights = manifest.stream().anyMatch(g -> !g.weights().isEmpty());
      for (ModelJsonParser.ManifestGroup g : manifest) {
        for (String p : g.paths()) {
          String f = ModelJsonCheck.weightFile(p);
          if (!wanted.add(f)) {
            throw new HttpError(400, "model.json lists weight file '" + f + "' twice");
          }
          MultiPart.Part part = files.remove(f);
          if (part == null) {
            part = byPartName.get(f);
            if (part != null && !files.values().remove(part)) {
              // Already taken under its file name for another weight file.
              part = null;
            }
          }
          if (part == null) {
            if (anyWeights) {
              throw new HttpError(
                  400,
                  "the upload has no part for weight file '"
                      + f
                      + "' listed in model.json;"
                      + " send it as a part named or with filename=\""
                      + f
                      + "\" (curl -F "
                      + f
                      + "=@FILE)");
            }
            Files.createFile(model.resolve(f));
          } else {
            part.writeTo(model.resolve(f));
          }
        }
      }
      if (!files.isEmpty()) {
        throw new HttpError(
            400,
            "the upload has parts model.json does not list: "
                + String.join(", ", files.keySet().stream().map(Names::printable).toList())
                + "; its manifest lists "
                + wanted);
      }
      return null;
    }
  }

  private static HttpError multipartError(Throwable e) {
    Throwable c = e;
    while ((c instanceof java.util.concurrent.ExecutionException
            || c instanceof java.util.concurrent.CompletionException
            || c.getMessage() == null)
        && c.getCause() != null) {
      c = c.getCause();
    }
    String msg = c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    String lower = msg.toLowerCase(Locale.ROOT);
    if (lower.contains("max")
        && (lower.contains("size") || lower.contains("length") || lower.contains("exceed"))) {
      return new HttpError(413, "the upload is over this server's limits (" + msg + ")", e);
    }
    if (lower.contains("max") && lower.contains("part")) {
      return new HttpError(413, "the upload has too many parts (" + msg + ")", e);
    }
    return new HttpError(
        400, "malformed multipart/form-data body (" + msg.lines().findFirst().orElse("") + ")", e);
  }

  private static String basename(String f) {
    int i = Math.max(f.lastIndexOf('/'), f.lastIndexOf('\\'));
    return f.substring(i + 1);
  }
}
