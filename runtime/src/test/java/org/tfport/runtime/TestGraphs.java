package org.tfport.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.graph.ArgDef;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.FuncRef;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.runtime.ops.ControlFlowOps;
import org.tfport.runtime.ops.TableOps;
import org.tfport.runtime.ops.TensorListOps;

/**
 * Builders for hand-made IR graphs and a registry of this module's families plus tiny test-only
 * arithmetic kernels (the real math kernels are other families').
 */
final class TestGraphs {
  private TestGraphs() {}

  static final KernelRegistry REGISTRY =
      KernelRegistry.of(
          List.of(new ControlFlowOps(), new TensorListOps(), new TableOps(), new Arithmetic()));

  /**
   * AddV2, Sub, Mul and Less over float32 or int32 tensors of one shape, or a scalar with a tensor.
   */
  static final class Arithmetic implements OpFamily {
    interface FloatOp {
      float apply(float a, float b);
    }

    interface IntOp {
      int apply(int a, int b);
    }

    @Override
    public void register(KernelRegistry r) {
      r.reference("AddV2", n -> binary((a, b) -> a + b, (a, b) -> a + b, false));
      r.reference("Sub", n -> binary((a, b) -> a - b, (a, b) -> a - b, false));
      r.reference("Mul", n -> binary((a, b) -> a * b, (a, b) -> a * b, false));
      r.reference("Less", n -> binary((a, b) -> a < b ? 1 : 0, (a, b) -> a < b ? 1 : 0, true));
    }

    private static Kernel binary(FloatOp f, IntOp i, boolean compare) {
      return (in, ctx) -> {
        Value a = in[0];
        Value b = in[1];
        if (a.dtype() != b.dtype()) {
          throw new KernelException("types differ: " + a + " and " + b);
        }
        long[] shape = a.rank() == 0 ? b.shape() : a.shape();
        if (a.rank() != 0 && b.rank() != 0 && !Arrays.equals(a.shape(), b.shape())) {
          throw new KernelException("shapes differ: " + a + " and " + b);
        }
        int n = (int) Value.elementCount(shape);
        int sa = a.rank() == 0 ? 0 : 1;
        int sb = b.rank() == 0 ? 0 : 1;
        if (a.dtype() == DType.FLOAT32) {
          float[] x = a.floats();
          float[] y = b.floats();
          float[] o = new float[n];
          for (int k = 0; k < n; k++) {
            o[k] = f.apply(x[k * sa], y[k * sb]);
          }
          return new Value[] {compare ? bools(shape, o) : Value.floats(shape, o)};
        }
        int[] x = a.ints();
        int[] y = b.ints();
        int[] o = new int[n];
        for (int k = 0; k < n; k++) {
          o[k] = i.apply(x[k * sa], y[k * sb]);
        }
        if (compare) {
          byte[] z = new byte[n];
          for (int k = 0; k < n; k++) {
            z[k] = (byte) o[k];
          }
          return new Value[] {Value.bools(shape, z)};
        }
        return new Value[] {Value.ints(shape, o)};
      };
    }

    private static Value bools(long[] shape, float[] o) {
      byte[] z = new byte[o.length];
      for (int k = 0; k < o.length; k++) {
        z[k] = (byte) o[k];
      }
      return Value.bools(shape, z);
    }
  }

  static AttrValue type(DType t) {
    return new AttrValue.Type(t.tfEnum());
  }

  static AttrValue types(DType... ts) {
    List<Integer> l = new ArrayList<>();
    for (DType t : ts) {
      l.add(t == null ? org.tfport.core.graph.DataTypes.DT_VARIANT : t.tfEnum());
    }
    return AttrValue.ListAttr.ofTypes(l);
  }

  static AttrValue func(String name) {
    return new AttrValue.Func(FuncRef.of(name));
  }

  static AttrValue noShapes() {
    return new AttrValue.ListAttr(
        List.of(), List.of(), List.of(), List.of(), List.of(), List.of(), List.of(), List.of());
  }

  /** A node with attributes given as key, value pairs. */
  static Node node(String name, String op, List<String> inputs, Object... attrs) {
    Map<String, AttrValue> m = new LinkedHashMap<>();
    for (int i = 0; i < attrs.length; i += 2) {
      m.put((String) attrs[i], (AttrValue) attrs[i + 1]);
    }
    return new Node(name, op, inputs, "", m);
  }

  static Node constant(String name, Value v) {
    return node(
        name,
        "Const",
        List.of(),
        "dtype",
        type(v.dtype()),
        "value",
        new AttrValue.TensorAttr(
            new TensorValue(v.dtype().tfEnum(), TensorShape.of(v.shape()), Values.toTensor(v))));
  }

  static Node placeholder(String name, DType t, long... shape) {
    return node(
        name,
        "Placeholder",
        List.of(),
        "dtype",
        type(t),
        "shape",
        new AttrValue.Shape(TensorShape.of(shape)));
  }

  static Node binary(String name, String op, DType t, String a, String b) {
    return node(name, op, List.of(a, b), "T", type(t));
  }

  /** Argument or result of a function: a name and a type (null for a variant, a TensorList). */
  static ArgDef arg(String name, DType t) {
    return ArgDef.ofType(name, t == null ? org.tfport.core.graph.DataTypes.DT_VARIANT : t.tfEnum());
  }

  static GraphFunction function(
      String name, List<ArgDef> ins, List<ArgDef> outs, List<Node> nodes, Map<String, String> ret) {
    return new GraphFunction(name, ins, outs, nodes, ret, Map.of(), Map.of(), Map.of(), false);
  }

  /** A While node over the loop variables {@code inputs} of the given types. */
  static Node whileNode(
      String name, String cond, String body, List<String> inputs, DType... types) {
    return node(
        name,
        "StatelessWhile",
        inputs,
        "T",
        types(types),
        "cond",
        func(cond),
        "body",
        func(body),
        "output_shapes",
        noShapes(),
        "parallel_iterations",
        new AttrValue.Int(10));
  }

  static Node ifNode(
      String name,
      String then,
      String otherwise,
      String pred,
      List<String> args,
      DType[] in,
      DType[] out) {
    List<String> inputs = new ArrayList<>();
    inputs.add(pred);
    inputs.addAll(args);
    return node(
        name,
        "StatelessIf",
        inputs,
        "Tcond",
        type(DType.BOOL),
        "Tin",
        types(in),
        "Tout",
        types(out),
        "then_branch",
        func(then),
        "else_branch",
        func(otherwise),
        "output_shapes",
        noShapes());
  }
}
