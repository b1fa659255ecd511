package org.tfport.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.formats.keras.KerasH5Writer;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasWeight;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** Small Keras Sequential models written by the tests, with seeded weights. */
final class TestModels {
  private final List<ObjectNode> layers = new ArrayList<>();
  private final java.util.Map<String, List<String>> inbound = new java.util.HashMap<>();
  private final List<KerasLayerWeights> weights = new ArrayList<>();
  private final long[] inputShape;
  private final SplittableRandom rng;

  /** The data_format of the convolution, pooling and flatten layers added from here on. */
  private String format = "channels_last";

  TestModels(long seed, long... inputShape) {
    this.inputShape = inputShape;
    this.rng = new SplittableRandom(seed);
  }

  /**
   * Convolutions, pooling, flatten and batch normalization added after this read channels_first
   * data; the weights (drawn in the same order) are those of the same model in channels_last.
   */
  TestModels channelsFirst() {
    format = "channels_first";
    return this;
  }

  /** A layer of {@code cls} with {@code config} (JSON object body) and weights (name, dims...). */
  TestModels layer(String cls, String name, String config, Object... weightsAndDims) {
    ObjectNode l = Json.MAPPER.createObjectNode();
    l.put("class_name", cls);
    ObjectNode cfg = (ObjectNode) Json.MAPPER.readTree("{" + config + "}");
    cfg.put("name", name);
    cfg.put("trainable", true);
    cfg.put("dtype", "float32");
    l.set("config", cfg);
    layers.add(l);
    List<KerasWeight> ws = new ArrayList<>();
    for (int i = 0; i < weightsAndDims.length; i += 2) {
      String wn = name + "/" + weightsAndDims[i];
      long[] dims = (long[]) weightsAndDims[i + 1];
      float[] v = new float[Math.toIntExact(Shape.of(dims).size())];
      for (int k = 0; k < v.length; k++) {
        v[k] =
            wn.endsWith("moving_variance") || wn.endsWith("gamma")
                ? (float) (0.5 + rng.nextDouble())
                : (float) (rng.nextDouble() - 0.5);
      }
      Tensor t = Tensor.ofFloats(Shape.of(dims), v);
      ws.add(new KerasWeight(wn, t.dtype(), t.shape(), () -> t));
    }
    weights.add(new KerasLayerWeights(name, ws));
    return this;
  }

  TestModels dense(String name, long in, long units, String activation) {
    return layer(
        "Dense",
        name,
        "\"units\": " + units + ", \"activation\": \"" + activation + "\", \"use_bias\": true",
        "kernel",
        new long[] {in, units},
        "bias",
        new long[] {units});
  }

  TestModels conv(
      String name, long in, long filters, int k, int stride, String padding, String act) {
    return layer(
        "Conv2D",
        name,
        ("\"filters\": %d, \"kernel_size\": [%d, %d], \"strides\": [%d, %d], \"padding\": \"%s\","
                + " \"data_format\": \""
                + format
                + "\", \"dilation_rate\": [1, 1], \"activation\": \"%s\","
                + " \"use_bias\": true")
            .formatted(filters, k, k, stride, stride, padding, act),
        "kernel",
        new long[] {k, k, in, filters},
        "bias",
        new long[] {filters});
  }

  private String window(int k, int stride, String padding, String act) {
    return ("\"kernel_size\": [%d, %d], \"strides\": [%d, %d], \"padding\": \"%s\","
            + " \"data_format\": \""
            + format
            + "\", \"dilation_rate\": [1, 1],"
            + " \"activation\": \"%s\", \"use_bias\": true")
        .formatted(k, k, stride, stride, padding, act);
  }

  TestModels depthwise(
      String name, long in, int mult, int k, int stride, String padding, String act) {
    return layer(
        "DepthwiseConv2D",
        name,
        "\"depth_multiplier\": " + mult + ", " + window(k, stride, padding, act),
        "depthwise_kernel",
        new long[] {k, k, in, mult},
        "bias",
        new long[] {in * mult});
  }

  TestModels separable(
      String name, long in, int mult, long filters, int k, int stride, String padding, String act) {
    return layer(
        "SeparableConv2D",
        name,
        "\"filters\": "
            + filters
            + ", \"depth_multiplier\": "
            + mult
            + ", "
            + window(k, stride, padding, act),
        "depthwise_kernel",
        new long[] {k, k, in, mult},
        "pointwise_kernel",
        new long[] {1, 1, in * mult, filters},
        "bias",
        new long[] {filters});
  }

  TestModels convTranspose(
      String name, long in, long filters, int k, int stride, String padding, String act) {
    return layer(
        "Conv2DTranspose",
        name,
        "\"filters\": "
            + filters
            + ", \"output_padding\": null, "
            + window(k, stride, padding, act),
        "kernel",
        new long[] {k, k, filters, in},
        "bias",
        new long[] {filters});
  }

