package org.tfport.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.graph.keras.KerasTraining;
import tools.jackson.databind.JsonNode;

/**
 * Trains a Keras ({@code .h5}, {@code .keras}) or TF.js layers model in the JVM, step for step as
 * TF.js' {@code model.fit} does: per batch the forward pass and loss, their gradients (the backward
 * graph run by the runtime's kernels), then the optimizer's update of every trainable weight.
 *
 * <pre>{@code
 * try (Trainer t = Trainer.open(Path.of("model.h5"), Trainer.Settings.of("adam", "categorical_crossentropy"))) {
 *   History h = t.fit(Map.of("x", x), y, Trainer.FitOptions.of(3, 32));
 *   t.saveH5(Path.of("trained.h5"));
 * }
 * }</pre>
 */
public final class Trainer implements AutoCloseable {
  /**
   * What to train with; null loss, optimizer or metrics (NaN learning rate) come from the model's
   * {@code training_config}, else the optimizer's default.
   *
   * @param loss the loss of every output, unless {@code outputLosses} names the output's own
   * @param dropout whether Dropout layers drop (with {@link FitOptions#seed()}); TF.js comparisons
   *     keep it off
   * @param frozenLayers layers whose weights stay as they are
   * @param threads the runtime's threads (0: its default)
   * @param outputLosses per output name, its loss (a model of several outputs; null: none)
   * @param lossWeights per output name, the weight of its loss in the total (missing: 1)
   */
  public record Settings(
      String optimizer,
      double learningRate,
      String loss,
      List<String> metrics,
      boolean dropout,
      Set<String> frozenLayers,
      int threads,
      Map<String, String> outputLosses,
      Map<String, Double> lossWeights) {
    public Settings {
      metrics = metrics == null ? null : List.copyOf(metrics);
      frozenLayers = frozenLayers == null ? Set.of() : Set.copyOf(frozenLayers);
      outputLosses = outputLosses == null ? null : Map.copyOf(outputLosses);
      lossWeights = lossWeights == null ? null : Map.copyOf(lossWeights);
    }

    public Settings(
        String optimizer,
        double learningRate,
        String loss,
        List<String> metrics,
        boolean dropout,
        Set<String> frozenLayers,
        int threads) {
      this(optimizer, learningRate, loss, metrics, dropout, frozenLayers, threads, null, null);
    }

    public static Settings of(String optimizer, String loss) {
      return new Settings(optimizer, Double.NaN, loss, null, false, Set.of(), 0);
    }

    public Settings withLearningRate(double lr) {
      return new Settings(
          optimizer, lr, loss, metrics, dropout, frozenLayers, threads, outputLosses, lossWeights);
    }

    public Settings withMetrics(List<String> m) {
      return new Settings(
          optimizer,
          learningRate,
          loss,
          m,
          dropout,
          frozenLayers,
          threads,
          outputLosses,
          lossWeights);
    }

    public Settings withDropout(boolean on) {
      return new Settings(
          optimizer,
          learningRate,
          loss,
          metrics,
          on,
          frozenLayers,
          threads,
          outputLosses,
          lossWeights);
    }

    public Settings withFrozenLayers(Set<String> layers) {
      return new Settings(
          optimizer,
          learningRate,
          loss,
          metrics,
          dropout,
          layers,
          threads,
          outputLosses,
          lossWeights);
    }

    public Settings withThreads(int n) {
      return new Settings(
          optimizer,
          learningRate,
          loss,
          metrics,
          dropout,
          frozenLayers,
          n,
          outputLosses,
          lossWeights);
    }

    /** Each output's own loss and the weights of the losses in the total, by output name. */
    public Settings withOutputLosses(Map<String, String> losses, Map<String, Double> weights) {
      return new Settings(
          optimizer, learningRate, loss, metrics, dropout, frozenLayers, threads, losses, weights);
    }
  }

  /**
   * How to fit: {@code validationSplit} holds out the last fraction of the samples (before any
   * shuffling), as Keras and TF.js do.
   */
  public record FitOptions(
      int epochs,
      int batchSize,
      boolean shuffle,
      long seed,
      double validationSplit,
      List<Callback> callbacks) {
    public FitOptions {
      if (epochs < 0 || batchSize < 1) {
        throw new UsageException("epochs must be at least 0 and the batch size at least 1");
      }
      if (!(validationSplit >= 0 && validationSplit < 1)) {
        throw new UsageException("the validation split must be in [0, 1), got " + validationSplit);
      }
      callbacks = List.copyOf(callbacks);
    }

    /** Unshuffled, no validation, no callbacks. */
    public static FitOptions of(int epochs, int batchSize) {
      return new FitOptions(epochs, batchSize, false, 0, 0, List.of());
    }
  }

