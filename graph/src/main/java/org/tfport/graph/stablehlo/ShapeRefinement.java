package org.tfport.graph.stablehlo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Node;
import org.tfport.formats.stablehlo.Attr;
import org.tfport.formats.stablehlo.Attrs;
import org.tfport.formats.stablehlo.MlirType;
import org.tfport.formats.stablehlo.Op;
import org.tfport.graph.stablehlo.Lowerer.V;

/**
 * Shape refinement of programs exported with symbolic dimensions ({@code jax.export} with shapes
 * like {@code ("b", 4)}), as StableHLO's {@code stablehlo-refine-shapes} does once the inputs'
 * shapes are fixed: JAX computes each dimension variable from an input's dimension ({@code
 * get_dimension_size}, {@code convert}) and passes it to its private functions as a {@code
 * jax.global_constant} argument, which builds the shape operands of {@code
 * dynamic_broadcast_in_dim}, {@code dynamic_reshape}, {@code dynamic_iota} and {@code
 * real_dynamic_slice}. Here that integer arithmetic is folded to constants while lowering, the
 * dynamic ops whose shape operands are constants become their static forms, and a {@code ?} in a
 * result type is replaced by the size its operands give. What does not fold (an input of {@code ?}
 * size) lowers to ops computing the shapes at run time ({@link DynamicShapes}).
 */
final class ShapeRefinement {
  private ShapeRefinement() {}

  /** JAX's wrapper giving a static operand the dynamic type its callee declares. */
  static final String OPERAND_WRAPPER = "stablehlo.shape_refinement_operand_wrapper";

  /** The dynamic ops that become static ones once their shape operands are constants. */
  static final java.util.Set<String> DYNAMIC =
      java.util.Set.of(
          "stablehlo.dynamic_broadcast_in_dim",
          "stablehlo.dynamic_reshape",
          "stablehlo.dynamic_iota",
          "stablehlo.real_dynamic_slice");

  /** Folded integer tensors stay this small: shapes and dimension values, not data. */
  private static final int MAX_FOLDED = 16;

  /** The values of an integer constant, or null when {@code v} is not one. */
  static long[] constantInts(Lowerer l, V v) {
    Node n = l.g.node(org.tfport.core.graph.TensorRef.nodeOf(v.ref()));
    if (n == null
        || !n.op().equals("Const")
        || !(n.attr("value") instanceof AttrValue.TensorAttr t)
        || (v.dtype() != DType.INT32 && v.dtype() != DType.INT64)) {
      return null;
    }
    ByteBuffer b = t.value().value().data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int count = (int) t.value().value().size();
    long[] out = new long[count];
    for (int k = 0; k < count; k++) {
      out[k] = v.dtype() == DType.INT32 ? b.getInt(k * 4) : b.getLong(k * 8);
    }
    return out;
  }

  /**
   * The value of {@code op} when it is shape arithmetic over integer constants (or the operand
   * wrapper, which passes its operand on), else null: the op is then lowered as written.
   */
  static V fold(Lowerer l, Op op, List<V> ins) {
    if (op.name().equals("stablehlo.custom_call")
        && op.attr("call_target_name") instanceof Attr.StrAttr s
        && s.value().equals(OPERAND_WRAPPER)
        && !ins.isEmpty()) {
      return ins.get(0);
    }
    if (op.results().size() != 1 || !op.resultTypes().get(0).isTensor()) {
      return null;
    }
    MlirType t = op.resultTypes().get(0);
    DType dt;
    try {
      dt = Lowerer.dtype(t);
    } catch (Lowerer.Refusal r) {
      return null;
    }
    if ((dt != DType.INT32 && dt != DType.INT64)
        || !t.isStatic()
        || t.elementCount() > MAX_FOLDED) {
      return null;
    }
    List<long[]> vals = new ArrayList<>();
    for (V in : ins) {
      long[] c = constantInts(l, in);
      if (c == null) {
        return null;
      }
      vals.add(c);
    }
    long[] r =
        switch (op.name()) {
          case "stablehlo.convert", "stablehlo.reshape" -> vals.get(0);
          case "stablehlo.broadcast_in_dim" ->
              vals.get(0).length == 1 ? fill(vals.get(0)[0], (int) t.elementCount()) : null;
          case "stablehlo.concatenate" -> t.rank() == 1 ? concat(vals) : null;
          case "stablehlo.add",
              "stablehlo.subtract",
              "stablehlo.multiply",
              "stablehlo.divide",
              "stablehlo.maximum",
              "stablehlo.minimum" ->
              vals.size() == 2 && vals.get(0).length == vals.get(1).length
                  ? binary(op.name(), vals.get(0), vals.get(1))
                  : null;
          default -> null;
        };
    if (r == null || r.length != t.elementCount()) {
      return null;
    }
    if (dt == DType.INT32) {
      for (int k = 0; k < r.length; k++) {
        r[k] = (int) r[k];
      }
    }
    return l.constant(Lowerer.tensor(dt, t.dims(), r, null));
  }

