package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.TensorRef;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.ExampleFeeds;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;

/**
 * Every SavedModel (each of its signatures), frozen GraphDef and TF.js graph model of the corpus is
 * loaded with {@link Model#load} and run on seeded inputs ({@link RandomInputs}), and its outputs
 * compared with the real runtime on the same inputs: TensorFlow 2.18 for SavedModels and GraphDefs,
 * TF.js 4.22 for graph models, within |a−b| ≤ 1e-5 + 1e-4·|b| (string outputs byte for byte).
 * String inputs of a graph that parses tf.Example protos (serving's classify/regress signatures,
 * TFX's serving function) are fed serialized examples holding every feature it reads ({@link
 * ExampleFeeds}). A model the runtime cannot run yet is refused at load with the reason (missing
 * kernels named); every model that loads must match, and the number matched must not drop below the
 * floor.
 */
@OracleTest
class CorpusRuntimeTest {
  static final double ATOL = 1e-5;
  static final double RTOL = 1e-4;

  /** The least each format must match; raise them as kernels land. */
  static final int SAVED_MODEL_FLOOR = 55;

  static final int FROZEN_FLOOR = 19;
  static final int TFJS_FLOOR = 9;

  /**
   * Placeholders fed a fixed value: dropout's keep probability 1 makes it the identity in both
   * runtimes.
   */
  static final Map<String, Float> FIXED = Map.of("keep_prob", 1f);

  /**
   * Shapes for placeholders of unknown rank, as the graph's reshapes need them ([1] would be
   * refused by both).
   */
  static final Map<String, long[]> SHAPES =
      Map.of(
          "dl4j-tf_graphs/lenet_frozen.pb:input",
          new long[] {2, 784},
          "tf2onnx/gru.pb:X",
          new long[] {1, 28, 28},
          "savedmodel/serving_saved_model_counter[incr_counter_by]:delta",
          new long[] {});

  /**
   * Outputs that subtract values near 1e4 to get values near 1 (a transposed convolution): float32
   * rounding of the large terms (about 1e-3) dominates, and the order of the sums decides it;
   * TensorFlow itself misses DL4J's stored prediction by 1.2e-3 there. The absolute tolerance
   * scales with the output's largest magnitude (1e-6 of it).
   */
  static final java.util.Set<String> SCALED_ATOL =
      java.util.Set.of("dl4j-tf_graphs/conv_4/frozen_model.pb");

  /**
   * Outcomes of one format: matched, refused (with the reason) and failed, with the worst
   * difference.
   */
  static final class Tally {
    final String format;
    final List<String> lines = new ArrayList<>();
    final List<String> failures = new ArrayList<>();
    final Map<String, Integer> missingOps = new TreeMap<>();
    int matched;
    int refused;
    double worst;
    String worstAt = "";

    Tally(String format) {
      this.format = format;
    }

    void refused(String label, TfportException e) {
      refused++;
      String msg = e.getMessage();
      assertThat(msg).as(label).doesNotContain("\n");
      Matcher m = Pattern.compile("no kernel for op '([^']+)'").matcher(msg);
      boolean kernels = false;
      while (m.find()) {
        missingOps.merge(m.group(1), 1, Integer::sum);
        kernels = true;
      }
      lines.add(String.format("%-72s refused: %s", label, kernels ? shorten(msg) : msg));
    }

    void failed(String label, String why) {
      failures.add(label + ": " + why);
      lines.add(String.format("%-72s FAILED: %s", label, why));
    }

    boolean compare(String label, List<String> names, List<float[]> expected, List<Tensor> actual) {
      return compare(label, names, expected, actual, false);
    }

    /** Compares each output; true when all match. {@code scaled}: see {@link #SCALED_ATOL}. */
    boolean compare(
        String label,
        List<String> names,
        List<float[]> expected,
        List<Tensor> actual,
        boolean scaled) {
      StringBuilder sb = new StringBuilder();
      for (int k = 0; k < names.size(); k++) {
        float[] got = actual.get(k).toFloatArray();
        if (got.length != expected.get(k).length) {
          failed(
              label,
              "output "
                  + names.get(k)
                  + " has "
                  + got.length
                  + " values, the reference "
                  + expected.get(k).length);
          return false;
        }
        double atol = ATOL;
        if (scaled) {
          for (float v : expected.get(k)) {
            atol = Math.max(atol, 1e-6 * Math.abs(v));
          }
        }
        Comparison c = Comparison.of(expected.get(k), got, atol, RTOL);
        sb.append(String.format(Locale.ROOT, " %s max|d|=%.2g", names.get(k), c.maxAbs()));
        if (!c.ok()) {
          failed(label, "output " + names.get(k) + ": " + c);
          return false;
        }
        if (c.maxAbs() > worst || worstAt.isEmpty()) {
          worst = Math.max(worst, c.maxAbs());
          worstAt = label + " " + names.get(k);
        }
      }
      matched++;
      lines.add(String.format("%-72s matched:%s", label, sb));
      return true;
    }