  TestModels batchNorm(String name, long channels) {
    return layer(
        "BatchNormalization",
        name,
        "\"axis\": "
            + (format.equals("channels_first") ? 1 : -1)
            + ", \"momentum\": 0.9, \"epsilon\": 0.001, \"center\": true, \"scale\": true",
        "gamma",
        new long[] {channels},
        "beta",
        new long[] {channels},
        "moving_mean",
        new long[] {channels},
        "moving_variance",
        new long[] {channels});
  }

  TestModels pool(String cls, String name) {
    return layer(
        cls,
        name,
        "\"pool_size\": [2, 2], \"strides\": [2, 2], \"padding\": \"valid\", \"data_format\": \""
            + format
            + "\"");
  }

  /** Pooling with its own window, stride and padding (overlapping or padded windows). */
  TestModels pool(String cls, String name, int size, int stride, String padding) {
    return layer(
        cls,
        name,
        ("\"pool_size\": [%d, %d], \"strides\": [%d, %d], \"padding\": \"%s\","
                + " \"data_format\": \""
                + format
                + "\"")
            .formatted(size, size, stride, stride, padding));
  }

  TestModels flatten() {
    return layer("Flatten", "flatten", "\"data_format\": \"" + format + "\"");
  }

  TestModels lstm(String name, long features, long units) {
    return layer(
        "LSTM",
        name,
        ("\"units\": %d, \"activation\": \"tanh\", \"recurrent_activation\": \"sigmoid\","
                + " \"use_bias\": true, \"return_sequences\": false, \"return_state\": false,"
                + " \"go_backwards\": false, \"stateful\": false, \"unroll\": false, \"unit_forget_bias\": true")
            .formatted(units),
        "kernel",
        new long[] {features, 4 * units},
        "recurrent_kernel",
        new long[] {units, 4 * units},
        "bias",
        new long[] {4 * units});
  }

  private static String recurrentConfig(
      String cls, long units, boolean sequences, boolean resetAfter) {
    return ("\"units\": %d, \"activation\": \"tanh\", \"recurrent_activation\": \"sigmoid\","
                + " \"use_bias\": true, \"return_sequences\": %b, \"return_state\": false,"
                + " \"go_backwards\": false, \"stateful\": false, \"unroll\": false")
            .formatted(units, sequences)
        + (cls.equals("GRU") ? ", \"reset_after\": " + resetAfter : ", \"unit_forget_bias\": true");
  }

  /**
   * A GRU; TF.js runs only reset_after false (one bias per gate), Keras 2 defaults to true (input
   * and recurrent biases, [2, 3·units]).
   */
  TestModels gru(String name, long features, long units, boolean sequences, boolean resetAfter) {
    return layer(
        "GRU",
        name,
        recurrentConfig("GRU", units, sequences, resetAfter),
        "kernel",
        new long[] {features, 3 * units},
        "recurrent_kernel",
        new long[] {units, 3 * units},
        "bias",
        resetAfter ? new long[] {2, 3 * units} : new long[] {3 * units});
  }

  /** Bidirectional over an LSTM or GRU, each direction's weights under its own prefix. */
  TestModels bidirectional(
      String name, String cls, long features, long units, boolean sequences, String merge) {
    long g = cls.equals("GRU") ? 3 : 4;
    String inner = cls.toLowerCase(java.util.Locale.ROOT);
    Object[] weights = new Object[12];
    int k = 0;
    for (String dir : new String[] {"forward_", "backward_"}) {
      weights[k++] = dir + inner + "/kernel";
      weights[k++] = new long[] {features, g * units};
      weights[k++] = dir + inner + "/recurrent_kernel";
      weights[k++] = new long[] {units, g * units};
      weights[k++] = dir + inner + "/bias";
      weights[k++] = new long[] {g * units};
    }
    return layer(
        "Bidirectional",
        name,
        ("\"merge_mode\": \"%s\", \"layer\": {\"class_name\": \"%s\", \"config\": {\"name\": \"%s\","
                + " \"trainable\": true, \"dtype\": \"float32\", %s}}")
            .formatted(merge, cls, inner, recurrentConfig(cls, units, sequences, false)),
        weights);
  }