  /** A metric of one output, logged under {@code key}. */
  private record OutputMetric(int output, Metric metric, String key) {}

  private final ModelSource source;
  private final List<Loss> losses;
  private final double[] lossWeights;
  private final Optimizer optimizer;
  private final List<OutputMetric> metrics;
  private final KerasTraining.Options options;
  private final int threads;
  private final List<KerasTraining.Variable> variables;
  private final float[][] values;
  private final List<Optimizer.Slots> slots = new ArrayList<>();
  private StepGraph train;
  private StepGraph eval;

  private Trainer(ModelSource source, Settings s) {
    this.source = source;
    JsonNode tc = source.trainingConfig();
    this.optimizer =
        s.optimizer() != null
            ? Optimizer.of(s.optimizer(), s.learningRate())
            : TrainingConfig.optimizer(tc, s.learningRate());
    this.options = new KerasTraining.Options(true, s.dropout(), s.frozenLayers());
    this.threads = s.threads();
    KerasTraining.Graph built = source.build(options);
    List<String> outputs = built.model().outputs();
    this.losses = losses(s, tc, outputs);
    this.lossWeights = lossWeights(s, tc, outputs);
    this.train = new StepGraph(built, losses, lossWeights, true, threads);
    this.variables = train.built.variables();
    this.values = new float[variables.size()][];
    for (int i = 0; i < values.length; i++) {
      values[i] = variables.get(i).initial().toFloatArray();
      slots.add(variables.get(i).trainable() ? optimizer.slots(values[i].length) : null);
    }
    List<String> names = s.metrics() != null ? s.metrics() : TrainingConfig.metrics(tc);
    List<OutputMetric> ms = new ArrayList<>();
    for (int k = 0; k < outputs.size(); k++) {
      long[] pred = train.targets.get(k).predShape();
      for (String m : names) {
        Metric metric = Metric.of(m, losses.get(k), pred[pred.length - 1]);
        String key = outputs.size() == 1 ? metric.key() : outputs.get(k) + "_" + metric.key();
        ms.add(new OutputMetric(k, metric, key));
      }
    }
    this.metrics = List.copyOf(ms);
  }

  /** Per output, its loss: its own from the settings or training config, else the common one. */
  private List<Loss> losses(Settings s, JsonNode tc, List<String> outputs) {
    Map<String, String> own =
        s.outputLosses() != null ? s.outputLosses() : TrainingConfig.outputLosses(tc, outputs);
    if (own != null) {
      for (String k : own.keySet()) {
        if (!outputs.contains(k)) {
          throw new UsageException(
              source.path + ": the model has no output '" + k + "'; its outputs are " + outputs);
        }
      }
    }
    String common = s.loss() != null ? s.loss() : TrainingConfig.loss(tc);
    List<Loss> out = new ArrayList<>();
    for (String o : outputs) {
      String name = own != null && own.containsKey(o) ? own.get(o) : common;
      if (name == null) {
        throw new UsageException(
            source.path
                + ": no loss for output '"
                + o
                + "' (the model has no training config naming one); give Trainer.Settings.loss");
      }
      out.add(Loss.of(name));
    }
    return List.copyOf(out);
  }

  private double[] lossWeights(Settings s, JsonNode tc, List<String> outputs) {
    Map<String, Double> w =
        s.lossWeights() != null ? s.lossWeights() : TrainingConfig.lossWeights(tc, outputs);
    if (w == null) {
      return null;
    }
    double[] out = new double[outputs.size()];
    for (int k = 0; k < out.length; k++) {
      out[k] = w.getOrDefault(outputs.get(k), 1.0);
    }
    for (String k : w.keySet()) {
      if (!outputs.contains(k)) {
        throw new UsageException(
            source.path + ": loss weight for '" + k + "', not an output of " + outputs);
      }
    }
    return out;
  }

  /**
   * Opens a model file ({@code .h5}, {@code .keras}, a layers {@code model.json} or its folder).
   */
  public static Trainer open(Path model, Settings settings) {
    ModelSource src = ModelSource.open(model);
    try {
      return new Trainer(src, settings);
    } catch (RuntimeException e) {
      src.close();
      throw e;
    }
  }

  /** The loss of the (first) output. */
  public Loss loss() {
    return losses.get(0);
  }

  /** Per model output, its loss. */
  public List<Loss> losses() {
    return losses;
  }

  /** The model's output names (their layers'), in order. */
  public List<String> outputs() {
    return train.built.model().outputs();
  }

  public Optimizer optimizer() {
    return optimizer;
  }

  public List<Metric> metrics() {
    return metrics.stream().map(OutputMetric::metric).toList();
  }

