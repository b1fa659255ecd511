package org.tfport.formats.keras;

import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.tfport.core.Limits;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads a Keras 3 {@code .keras} archive ({@code config.json}, {@code metadata.json}, {@code
 * model.weights.h5}) without extracting anything next to it: the weights file is copied to a
 * private temporary file that is deleted when the model is closed.
 */
final class KerasV3Reader {
  private static final long MAX_JSON_BYTES = 512L << 20;

  private KerasV3Reader() {}

  static KerasModel read(Path file) {
    Path tmp = null;
    try (ZipFile zip = new ZipFile(file.toFile())) {
      byte[] configBytes = readJson(file, zip, "config.json", true);
      byte[] metaBytes = readJson(file, zip, "metadata.json", false);
      ZipEntry we = zip.getEntry("model.weights.h5");
      JsonNode root = Keras3Config.parse(file, "config.json", configBytes);
      ObjectNode modelConfig = Keras3Config.model(file, root);
      String version = null;
      if (metaBytes != null) {
        version =
            Keras3Config.parse(file, "metadata.json", metaBytes)
                .path("keras_version")
                .asString(null);
      }
      List<KerasLayerWeights> layers = new ArrayList<>();
      HdfFile h5 = null;
      if (we != null) {
        tmp = Files.createTempFile("tfport-keras-", ".weights.h5");
        copyBounded(file, zip, we, tmp);
        h5 = H5Access.open(tmp);
        Node layersGroup = h5.getChildren().get("layers");
        if (layersGroup instanceof Group g) {
          bindModel(file, root, g, "", layers);
        }
      } else if (hasWeightedLayers(root)) {
        throw new CorruptModelException(
            file + ": has no model.weights.h5 entry; the .keras file is incomplete");
      }
      Path toDelete = tmp;
      HdfFile toClose = h5;
      KerasModel m =
          new KerasModel(
              file,
              version,
              null,
              modelConfig,
              Keras3Config.trainingConfig(root),
              layers,
              () -> {
                if (toClose != null) {
                  toClose.close();
                }
                if (toDelete != null) {
                  Files.deleteIfExists(toDelete);
                }
              });
      tmp = null;
      return m;
    } catch (ZipException e) {
      throw new CorruptModelException(file + ": damaged .keras zip (" + e.getMessage() + ")", e);
    } catch (IOException e) {
      throw new CorruptModelException(
          file + ": cannot read .keras archive (" + e.getMessage() + ")", e);
    } catch (TfportException e) {
      throw e;
    } catch (RuntimeException e) {
      // jhdf reports a damaged file as any runtime exception (IllegalStateException,
      // BufferUnderflowException, ...), from wherever it notices.
      throw new CorruptModelException(
          file + ": model.weights.h5 inside is damaged (" + e.getMessage() + ")", e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException e) {
          // best effort: the file is in the system temp folder
        }
      }
    }
  }

  /**
   * Unpacks the weights entry, stopping as soon as it inflates past what its header declares or
   * past {@link Limits#maxExtractBytes()}: a zip bomb must not fill the temporary folder.
   */
  private static void copyBounded(Path file, ZipFile zip, ZipEntry e, Path to) throws IOException {
    long limit = Limits.maxExtractBytes();
    long declared = e.getSize();
    if (declared > limit) {
      throw new UnsupportedModelException(tooLarge(file, declared, limit));
    }
    long allowed = declared >= 0 ? declared : limit;
    byte[] buf = new byte[1 << 16];
    long written = 0;
    try (InputStream in = zip.getInputStream(e);
        OutputStream out = Files.newOutputStream(to)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        written += n;
        if (written > allowed) {
          throw written > limit
              ? new UnsupportedModelException(tooLarge(file, written, limit))
              : new CorruptModelException(
                  file
                      + ": model.weights.h5 inflates past the "
                      + declared
                      + " bytes its zip header declares; the archive is damaged or hostile");
        }
        out.write(buf, 0, n);
      }
    }
  }

  private static String tooLarge(Path file, long bytes, long limit) {
    return file
        + ": model.weights.h5 unpacks to more than "
        + String.format(java.util.Locale.ROOT, "%,d", Math.min(bytes, limit))
        + " bytes, over the "
        + String.format(java.util.Locale.ROOT, "%,d", limit)
        + "-byte limit for unpacking; if the model is really this large, raise it with -D"
        + Limits.EXTRACT_PROPERTY
        + "=SIZE (e.g. 64g)";
  }

  private static byte[] readJson(Path file, ZipFile zip, String name, boolean required)
      throws IOException {
    ZipEntry e = zip.getEntry(name);
    if (e == null) {
      if (required) {
        throw new CorruptModelException(
            file + ": no " + name + " inside; not a Keras 3 .keras file");
      }
      return null;
    }
    if (e.getSize() > MAX_JSON_BYTES) {
      throw new CorruptModelException(
          file
              + ": "
              + name
              + " claims "
              + e.getSize()
              + " bytes, over the "
              + MAX_JSON_BYTES
              + "-byte limit for a config");
    }
    try (InputStream in = zip.getInputStream(e)) {
      byte[] b = in.readNBytes((int) MAX_JSON_BYTES + 1);
      if (b.length > MAX_JSON_BYTES) {
        throw new CorruptModelException(
            file + ": " + name + " is over the " + MAX_JSON_BYTES + "-byte limit");
      }
      return b;
    }
  }

  private static boolean hasWeightedLayers(JsonNode root) {
    return root.path("config").path("layers").size() > 0;
  }

  /** Walks a model's layers as Keras 3 saved them: every layer but InputLayer, named by class. */
  private static void bindModel(
      Path file,
      JsonNode modelJson,
      Group layersGroup,
      String prefix,
      List<KerasLayerWeights> out) {
    for (Keras3Paths.Keyed kl : Keras3Paths.layers(modelJson)) {
      JsonNode layer = kl.layer();
      String cls = kl.cls();
      String key = kl.key();
      String name = kl.name();
      Node n = layersGroup.getChildren().get(key);
      if (n == null) {
        n = layersGroup.getChildren().get(name);
      }
      if (!(n instanceof Group g)) {
        if (LayerVars.names(cls, layer.path("config")) == null || LayerVars.isWeightless(cls)) {
          continue;
        }
        throw new CorruptModelException(
            file
                + ": layer '"
                + name
                + "' ("
                + cls
                + ") has no weights in"
                + " model.weights.h5 (looked for layers/"
                + key
                + "); the .keras file is damaged");
      }
      List<KerasWeight> ws = new ArrayList<>();
      collect(file, layer, g, name, ws);
      out.add(new KerasLayerWeights(prefix + name, ws));
    }
  }

  private static void collect(
      Path file, JsonNode layer, Group g, String name, List<KerasWeight> ws) {
    String cls = layer.path("class_name").asString("");
    JsonNode cfg = layer.path("config");
    if (Keras3Config.isModelClass(cls)) {
      Node inner = g.getChildren().get("layers");
      if (inner instanceof Group ig) {
        List<KerasLayerWeights> nested = new ArrayList<>();
        bindModel(file, layer, ig, "", nested);
        nested.forEach(l -> ws.addAll(l.weights()));
      }
      return;
    }
    for (Keras3Paths.Wrapped w : Keras3Paths.wrapped(cls, cfg, name)) {
      collect(file, w.layer(), group(file, g, w.group(), name), w.name(), ws);
    }
    switch (cls) {
      case "Bidirectional", "TimeDistributed" -> {}
      case "MultiHeadAttention" -> {
        // Keras 3 keeps each projection in a group of its own; Keras 2 and TF.js name them
        // query/key/value/attention_output under the layer.
        boolean bias = cfg.path("use_bias").asBoolean(true);
        String[][] parts = {
          {"query_dense", "query"},
          {"key_dense", "key"},
          {"value_dense", "value"},
          {"output_dense", "attention_output"}
        };
        for (String[] p : parts) {
          List<Dataset> vars = vars(file, group(file, g, p[0], name), name);
          if (vars.size() != (bias ? 2 : 1)) {
            throw new CorruptModelException(
                file
                    + ": layer '"
                    + name
                    + "' (MultiHeadAttention) holds "
                    + vars.size()
                    + " weights in "
                    + p[0]
                    + " where "
                    + (bias ? "a kernel and a bias" : "a kernel")
                    + " are expected; the .keras file is damaged");
          }
          for (int i = 0; i < vars.size(); i++) {
            Dataset ds = vars.get(i);
            ws.add(
                new KerasWeight(
                    name + "/" + p[1] + "/" + (i == 0 ? "kernel" : "bias"),
                    H5Access.dtype(file, ds),
                    H5Access.shape(ds),
                    () -> H5Access.read(file, ds)));
          }
        }
      }
      default -> {
        List<String> names = LayerVars.names(cls, cfg);
        Group varsOwner = LayerVars.isRecurrent(cls) ? group(file, g, "cell", name) : g;
        List<Dataset> vars = vars(file, varsOwner, name);
        if (names == null) {
          if (vars.isEmpty()) {
            return;
          }
          throw new UnsupportedModelException(
              file
                  + ": layer '"
                  + name
                  + "' ("
                  + cls
                  + ") has "
                  + vars.size()
                  + " weights, but tfport does not know how TF.js names the weights of "
                  + cls);
        }
        if (names.size() != vars.size()) {
          throw new CorruptModelException(
              file
                  + ": layer '"
                  + name
                  + "' ("
                  + cls
                  + ") should have "
                  + names.size()
                  + " weights "
                  + names
                  + " but model.weights.h5 holds "
                  + vars.size());
        }
        for (int i = 0; i < vars.size(); i++) {
          Dataset ds = vars.get(i);
          ws.add(
              new KerasWeight(
                  name + "/" + names.get(i),
                  H5Access.dtype(file, ds),
                  H5Access.shape(ds),
                  () -> H5Access.read(file, ds)));
        }
      }
    }
  }

  private static Group group(Path file, Group g, String child, String layer) {
    if (g.getChildren().get(child) instanceof Group c) {
      return c;
    }
    throw new CorruptModelException(
        file
            + ": layer '"
            + layer
            + "' has no '"
            + child
            + "' group in model.weights.h5; the .keras file is damaged");
  }

  private static List<Dataset> vars(Path file, Group g, String layer) {
    List<Dataset> out = new ArrayList<>();
    if (!(g.getChildren().get("vars") instanceof Group v)) {
      return out;
    }
    for (int i = 0; ; i++) {
      Node n = v.getChildren().get(Integer.toString(i));
      if (n == null) {
        break;
      }
      if (!(n instanceof Dataset ds)) {
        throw new CorruptModelException(
            file + ": layer '" + layer + "' vars/" + i + " is not a dataset");
      }
      out.add(ds);
    }
    if (out.size() != v.getChildren().size()) {
      throw new CorruptModelException(
          file
              + ": layer '"
              + layer
              + "' vars are not numbered 0.."
              + (v.getChildren().size() - 1)
              + " in model.weights.h5; the .keras file is damaged");
    }
    return out;
  }
}
