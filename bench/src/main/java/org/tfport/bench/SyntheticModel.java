package org.tfport.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.formats.keras.KerasH5Writer;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasWeight;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A Keras 2 Sequential MLP sized to a target number of weight bytes: {@code 784 -> H -> H -> H -> H
 * -> 1000 -> 10}, so a 220 MB model has three 64 MiB kernels, two of 12-16 MiB and a handful of
 * small biases. Weight values come from a seeded generator, so the converted shards can be checked
 * byte for byte without holding the model in memory.
 */
final class SyntheticModel {
  static final int INPUT = 784;
  private static final int PENULTIMATE = 1000;
  private static final int CLASSES = 10;
  private static final int HIDDEN_LAYERS = 4;

  /** One Dense layer. */
  record Dense(String name, int in, int out, String activation) {}

  /**
   * One stored weight: {@code dense_1/kernel}, its shape and the generator that makes its values.
   */
  record Weight(String name, long[] dims, long seed, float scale) {
    long elements() {
      long n = 1;
      for (long d : dims) {
        n *= d;
      }
      return n;
    }

    long bytes() {
      return elements() * 4;
    }

    Values values() {
      return new Values(seed, scale);
    }
  }

  /** The deterministic value stream of one weight, roughly Glorot-uniform. */
  static final class Values {
    private final SplittableRandom random;
    private final float scale;

    Values(long seed, float scale) {
      this.random = new SplittableRandom(seed);
      this.scale = scale;
    }

    float next() {
      return ((random.nextInt() >>> 8) * 0x1.0p-24f - 0.5f) * scale;
    }

    /** Fills the remaining space of {@code dst} (little-endian) with the next values. */
    void fill(ByteBuffer dst) {
      while (dst.remaining() >= 4) {
        dst.putFloat(next());
      }
    }
  }

  final int hidden;
  final List<Dense> layers;
  final List<Weight> weights;

  private SyntheticModel(int hidden) {
    this.hidden = hidden;
    List<Dense> ls = new ArrayList<>();
    int in = INPUT;
    for (int i = 0; i < HIDDEN_LAYERS; i++) {
      ls.add(new Dense(name(i), in, hidden, "relu"));
      in = hidden;
    }
    ls.add(new Dense(name(HIDDEN_LAYERS), in, PENULTIMATE, "relu"));
    ls.add(new Dense(name(HIDDEN_LAYERS + 1), PENULTIMATE, CLASSES, "softmax"));
    this.layers = List.copyOf(ls);
    List<Weight> ws = new ArrayList<>();
    for (Dense d : layers) {
      float limit = (float) Math.sqrt(6.0 / (d.in() + d.out()));
      ws.add(
          new Weight(
              d.name() + "/kernel",
              new long[] {d.in(), d.out()},
              seed(d.name() + "/kernel"),
              2 * limit));
      ws.add(new Weight(d.name() + "/bias", new long[] {d.out()}, seed(d.name() + "/bias"), 0.1f));
    }
    this.weights = List.copyOf(ws);
  }

  private static String name(int i) {
    return i == 0 ? "dense" : "dense_" + i;
  }

  private static long seed(String name) {
    return 0x7f4a7c15L * 31 + name.hashCode();
  }

  /**
   * The model whose weights come closest to {@code bytes} (hidden width solved from the parameter
   * count).
   */
  static SyntheticModel ofWeightBytes(long bytes) {
    // params(H) = HIDDEN-1 H^2 + (INPUT + PENULTIMATE + HIDDEN) H + PENULTIMATE*CLASSES +
    // PENULTIMATE + CLASSES
    double a = HIDDEN_LAYERS - 1;
    double b = INPUT + PENULTIMATE + HIDDEN_LAYERS;
    double c = (double) PENULTIMATE * CLASSES + PENULTIMATE + CLASSES - bytes / 4.0;
    int h = (int) Math.round((-b + Math.sqrt(b * b - 4 * a * c)) / (2 * a));
    return new SyntheticModel(Math.max(8, h));
  }

  long weightBytes() {
    return weights.stream().mapToLong(Weight::bytes).sum();
  }

  long params() {
    return weightBytes() / 4;
  }

