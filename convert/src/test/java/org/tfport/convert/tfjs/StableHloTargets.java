package org.tfport.convert.tfjs;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tfport.convert.Converter;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.formats.ModelFormat;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * What the StableHLO oracle tests share: a program written to a {@code .mlir} file, run in tfport's
 * runtime, converted with {@code --input_format=stablehlo} to a TF.js graph model and to {@code
 * .tflite}, run in TF.js 4.22 and TFLite 2.18, and each output compared with the runtime's.
 */
final class StableHloTargets {
  private StableHloTargets() {}

  /** An input: its argument name, shape, and float32 or int32 values (the other null). */
  record In(String name, long[] shape, float[] f, int[] i) {}

  /**
   * The outcome of one program.
   *
   * @param runtime tfport's outputs, for hand checks
   * @param line the largest differences per output and target, for the log
   * @param failures each output that a target computed outside {@link E2e#ATOL}/{@link E2e#RTOL}
   */
  record Outcome(List<float[]> runtime, String line, List<String> failures) {}

  static In f32(String name, float[] v, long... shape) {
    return new In(name, shape, v, null);
  }

  static In i32(String name, int[] v, long... shape) {
    return new In(name, shape, null, v);
  }

  /** An input of uniform values in [-1, 1). */
  static In random(String name, Random rnd, long... shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    return f32(name, floats(rnd, n), shape);
  }

  static float[] floats(Random rnd, int n) {
    float[] v = new float[n];
    for (int k = 0; k < n; k++) {
      v[k] = rnd.nextFloat() * 2 - 1;
    }
    return v;
  }

  /** Runs {@code program} (named {@code name} in {@code dir}) in the runtime, TF.js and TFLite. */
  static Outcome run(Path dir, String name, String program, List<In> ins) throws Exception {
    Path mlir = dir.resolve(name + ".mlir");
    Files.writeString(mlir, program);
    List<float[]> expected = runtime(mlir, ins);
    Path js = dir.resolve(name + "_tfjs");
    Converter.from(mlir, ModelFormat.STABLEHLO).to(ModelFormat.TFJS_GRAPH_MODEL).convert(js);
    List<TfjsOracle.Input> jsIns = new ArrayList<>();
    for (In in : ins) {
      String node = in.name() + ":0";
      jsIns.add(
          in.f() != null
              ? TfjsOracle.Input.f32(node, in.shape(), in.f())
              : TfjsOracle.Input.i32(node, in.shape(), in.i()));
    }
    TfjsOracle.Result r =
        TfjsOracle.run(TfjsOracle.Job.graph(js.resolve("model.json"), jsIns, E2e.outputNames(js)))
            .orThrow();
    Path tfl = dir.resolve(name + ".tflite");
    Converter.from(mlir, ModelFormat.STABLEHLO).to(ModelFormat.TFLITE).convert(tfl);
    List<TfliteOracle.Tensor> tflIns = new ArrayList<>();
    for (In in : ins) {
      int[] shape = java.util.Arrays.stream(in.shape()).mapToInt(d -> (int) d).toArray();
      tflIns.add(
          in.f() != null
              ? TfliteOracle.Tensor.f32(shape, in.f())
              : TfliteOracle.Tensor.i32(shape, in.i()));
    }
    List<TfliteOracle.Tensor> got = TfliteOracle.run(tfl, tflIns);
    List<String> failures = new ArrayList<>();
    StringBuilder line = new StringBuilder(name);
    for (int k = 0; k < expected.size(); k++) {
      Comparison cj = Comparison.of(expected.get(k), r.output(k).data(), E2e.ATOL, E2e.RTOL);
      Comparison ct = Comparison.of(expected.get(k), got.get(k).floats(), E2e.ATOL, E2e.RTOL);
      line.append(
          String.format(
              "; out%d tfjs max|d|=%.2g tflite max|d|=%.2g", k, cj.maxAbs(), ct.maxAbs()));
      if (!cj.ok()) {
        failures.add(name + " output " + k + " in TF.js: " + cj);
      }
      if (!ct.ok()) {
        failures.add(name + " output " + k + " in TFLite: " + ct);
      }
    }
    return new Outcome(expected, line.toString(), failures);
  }

  /** The runtime's outputs for {@code ins}, in the program's result order. */
  static List<float[]> runtime(Path mlir, List<In> ins) {
    Map<String, Tensor> feed = new LinkedHashMap<>();
    for (In in : ins) {
      if (in.f() != null) {
        ByteBuffer b = ByteBuffer.allocate(4 * in.f().length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : in.f()) {
          b.putFloat(v);
        }
        feed.put(in.name(), new Tensor(DType.FLOAT32, Shape.of(in.shape()), b.flip()));
      } else {
        feed.put(in.name(), Tensor.ofInts(Shape.of(in.shape()), in.i()));
      }
    }
    List<float[]> out = new ArrayList<>();
    try (Model m = Model.load(mlir);
        Session s = m.newSession()) {
      for (Tensor t : s.run(feed).values()) {
        out.add(t.toFloatArray());
      }
    }
    return out;
  }
}