  /** The model's input names, in order. */
  public List<String> inputs() {
    return train.inputs;
  }

  /**
   * Trains on {@code x} (by input name; one array may be unnamed for a model of one input) and
   * targets {@code y}.
   *
   * @throws TfportException naming the input whose data does not fit, or the epoch and batch whose
   *     loss is not finite
   */
  public History fit(Map<String, Tensor> x, Tensor y, FitOptions o) {
    return fit(x, Map.of("", y), o);
  }

  /**
   * Trains a model of one or several outputs on {@code x} and targets {@code y}, both by name (one
   * unnamed array each for a model of one input or one output). The logged loss is the weighted
   * sum; with several outputs, each output's own loss is logged as {@code NAME_loss} and its
   * metrics as {@code NAME_metric}, as TF.js names them.
   */
  public History fit(Map<String, Tensor> x, Map<String, Tensor> y, FitOptions o) {
    Data all = data(x, y);
    Data fitData = all;
    Data val = null;
    if (o.validationSplit() > 0) {
      int split = (int) Math.floor(all.samples() * (1 - o.validationSplit()));
      if (split <= 0 || split >= all.samples()) {
        throw new UsageException(
            source.path
                + ": a validation split of "
                + o.validationSplit()
                + " leaves no samples on one side of "
                + all.samples());
      }
      fitData = all.slice(0, split);
      val = all.slice(split, all.samples());
    }
    SplittableRandom rng = new SplittableRandom(o.seed());
    List<Map<String, Double>> logs = new ArrayList<>();
    int[] order = new int[fitData.samples()];
    for (int epoch = 0; epoch < o.epochs(); epoch++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      if (o.shuffle()) {
        for (int i = order.length - 1; i > 0; i--) {
          int j = rng.nextInt(i + 1);
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
      }
      double[] lossSums = new double[1 + losses.size()];
      double[] metricSums = new double[metrics.size()];
      int batch = 0;
      for (int from = 0; from < order.length; from += o.batchSize(), batch++) {
        int to = Math.min(order.length, from + o.batchSize());
        Map<String, Tensor> out = run(train, fitData, order, from, to, rng);
        float l = out.get(StepGraph.LOSS).toFloatArray()[0];
        if (!Float.isFinite(l)) {
          throw new TfportException(
              source.path
                  + ": the loss is "
                  + l
                  + " at epoch "
                  + (epoch + 1)
                  + ", batch "
                  + (batch + 1)
                  + "; lower the learning rate or check the data for NaN or huge values");
        }
        addLosses(lossSums, out, to - from);
        addMetrics(metricSums, out, fitData, order, from, to);
        apply(out);
      }
      Map<String, Double> epochLog = log(lossSums, metricSums, order.length);
      if (val != null) {
        Map<String, Double> v = evaluate(val, o.batchSize());
        v.forEach((k, d) -> epochLog.put("val_" + k, d));
      }
      logs.add(epochLog);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      boolean go = true;
      for (Callback c : o.callbacks()) {
        go &= c.onEpochEnd(epoch, epochLog, ms);
      }
      if (!go) {
        break;
      }
    }
    return History.of(logs);
  }

  /** The loss and metrics on {@code x}, {@code y}, with layers in inference mode. */
  public Map<String, Double> evaluate(Map<String, Tensor> x, Tensor y, int batchSize) {
    return evaluate(data(x, Map.of("", y)), batchSize);
  }

  /** As above for a model of several outputs, targets by output name. */
  public Map<String, Double> evaluate(Map<String, Tensor> x, Map<String, Tensor> y, int batchSize) {
    return evaluate(data(x, y), batchSize);
  }

  private void addLosses(double[] sums, Map<String, Tensor> out, int rows) {
    sums[0] += (double) out.get(StepGraph.LOSS).toFloatArray()[0] * rows;
    for (int k = 0; k < losses.size(); k++) {
      sums[1 + k] += (double) out.get(StepGraph.loss(k)).toFloatArray()[0] * rows;
    }
  }

  private Map<String, Double> log(double[] lossSums, double[] metricSums, int samples) {
    Map<String, Double> r = new LinkedHashMap<>();
    double n = Math.max(1, samples);
    r.put("loss", lossSums[0] / n);
    List<String> outputs = outputs();
    if (outputs.size() > 1) {
      for (int k = 0; k < outputs.size(); k++) {
        r.put(outputs.get(k) + "_loss", lossSums[1 + k] / n);
      }
    }
    for (int m = 0; m < metrics.size(); m++) {
      r.put(metrics.get(m).key(), metricSums[m] / n);
    }
    return r;
  }

  private Data data(Map<String, Tensor> x, Map<String, Tensor> y) {
    List<org.tfport.runtime.TensorSpec> specs = new ArrayList<>();
    for (String in : train.inputs) {
      org.tfport.core.graph.Node p = train.built.model().graph().node(in);
      long[] s = ((org.tfport.core.graph.AttrValue.Shape) p.attr("shape")).value().dims();
      specs.add(
          new org.tfport.runtime.TensorSpec(
              in, in, org.tfport.core.graph.DataTypes.toDType(p.typeAttr("dtype")), s));
    }
    return Data.of(source.path.toString(), specs, x, y, train.targets);
  }

  private Map<String, Double> evaluate(Data d, int batchSize) {
    if (eval == null) {
      eval = new StepGraph(source.build(options.inference()), losses, lossWeights, false, threads);
    }
    int[] order = new int[d.samples()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    double[] lossSums = new double[1 + losses.size()];
    double[] metricSums = new double[metrics.size()];
    for (int from = 0; from < order.length; from += batchSize) {
      int to = Math.min(order.length, from + batchSize);
      Map<String, Tensor> out = run(eval, d, order, from, to, null);
      addLosses(lossSums, out, to - from);
      addMetrics(metricSums, out, d, order, from, to);
    }
    return log(lossSums, metricSums, d.samples());
  }

  private Map<String, Tensor> run(
      StepGraph g, Data d, int[] order, int from, int to, SplittableRandom rng) {
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    for (int i = 0; i < g.inputs.size(); i++) {
      feeds.put(g.inputs.get(i), Data.rows(d.xs().get(i), order, from, to));
    }
    for (int k = 0; k < d.ys().size(); k++) {
      feeds.put(StepGraph.y(k), Data.rows(d.ys().get(k), order, from, to));
    }
    for (int i = 0; i < variables.size(); i++) {
      feeds.put(
          g.built.variables().get(i).node(),
          Tensor.ofFloats(variables.get(i).initial().shape(), values[i]));
    }
    for (KerasTraining.Noise n : g.built.noise()) {
      long[] s = n.shape();
      s[0] = to - from;
      float[] u = new float[Math.toIntExact(Shape.of(s).size())];
      for (int i = 0; i < u.length; i++) {
        u[i] = (float) rng.nextDouble();
      }
      feeds.put(n.node(), Tensor.ofFloats(Shape.of(s), u));
    }
    return g.session.run(feeds);
  }

  private void addMetrics(
      double[] sums, Map<String, Tensor> out, Data d, int[] order, int from, int to) {
    if (metrics.isEmpty()) {
      return;
    }
    for (int m = 0; m < metrics.size(); m++) {
      OutputMetric om = metrics.get(m);
      float[] pred = out.get(StepGraph.pred(om.output())).toFloatArray();
      float[] y = Data.rows(d.ys().get(om.output()), order, from, to).toFloatArray();
      sums[m] += om.metric().sum(pred, y, to - from);
    }
  }

  private void apply(Map<String, Tensor> out) {
    optimizer.step();
    train.grads.forEach((i, key) -> slots.get(i).update(values[i], out.get(key).toFloatArray()));
    train.updates.forEach((i, key) -> values[i] = out.get(key).toFloatArray());
  }

  /** The current weights by stored name ({@code layer/kernel}). */
  public Map<String, Tensor> weights() {
    Map<String, Tensor> w = new LinkedHashMap<>();
    for (int i = 0; i < variables.size(); i++) {
      w.put(
          variables.get(i).name(), Tensor.ofFloats(variables.get(i).initial().shape(), values[i]));
    }
    return w;
  }

  /** Replaces weights by stored name (all of them need not be given). */
  public void setWeights(Map<String, Tensor> w) {
    for (int i = 0; i < variables.size(); i++) {
      Tensor t = w.get(variables.get(i).name());
      if (t != null) {
        if (t.size() != values[i].length) {
          throw new UsageException(
              "weight '"
                  + variables.get(i).name()
                  + "' has "
                  + values[i].length
                  + " values, got "
                  + t.size());
        }
        values[i] = t.toFloatArray();
      }
    }
  }

  /**
   * The model with its current weights as the layers hold them, for the Keras and TF.js writers.
   */
  public List<org.tfport.formats.keras.KerasLayerWeights> layerWeights() {
    return source.layers(weights());
  }

  /**
   * Writes the model with its current weights as a Keras HDF5 file ({@code model.save('x.h5')}).
   */
  public void saveH5(Path file) {
    source.writeH5(file, weights());
  }

  /** Writes the model with its current weights as a Keras 3 {@code .keras} archive. */
  public void saveKeras(Path file) {
    source.writeKeras(file, weights());
  }

  @Override
  public void close() {
    train.close();
    if (eval != null) {
      eval.close();
    }
    source.close();
  }
}