  String describe() {
    StringBuilder sb = new StringBuilder("Sequential MLP ").append(INPUT);
    for (Dense d : layers) {
      sb.append("-").append(d.out());
    }
    long biggest = weights.stream().mapToLong(Weight::bytes).max().orElse(0);
    return sb.append(", ")
        .append(String.format("%,d", params()))
        .append(" float32 parameters in ")
        .append(weights.size())
        .append(" weights (largest ")
        .append(Fmt.mib(biggest))
        .append(")")
        .toString();
  }

  /** Writes the model as {@code model.save('x.h5')} from Keras 2.15 would. */
  void writeH5(Path file) {
    List<KerasLayerWeights> lw = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      Dense d = layers.get(i);
      lw.add(
          new KerasLayerWeights(
              d.name(), List.of(keras(weights.get(2 * i)), keras(weights.get(2 * i + 1)))));
    }
    KerasH5Writer.write(file, "2.15.0", "tensorflow", config(), trainingConfig(), lw);
  }

  /** The values are made only when the writer asks, one weight at a time. */
  private static KerasWeight keras(Weight w) {
    Shape shape = Shape.of(w.dims());
    return new KerasWeight(
        w.name(),
        DType.FLOAT32,
        shape,
        () -> {
          ByteBuffer b =
              ByteBuffer.allocate(Math.toIntExact(w.bytes())).order(ByteOrder.LITTLE_ENDIAN);
          w.values().fill(b);
          return new Tensor(DType.FLOAT32, shape, b.flip());
        });
  }

  JsonNode config() {
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put("class_name", "Sequential");
    ObjectNode cfg = root.putObject("config");
    cfg.put("name", "bench_mlp");
    ArrayNode ls = cfg.putArray("layers");
    ObjectNode input = ls.addObject();
    input.put("class_name", "InputLayer");
    ObjectNode ic = input.putObject("config");
    ic.putArray("batch_input_shape").addNull().add(INPUT);
    ic.put("dtype", "float32");
    ic.put("sparse", false);
    ic.put("ragged", false);
    ic.put("name", "input_1");
    for (Dense d : layers) {
      ObjectNode l = ls.addObject();
      l.put("class_name", "Dense");
      ObjectNode c = l.putObject("config");
      c.put("name", d.name());
      c.put("trainable", true);
      c.put("dtype", "float32");
      c.put("units", d.out());
      c.put("activation", d.activation());
      c.put("use_bias", true);
      ObjectNode ki = c.putObject("kernel_initializer");
      ki.put("class_name", "GlorotUniform");
      ki.putObject("config").putNull("seed");
      ObjectNode bi = c.putObject("bias_initializer");
      bi.put("class_name", "Zeros");
      bi.putObject("config");
      for (String k :
          List.of(
              "kernel_regularizer",
              "bias_regularizer",
              "activity_regularizer",
              "kernel_constraint",
              "bias_constraint")) {
        c.putNull(k);
      }
    }
    return root;
  }

  private static JsonNode trainingConfig() {
    return Json.MAPPER.readTree(
        """
        {"loss": "sparse_categorical_crossentropy", "metrics": [[{"class_name": "MeanMetricWrapper",
          "config": {"name": "accuracy", "dtype": "float32", "fn": "sparse_categorical_accuracy"}}]],
         "weighted_metrics": null, "loss_weights": null,
         "optimizer_config": {"class_name": "Custom>Adam", "config": {"name": "Adam", "learning_rate": 0.001,
           "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": false}}}
        """);
  }

  /**
   * Compares a weight's expected bytes with the next bytes of {@code shards}; returns the offset of
   * the first difference within the weight, or -1 when identical.
   */
  static long compare(Weight w, InputStream shards) throws IOException {
    Values v = w.values();
    int chunk = 1 << 20;
    ByteBuffer expected = ByteBuffer.allocate(chunk).order(ByteOrder.LITTLE_ENDIAN);
    byte[] got = new byte[chunk];
    long left = w.bytes();
    long offset = 0;
    while (left > 0) {
      int n = (int) Math.min(chunk, left);
      expected.clear().limit(n);
      v.fill(expected);
      int read = shards.readNBytes(got, 0, n);
      int mismatch = Arrays.mismatch(expected.array(), 0, n, got, 0, read);
      if (mismatch >= 0) {
        return offset + mismatch;
      }
      left -= n;
      offset += n;
    }
    return -1;
  }
}
