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
import org.tfport.runtime.kernel.WorkerPool;
import org.tfport.testkit.TensorFlowOracle;

/**
 * Runs one op both ways: tfport's kernel (reference or optimized) and real TensorFlow 2.18 on a
 * graph of placeholders feeding that op; tests compare the two.
 */
public final class OpOracle {
  private OpOracle() {}

  /** A single-threaded run context with fresh session state. */
  public static RunContext context(int threads) {
    Map<String, Object> state = new java.util.concurrent.ConcurrentHashMap<>();
    ForkJoinPool pool = threads > 1 ? new ForkJoinPool(threads) : ForkJoinPool.commonPool();
    WorkerPool workers = threads > 1 ? new WorkerPool(threads - 1, "op-oracle") : null;
    return new RunContext() {
      @Override
      public int threads() {
        return threads;
      }

      @Override
      public void fork(Runnable task, int helpers) {
        workers.post(task, helpers);
      }

      // As a session's arena may: a buffer that held other values. A kernel that leaves an element
      // unwritten shows NaN where the reference has a number.
      @Override
      public float[] floats(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, Float.NaN);
        return a;
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
   * Binds and runs {@code op}'s kernel with the given inputs. Inputs listed in {@code constants}
   * (by index) are offered to the factory as plan constants, as weights are.
   */
  public static Value[] runKernel(
      KernelRegistry.Mode mode,
      String op,
      Map<String, AttrValue> attrs,
      List<Integer> constants,
      Value... inputs) {
    return bindKernel(mode, op, attrs, constants, inputs).run(inputs, context(1));
  }

  /** As above, run in {@code context} (several threads, for the optimized kernels). */
  public static Value[] runKernel(
      KernelRegistry.Mode mode,
      String op,
      Map<String, AttrValue> attrs,
      List<Integer> constants,
      RunContext context,
      Value... inputs) {
    return bindKernel(mode, op, attrs, constants, inputs).run(inputs, context);
  }

  /**
   * Binds {@code op}'s kernel for these inputs, those listed in {@code constants} offered as plan
   * constants.
   */
  public static Kernel bindKernel(
      KernelRegistry.Mode mode,
      String op,
      Map<String, AttrValue> attrs,
      List<Integer> constants,
      Value... inputs) {
    KernelFactory f = StandardKernels.registry().factory(op, mode);
    assertThat(f).as("a kernel for " + op).isNotNull();
    List<String> ins = new ArrayList<>();
    for (int i = 0; i < inputs.length; i++) {
      ins.add("in" + i);
    }
    Node node = new Node("op", op, ins, "", attrs);
    return f.bind(
        new NodeBinding(node, Map.of()) {
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

  /**
   * Runs {@code op} in TensorFlow with each input fed to a placeholder; returns its first {@code
   * outputs} outputs.
   */
  public static List<Value> runTensorFlow(
      String op, Map<String, AttrValue> attrs, int outputs, Value... inputs) {
    return runTensorFlow(op, attrs, outputs, false, inputs);
  }

  /**
   * As above; with {@code shaped} the placeholders declare their inputs' shapes, for ops whose
   * TensorFlow shape function insists on a known rank at graph construction (SpaceToBatchND's
   * block_shape, ...).
   */
  public static List<Value> runTensorFlow(
      String op, Map<String, AttrValue> attrs, int outputs, boolean shaped, Value... inputs) {
    return runTensorFlow(List.of(new Call(op, attrs, outputs, shaped, inputs))).get(0);
  }

  /** One op applied to inputs fed to placeholders, its first {@code outputs} outputs fetched. */
  public record Call(
      String op, Map<String, AttrValue> attrs, int outputs, boolean shaped, Value... inputs) {
    public Call(String op, Map<String, AttrValue> attrs, int outputs, Value... inputs) {
      this(op, attrs, outputs, false, inputs);
    }
  }

  /**
   * Runs every call in one TensorFlow graph and session (one session per case is slow) and returns
   * each call's outputs. Types TF Java cannot feed (int8, int16, uint16, float16, bfloat16) are fed
   * as int32 or float32 and cast in the graph; int8 and int16 outputs, which TF Java cannot fetch,
   * are cast to int32 in the graph and back.
   */
  public static List<List<Value>> runTensorFlow(List<Call> calls) {
    Graph g = new Graph("oracle");
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    for (int c = 0; c < calls.size(); c++) {
      Call call = calls.get(c);
      List<String> ins = new ArrayList<>();
      for (int i = 0; i < call.inputs().length; i++) {
        Value in = call.inputs()[i];
        String name = "c" + c + "_in" + i;
        DType fed = feedType(in.dtype());
        Map<String, AttrValue> pa = new LinkedHashMap<>();
        pa.put("dtype", type(fed));
        if (call.shaped()) {
          pa.put("shape", new AttrValue.Shape(org.tfport.core.graph.TensorShape.of(in.shape())));
        }
        g.add(new Node(name, "Placeholder", List.of(), "", pa));
        feeds.put(name, Values.toTensor(fed == in.dtype() ? in : convert(in, fed)));
        if (fed != in.dtype()) {
          g.add(
              new Node(
                  name + "_cast",
                  "Cast",
                  List.of(name),
                  "",
                  Map.of("SrcT", type(fed), "DstT", type(in.dtype()))));
          name += "_cast";
        }
        ins.add(name);
      }
      g.add(new Node("c" + c + "_op", call.op(), ins, "", call.attrs()));
    }
    List<String> fetches = new ArrayList<>();
    List<DType> narrowTo = new ArrayList<>();
    try (org.tensorflow.Graph typed = new org.tensorflow.Graph()) {
      typed.importGraphDef(org.tensorflow.proto.GraphDef.parseFrom(GraphDefWriter.write(g)));
      for (int c = 0; c < calls.size(); c++) {
        for (int o = 0; o < calls.get(c).outputs(); o++) {
          String ref = "c" + c + "_op:" + o;
          DType t = DType.fromTfName(typed.operation("c" + c + "_op").output(o).dataType().name());
          if (t == DType.INT8 || t == DType.INT16) {
            String cast = "c" + c + "_out" + o + "_cast";
            g.add(
                new Node(
                    cast,
                    "Cast",
                    List.of(ref),
                    "",
                    Map.of("SrcT", type(t), "DstT", type(DType.INT32))));
            ref = cast;
          }
          fetches.add(ref);
          narrowTo.add(t);
        }
      }
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
    List<Tensor> results = TensorFlowOracle.run(GraphDefWriter.write(g), feeds, fetches);
    List<List<Value>> out = new ArrayList<>();
    int f = 0;
    for (Call call : calls) {
      List<Value> values = new ArrayList<>();
      for (int o = 0; o < call.outputs(); o++, f++) {
        Value v = Values.fromTensor(results.get(f));
        values.add(v.dtype() == narrowTo.get(f) ? v : convert(v, narrowTo.get(f)));
      }
      out.add(values);
    }
    return out;
  }

  /** The type TF Java feeds a value of {@code t} as. */
  private static DType feedType(DType t) {
    return switch (t) {
      case FLOAT16, BFLOAT16 -> DType.FLOAT32;
      case INT8, INT16, UINT16 -> DType.INT32;
      default -> t;
    };
  }

  /**
   * Converts between a narrow type and the wide one it travels as; every value involved is exact in
   * both.
   */
  private static Value convert(Value v, DType to) {
    int n = v.size();
    Object data =
        switch (to) {
          case FLOAT32 -> {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
              a[i] = (float) v.doubleAt(i);
            }
            yield a;
          }
          case INT32 -> {
            int[] a = new int[n];
            for (int i = 0; i < n; i++) {
              a[i] = (int) v.longAt(i);
            }
            yield a;
          }
          case INT8 -> {
            byte[] a = new byte[n];
            for (int i = 0; i < n; i++) {
              a[i] = (byte) v.longAt(i);
            }
            yield a;
          }
          case INT16 -> {
            short[] a = new short[n];
            for (int i = 0; i < n; i++) {
              a[i] = (short) v.longAt(i);
            }
            yield a;
          }
          default -> throw new IllegalArgumentException("no conversion of " + v + " to " + to);
        };
    return Value.of(to, v.shape(), data);
  }

  /**
   * Asserts equal dtype and shape, and elements within |a−b| ≤ atol + rtol·|b| (NaN equal to NaN).
   */
  public static void assertClose(
      String what, Value actual, Value expected, double atol, double rtol) {
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
      assertThat(Math.abs(a - b))
          .as(what + "[" + i + "]: " + a + " vs " + b)
          .isLessThanOrEqualTo(atol + rtol * Math.abs(b));
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