  private static long[] fill(long v, int n) {
    long[] out = new long[n];
    java.util.Arrays.fill(out, v);
    return out;
  }

  private static long[] concat(List<long[]> parts) {
    return parts.stream().flatMapToLong(java.util.Arrays::stream).toArray();
  }

  private static long[] binary(String name, long[] a, long[] b) {
    long[] out = new long[a.length];
    for (int k = 0; k < a.length; k++) {
      if (name.equals("stablehlo.divide") && b[k] == 0) {
        return null;
      }
      out[k] =
          switch (name) {
            case "stablehlo.add" -> a[k] + b[k];
            case "stablehlo.subtract" -> a[k] - b[k];
            case "stablehlo.multiply" -> a[k] * b[k];
            case "stablehlo.divide" -> a[k] / b[k];
            case "stablehlo.maximum" -> Math.max(a[k], b[k]);
            default -> Math.min(a[k], b[k]);
          };
    }
    return out;
  }

  /**
   * {@code op} with its dynamic form made static where its shape operands are constants, and the
   * {@code ?} dimensions of its results that its operands fix made known; {@code op} itself when
   * nothing changes.
   *
   * @throws Lowerer.Refusal for a dynamic op whose constant shape operands do not fit its result
   */
  static Op refine(Lowerer l, Op op, List<V> ins) {
    if (DYNAMIC.contains(op.name()) && !shapeOperandsFold(l, op, ins)) {
      // Lowered as written, to the TensorFlow ops taking shapes as tensors (DynamicShapes).
      return op;
    }
    switch (op.name()) {
      case "stablehlo.dynamic_broadcast_in_dim" -> {
        long[] shape = shapeOperand(l, op, ins, 1);
        Map<String, Attr> a = new HashMap<>();
        a.put("broadcast_dimensions", op.attr("broadcast_dimensions"));
        return rewritten(op, "stablehlo.broadcast_in_dim", ins.subList(0, 1), a, shape);
      }
      case "stablehlo.dynamic_reshape" -> {
        long[] shape = shapeOperand(l, op, ins, 1);
        return rewritten(op, "stablehlo.reshape", ins.subList(0, 1), Map.of(), shape);
      }
      case "stablehlo.dynamic_iota" -> {
        long[] shape = shapeOperand(l, op, ins, 0);
        Map<String, Attr> a = new HashMap<>();
        a.put("iota_dimension", op.attr("iota_dimension"));
        return rewritten(op, "stablehlo.iota", List.of(), a, shape);
      }
      case "stablehlo.real_dynamic_slice" -> {
        long[] start = shapeOperand(l, op, ins, 1);
        long[] limit = shapeOperand(l, op, ins, 2);
        long[] strides = shapeOperand(l, op, ins, 3);
        long[] shape = new long[start.length];
        for (int k = 0; k < shape.length; k++) {
          if (strides[k] <= 0 || start[k] < 0 || limit[k] < start[k]) {
            throw new Lowerer.Refusal(
                "slice bounds ["
                    + start[k]
                    + ", "
                    + limit[k]
                    + ") step "
                    + strides[k]
                    + " in dimension "
                    + k);
          }
          shape[k] = (limit[k] - start[k] + strides[k] - 1) / strides[k];
        }
        Map<String, Attr> a = new HashMap<>();
        a.put("start_indices", new Attr.DenseArrayAttr("i64", start));
        a.put("limit_indices", new Attr.DenseArrayAttr("i64", limit));
        a.put("strides", new Attr.DenseArrayAttr("i64", strides));
        return rewritten(op, "stablehlo.slice", ins.subList(0, 1), a, shape);
      }
      default -> {
        return refineResults(op, ins);
      }
    }
  }

