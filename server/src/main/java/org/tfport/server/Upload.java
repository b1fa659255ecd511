package org.tfport.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.MultiPart;
import org.eclipse.jetty.http.MultiPartConfig;
import org.eclipse.jetty.http.MultiPartFormData;
import org.eclipse.jetty.server.Request;
import org.tfport.convert.Converter;
import org.tfport.core.Json;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.ModelFormat;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.formats.tfjs.ModelJsonParser;
import org.tfport.formats.tfjs.TfjsModelJson;
import org.tfport.formats.tfjs.TfjsReader;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One upload, from request body to committed version. Accepted bodies: TF.js's {@code
 * multipart/form-data} ({@code model.json} plus weight files matched to the manifest by name, as
 * {@code tf.io.browserFiles} matches them), a bare model.json, or a Keras {@code .h5}/{@code
 * .keras} file, a {@code .tflite} file or a zipped SavedModel (raw or as the single part of a
 * form), converted on arrival. A converted upload keeps its original in {@value #ORIGINAL} beside
 * the TF.js save: TF.js clients and the page read the save, the runtime serves the original (so
 * nothing a conversion drops is lost to serving). Everything is assembled in a staging folder and
 * checked (model.json parses, every weight file is present and exactly as long as the manifest
 * says) before one rename makes it a version; any failure leaves the store as it was.
 */
final class Upload {
  /** The folder in a version holding the uploaded file (or SavedModel folder) as it came. */
  static final String ORIGINAL = ".original";

  private static final int MAX_ZIP_ENTRIES = 100_000;

  private final ServerConfig config;
  private final ModelStore store;

  Upload(ServerConfig config, ModelStore store) {
    this.config = config;
    this.store = store;
  }

  /**
   * Stores the request body as the next version of {@code name}; returns what the client is told.
   */
  ObjectNode handle(Request request, String name) {
    long declared = request.getLength();
    if (declared > config.maxUploadBytes()) {
      throw new HttpError(
          413,
          "the upload is "
              + declared
              + " bytes, over this server's limit of "
              + config.maxUploadBytes()
              + " (tfport serve --max-upload-bytes)");
    }
    if (declared > store.remaining()) {
      throw new HttpError(
          507,
          "the upload is "
              + declared
              + " bytes but the store has "
              + Math.max(0, store.remaining())
              + " left of its quota (tfport serve --max-store-bytes)");
    }
    String contentType = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
    String mime =
        contentType == null ? "" : contentType.split(";")[0].trim().toLowerCase(Locale.ROOT);
    Path staging = store.newStaging();
    try {
      Path model = staging.resolve("model");
      Files.createDirectory(model);
      String source;
      long bytes;
      if (mime.equals("multipart/form-data")) {
        bytes = declared;
        source = multipart(request, contentType, staging, model);
      } else {
        Path body = staging.resolve("body");
        bytes = copyLimited(Request.asInputStream(request), body);
        source = single(body, mime, staging, model);
      }
      ObjectNode meta = finish(name, model, source, bytes);
      int version = store.commit(name, model);
      meta.put("version", version);
      return meta;
    } catch (IOException e) {
      throw new HttpError(
          400,
          "the upload could not be read ("
              + e.getMessage()
              + "); the connection broke or"
              + " the body is malformed",
          e);
    } finally {
      ModelStore.deleteTree(staging);
    }
  }

  // ------------------------------------------------------------------ multipart

  private String multipart(Request request, String contentType, Path staging, Path model)
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
      parts = MultiPartFormData.getParts(request, request, contentType, mpc);
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
          Path body = staging.resolve("body");
          only.writeTo(body);
          return single(body, "", staging, model);
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
      List<ModelJsonParser.ManifestGroup> manifest = manifest(parseModelJson(jsonFile));
      Set<String> wanted = new HashSet<>();
      boolean anyWeights = manifest.stream().anyMatch(g -> !g.weights().isEmpty());
      for (ModelJsonParser.ManifestGroup g : manifest) {
        for (String p : g.paths()) {
          String f = weightFile(p);
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
      return "tfjs";
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

  private static List<ModelJsonParser.ManifestGroup> manifest(ModelJsonParser.Parsed parsed) {
    return parsed.manifest() == null ? List.of() : parsed.manifest();
  }

  private static String weightFile(String p) {
    String f = Names.weightFile(p);
    if (f == null) {
      throw new HttpError(
          400,
          "model.json: weight path '"
              + Names.printable(p)
              + "' must be a plain"
              + " file name (letters, digits, '.', '_', '-', optionally after './'), not 'model.json'");
    }
    return f;
  }

  // ------------------------------------------------------------------ single-file bodies

  /** A body that is one file: a model.json alone, or a Keras file to convert. */
  private String single(Path body, String mime, Path staging, Path model) throws IOException {
    byte[] head = new byte[8];
    int n;
    try (InputStream in = Files.newInputStream(body)) {
      n = in.readNBytes(head, 0, 8);
    }
    if (n == 0) {
      throw new HttpError(
          400, "the upload is empty; send TF.js's multipart form, a model.json, or a Keras file");
    }
    ModelFormat signed = ModelFormat.ofSignature(head, n).orElse(null);
    if (signed == ModelFormat.KERAS) {
      return convert(body, staging.resolve("upload.h5"), model, "keras-h5");
    }
    if (signed == ModelFormat.TFLITE) {
      return convert(body, staging.resolve("upload.tflite"), model, "tflite");
    }
    if (signed == ModelFormat.KERAS_KERAS) {
      // Any zip: a Keras 3 file, or a zipped SavedModel.
      return zip(body, staging, model);
    }
    int first = firstNonSpace(head, n);
    if (mime.equals("application/json") || first == '{') {
      if (Files.size(body) > config.maxModelJsonBytes()) {
        throw new HttpError(
            413, "model.json is over the limit of " + config.maxModelJsonBytes() + " bytes");
      }
      Files.move(body, model.resolve("model.json"));
      for (ModelJsonParser.ManifestGroup g :
          manifest(parseModelJson(model.resolve("model.json")))) {
        if (!g.weights().isEmpty()) {
          throw new HttpError(
              400,
              "this model.json lists weights, so it needs its weight files too: upload a"
                  + " multipart/form-data body with model.json and "
                  + Json.MAPPER.valueToTree(g.paths()));
        }
        for (String p : g.paths()) {
          Files.createFile(model.resolve(weightFile(p)));
        }
      }
      return "tfjs";
    }
    throw new HttpError(
        415,
        "unsupported upload ("
            + (mime.isEmpty() ? "no Content-Type" : mime)
            + ", starting"
            + " with bytes "
            + HexFormat.ofDelimiter(" ").formatHex(head, 0, n)
            + "); send TF.js's multipart form"
            + " (model.save(url)), a model.json, a Keras .h5 or .keras file, a .tflite file or a"
            + " zipped SavedModel");
  }

  private String zip(Path body, Path staging, Path model) throws IOException {
    List<String> savedModels = new ArrayList<>();
    boolean keras3 = false;
    try (ZipFile z = new ZipFile(body.toFile())) {
      var it = z.entries();
      int count = 0;
      while (it.hasMoreElements()) {
        if (++count > MAX_ZIP_ENTRIES) {
          throw new HttpError(413, "the zip has more than " + MAX_ZIP_ENTRIES + " entries");
        }
        String e = it.nextElement().getName();
        if (e.equals(SavedModelReader.SAVED_MODEL_PB)
            || e.endsWith("/" + SavedModelReader.SAVED_MODEL_PB)) {
          savedModels.add(e.substring(0, e.length() - SavedModelReader.SAVED_MODEL_PB.length()));
        }
        keras3 |= e.equals("config.json");
      }
    } catch (ZipException e) {
      throw new HttpError(
          400, "the upload looks like a zip file but is damaged (" + e.getMessage() + ")");
    }
    if (keras3) {
      return convert(body, staging.resolve("upload.keras"), model, "keras-v3");
    }
    if (savedModels.size() > 1) {
      throw new HttpError(
          400,
          "the zip holds "
              + savedModels.size()
              + " SavedModels ("
              + savedModels
              + "); upload one at a time");
    }
    if (savedModels.size() == 1) {
      Path root = staging.resolve("savedmodel");
      unzip(body, root);
      Path dir = root.resolve(savedModels.get(0)).normalize();
      Files.delete(model);
      try {
        Converter.from(dir, ModelFormat.TF_SAVED_MODEL)
            .to(ModelFormat.TFJS_GRAPH_MODEL)
            .convert(model);
      } catch (UnsupportedModelException e) {
        throw new HttpError(
            422, "cannot convert the uploaded SavedModel: " + clean(e.getMessage(), root), e);
      } catch (CorruptModelException | UsageException e) {
        throw new HttpError(
            400, "the uploaded SavedModel cannot be read: " + clean(e.getMessage(), root), e);
      } catch (TfportException e) {
        throw new HttpError(
            422, "converting the uploaded SavedModel failed: " + clean(e.getMessage(), root), e);
      }
      parseModelJson(model.resolve("model.json"));
      keepOriginal(dir, model, "saved_model");
      return "savedmodel";
    }
    throw new HttpError(
        415,
        "the zip holds neither a Keras 3 model (config.json) nor a SavedModel"
            + " (saved_model.pb)");
  }

  /**
   * Extracts a zip under {@code root}, refusing entries that would land outside it and counting the
   * bytes actually inflated (entry headers can lie), so a zip bomb stops at the upload limit.
   */
  private void unzip(Path body, Path root) throws IOException {
    Files.createDirectories(root);
    long budget = config.maxUploadBytes() * 4;
    byte[] buf = new byte[64 * 1024];
    try (ZipFile z = new ZipFile(body.toFile())) {
      var it = z.entries();
      while (it.hasMoreElements()) {
        ZipEntry e = it.nextElement();
        String n = e.getName();
        Path target = root.resolve(n).normalize();
        if (n.startsWith("/")
            || n.contains("\\")
            || n.contains(":")
            || !target.startsWith(root)
            || target.equals(root)) {
          throw new HttpError(
              400, "zip entry '" + Names.printable(n) + "' points outside the archive");
        }
        if (e.isDirectory()) {
          Files.createDirectories(target);
          continue;
        }
        Files.createDirectories(target.getParent());
        try (InputStream in = z.getInputStream(e);
            OutputStream out = Files.newOutputStream(target)) {
          int r;
          while ((r = in.read(buf)) >= 0) {
            budget -= r;
            if (budget < 0) {
              throw new HttpError(
                  413, "the zip inflates to more than " + config.maxUploadBytes() * 4 + " bytes");
            }
            out.write(buf, 0, r);
          }
        }
      }
    }
  }

  private String convert(Path body, Path input, Path model, String source) throws IOException {
    Files.move(body, input);
    Files.delete(model);
    boolean tflite = source.equals("tflite");
    try {
      Converter.from(
              input,
              tflite
                  ? ModelFormat.TFLITE
                  : source.equals("keras-v3") ? ModelFormat.KERAS_KERAS : ModelFormat.KERAS)
          .to(tflite ? ModelFormat.TFJS_GRAPH_MODEL : ModelFormat.TFJS_LAYERS_MODEL)
          .convert(model);
    } catch (UnsupportedModelException e) {
      throw new HttpError(
          422,
          "cannot convert the uploaded " + kind(source) + ": " + clean(e.getMessage(), input),
          e);
    } catch (CorruptModelException | UsageException e) {
      throw new HttpError(
          400,
          "the uploaded " + kind(source) + " cannot be read: " + clean(e.getMessage(), input),
          e);
    } catch (TfportException e) {
      throw new HttpError(
          422,
          "converting the uploaded " + kind(source) + " failed: " + clean(e.getMessage(), input),
          e);
    }
    if (source.equals("keras-h5") && weightsOnly(model.resolve("model.json"))) {
      throw new HttpError(
          422,
          "the uploaded .h5 file holds only weights (written by model.save_weights), so there is no"
              + " architecture to serve; upload the file model.save('model.h5') writes, or a .keras"
              + " file");
    }
    parseModelJson(model.resolve("model.json"));
    keepOriginal(
        input, model, "model" + input.getFileName().toString().substring("upload".length()));
    return source;
  }

  private static boolean weightsOnly(Path modelJson) throws IOException {
    JsonNode root = ModelJsonParser.readTree(Files.readAllBytes(modelJson), "model.json");
    JsonNode topology = root.path("modelTopology");
    return topology.isMissingNode() || topology.isNull();
  }

  /** Moves the uploaded model (a file or a SavedModel folder) into the version, as it came. */
  private static void keepOriginal(Path from, Path model, String fileName) throws IOException {
    Path dir = model.resolve(ORIGINAL);
    Files.createDirectories(dir);
    Files.move(from, dir.resolve(fileName));
  }

  private static String kind(String source) {
    return switch (source) {
      case "keras-h5" -> "Keras .h5 file";
      case "tflite" -> ".tflite file";
      default -> "Keras .keras file";
    };
  }

  // ------------------------------------------------------------------ checks

  /**
   * model.json must be an object with a topology TF.js can load; its manifest is read by the one
   * model.json parser, and the shards are checked by the reader in {@link #finish}.
   */
  private ModelJsonParser.Parsed parseModelJson(Path file) throws IOException {
    if (Files.size(file) > config.maxModelJsonBytes()) {
      throw new HttpError(
          413,
          "model.json is "
              + Files.size(file)
              + " bytes, over the limit of "
              + config.maxModelJsonBytes());
    }
    ModelJsonParser.Parsed parsed;
    try {
      JsonNode root = ModelJsonParser.readTree(Files.readAllBytes(file), "model.json");
      if (!root.isObject()) {
        throw new HttpError(400, "model.json is not a JSON object; expected a TF.js model.json");
      }
      parsed = ModelJsonParser.parse(root, "model.json");
    } catch (CorruptModelException e) {
      throw new HttpError(400, e.getMessage(), e);
    }
    JsonNode topology = parsed.envelope().modelTopology();
    if (topology == null || !topology.isObject()) {
      throw new HttpError(
          400, "model.json has no 'modelTopology' object, so TF.js could not load it");
    }
    String format = parsed.envelope().format();
    if (format != null
        && !format.equals(TfjsModelJson.LAYERS_MODEL)
        && !format.equals(TfjsModelJson.GRAPH_MODEL)) {
      throw new HttpError(
          400,
          "model.json: 'format' is '"
              + Names.printable(format)
              + "'; TF.js knows '"
              + TfjsModelJson.LAYERS_MODEL
              + "' and '"
              + TfjsModelJson.GRAPH_MODEL
              + "'");
    }
    return parsed;
  }

  /** Checks the assembled folder with the TF.js reader and writes the version's metadata. */
  private ObjectNode finish(String name, Path model, String source, long uploadBytes)
      throws IOException {
    Path json = model.resolve("model.json");
    ModelJsonParser.Parsed parsed = parseModelJson(json);
    try {
      TfjsReader.open(json);
    } catch (TfportException e) {
      throw new HttpError(400, clean(e.getMessage(), model), e);
    }
    ObjectNode files = Json.MAPPER.createObjectNode();
    long weightBytes = 0;
    int weightFiles = 0;
    List<Path> all = new ArrayList<>();
    try (var s = Files.list(model)) {
      s.sorted().forEach(all::add);
    }
    Map<String, String> hashes = new HashMap<>();
    ObjectNode original = null;
    for (Path f : all) {
      String fn = f.getFileName().toString();
      if (fn.equals(ORIGINAL)) {
        original = original(f);
        continue;
      }
      long size = Files.size(f);
      String sha = Hashes.sha256(f);
      hashes.put(fn, sha);
      files.putObject(fn).put("bytes", size).put("sha256", sha);
      if (!fn.equals("model.json")) {
        weightBytes += size;
        weightFiles++;
      }
    }
    ObjectNode meta = Json.MAPPER.createObjectNode();
    meta.put("name", name);
    meta.put("created", Instant.now().toString());
    meta.put("source", source);
    meta.put("uploadBytes", uploadBytes);
    meta.set("files", files);
    if (original != null) {
      meta.set("original", original);
    }
    meta.set("summary", Summary.of(parsed, Files.size(json), weightBytes, weightFiles));
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
      throw new IllegalStateException(ORIGINAL + " holds " + kept.size() + " entries, not one");
    }
    Path p = kept.get(0);
    long bytes = 0;
    try (var s = Files.walk(p)) {
      for (Path f : (Iterable<Path>) s::iterator) {
        bytes += Files.isRegularFile(f) ? Files.size(f) : 0;
      }
    }
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("path", ORIGINAL + "/" + p.getFileName());
    o.put("bytes", bytes);
    return o;
  }

  private long copyLimited(InputStream in, Path target) throws IOException {
    long total = 0;
    byte[] buf = new byte[64 * 1024];
    try (in;
        OutputStream out = Files.newOutputStream(target)) {
      int r;
      while ((r = in.read(buf)) >= 0) {
        total += r;
        if (total > config.maxUploadBytes()) {
          throw new HttpError(
              413,
              "the upload is over this server's limit of " + config.maxUploadBytes() + " bytes");
        }
        out.write(buf, 0, r);
      }
    }
    return total;
  }

  /** A reader or converter message without the staging paths, which mean nothing to the client. */
  private static String clean(String message, Path staged) {
    String m = message == null ? "" : message;
    for (Path p = staged.toAbsolutePath(); p != null && p.getNameCount() > 1; p = p.getParent()) {
      m = m.replace(p + ": ", "").replace(p + "/", "").replace(p.toString(), "the upload");
      if (p.getFileName().toString().startsWith("upload-")) {
        break;
      }
    }
    return m;
  }

  private static int firstNonSpace(byte[] b, int n) {
    for (int i = 0; i < n; i++) {
      if (b[i] != ' ' && b[i] != '\n' && b[i] != '\r' && b[i] != '\t') {
        return b[i];
      }
    }
    return -1;
  }
}
