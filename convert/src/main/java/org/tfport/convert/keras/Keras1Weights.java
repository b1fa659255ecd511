package org.tfport.convert.keras;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.tfport.core.Permutation;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasModel;
import org.tfport.formats.keras.KerasWeight;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Keras 1 weights under Keras 2 names and layouts. Keras 1 saved each layer's weights in the order
 * of its weight list, named after the layer ({@code dense_1_W}, {@code lstm_1_W_i}) and possibly
 * prefixed by a TensorFlow scope; like Keras 2's loader this goes by position, and names only serve
 * to catch recurrent gates saved in an order position would scramble. Conversions stay lazy: a
 * kernel is permuted or joined only when its bytes are written.
 *
 * <p>Theano's kernel flip is not done here: it depends on the backend that trained the model, which
 * Keras 1 files do not record, and {@link KerasToTfjs} applies it after this for files that say
 * {@code theano} (on the Keras 2 layout this produces, as Keras 2's loader did).
 */
final class Keras1Weights {
  /**
   * Keras 1 saved an LSTM's (W, U, b) triples gate by gate as i, c, f, o; Keras 2 joins the gates
   * as i, f, c, o. Listed here: the saved position of each gate, in Keras 2's order.
   */
  private static final int[] LSTM_GATES = {0, 2, 1, 3};

  /** Keras 1 saved a GRU's gates as z, r, h, the order Keras 2 joins them in. */
  private static final int[] GRU_GATES = {0, 1, 2};

  private Keras1Weights() {}

  static List<KerasWeight> of(KerasModel model, KerasLayerWeights stored) {
    ObjectNode layer = find(model.modelConfig(), stored.layerName());
    if (layer == null) {
      // No config to say what the weights are (weights of a layer the config does not list): pass
      // them on
      // under the layer's name, which is what TF.js would look for.
      return stored.weights();
    }
    String ordering = "theano".equals(model.backend()) ? "th" : "tf";
    return convert(model.source(), ordering, layer, stored.weights(), stored.layerName() + "/");
  }

  /**
   * The Keras 2 weights of one Keras 1 layer ({@code {class_name, config}}, as saved), each named
   * {@code prefix + weight}, e.g. {@code dense_1/kernel}.
   */
  static List<KerasWeight> convert(
      Path file, String defaultOrdering, JsonNode layer, List<KerasWeight> ws, String prefix) {
    String cls = layer.path("class_name").asString("");
    JsonNode cfg = layer.path("config");
    String name = cfg.path("name").asString("?");
    String ordering = cfg.path("dim_ordering").asString("default");
    if (!ordering.equals("th") && !ordering.equals("tf")) {
      ordering = defaultOrdering;
    }
    boolean bias = cfg.path("bias").asBoolean(true);
    List<KerasWeight> out = new ArrayList<>();
    switch (cls) {
      case "Dense", "TimeDistributedDense" -> {
        expect(file, name, cls, ws, bias ? 2 : 1);
        out.add(renamed(ws.get(0), prefix + "kernel"));
        addBias(out, ws, 1, prefix);
      }
      case "Convolution1D", "AtrousConvolution1D" -> {
        expect(file, name, cls, ws, bias ? 2 : 1);
        out.add(conv1dKernel(file, name, cls, ws.get(0), cfg, prefix + "kernel"));
        addBias(out, ws, 1, prefix);
      }
      case "Convolution2D", "AtrousConvolution2D", "Convolution3D", "Deconvolution2D" -> {
        expect(file, name, cls, ws, bias ? 2 : 1);
        int[] perm = kernelPermutation(cls, ordering);
        int rank = cls.equals("Convolution3D") ? 5 : 4;
        KerasWeight k = ws.get(0);
        if (k.shape().rank() != rank) {
          throw refuse(
              file, name, cls, "has a kernel of shape " + k.shape() + ", not rank " + rank);
        }
        out.add(
            perm == null ? renamed(k, prefix + "kernel") : permuted(k, prefix + "kernel", perm));
        addBias(out, ws, 1, prefix);
      }
      case "SeparableConvolution2D" -> {
        expect(file, name, cls, ws, bias ? 3 : 2);
        out.add(renamed(ws.get(0), prefix + "depthwise_kernel"));
        out.add(renamed(ws.get(1), prefix + "pointwise_kernel"));
        addBias(out, ws, 2, prefix);
      }
      case "Embedding" -> {
        expect(file, name, cls, ws, 1);
        out.add(renamed(ws.get(0), prefix + "embeddings"));
      }
      case "SimpleRNN" -> {
        expect(file, name, cls, ws, 3);
        out.add(renamed(ws.get(0), prefix + "kernel"));
        out.add(renamed(ws.get(1), prefix + "recurrent_kernel"));
        out.add(renamed(ws.get(2), prefix + "bias"));
      }
      case "LSTM", "GRU" -> {
        int[] gates = cls.equals("LSTM") ? LSTM_GATES : GRU_GATES;
        if (ws.size() == 3) {
          // consume_less='gpu' kept the gates joined already, in Keras 2's order.
          out.add(renamed(ws.get(0), prefix + "kernel"));
          out.add(renamed(ws.get(1), prefix + "recurrent_kernel"));
          out.add(renamed(ws.get(2), prefix + "bias"));
        } else {
          expect(file, name, cls, ws, 3 * gates.length);
          String[] names = {"kernel", "recurrent_kernel", "bias"};
          for (int part = 0; part < 3; part++) {
            List<KerasWeight> pieces = new ArrayList<>();
            for (int g : gates) {
              KerasWeight piece = ws.get(3 * g + part);
              checkGateName(
                  file, name, cls, piece, "WUb".charAt(part) + "_" + gateNames(cls).charAt(g));
              pieces.add(piece);
            }
            out.add(joined(file, name, cls, pieces, prefix + names[part]));
          }
        }
      }
      case "BatchNormalization" -> {
        expect(file, name, cls, ws, 4);
        out.add(renamed(ws.get(0), prefix + "gamma"));
        out.add(renamed(ws.get(1), prefix + "beta"));
        out.add(renamed(ws.get(2), prefix + "moving_mean"));
        // Named running_std, but Keras 1 (since 1.0) fed it to batch_normalization as the variance
        // and
        // updated it with the batch variance, so it is the moving variance as it is.
        out.add(renamed(ws.get(3), prefix + "moving_variance"));
      }
      case "PReLU" -> {
        expect(file, name, cls, ws, 1);
        out.add(renamed(ws.get(0), prefix + "alpha"));
      }
      case "TimeDistributed" ->
          out.addAll(convert(file, defaultOrdering, cfg.path("layer"), ws, prefix));
      case "Bidirectional" -> {
        if (ws.size() % 2 != 0) {
          throw refuse(
              file, name, cls, "has " + ws.size() + " weights, not a forward and a backward half");
        }
        JsonNode inner = cfg.path("layer");
        String innerName = inner.path("config").path("name").asString("?");
        int half = ws.size() / 2;
        out.addAll(
            convert(
                file,
                defaultOrdering,
                inner,
                ws.subList(0, half),
                prefix + "forward_" + innerName + "/"));
        out.addAll(
            convert(
                file,
                defaultOrdering,
                inner,
                ws.subList(half, ws.size()),
                prefix + "backward_" + innerName + "/"));
      }
      default -> {
        if (!ws.isEmpty()) {
          throw refuse(
              file, name, cls, "has " + ws.size() + " weights that tfport cannot map to Keras 2");
        }
      }
    }
    return out;
  }

  /** Keras 1's gate letters in saved order. */
  private static String gateNames(String cls) {
    return cls.equals("LSTM") ? "icfo" : "zrh";
  }

  /**
   * Position decides, as in Keras; but a name that spells out another gate ({@code lstm_1_W_f}
   * where {@code W_c} belongs) means the file was written in an order this would silently scramble.
   */
  private static void checkGateName(
      Path file, String name, String cls, KerasWeight w, String expected) {
    String n = w.name();
    if (n.matches(".*_[WUb]_[icfozrh]") && !n.endsWith("_" + expected)) {
      throw refuse(
          file,
          name,
          cls,
          "has weight '"
              + n
              + "' where Keras 1 keeps its "
              + expected
              + " weight;"
              + " the gates are stored in an order tfport does not know");
    }
  }

  /**
   * How a Keras 1 kernel's axes are reordered into Keras 2's ({@code new[i] = old[perm[i]]}), or
   * null when the layout is the same. Keras 1 kept {@code th} kernels as (out, in, spatial...);
   * Keras 2 always keeps (spatial..., in, out), and transposed convolutions (spatial..., out, in).
   */
  static int[] kernelPermutation(String cls, String ordering) {
    boolean th = ordering.equals("th");
    return switch (cls) {
      case "Convolution2D", "AtrousConvolution2D" -> th ? new int[] {2, 3, 1, 0} : null;
      case "Convolution3D" -> th ? new int[] {2, 3, 4, 1, 0} : null;
      case "Deconvolution2D" -> th ? new int[] {2, 3, 0, 1} : new int[] {0, 1, 3, 2};
      default -> null;
    };
  }

  /**
   * Keras 1.1+ stored a Conv1D kernel as a 2D one, (length, 1, in, out); Keras 1.0 as (out, in,
   * length, 1). Keras 2 keeps (length, in, out).
   */
  private static KerasWeight conv1dKernel(
      Path file, String name, String cls, KerasWeight k, JsonNode cfg, String newName) {
    long[] d = k.shape().dims();
    long length = cfg.path("filter_length").asLong(-1);
    long filters = cfg.path("nb_filter").asLong(-1);
    if (d.length == 4
        && d[1] == 1
        && (length < 0 || d[0] == length)
        && (filters < 0 || d[3] == filters)) {
      return new KerasWeight(
          newName,
          k.dtype(),
          Shape.of(d[0], d[2], d[3]),
          () -> TensorOps.reshape(k.data().get(), d[0], d[2], d[3]));
    }
    if (d.length == 4
        && d[3] == 1
        && (length < 0 || d[2] == length)
        && (filters < 0 || d[0] == filters)) {
      return new KerasWeight(
          newName,
          k.dtype(),
          Shape.of(d[2], d[1], d[0]),
          () ->
              TensorOps.reshape(
                  Permutation.transpose(k.data().get(), 2, 3, 1, 0), d[2], d[1], d[0]));
    }
    throw refuse(
        file,
        name,
        cls,
        "has a kernel of shape "
            + k.shape()
            + ", neither Keras 1 Conv1D layout"
            + " (filter_length, 1, input_dim, nb_filter) nor (nb_filter, input_dim, filter_length, 1)");
  }

  private static void addBias(List<KerasWeight> out, List<KerasWeight> ws, int at, String prefix) {
    if (ws.size() > at) {
      out.add(renamed(ws.get(at), prefix + "bias"));
    }
  }

  private static void expect(Path file, String name, String cls, List<KerasWeight> ws, int n) {
    if (ws.size() != n) {
      throw refuse(
          file,
          name,
          cls,
          "has "
              + ws.size()
              + " stored weights where its config implies "
              + n
              + "; the weights do not belong to this layer config");
    }
  }

  private static KerasWeight renamed(KerasWeight w, String name) {
    return new KerasWeight(name, w.dtype(), w.shape(), w.data());
  }

  private static KerasWeight permuted(KerasWeight w, String name, int[] perm) {
    long[] nd = Permutation.apply(w.shape().dims(), perm);
    return new KerasWeight(
        name, w.dtype(), Shape.of(nd), () -> Permutation.transpose(w.data().get(), perm));
  }

  private static KerasWeight joined(
      Path file, String name, String cls, List<KerasWeight> parts, String newName) {
    KerasWeight first = parts.getFirst();
    long[] d = first.shape().dims().clone();
    long last = 0;
    for (KerasWeight p : parts) {
      long[] pd = p.shape().dims();
      boolean same = pd.length == d.length && p.dtype() == first.dtype();
      for (int i = 0; same && i < d.length - 1; i++) {
        same = pd[i] == d[i];
      }
      if (!same || d.length == 0) {
        throw refuse(
            file,
            name,
            cls,
            "has gate weights of differing shapes ("
                + first.shape()
                + " and "
                + p.shape()
                + "), which cannot be joined");
      }
      last += pd[d.length - 1];
    }
    d[d.length - 1] = last;
    Function<KerasWeight, Tensor> read = p -> p.data().get();
    return new KerasWeight(
        newName,
        first.dtype(),
        Shape.of(d),
        () -> TensorOps.concatLast(parts.stream().map(read).toList()));
  }

  private static UnsupportedModelException refuse(Path file, String name, String cls, String why) {
    return new UnsupportedModelException(
        file + ": Keras 1 layer '" + name + "' (" + cls + ") " + why);
  }

  /**
   * The saved layer object ({@code class_name}, {@code config}) named {@code name}, at any depth.
   */
  private static ObjectNode find(JsonNode config, String name) {
    ObjectNode[] hit = new ObjectNode[1];
    KerasLayerWalk.walk(
        config,
        "",
        (layer, path) -> {
          if (hit[0] == null && name.equals(layer.path("config").path("name").asString(null))) {
            hit[0] = layer;
          }
        });
    return hit[0];
  }
}
