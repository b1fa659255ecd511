package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperationBuilder;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TType;
import org.tfport.core.DType;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteOperatorCode;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * What the TFLite op-family oracle tests share: one small graph per TF op (or small group) built
 * with TF Java, frozen to a GraphDef, converted with builtins only, run in the TFLite 2.18
 * interpreter and compared with TensorFlow 2.18 on random inputs: float outputs within 1e-5 +
 * 1e-4·|b|, integer and boolean outputs exactly. Most inputs have an unknown batch dimension, fed
 * as 2. Each case also names the TFLite builtins it must become, so a lowering that silently
 * changes is caught.
 */
abstract class OpFamilyCases {
  @TempDir Path tmp;
  final Random rnd = new Random(20240604);

  /** A placeholder's fed value: TF type, concrete shape and data (floats or ints). */
  record Feed(String name, int tfType, long[] shape, float[] f, int[] i) {}

  record Case(
      String label, Path pb, List<Feed> feeds, List<String> outputs, List<String> expectedOps) {}

  // ----------------------------------------------------------------------------------------------
  // helpers

  Feed floats(String name, long[] shape, DoubleSupplier gen) {
    float[] v = new float[count(shape)];
    for (int k = 0; k < v.length; k++) {
      v[k] = (float) gen.getAsDouble();
    }
    return new Feed(name, DType.FLOAT32.tfEnum(), shape, v, null);
  }

  Feed uniform(String name, long... shape) {
    return floats(name, shape, () -> rnd.nextFloat() * 2 - 1);
  }

  Feed ints(String name, int tfType, long[] shape, int lo, int hi) {
    int[] v = new int[count(shape)];
    for (int k = 0; k < v.length; k++) {
      v[k] = lo + rnd.nextInt(hi - lo + 1);
    }
    return new Feed(name, tfType, shape, null, v);
  }

  static int count(long[] shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    return n;
  }

  static Placeholder<TFloat32> ph(Ops tf, String name, long... shape) {
    return tf.withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
  }

  static <T extends TType> Placeholder<T> ph(Ops tf, Class<T> type, String name, long... shape) {
    return tf.withName(name).placeholder(type, Placeholder.shape(Shape.of(shape)));
  }

  Operand<TFloat32> weights(Ops tf, long[] shape, float scale) {
    return BuiltModelsTest.randomConstant(tf, rnd, scale, shape);
  }

  /** A raw op TF Java has no typed wrapper for (TF1 Select, Inv, FusedBatchNorm v1). */
  static Output<?> raw(
      Graph g,
      Ops tf,
      String type,
      String name,
      List<Operand<?>> inputs,
      Consumer<GraphOperationBuilder> attrs) {
    GraphOperationBuilder b = g.opBuilder(type, name, tf.scope());
    for (Operand<?> i : inputs) {
      b.addInput(i.asOutput());
    }
    attrs.accept(b);
    return b.build().output(0);
  }

  Path write(Graph g, String name) throws Exception {
    Path p = tmp.resolve(name + ".pb");
    Files.write(p, g.toGraphDef().toByteArray());
    return p;
  }

  String run(Case c) throws Exception {
    Path out = tmp.resolve(c.pb().getFileName().toString().replace(".pb", ".tflite"));
    List<String> names = c.feeds().stream().map(Feed::name).toList();
    GraphOptions go = new GraphOptions(null, null, true, false, false, c.outputs());
    TfliteConverter.convertFrozen(c.pb(), out, go, names, Map.of(), TfliteOptions.defaults());
    TfliteModel model = TfliteReader.read(out);
    var sub = model.mainSubgraph();
    List<TfliteOracle.Tensor> liteIns = new ArrayList<>();
    for (int t : sub.inputs()) {
      String name = sub.tensors().get(t).name();
      Feed f =
          c.feeds().stream()
              .filter(x -> x.name().equals(name))
              .findFirst()
              .orElseThrow(() -> new AssertionError(c.label() + ": no feed for input " + name));
      int[] shape = java.util.Arrays.stream(f.shape()).mapToInt(d -> (int) d).toArray();
      liteIns.add(
          switch (java.util.Objects.requireNonNull(
              DType.fromTfEnum(f.tfType()), "type " + f.tfType())) {
            case FLOAT32 -> TfliteOracle.Tensor.f32(shape, f.f());
            case INT32 -> TfliteOracle.Tensor.i32(shape, f.i());
            case BOOL -> {
              boolean[] b = new boolean[f.i().length];
              for (int k = 0; k < b.length; k++) {
                b[k] = f.i()[k] != 0;
              }
              yield TfliteOracle.Tensor.bool(shape, b);
            }
            default -> throw new AssertionError("type " + f.tfType());
          });
    }
    Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
    for (Feed f : c.feeds()) {
      feeds.put(
          f.name(),
          new TensorFlowOracle.Feed(
              f.f() != null
                  ? TfjsOracle.Input.f32(f.name(), f.shape(), f.f())
                  : TfjsOracle.Input.i32(f.name(), f.shape(), f.i()),
              f.tfType()));
    }
    List<float[]> expected = TensorFlowOracle.runGraphDef(c.pb(), feeds, c.outputs());
    List<TfliteOracle.Tensor> actual = TfliteOracle.run(out, liteIns);
    assertThat(actual).as(c.label() + " outputs").hasSize(expected.size());

    List<String> ops = model.operatorCodes().stream().map(TfliteOperatorCode::name).toList();
    assertThat(ops)
        .as(c.label() + " operators")
        .containsAll(c.expectedOps())
        .doesNotContain("CUSTOM");
    StringBuilder line = new StringBuilder(String.format("%-26s ->", c.label()));
    for (TfliteOperatorCode oc : model.operatorCodes()) {
      line.append(' ').append(oc.name()).append(" v").append(oc.version());
    }
    line.append(" |");
    for (int k = 0; k < expected.size(); k++) {
      TfliteOracle.Tensor a = actual.get(k);
      boolean exact = !a.dtype().startsWith("float");
      Comparison cmp =
          Comparison.of(expected.get(k), a.floats(), exact ? 0 : 1e-5, exact ? 0 : 1e-4);
      assertThat(cmp.ok())
          .as(c.label() + " " + c.outputs().get(k) + " (" + a.dtype() + ") " + cmp)
          .isTrue();
      line.append(
          String.format(
              " %s%s max|d| %.2g",
              c.outputs().get(k), exact ? " (" + a.dtype() + ", exact)" : "", cmp.maxAbs()));
    }
    return line.toString();
  }

  /** Runs every case, prints one line per case and fails naming each case that failed. */
  void runAll(String title, List<Case> cases) {
    List<String> report = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    for (Case c : cases) {
      try {
        report.add(run(c));
      } catch (Throwable t) {
        failures.add(c.label() + ": " + t.getMessage());
        report.add(c.label() + " FAILED: " + t.getMessage());
      }
    }
    System.out.println(title + " (TF 2.18 vs TFLite 2.18):\n  " + String.join("\n  ", report));
    assertThat(failures).as("cases that failed").isEmpty();
  }
}
