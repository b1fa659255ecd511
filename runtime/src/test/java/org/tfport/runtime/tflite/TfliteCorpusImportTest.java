package org.tfport.runtime.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.runtime.Model;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * Every {@code .tflite} file of the corpus: imported, run by tfport on seeded random inputs and
 * compared with TFLite 2.18 on the same inputs. Float outputs within 1e-5 + 1e-4·|b| (float32 and
 * float16-weight models, whose weights are dequantized exactly); integer and bool outputs exactly.
 * Dynamic-range int8 models are compared within a looser bound, because TFLite's hybrid kernels
 * also quantize the activations to int8 on the fly while tfport computes in float on the
 * dequantized weights: within 2 % of the output's range. Fully integer models (int8, uint8 and
 * 16x8) run TFLite's integer arithmetic and are compared in output quantization steps (integer
 * outputs in codes, float outputs in steps of the tensor their DEQUANTIZE reads): within one step
 * of TFLite's builtin kernels. Prints the count per kind and each file's result; files tfport
 * refuses are listed with the reason.
 */
@OracleTest
class TfliteCorpusImportTest {
  private static final double ATOL = 1e-5;
  private static final double RTOL = 1e-4;

  record Result(TfliteRuns.Kind kind, String status, double worst) {}

  @Test
  void corpusModelsMatchTflite() throws IOException {
    Path root = Corpus.require("tflite");
    List<Path> files;
    try (Stream<Path> s = Files.walk(root)) {
      files =
          s.filter(Files::isRegularFile)
              .filter(p -> p.toString().endsWith(".tflite") || p.toString().endsWith(".bin"))
              .sorted()
              .toList();
    }
    Map<String, Result> results = new TreeMap<>();
    List<String> failures = new ArrayList<>();
    for (Path p : files) {
      String label = root.relativize(p).toString();
      long t0 = System.nanoTime();
      Result r = check(p, label, failures);
      if (r != null) {
        results.put(
            label,
            new Result(
                r.kind(),
                r.status()
                    + String.format(Locale.ROOT, " [%d ms]", (System.nanoTime() - t0) / 1_000_000),
                r.worst()));
      }
    }
    Map<TfliteRuns.Kind, int[]> tally = new EnumMap<>(TfliteRuns.Kind.class);
    double[] worst = new double[TfliteRuns.Kind.values().length];
    List<String> lines = new ArrayList<>();
    results.forEach(
        (label, r) -> {
          int[] c = tally.computeIfAbsent(r.kind(), k -> new int[3]);
          c[r.status().startsWith("match") ? 0 : r.status().startsWith("refused") ? 1 : 2]++;
          if (r.status().startsWith("match")) {
            worst[r.kind().ordinal()] = Math.max(worst[r.kind().ordinal()], r.worst());
          }
          lines.add(String.format(Locale.ROOT, "%-70s %-12s %s", label, r.kind(), r.status()));
        });
    StringBuilder summary = new StringBuilder();
    tally.forEach(
        (k, c) ->
            summary.append(
                String.format(
                    Locale.ROOT,
                    "%n  %-12s matched %d (worst |a-b| %.3g%s),"
                        + " refused %d, not run (TFLite rejects or fails, too large) %d",
                    k,
                    c[0],
                    worst[k.ordinal()],
                    k == TfliteRuns.Kind.FULL_INTEGER ? " output steps" : "",
                    c[1],
                    c[2])));
    System.out.println(
        "TFLite corpus through tfport's importer:\n  " + String.join("\n  ", lines) + summary);
    assertThat(failures).isEmpty();
    int matched = tally.values().stream().mapToInt(c -> c[0]).sum();
    assertThat(matched).isGreaterThanOrEqualTo(MIN_MATCHED);
    assertThat(tally.getOrDefault(TfliteRuns.Kind.FULL_INTEGER, new int[3])[0])
        .isGreaterThanOrEqualTo(MIN_MATCHED_INTEGER);
  }