  /** Whether every shape operand of the dynamic op {@code op} is an integer constant here. */
  private static boolean shapeOperandsFold(Lowerer l, Op op, List<V> ins) {
    int first = op.name().equals("stablehlo.dynamic_iota") ? 0 : 1;
    for (int k = first; k < ins.size(); k++) {
      if (constantInts(l, ins.get(k)) == null) {
        return false;
      }
    }
    return true;
  }

  /** Operand {@code k}, a 1-D shape or index vector that must be constant here. */
  private static long[] shapeOperand(Lowerer l, Op op, List<V> ins, int k) {
    long[] v = constantInts(l, ins.get(k));
    if (v == null) {
      throw new Lowerer.Refusal(
          "its shape operand "
              + op.operands().get(k)
              + " is not known before running; export with static shapes, or give the"
              + " inputs' shapes (GraphLoadingOptions.inputNodeNames and GraphLoadingOptions.inputShape)");
    }
    return v;
  }

  private static Op rewritten(
      Op op, String name, List<V> ins, Map<String, Attr> attrs, long[] shape) {
    MlirType declared = op.resultTypes().get(0);
    long[] d = declared.dims();
    if (d.length != shape.length) {
      throw new Lowerer.Refusal(
          "its shape operand has " + shape.length + " dimensions, its result type " + declared);
    }
    for (int k = 0; k < d.length; k++) {
      if (shape[k] < 0 || (d[k] >= 0 && d[k] != shape[k])) {
        throw new Lowerer.Refusal(
            "its shape operand gives dimension " + k + " size " + shape[k] + ", not " + declared);
      }
    }
    List<String> operands = op.operands().subList(0, ins.size());
    List<MlirType> operandTypes =
        op.operandTypes().size() >= ins.size()
            ? op.operandTypes().subList(0, ins.size())
            : op.operandTypes();
    return new Op(
        op.results(),
        name,
        operands,
        attrs,
        op.regions(),
        operandTypes,
        List.of(staticType(declared.element(), shape)),
        op.line());
  }

  /** The op with the {@code ?} dimensions of its results its operands fix replaced. */
  private static Op refineResults(Op op, List<V> ins) {
    boolean dynamic = false;
    for (MlirType t : op.resultTypes()) {
      dynamic |= t.isTensor() && !t.isStatic();
    }
    if (!dynamic || op.name().equals("func.call") || !op.regions().isEmpty() && !isReduce(op)) {
      return op;
    }
    List<MlirType> types = new ArrayList<>();
    boolean changed = false;
    for (MlirType t : op.resultTypes()) {
      long[] s = t.isTensor() && !t.isStatic() ? ShapeInference.infer(op, ins, t.dims()) : null;
      if (s == null) {
        types.add(t);
        continue;
      }
      types.add(staticType(t.element(), s));
      changed = true;
    }
    return changed
        ? new Op(
            op.results(),
            op.name(),
            op.operands(),
            op.attributes(),
            op.regions(),
            op.operandTypes(),
            types,
            op.line())
        : op;
  }

  private static boolean isReduce(Op op) {
    return op.name().equals("stablehlo.reduce");
  }

  static MlirType staticType(String element, long[] dims) {
    StringBuilder sb = new StringBuilder("tensor<");
    for (long d : dims) {
      sb.append(d).append('x');
    }
    sb.append(element).append('>');
    return new MlirType(sb.toString(), element, dims.clone());
  }

  /** Values of an integer attribute list, for {@link ShapeInference}. */
  static long[] longs(Op op, String name) {
    return Attrs.longs(op.attr(name));
  }
}