    void report(int floor) {
      StringBuilder sb = new StringBuilder();
      sb.append(format)
          .append(": ")
          .append(matched)
          .append(" matched, ")
          .append(refused)
          .append(" refused, ")
          .append(failures.size())
          .append(" failed; worst |a-b| ")
          .append(String.format(Locale.ROOT, "%.3g", worst))
          .append(worstAt.isEmpty() ? "" : " (" + worstAt + ")");
      if (!missingOps.isEmpty()) {
        sb.append("\n  missing kernels (models): ").append(missingOps);
      }
      sb.append("\n  ").append(String.join("\n  ", new TreeSet<>(lines)));
      System.out.println(sb);
      assertThat(failures).as(format).isEmpty();
      assertThat(matched).as(format + " matched (floor)").isGreaterThanOrEqualTo(floor);
    }

    private static String shorten(String msg) {
      return msg.length() > 400 ? msg.substring(0, 400) + "..." : msg;
    }
  }

  // -------------------------------------------------------------------------------------------
  // SavedModels

  @Test
  void savedModelsMatchTensorFlow() throws Exception {
    Path root = Corpus.require("savedmodel");
    List<Path> dirs;
    try (Stream<Path> s = Files.walk(root.getParent())) {
      dirs =
          s.filter(p -> p.getFileName().toString().equals("saved_model.pb"))
              .map(Path::getParent)
              .sorted()
              .toList();
    }
    Tally t = new Tally("SavedModels (" + dirs.size() + " folders, every signature)");
    for (Path dir : dirs) {
      String model = root.getParent().relativize(dir).toString();
      Model m;
      try {
        m = Model.load(dir);
      } catch (TfportException e) {
        t.refused(model, e);
        continue;
      } catch (RuntimeException e) {
        t.failed(model, "load threw " + e);
        continue;
      }
      try (m) {
        for (Signature declared : m.signatures()) {
          // A fresh session per signature, as the oracle loads the model afresh: signatures that
          // write variables (the counter's) then start from the checkpoint on both sides.
          try (Session session = m.newSession()) {
            savedModelSignature(t, dir, model, m, session, declared.key());
          }
        }
      }
    }
    t.report(SAVED_MODEL_FLOOR);
  }