  /**
   * while_op_with_forwarding_input forwards a string through a WHILE loop. On the corpus test's
   * random inputs (2 iterations) TFLite 2.18 returns that string as an empty buffer; at 0 and 1
   * iterations its outputs are valid, and tfport's must equal them (the string byte for byte).
   */
  @Test
  void stringForwardedThroughWhileMatchesTflite() {
    Path p = Corpus.require("tflite/litert/tflite__while_op_with_forwarding_input.bin");
    TfliteModel m = TfliteReader.read(p);
    TfliteImporter.ImportedModel imported = TfliteImporter.importModel(m, p.toString());
    TfliteRuns.Binding b = TfliteRuns.binding(m, imported);
    try (Model model = imported.toModel()) {
      for (int iterations : new int[] {0, 1}) {
        List<TfliteOracle.Tensor> ins =
            List.of(
                TfliteOracle.Tensor.i32(new int[] {1}, iterations),
                TfliteOracle.Tensor.strings(new int[] {1}, List.of("forwarded".getBytes())));
        List<TfliteOracle.Tensor> expected = TfliteOracle.run(p, ins);
        List<Tensor> actual = TfliteRuns.run(model, b, ins);
        assertThat(expected.get(2).byteStrings()).containsExactly("forwarded".getBytes());
        for (int k = 0; k < expected.size(); k++) {
          TfliteRuns.compare("output " + k, expected.get(k), actual.get(k), 0, 0)
              .assertOk("iterations " + iterations + " output " + k);
        }
      }
    }
  }

  /**
   * Files that import and match today: 37 float/float16 files TFLite runs on random inputs (the
   * float UNIDIRECTIONAL_SEQUENCE_LSTM, the CALL_ONCE/resource-variable file, the four string-input
   * files and the two 12-megapixel im2col convolutions among them), and 21 fully integer ones (the
   * int16-state SVDF, the three int8 LSTM files and YAMNet's RFFT2D among them; 4 refused for the
   * TFLite Micro int8-state SVDF, which TFLite 2.18 cannot run either, and custom post-processing
   * and string ops; one file TFLite rejects and one TFLite fails on random inputs).
   */
  static final int MIN_MATCHED = 58;

  static final int MIN_MATCHED_INTEGER = 21;

  /**
   * Inputs above this many elements are imported but not run. The largest corpus files
   * (conv_huge_im2col, conv3d_huge_im2col: 12-megapixel images) are within it: each takes about
   * 20-25 s in TFLite and 8-9 s in tfport at a load average near 30 on 2 cores. {@code
   * -Dtfport.tflite.maxInputElements=4194304} leaves them out for a quicker local run (the test
   * then fails on MIN_MATCHED: the count says what ran).
   */
  static final long MAX_INPUT_ELEMENTS = Long.getLong("tfport.tflite.maxInputElements", 1L << 27);

