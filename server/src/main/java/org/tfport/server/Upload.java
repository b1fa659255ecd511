package org.tfport.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Locale;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Attributes;
import org.tfport.convert.Converter;
import org.tfport.core.Json;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.ModelFormat;
import org.tfport.formats.tfjs.ModelJsonParser;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.runtime.Model;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One upload, from request body to committed version. Accepted bodies: TF.js's {@code
 * multipart/form-data} ({@link UploadForm}), a bare model.json, or a Keras {@code .h5}/{@code
 * .keras} file, a {@code .tflite} file or a zipped SavedModel (raw or as the single part of a
 * form), converted on arrival. A converted upload keeps its original in {@value #ORIGINAL} beside
 * the TF.js save: TF.js clients and the page read the save, the runtime serves the original (so
 * nothing a conversion drops is lost to serving). A {@code .tflite} file TF.js cannot compute (a
 * fully integer model) but the runtime can run is kept as its original alone. Everything is
 * assembled in a staging folder and checked (model.json parses, every weight file is present and
 * exactly as long as the manifest says) before one rename makes it a version; any failure leaves
 * the store as it was.
 */
final class Upload {
  /** The folder in a version holding the uploaded file (or SavedModel folder) as it came. */
  static final String ORIGINAL = ".original";

  private final ServerConfig config;
  private final ModelStore store;

  /**
   * What staging made of a body: its source kind, and why it has no TF.js save (null when it has).
   */
  private record Staged(String source, String noTfjs, ObjectNode summary) {
    static Staged tfjs(String source) {
      return new Staged(source, null, null);
    }
  }

  Upload(ServerConfig config, ModelStore store) {
    this.config = config;
    this.store = store;
  }

  /**
   * Stores the request body as the next version of {@code name}; returns what the client is told.
   */
  ObjectNode handle(Request request, String name) {
    return handle(
        request,
        request,
        request.getLength(),
        request.getHeaders().get(HttpHeader.CONTENT_TYPE),
        name);
  }

  /**
   * Stores {@code body} as the next version of {@code name}. A body and its attributes rather than
   * the request, so the upload fuzz target can feed bytes to the same code without an HTTP round
   * trip per input.
   *
   * @param declared the Content-Length, or -1 when the client did not send one
   * @param contentType the Content-Type header, or null
   */
  ObjectNode handle(
      Content.Source body, Attributes attributes, long declared, String contentType, String name) {
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
    // indexOf, not split(";"): a regex per upload is what Jazzer's regex-injection hook slows most.
    int semicolon = contentType == null ? -1 : contentType.indexOf(';');
    String mime =
        contentType == null
            ? ""
            : (semicolon < 0 ? contentType : contentType.substring(0, semicolon))
                .trim()
                .toLowerCase(Locale.ROOT);
    Path staging = store.newStaging();
    try {
      Path model = staging.resolve("model");
      Files.createDirectory(model);
      Staged staged;
      long bytes;
      if (mime.equals("multipart/form-data")) {
        bytes = declared;
        Path lone = UploadForm.read(body, attributes, contentType, staging, model, config);
        staged = lone == null ? Staged.tfjs("tfjs") : single(lone, "", staging, model);
      } else {
        Path file = staging.resolve("body");
        bytes = copyLimited(Content.Source.asInputStream(body), file);
        staged = single(file, mime, staging, model);
      }
      ObjectNode meta =
          staged.noTfjs() == null
              ? VersionMeta.write(name, model, staged.source(), bytes, config.maxModelJsonBytes())
              : VersionMeta.writeOriginalOnly(
                  name, model, staged.source(), bytes, staged.noTfjs(), staged.summary());
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

  /** A body that is one file: a model.json alone, or a Keras, TFLite or zip file to convert. */
  private Staged single(Path body, String mime, Path staging, Path model) throws IOException {
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
          ModelJsonCheck.manifest(
              ModelJsonCheck.parse(model.resolve("model.json"), config.maxModelJsonBytes()))) {
        if (!g.weights().isEmpty()) {
          throw new HttpError(
              400,
              "this model.json lists weights, so it needs its weight files too: upload a"
                  + " multipart/form-data body with model.json and "
                  + Json.MAPPER.valueToTree(g.paths()));
        }
        for (String p : g.paths()) {
          Files.createFile(model.resolve(ModelJsonCheck.weightFile(p)));
        }
      }
      return Staged.tfjs("tfjs");
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

  private Staged zip(Path body, Path staging, Path model) throws IOException {
    UploadZip.Contents zip = UploadZip.list(body);
    if (zip.keras3()) {
      return convert(body, staging.resolve("upload.keras"), model, "keras-v3");
    }
    Path root = staging.resolve("savedmodel");
    Path dir = UploadZip.extractSavedModel(body, zip, root, config);
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
    ModelJsonCheck.parse(model.resolve("model.json"), config.maxModelJsonBytes());
    keepOriginal(dir, model, "saved_model");
    return Staged.tfjs("savedmodel");
  }

  private Staged convert(Path body, Path input, Path model, String source) throws IOException {
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
    } catch (CorruptModelException | UsageException e) {
      throw new HttpError(
          400,
          "the uploaded " + kind(source) + " cannot be read: " + clean(e.getMessage(), input),
          e);
    } catch (TfportException e) {
      if (tflite) {
        return tfliteAlone(input, model, e);
      }
      throw new HttpError(
          422,
          (e instanceof UnsupportedModelException ? "cannot convert" : "converting")
              + " the uploaded "
              + kind(source)
              + (e instanceof UnsupportedModelException ? ": " : " failed: ")
              + clean(e.getMessage(), input),
          e);
    }
    if (source.equals("keras-h5") && weightsOnly(model.resolve("model.json"))) {
      throw new HttpError(
          422,
          "the uploaded .h5 file holds only weights (written by model.save_weights), so there is no"
              + " architecture to serve; upload the file model.save('model.h5') writes, or a .keras"
              + " file");
    }
    ModelJsonCheck.parse(model.resolve("model.json"), config.maxModelJsonBytes());
    keepOriginal(
        input, model, "model" + input.getFileName().toString().substring("upload".length()));
    return Staged.tfjs(source);
  }

  /**
   * A {@code .tflite} file TF.js cannot compute (a fully integer model: TensorFlow's graph ops have
   * no integer kernels) is still a model the runtime serves: kept as its original alone, when the
   * runtime loads it; refused with both reasons when it does not.
   */
  private Staged tfliteAlone(Path input, Path model, TfportException conversion)
      throws IOException {
    String why = clean(conversion.getMessage(), input);
    ObjectNode summary;
    try (Model m = Model.load(input)) {
      summary = Summary.ofTflite(TfliteReader.read(input), m, Files.size(input));
    } catch (TfportException e) {
      throw new HttpError(
          422,
          "cannot convert the uploaded .tflite file ("
              + why
              + "), and tfport's runtime cannot serve it either ("
              + clean(e.getMessage(), input)
              + ")",
          e);
    }
    ModelStore.deleteTree(model);
    Files.createDirectories(model);
    keepOriginal(input, model, "model.tflite");
    return new Staged("tflite", why, summary);
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
  static String clean(String message, Path staged) {
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