  /**
   * LocallyConnected1D ({@code spatial} one length) or 2D over an input of {@code spatial} sizes
   * and {@code in} channels, valid padding, Keras' implementation 1 weights: kernel [positions,
   * window·in, filters], bias [outputs..., filters].
   */
  TestModels locallyConnected(
      String name, long[] spatial, long in, long filters, int k, int stride, String format) {
    int n = spatial.length;
    long positions = 1;
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = (spatial[i] - k) / stride + 1;
      positions *= out[i];
    }
    long window = n == 2 ? (long) k * k : k;
    long[] bias = new long[n + 1];
    boolean first = format.equals("channels_first");
    for (int i = 0; i < n; i++) {
      bias[first ? i + 1 : i] = out[i];
    }
    bias[first ? 0 : n] = filters;
    String ks = n == 2 ? "[%d, %d]".formatted(k, k) : "[%d]".formatted(k);
    String ss = n == 2 ? "[%d, %d]".formatted(stride, stride) : "[%d]".formatted(stride);
    return layer(
        "LocallyConnected" + n + "D",
        name,
        ("\"filters\": %d, \"kernel_size\": %s, \"strides\": %s, \"padding\": \"valid\","
                + " \"data_format\": \"%s\", \"activation\": \"tanh\", \"use_bias\": true,"
                + " \"implementation\": 1")
            .formatted(filters, ks, ss, format),
        "kernel",
        new long[] {positions, window * in, filters},
        "bias",
        bias);
  }

  /** ConvLSTM2D, Keras' kernel [k, k, in, 4·filters] and recurrent kernel [k, k, filters, 4·f]. */
  TestModels convLstm(
      String name, long in, long filters, int k, int stride, String padding, boolean sequences) {
    return layer(
        "ConvLSTM2D",
        name,
        ("\"filters\": %d, \"kernel_size\": [%d, %d], \"strides\": [%d, %d], \"padding\":"
                + " \"%s\", \"data_format\": \"channels_last\", \"dilation_rate\": [1, 1],"
                + " \"activation\": \"tanh\", \"recurrent_activation\": \"sigmoid\","
                + " \"use_bias\": true, \"unit_forget_bias\": true, \"return_sequences\": %b,"
                + " \"return_state\": false, \"go_backwards\": false, \"stateful\": false,"
                + " \"dropout\": 0.0, \"recurrent_dropout\": 0.0")
            .formatted(filters, k, k, stride, stride, padding, sequences),
        "kernel",
        new long[] {k, k, in, 4 * filters},
        "recurrent_kernel",
        new long[] {k, k, filters, 4 * filters},
        "bias",
        new long[] {4 * filters});
  }

  /** The last layer's inputs, for {@link #writeFunctional} (default: the layer before it). */
  TestModels from(String... layerNames) {
    String last = layers.get(layers.size() - 1).path("config").path("name").asString();
    inbound.put(last, List.of(layerNames));
    return this;
  }

  /** The layers as a functional model of input {@code input} and the given outputs. */
  Path writeFunctional(Path file, String... outputs) {
    ObjectNode model = Json.MAPPER.createObjectNode();
    model.put("class_name", "Functional");
    ObjectNode cfg = model.putObject("config");
    cfg.put("name", "model");
    ArrayNode ls = cfg.putArray("layers");
    ObjectNode input = ls.addObject();
    input.put("class_name", "InputLayer");
    input.put("name", "input");
    input.putArray("inbound_nodes");
    ObjectNode ic = input.putObject("config");
    ArrayNode shape = ic.putArray("batch_input_shape");
    shape.addNull();
    for (long d : inputShape) {
      shape.add(d);
    }
    ic.put("dtype", "float32");
    ic.put("name", "input");
    String previous = "input";
    for (ObjectNode l : layers) {
      ObjectNode copy = l.deepCopy();
      String name = l.path("config").path("name").asString();
      copy.put("name", name);
      ArrayNode call = copy.putArray("inbound_nodes").addArray();
      for (String in : inbound.getOrDefault(name, List.of(previous))) {
        ArrayNode ref = call.addArray();
        ref.add(in).add(0).add(0);
        ref.addObject();
      }
      ls.add(copy);
      previous = name;
    }
    cfg.putArray("input_layers").addArray().add("input").add(0).add(0);
    ArrayNode outs = cfg.putArray("output_layers");
    for (String o : outputs) {
      outs.addArray().add(o).add(0).add(0);
    }
    KerasH5Writer.write(file, "2.15.0", "tensorflow", model, null, weights);
    return file;
  }

  Path write(Path file) {
    ObjectNode model = Json.MAPPER.createObjectNode();
    model.put("class_name", "Sequential");
    ObjectNode cfg = model.putObject("config");
    cfg.put("name", "sequential");
    ArrayNode ls = cfg.putArray("layers");
    ObjectNode input = ls.addObject();
    input.put("class_name", "InputLayer");
    ObjectNode ic = input.putObject("config");
    ArrayNode shape = ic.putArray("batch_input_shape");
    shape.addNull();
    for (long d : inputShape) {
      shape.add(d);
    }
    ic.put("dtype", "float32");
    ic.put("name", "input");
    layers.forEach(ls::add);
    KerasH5Writer.write(file, "2.15.0", "tensorflow", model, null, weights);
    return file;
  }

  static Tensor uniform(long seed, long... shape) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[Math.toIntExact(Shape.of(shape).size())];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return Tensor.ofFloats(Shape.of(shape), v);
  }

  /** One-hot rows of {@code classes}, for class {@code (i·7 + seed) mod classes} of row i. */
  static Tensor oneHot(int rows, int classes, int seed) {
    float[] v = new float[rows * classes];
    for (int i = 0; i < rows; i++) {
      v[i * classes + (i * 7 + seed) % classes] = 1;
    }
    return Tensor.ofFloats(Shape.of(rows, classes), v);
  }

  static Tensor classIds(int rows, int classes, int seed) {
    float[] v = new float[rows];
    for (int i = 0; i < rows; i++) {
      v[i] = (i * 7 + seed) % classes;
    }
    return Tensor.ofFloats(Shape.of(rows), v);
  }
}