  static Result check(Path p, String label, List<String> failures) {
    TfliteModel m;
    try {
      m = TfliteReader.read(p);
    } catch (TfportException e) {
      return null; // damaged on purpose; HostileTfliteTest covers these
    }
    TfliteRuns.Kind kind = TfliteRuns.kind(m);
    TfliteImporter.ImportedModel imported;
    Model model;
    try {
      imported = TfliteImporter.importModel(m, label);
      model = imported.toModel();
    } catch (TfportException e) {
      return new Result(kind, "refused: " + e.getMessage().replace(label + ": ", ""), 0);
    }
    TfliteOracle.Load load = TfliteOracle.load(p);
    if (!load.accepted()) {
      return new Result(kind, "TFLite rejects it: " + load.error(), 0);
    }
    long elements =
        load.inputs().stream()
            .mapToLong(
                t -> java.util.Arrays.stream(t.shape()).asLongStream().reduce(1, (x, y) -> x * y))
            .sum();
    if (elements > MAX_INPUT_ELEMENTS) {
      return new Result(
          kind,
          "imported; not run: "
              + elements
              + " input elements (above -Dtfport.tflite.maxInputElements="
              + MAX_INPUT_ELEMENTS
              + ")",
          0);
    }
    List<TfliteOracle.Tensor> ins;
    try {
      ins = TfliteOracle.randomInputs(load, 42);
    } catch (IllegalArgumentException e) {
      return new Result(kind, "not run: " + e.getMessage(), 0);
    }
    List<TfliteOracle.Tensor> expected;
    long tfliteStart = System.nanoTime();
    try {
      expected = TfliteOracle.run(p, ins);
    } catch (RuntimeException e) {
      return new Result(kind, "TFLite fails on it: " + e.getMessage(), 0);
    }
    // TFLite 2.18's WHILE loses a string it forwards through two or more iterations
    // (while_op_with_forwarding_input): the output comes back as an empty buffer.
    for (int k = 0; k < expected.size(); k++) {
      if (expected.get(k).dtype().equals("string")) {
        try {
          expected.get(k).byteStrings();
        } catch (IllegalStateException e) {
          return new Result(kind, "TFLite fails on it: output " + k + " is " + e.getMessage(), 0);
        }
      }
    }
    TfliteRuns.Binding b = TfliteRuns.binding(m, imported);
    if (b == null) {
      return new Result(kind, "not run: no signature covers subgraph 0", 0);
    }
    long tfliteMs = (System.nanoTime() - tfliteStart) / 1_000_000;
    List<Tensor> actual;
    long tfportStart = System.nanoTime();
    try {
      actual = TfliteRuns.run(model, b, ins);
    } catch (RuntimeException e) {
      failures.add(label + ": tfport's run failed: " + e);
      return new Result(kind, "FAIL run: " + e.getMessage(), 0);
    }
    long tfportMs = (System.nanoTime() - tfportStart) / 1_000_000;
    double worst = 0;
    StringBuilder detail = new StringBuilder();
    for (int k = 0; k < expected.size(); k++) {
      Comparison c;
      try {
        c =
            kind == TfliteRuns.Kind.DYNAMIC_INT8
                ? dynamicRange(label, expected.get(k), actual.get(k))
                : kind == TfliteRuns.Kind.FULL_INTEGER
                    ? inSteps(label, m, k, expected.get(k), actual.get(k))
                    : TfliteRuns.compare(label, expected.get(k), actual.get(k), ATOL, RTOL);
      } catch (AssertionError e) {
        failures.add(e.getMessage());
        return new Result(kind, "FAIL " + e.getMessage(), 0);
      }
      worst = Math.max(worst, c.maxAbs());
      detail.append(String.format(Locale.ROOT, " %s %.3g", b.outputs().get(k), c.maxAbs()));
      if (!c.ok()) {
        failures.add(label + " output " + b.outputs().get(k) + ": " + c);
        return new Result(kind, "FAIL " + c, worst);
      }
    }
    detail.append(
        String.format(Locale.ROOT, " (run: TFLite %d ms, tfport %d ms)", tfliteMs, tfportMs));
    return new Result(kind, "match" + detail, worst);
  }

  /**
   * Output {@code k} of a fully integer model in output quantization steps: integer outputs in
   * codes, float outputs divided by the scale of the tensor their DEQUANTIZE reads (1 when none
   * does); within one step. The comparison's maxAbs is in steps.
   */
  private static Comparison inSteps(
      String label, TfliteModel m, int k, TfliteOracle.Tensor expected, Tensor actual) {
    TfliteRuns.compare(label, expected, actual, 0, 0); // shapes and dtypes
    double step = 1;
    var main = m.mainSubgraph();
    int t = main.outputs().get(k);
    for (var op : main.operators()) {
      if (op.outputs().contains(t) && m.opcode(op).name().equals("DEQUANTIZE")) {
        step = main.tensors().get(op.inputs().get(0)).quantization().scale().get(0);
      }
    }
    float[] e = expected.floats();
    float[] a = actual.toFloatArray();
    float[] es = new float[e.length];
    float[] as = new float[a.length];
    for (int i = 0; i < e.length; i++) {
      es[i] = (float) (e[i] / step);
      as[i] = (float) (a[i] / step);
    }
    // Steps of a dequantized float are integers up to the float rounding of scale·q.
    return Comparison.of(es, as, 1 + 1e-3, 0);
  }

  /**
   * Within 2 % of the range of TFLite's values (hybrid kernels quantize activations; tfport does
   * not).
   */
  private static Comparison dynamicRange(
      String label, TfliteOracle.Tensor expected, Tensor actual) {
    float[] e = expected.floats();
    float lo = Float.POSITIVE_INFINITY;
    float hi = Float.NEGATIVE_INFINITY;
    for (float v : e) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    double range = e.length == 0 ? 0 : hi - lo;
    return TfliteRuns.compare(label, expected, actual, 0.02 * range + ATOL, 0);
  }
}
