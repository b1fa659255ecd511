package org.tfport.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tfport.core.Json;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * TF.js 4.22's {@code model.fit} as a test oracle for training, run in the same Node process kind
 * as {@link TfjsOracle}'s predictions: a layers model compiled with the given losses and optimizer,
 * fitted unshuffled, its history and trained weights returned.
 */
public final class TfjsFit {
  private TfjsFit() {}

  /**
   * A training run: the layers model compiled with {@code losses} (TF.js names, e.g. {@code
   * categoricalCrossentropy}, or {@code huber}; one for all outputs or one per output), {@code
   * lossWeights} per output (null: none) and {@code tf.train.<optimizer>(learningRate)} ({@code
   * momentum} takes {@code momentum}, {@code nesterov}), fitted unshuffled for {@code epochs}.
   * {@code targets} holds one array per model output, in output order.
   */
  public record Job(
      Path modelJson,
      List<TfjsOracle.Input> inputs,
      List<TfjsOracle.Input> targets,
      List<String> losses,
      double[] lossWeights,
      String optimizer,
      double learningRate,
      double momentum,
      boolean nesterov,
      int epochs,
      int batchSize,
      List<String> metrics) {
    public Job {
      inputs = List.copyOf(inputs);
      targets = List.copyOf(targets);
      losses = List.copyOf(losses);
      lossWeights = lossWeights == null ? null : lossWeights.clone();
      metrics = metrics == null ? List.of() : List.copyOf(metrics);
    }

    /** A model of one output. */
    public static Job of(
        Path modelJson,
        List<TfjsOracle.Input> inputs,
        TfjsOracle.Input target,
        String loss,
        String optimizer,
        double learningRate,
        double momentum,
        int epochs,
        int batchSize) {
      return new Job(
          modelJson,
          inputs,
          List.of(target),
          List.of(loss),
          null,
          optimizer,
          learningRate,
          momentum,
          false,
          epochs,
          batchSize,
          List.of());
    }
  }

  /**
   * What TF.js' fit gave: {@code history} as {@code history.history}; {@code weights} the trained
   * weights in {@code model.weights} order, named by their original names ({@code dense/kernel}).
   */
  public record Result(
      boolean ok, String error, JsonNode history, List<TfjsOracle.Output> weights) {
    public Result orThrow() {
      if (!ok) {
        throw new AssertionError("tfjs fit failed: " + error);
      }
      return this;
    }

    public TfjsOracle.Output weight(String name) {
      for (TfjsOracle.Output o : weights) {
        if (o.name().equals(name)) {
          return o;
        }
      }
      throw new IllegalArgumentException("no weight " + name + " among " + weights);
    }
  }

  /** Runs training jobs in one Node process, one after the other; one result per job. */
  public static List<Result> fit(List<Job> jobs) {
    TfjsOracle.Installation inst = TfjsOracle.ensureInstalled();
    Path tmp;
    try {
      tmp = Files.createTempDirectory("tfjs-oracle");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      ArrayNode list = Json.MAPPER.createArrayNode();
      for (int j = 0; j < jobs.size(); j++) {
        list.add(jobJson(jobs.get(j), j, tmp));
      }
      List<Result> out = new ArrayList<>();
      for (JsonNode r : TfjsOracle.runNode(inst, list, tmp)) {
        TfjsOracle.Result parsed = TfjsOracle.parseResult(r);
        out.add(new Result(parsed.ok(), parsed.error(), r.path("history"), parsed.outputs()));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (!Boolean.getBoolean("tfport.tfjs.keepTemp")) {
        TfjsOracle.deleteTree(tmp);
      }
    }
  }

  private static ObjectNode jobJson(Job job, int j, Path tmp) throws IOException {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("kind", "fit");
    o.put("modelJson", job.modelJson().toAbsolutePath().toString());
    ArrayNode ins = o.putArray("inputs");
    for (int k = 0; k < job.inputs().size(); k++) {
      ins.add(
          TfjsOracle.inputJson(job.inputs().get(k), tmp.resolve("fit" + j + "_in" + k + ".bin")));
    }
    ArrayNode ys = o.putArray("targets");
    for (int k = 0; k < job.targets().size(); k++) {
      ys.add(
          TfjsOracle.inputJson(job.targets().get(k), tmp.resolve("fit" + j + "_y" + k + ".bin")));
    }
    ArrayNode losses = o.putArray("losses");
    job.losses().forEach(losses::add);
    if (job.lossWeights() != null) {
      ArrayNode w = o.putArray("lossWeights");
      for (double d : job.lossWeights()) {
        w.add(d);
      }
    }
    ObjectNode opt = o.putObject("optimizer");
    opt.put("name", job.optimizer());
    opt.put("learningRate", job.learningRate());
    opt.put("momentum", job.momentum());
    opt.put("useNesterov", job.nesterov());
    o.put("epochs", job.epochs());
    o.put("batchSize", job.batchSize());
    ArrayNode ms = o.putArray("metrics");
    job.metrics().forEach(ms::add);
    return o;
  }
}
