package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.formats.graphdef.GraphDefWriter;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelFactory;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.NodeBinding;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.testkit.TensorFlowOracle;

/**
 * Runs one op both ways: tfport's kernel (reference or optimized) and real TensorFlow 2.18 on a graph of placeholders
 * feeding that op; tests compare the two.
 */
public final class OpOracle {
  private OpOracle() {}

  /** A single-threaded run context with fresh session state. */
  public static RunContext context(int threads) {
    Map<String, Object> state = new java.util.concurrent.ConcurrentHashMap<>();
    ForkJoinPool pool = threads > 1 ? new ForkJoinPool(threads) : ForkJoinPool.commonPool();
    return new RunContext() {
      @Override
      public int threads() {
        return threads;
      }

      @Override
      public ForkJoinPool pool() {
        return pool;
      }

      @Override
      @SuppressWarnings("unchecked")
      public <T> T sessionState(String key, Supplier<T> create) {
        return (T) state.computeIfAbsent(key, k -> create.get());
      }
    };
  }

  /**
   * Binds and runs {@code op}'s kernel with the given inputs. Inputs listed in {@code constants} (by index) are
   * offered to the factory as plan constants, as weights are.
   */
  public static Value[] runKernel(KernelRegistry.Mode mode, String op, Map<String, AttrValue> attrs,
      List<Integer> constants, Value... inputs) {
    return bindKernel(mode, op, attrs, constants, inputs).run(inputs, context(1));
  }

  /** As above, run in {@code context} (several threads, for the optimized kernels). */
  public static Value[] runKernel(KernelRegistry.Mode mode, String op, Map<String, AttrValue> attrs,
      List<Integer> constants, RunContext context, Value... inputs) {
    return bindKernel(mode, op, attrs, constants, inputs).run(inputs, context);
  }

  /** Binds {@code op}'s kernel for these inputs, those listed in {@code constants} offered as plan constants. */
  public static Kernel bindKernel(KernelRegistry.Mode mode, String op, Map<String, AttrValue> attrs,
      List<Integer> constants, Value... inputs) {
    KernelFactory f = StandardKernels.registry().factory(op, mode);
    assertThat(f).as("a kernel for " + op).isNotNull();
    List<String> ins = new ArrayList<>();
    for (int i = 0; i < inputs.length; i++) {
      ins.add("in" + i);
    }
    Node node = new Node("op", op, ins, "", attrs);
    return f.bind(new NodeBinding(node, Map.of()) {
      @Override
      public Value constantInput(int i) {
        return constants.contains(i) ? inputs[i] : null;
      }

      @Override
      public DType inputType(int i) {
        return inputs[i].dtype();
      }

      @Override
      public long[] inputShape(int i) {
        return inputs[i].shape().clone();
      }

      @Override
      public Function function(String attrName) {
        throw new UnsupportedOperationException("no functions in a single-op test");
      }
    });
  }

  public static Value[] runKernel(String op, Map<String, AttrValue> attrs, Value... inputs) {
    return runKernel(KernelRegistry.Mode.REFERENCE, op, attrs, List.of(), inputs);
  }

  /** Runs {@code op} in TensorFlow with each input fed to a placeholder; returns its first {@code outputs} outputs. */
  public static List<Value> runTensorFlow(String op, Map<String, AttrValue> attrs, int outputs, Value... inputs) {
    return runTensorFlow(op, attrs, outputs, false, inputs);
  }

  /**
   * As above; with {@code shaped} the placeholders declare their inputs' shapes, for ops whose TensorFlow shape
   * function insists on a known rank at graph construction (SpaceToBatchND's block_shape, ...).
   */
  public static List<Value> runTensorFlow(String op, Map<String, AttrValue> attrs, int outputs, boolean shaped,
      Value... inputs) {
    Graph g = new Graph("oracle");
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    List<String> ins = new ArrayList<>();
    for (int i = 0; i < inputs.length; i++) {
      String name = "in" + i;
      Map<String, AttrValue> pa = new LinkedHashMap<>();
      pa.put("dtype", new AttrValue.Type(inputs[i].dtype().tfEnum()));
      if (shaped) {
        pa.put("shape", new AttrValue.Shape(org.tfport.core.graph.TensorShape.of(inputs[i].shape())));
      }
      g.add(new Node(name, "Placeholder", List.of(), "", pa));
      feeds.put(name, Values.toTensor(inputs[i]));
      ins.add(name);
    }
    g.add(new Node("op", op, ins, "", attrs));
    List<String> fetches = new ArrayList<>();
    for (int i = 0; i < outputs; i++) {
      fetches.add("op:" + i);
    }
    List<Value> out = new ArrayList<>();
    for (Tensor t : TensorFlowOracle.run(GraphDefWriter.write(g), feeds, fetches)) {
      out.add(Values.fromTensor(t));
    }
    return out;
  }

  /** Asserts equal dtype and shape, and elements within |a−b| ≤ atol + rtol·|b| (NaN equal to NaN). */
  public static void assertClose(String what, Value actual, Value expected, double atol, double rtol) {
    assertThat(actual.dtype()).as(what + " dtype").isEqualTo(expected.dtype());
    assertThat(actual.shape()).as(what + " shape").containsExactly(expected.shape());
    int n = expected.size();
    for (int i = 0; i < n; i++) {
      double a = actual.doubleAt(i);
      double b = expected.doubleAt(i);
      if (Double.isNaN(b)) {
        assertThat(Double.isNaN(a)).as(what + "[" + i + "] NaN").isTrue();
        continue;
      }
      if (Double.isInfinite(b)) {
        assertThat(a).as(what + "[" + i + "]").isEqualTo(b);
        continue;
      }
      assertThat(Math.abs(a - b)).as(what + "[" + i + "]: " + a + " vs " + b).isLessThanOrEqualTo(atol + rtol * Math.abs(b));
    }
  }

  public static Value randomFloats(Random rnd, long... shape) {
    float[] v = new float[(int) Value.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = rnd.nextFloat() * 2 - 1;
    }
    return Value.floats(shape, v);
  }

  public static Map<String, AttrValue> attrs(Object... keyValues) {
    Map<String, AttrValue> m = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put((String) keyValues[i], (AttrValue) keyValues[i + 1]);
    }
    return m;
  }

  public static AttrValue type(DType t) {
    return new AttrValue.Type(t.tfEnum());
  }
}
