package org.tfport.runtime.ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.formats.graphdef.GraphDefWriter;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.testkit.TensorFlowOracle;

/**
 * Shared pieces of the neural-network kernel tests: attribute builders, TF graphs of several ops,
 * worst errors.
 */
final class NnTesting {
  private NnTesting() {}

  static AttrValue ints(long... v) {
    return AttrValue.ListAttr.ofInts(Arrays.stream(v).boxed().toList());
  }

  static AttrValue str(String s) {
    return AttrValue.Str.of(s);
  }

  static AttrValue strs(String... s) {
    return AttrValue.ListAttr.ofStrings(List.of(s));
  }

  static AttrValue f(float v) {
    return new AttrValue.Float(v);
  }

  static AttrValue i(long v) {
    return new AttrValue.Int(v);
  }

  static AttrValue b(boolean v) {
    return new AttrValue.Bool(v);
  }

  static Value random(Random rnd, DType t, long... shape) {
    Value f = OpOracle.randomFloats(rnd, shape);
    if (t == DType.FLOAT32) {
      return f;
    }
    double[] d = new double[f.size()];
    for (int k = 0; k < d.length; k++) {
      d[k] = f.floats()[k] + rnd.nextDouble() * 1e-3;
    }
    return Value.doubles(shape, d);
  }

  static Value intVector(long... v) {
    return Value.ints(new long[] {v.length}, Arrays.stream(v).mapToInt(Math::toIntExact).toArray());
  }

  /** A TensorFlow graph of several ops over fed placeholders. */
  static final class TfGraph {
    private final Graph g = new Graph("test");
    private final Map<String, Tensor> feeds = new LinkedHashMap<>();
    private int next;

    String input(Value v) {
      String name = "in" + next++;
      g.add(
          new Node(name, "Placeholder", List.of(), "", Map.of("dtype", OpOracle.type(v.dtype()))));
      feeds.put(name, Values.toTensor(v));
      return name;
    }

    String op(String op, Map<String, AttrValue> attrs, String... inputs) {
      String name = "n" + next++;
      g.add(new Node(name, op, List.of(inputs), "", attrs));
      return name;
    }

    List<Value> run(String... fetches) {
      List<Value> out = new ArrayList<>();
      for (Tensor t : TensorFlowOracle.run(GraphDefWriter.write(g), feeds, List.of(fetches))) {
        out.add(Values.fromTensor(t));
      }
      return out;
    }
  }

  /** Worst differences seen per check, so a test can state what it measured. */
  static final class Worst {
    private final Map<String, double[]> worst = new TreeMap<>();

    /**
     * Asserts closeness (OpOracle.assertClose) and records the largest |a−b| and its share of the
     * tolerance.
     */
    synchronized void check(
        String key, String what, Value actual, Value expected, double atol, double rtol) {
      OpOracle.assertClose(what, actual, expected, atol, rtol);
      double[] w = worst.computeIfAbsent(key, k -> new double[2]);
      for (int k = 0; k < expected.size(); k++) {
        double a = actual.doubleAt(k);
        double e = expected.doubleAt(k);
        if (Double.isFinite(e)) {
          double d = Math.abs(a - e);
          w[0] = Math.max(w[0], d);
          double tol = atol + rtol * Math.abs(e);
          w[1] = Math.max(w[1], d == 0 ? 0 : d / tol);
        }
      }
    }

    @Override
    public synchronized String toString() {
      StringBuilder s = new StringBuilder();
      worst.forEach(
          (k, w) ->
              s.append(
                  String.format("  %-40s max|a-b| = %.3g (%.2f of tolerance)%n", k, w[0], w[1])));
      return s.toString();
    }
  }
}