  private static void savedModelSignature(
      Tally t, Path dir, String model, Model m, Session session, String key) throws Exception {
    String label = model + "[" + key + "]";
    Map<String, Tensor> ours;
    Map<String, Tensor> inputs;
    try {
      Signature sig = m.signature(key);
      inputs = new LinkedHashMap<>(RandomInputs.of(sig, label.hashCode()));
      java.util.Random rnd = new java.util.Random(label.hashCode());
      for (TensorSpec s : sig.inputs()) {
        if (SHAPES.containsKey(label + ":" + s.name())) {
          inputs.put(
              s.name(), RandomInputs.random(s.dtype(), SHAPES.get(label + ":" + s.name()), rnd));
        }
      }
      boolean declaredShapeWrong = false;
      if (inputs.values().stream().anyMatch(x -> x.dtype() == DType.STRING)) {
        // A string input of a graph that parses tf.Example protos gets real examples holding
        // every feature it reads; other string inputs keep RandomInputs' one-digit strings.
        var graph =
            org.tfport.formats.savedmodel.SavedModelReader.read(dir, java.util.Set.of("serve"), key)
                .graph();
        if (ExampleFeeds.parsesExamples(graph)) {
          for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
            if (e.getValue().dtype() == DType.STRING) {
              long[] shape = e.getValue().shape().dims();
              // half_plus_three's regress signature declares a scalar where its ParseExample
              // takes a vector; TensorFlow needs the vector too, and the oracle declares it
              // there, so the shapes are left to the ops here as well.
              if (shape.length == 0 && ExampleFeeds.parsesBatches(graph)) {
                shape = new long[] {1};
                declaredShapeWrong = true;
              }
              e.setValue(ExampleFeeds.examples(graph, shape, rnd));
            }
          }
        }
      }
      if (declaredShapeWrong) {
        try (Session unchecked = m.newSession(SessionOptions.defaults().withShapeCheck(false))) {
          ours = unchecked.run(key, inputs);
        }
      } else {
        ours = session.run(key, inputs);
      }
    } catch (KernelException e) {
      t.failed(label, "run threw " + e.getMessage());
      return;
    } catch (TfportException e) {
      t.refused(label, e);
      return;
    } catch (RuntimeException e) {
      t.failed(label, "threw " + e);
      return;
    }
    Map<String, Tensor> tf;
    try {
      tf = TensorFlowOracle.runSignature(dir, "serve", key, inputs);
    } catch (RuntimeException e) {
      t.failed(label, "TensorFlow failed: " + e.getMessage());
      return;
    }
    List<String> names = new ArrayList<>();
    for (Map.Entry<String, Tensor> e : ours.entrySet()) {
      Tensor theirs = tf.get(e.getKey());
      if (e.getValue().dtype() != DType.STRING) {
        names.add(e.getKey());
      } else if (theirs == null
          || theirs.dtype() != DType.STRING
          || !java.util.Arrays.equals(theirs.shape().dims(), e.getValue().shape().dims())
          || !sameBytes(theirs.toByteStrings(), e.getValue().toByteStrings())) {
        t.failed(label, "string output " + e.getKey() + " differs from TensorFlow's");
        return;
      }
    }
    t.compare(
        label,
        names,
        names.stream().map(n -> tf.get(n).toFloatArray()).toList(),
        names.stream().map(ours::get).toList());
  }

  private static boolean sameBytes(List<byte[]> a, List<byte[]> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!java.util.Arrays.equals(a.get(i), b.get(i))) {
        return false;
      }
    }
    return true;
  }

  /** A tfport tensor as the TF oracle's feed (numeric and bool types). */
  static TensorFlowOracle.Feed feed(String name, Tensor v) {
    return new TensorFlowOracle.Feed(oracleInput(name, v), DataTypes.fromDType(v.dtype()));
  }

  static TfjsOracle.Input oracleInput(String name, Tensor v) {
    float[] f = v.toFloatArray();
    long[] shape = v.shape().dims();
    if (v.dtype().isFloating()) {
      return TfjsOracle.Input.f32(name, shape, f);
    }
    int[] ints = new int[f.length];
    for (int i = 0; i < f.length; i++) {
      ints[i] = (int) f[i];
    }
    return TfjsOracle.Input.i32(name, shape, ints);
  }

  // -------------------------------------------------------------------------------------------
  // frozen graphs

  @Test
  void frozenGraphsMatchTensorFlow() throws Exception {
    Path root = Corpus.require("frozen_pb");
    List<Path> files;
    try (Stream<Path> s = Files.walk(root)) {
      files = s.filter(p -> p.toString().endsWith(".pb")).sorted().toList();
    }
    Tally t = new Tally("Frozen GraphDefs (" + files.size() + " files)");
    for (Path pb : files) {
      String label = root.relativize(pb).toString();
      try (Model m = Model.load(pb);
          Session session = m.newSession()) {
        Signature sig = m.signatures().get(0);
        Map<String, Tensor> inputs = new LinkedHashMap<>(RandomInputs.of(sig, label.hashCode()));
        java.util.Random rnd = new java.util.Random(label.hashCode());
        for (TensorSpec s : sig.inputs()) {
          // DL4J's graphs were run on inputs of a stated shape; some fix their batch inside
          // (conv_4's
          // Conv2DBackpropInput sizes), so a batch of 1 would be refused by TensorFlow too.
          Path stated = pb.resolveSibling(s.name() + ".placeholder.shape");
          if (SHAPES.containsKey(label + ":" + s.name())) {
            inputs.put(
                s.name(), RandomInputs.random(s.dtype(), SHAPES.get(label + ":" + s.name()), rnd));
          } else if (Files.exists(stated)) {
            long[] shape =
                Files.readAllLines(stated).stream()
                    .map(String::strip)
                    .filter(l -> !l.isEmpty())
                    .mapToLong(Long::parseLong)
                    .toArray();
            if (s.accepts(shape)) {
              inputs.put(s.name(), RandomInputs.random(s.dtype(), shape, rnd));
            }
          }
          if (FIXED.containsKey(s.name())) {
            Tensor v = inputs.get(s.name());
            inputs.put(s.name(), Tensor.ofFloats(v.shape(), fill(v, FIXED.get(s.name()))));
          }
        }
        Map<String, Tensor> ours;
        try {
          ours = session.run(inputs);
        } catch (KernelException e) {
          t.failed(label, "run threw " + e.getMessage());
          continue;
        }
        Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
        for (TensorSpec s : sig.inputs()) {
          feeds.put(TensorRef.nodeOf(s.tensor()), feed(s.name(), inputs.get(s.name())));
        }
        List<String> fetches =
            sig.outputs().stream().map(s -> TensorRef.parse(s.tensor()).tensorName()).toList();
        List<float[]> tf;
        try {
          tf = TensorFlowOracle.runGraphDef(pb, feeds, fetches);
        } catch (Exception e) {
          t.failed(label, "TensorFlow failed: " + e.getMessage());
          continue;
        }
        List<String> names = sig.outputNames();
        t.compare(
            label + " -> " + names,
            names,
            tf,
            names.stream().map(ours::get).toList(),
            SCALED_ATOL.contains(label));
      } catch (TfportException e) {
        t.refused(label, e);
      } catch (RuntimeException e) {
        t.failed(label, "threw " + e);
      }
    }
    t.report(FROZEN_FLOOR);
  }

  private static float[] fill(Tensor like, float v) {
    float[] f = new float[(int) like.size()];
    java.util.Arrays.fill(f, v);
    return f;
  }

  // -------------------------------------------------------------------------------------------
  // TF.js

  @Test
  void tfjsGraphModelsMatchTfjs() throws Exception {
    Path root = Corpus.require("tfjs/graph");
    List<Path> models = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
        if (Json.MAPPER.readTree(p.toFile()).path("format").asString("").equals("graph-model")) {
          models.add(p);
        }
      }
    }
    Tally t = new Tally("TF.js graph models (" + models.size() + " model.json)");
    record Ran(
        String label,
        Path json,
        Signature sig,
        Map<String, Tensor> inputs,
        Map<String, Tensor> outputs) {}
    List<Ran> ran = new ArrayList<>();
    for (Path mj : models) {
      String label = root.relativize(mj).toString();
      try (Model m = Model.load(mj);
          Session session = m.newSession()) {
        Signature sig = m.signatures().get(0);
        Map<String, Tensor> inputs = RandomInputs.of(sig, label.hashCode());
        try {
          ran.add(new Ran(label, mj, sig, inputs, session.run(inputs)));
        } catch (KernelException e) {
          t.failed(label, "run threw " + e.getMessage());
        }
      } catch (TfportException e) {
        t.refused(label, e);
      } catch (RuntimeException e) {
        t.failed(label, "threw " + e);
      }
    }
    List<TfjsOracle.Job> jobs = new ArrayList<>();
    for (Ran r : ran) {
      List<TfjsOracle.Input> ins = new ArrayList<>();
      for (TensorSpec s : r.sig().inputs()) {
        ins.add(oracleInput(TensorRef.nodeOf(s.tensor()), r.inputs().get(s.name())));
      }
      List<String> outs =
          r.sig().outputs().stream().map(s -> TensorRef.parse(s.tensor()).tensorName()).toList();
      jobs.add(TfjsOracle.Job.graph(r.json(), ins, outs));
    }
    List<TfjsOracle.Result> results = TfjsOracle.run(jobs);
    for (int i = 0; i < ran.size(); i++) {
      Ran r = ran.get(i);
      TfjsOracle.Result js = results.get(i);
      if (!js.ok()) {
        t.failed(r.label(), "TF.js failed: " + js.error());
        continue;
      }
      List<String> names = r.sig().outputNames();
      List<float[]> expected = new ArrayList<>();
      for (int k = 0; k < names.size(); k++) {
        expected.add(js.output(k).data());
      }
      t.compare(r.label(), names, expected, names.stream().map(r.outputs()::get).toList());
    }
    t.report(TFJS_FLOOR);
  }
}
