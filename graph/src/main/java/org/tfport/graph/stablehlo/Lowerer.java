package org.tfport.graph.stablehlo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.stablehlo.Float8;
import org.tfport.formats.stablehlo.MlirType;
import org.tfport.formats.stablehlo.Op;
import org.tfport.formats.stablehlo.Region;
import org.tfport.formats.stablehlo.StableHloModule;

/**
 * Lowers the ops of one StableHLO function body (or region) into nodes of {@code g}. SSA values map
 * to graph tensors ({@link V}); an op that cannot be lowered is recorded in {@code refusals} with
 * its location and its results left unbound, so that every such op of the program is named at once.
 */
final class Lowerer {
  /** A lowered value: the tensor ({@code node:k}), its element type and static shape. */
  record V(String ref, DType dtype, long[] shape) {
    int rank() {
      return shape.length;
    }

    long dim(int i) {
      return shape[i];
    }
  }

  /** A {@code check.*} custom call of a test program: what it compares, for the test harness. */
  record Check(String target, List<V> operands, Op op) {}

  /** Why one op cannot be lowered; caught per op and recorded. */
  static final class Refusal extends RuntimeException {
    Refusal(String message) {
      super(message, null, false, false);
    }
  }

  final Graph g;
  final Graph root;
  final StableHloModule module;
  final List<StableHloLowering.Problem> refusals;
  final List<Check> checks;
  final Map<String, V> env = new HashMap<>();

  /** SSA values of complex type, as pairs of real tensors ({@link ComplexLowering}). */
  final Map<String, ComplexLowering.Cx> complexEnv = new HashMap<>();

  /** The op that defined each SSA value lowered here, for patterns (argmax over an iota). */
  final Map<String, Op> producers = new HashMap<>();

  /** The op being lowered, for node names and messages. */
  Op current;

  /**
   * The TensorFlow functions a jax2tf module calls through {@code tf.call_tf_function} custom calls
   * (an {@code XlaCallModule}'s {@code function_list}); empty for a standalone module.
   */
  List<String> tfFunctions = List.of();

  private final int callDepth;

  Lowerer(
      Graph g,
      Graph root,
      StableHloModule module,
      List<StableHloLowering.Problem> refusals,
      List<Check> checks,
      int callDepth) {
    this.g = g;
    this.root = root;
    this.module = module;
    this.refusals = refusals;
    this.checks = checks;
    this.callDepth = callDepth;
  }

  Lowerer child(Graph sub) {
    Lowerer c = new Lowerer(sub, root, module, refusals, checks, callDepth);
    c.tfFunctions = tfFunctions;
    return c;
  }

  /** A function name not yet in the root's library: {@code base_N}. */
  String uniqueFunction(String base) {
    for (int k = 0; ; k++) {
      String name = base + "_" + k;
      if (!root.functions().containsKey(name + "_cond")
          && !root.functions().containsKey(name + "_body")
          && !root.functions().containsKey(name + "_branch0")) {
        return name;
      }
    }
  }

  Lowerer inlined() {
    if (callDepth > 64) {
      throw new Refusal("calls nest more than 64 deep (recursion?)");
    }
    Lowerer c = new Lowerer(g, root, module, refusals, checks, callDepth + 1);
    c.tfFunctions = tfFunctions;
    return c;
  }

  String where(Op op) {
    return module.fileName() + ":" + op.line();
  }

  // ------------------------------------------------------------------ walking

  /** Lowers a region's ops up to its terminator and returns the terminator's operands. */
  List<V> lowerOps(Region region) {
    for (Op op : region.ops()) {
      if (op.name().equals("func.return") || op.name().equals("stablehlo.return")) {
        List<V> out = new ArrayList<>();
        for (String o : op.operands()) {
          ComplexLowering.Cx c = complex(o);
          if (c == null) {
            out.add(env.get(o));
            continue;
          }
          current = op;
          try {
            out.add(ComplexLowering.result(this, c));
          } catch (Refusal r) {
            refusals.add(
                new StableHloLowering.Problem("line " + op.line(), op.name(), r.getMessage()));
            out.add(null);
          }
        }
        return out;
      }
      lowerOne(op);
    }
    return List.of();
  }

  void lowerOne(Op op) {
    current = op;
    if (ComplexLowering.involves(this, op)) {
      ComplexLowering.lower(this, op);
      return;
    }
    List<V> ins = new ArrayList<>();
    boolean missing = false;
    for (String o : op.operands()) {
      V v = lookup(o);
      missing |= v == null;
      ins.add(v);
    }
    if (missing) {
      // An operand's producer was refused (and named); name this op too if it would not lower
      // anyway, so that every such op is listed at once.
      String reason = Dispatch.refusalOf(op);
      if (reason != null) {
        refusals.add(new StableHloLowering.Problem("line " + op.line(), op.name(), reason));
      }
      return;
    }
    try {
      V folded = ShapeRefinement.fold(this, op, ins);
      if (folded != null) {
        env.put(op.results().get(0), folded);
        producers.put(op.results().get(0), op);
        return;
      }
      op = ShapeRefinement.refine(this, op, ins);
      current = op;
      List<V> outs = Dispatch.lower(this, op, ins);
      if (outs.size() != op.results().size()) {
        throw new IllegalStateException(op.name() + " gave " + outs.size() + " results");
      }
      for (int i = 0; i < outs.size(); i++) {
        V v = outs.get(i);
        Float8 f8 = i < op.resultTypes().size() ? float8(op.resultTypes().get(i)) : null;
        if (f8 != null && !op.name().equals("stablehlo.constant")) {
          v = Float8Rounding.round(this, v, f8);
        }
        env.put(op.results().get(i), v);
        producers.put(op.results().get(i), op);
      }
    } catch (Refusal r) {
      refusals.add(new StableHloLowering.Problem("line " + op.line(), op.name(), r.getMessage()));
    }
  }

  Op producer(String name) {
    Op p = producers.get(name);
    return p == null && name.endsWith("#0")
        ? producers.get(name.substring(0, name.length() - 2))
        : p;
  }

  ComplexLowering.Cx complex(String name) {
    ComplexLowering.Cx c = complexEnv.get(name);
    if (c == null && name.endsWith("#0")) {
      c = complexEnv.get(name.substring(0, name.length() - 2));
    }
    return c;
  }

  V lookup(String name) {
    V v = env.get(name);
    if (v == null && name.endsWith("#0")) {
      v = env.get(name.substring(0, name.length() - 2));
    }
    return v;
  }

  // ------------------------------------------------------------------ types

  static DType dtype(String element) {
    return switch (element) {
      case "f32" -> DType.FLOAT32;
      case "f64" -> DType.FLOAT64;
      case "f16" -> DType.FLOAT16;
      case "bf16" -> DType.BFLOAT16;
      case "i1" -> DType.BOOL;
      case "i8", "si8" -> DType.INT8;
      case "i16", "si16" -> DType.INT16;
      case "i32", "si32" -> DType.INT32;
      case "i64", "si64" -> DType.INT64;
      case "ui8" -> DType.UINT8;
      case "ui16" -> DType.UINT16;
      // Held as float32 values of the format, rounded after every op that makes them.
      case "f8E5M2", "f8E4M3", "f8E3M4", "f8E4M3FN", "f8E4M3FNUZ", "f8E5M2FNUZ", "f8E4M3B11FNUZ" ->
          DType.FLOAT32;
      case "complex<f32>", "complex<f64>" ->
          throw new Refusal(
              "element type "
                  + element
                  + " here: tfport lowers complex values to pairs of real tensors in straight-line"
                  + " code, not through loop, conditional or XlaCallModule boundaries; carry the"
                  + " real and imaginary parts (stablehlo.real/imag) across them");
      default ->
          throw new Refusal(
              "element type "
                  + element
                  + (element.startsWith("f8") || element.startsWith("f4")
                      ? " (an 8- or 4-bit float) has no TensorFlow, TF.js or TFLite equivalent;"
                          + " compute in f16, bf16 or f32"
                      : " has no TensorFlow equivalent tfport runs"));
    };
  }

  /** The 8-bit float format of a tensor type, or null. */
  static Float8 float8(MlirType t) {
    return t.isTensor() ? Float8.of(t.element()) : null;
  }

  static DType dtype(MlirType t) {
    if (!t.isTensor()) {
      throw new Refusal("type " + t + " is not a ranked tensor");
    }
    return dtype(t.element());
  }

  /** The static shape of a result type; dynamic dimensions stay -1. */
  static long[] shape(MlirType t) {
    if (!t.isTensor()) {
      throw new Refusal("type " + t + " is not a ranked tensor");
    }
    return t.dims().clone();
  }

  static boolean isStatic(long[] shape) {
    for (long d : shape) {
      if (d < 0) {
        return false;
      }
    }
    return true;
  }

  V resultLike(Op op, int i) {
    MlirType t = op.resultTypes().get(i);
    return new V(null, dtype(t), shape(t));
  }

  // ------------------------------------------------------------------ emitting

  /** Adds a node; {@code attrs} alternate names and values. Returns output {@code k}'s tensor. */
  String node(String tfOp, List<String> inputs, Object... attrs) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    for (int i = 0; i < attrs.length; i += 2) {
      if (attrs[i + 1] != null) {
        a.put((String) attrs[i], (AttrValue) attrs[i + 1]);
      }
    }
    String base = current == null ? tfOp : current.shortName();
    Node n = new Node(g.uniqueName(base), tfOp, new ArrayList<>(inputs), "", a);
    g.add(n);
    return n.name();
  }

  /** A node whose result has type {@code t}, with {@code T} set from {@code typed}. */
  V op(String tfOp, DType out, long[] shape, List<V> ins, Object... attrs) {
    List<String> refs = ins.stream().map(V::ref).toList();
    Object[] all = attrs;
    if (!ins.isEmpty() && !hasKey(attrs, "T")) {
      all = new Object[attrs.length + 2];
      System.arraycopy(attrs, 0, all, 0, attrs.length);
      all[attrs.length] = "T";
      all[attrs.length + 1] = type(ins.get(0).dtype());
    }
    return new V(node(tfOp, refs, all), out, shape);
  }

  private static boolean hasKey(Object[] attrs, String key) {
    for (int i = 0; i < attrs.length; i += 2) {
      if (attrs[i].equals(key)) {
        return true;
      }
    }
    return false;
  }

  static AttrValue type(DType t) {
    return new AttrValue.Type(t.tfEnum());
  }

  static AttrValue ints(long... v) {
    List<Long> l = new ArrayList<>();
    for (long x : v) {
      l.add(x);
    }
    return AttrValue.ListAttr.ofInts(l);
  }

  static AttrValue i(long v) {
    return new AttrValue.Int(v);
  }

  static AttrValue b(boolean v) {
    return new AttrValue.Bool(v);
  }

  static AttrValue s(String v) {
    return AttrValue.Str.of(v);
  }

  V constant(Tensor t) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("dtype", type(t.dtype()));
    a.put(
        "value",
        new AttrValue.TensorAttr(
            new TensorValue(t.dtype().tfEnum(), TensorShape.of(t.shape()), t)));
    String base = current == null ? "const" : current.shortName() + "_const";
    Node n = new Node(g.uniqueName(base), "Const", new ArrayList<>(), "", a);
    g.add(n);
    return new V(n.name(), t.dtype(), t.shape().dims());
  }

  /** An int32 vector (shapes, permutations, axes, begins). */
  V i32(long... values) {
    return constant(tensor(DType.INT32, new long[] {values.length}, values, null));
  }

  V i32Scalar(long value) {
    return constant(tensor(DType.INT32, new long[0], new long[] {value}, null));
  }

  /** A scalar of {@code t} holding {@code value}. */
  V scalar(DType t, double value) {
    return constant(tensor(t, new long[0], new long[] {(long) value}, new double[] {value}));
  }

  /**
   * A tensor of {@code t}: integer types and bool from {@code longs}, floating types from {@code
   * doubles} (or {@code longs} when null).
   */
  static Tensor tensor(DType t, long[] shape, long[] longs, double[] doubles) {
    int n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, (int) d);
    }
    ByteBuffer b = ByteBuffer.allocate(n * t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    int stored = doubles != null ? doubles.length : longs.length;
    for (int k = 0; k < n; k++) {
      int at = stored == 1 ? 0 : k;
      double dv = doubles != null ? doubles[at] : longs[at];
      long lv = longs != null ? longs[at] : (long) doubles[at];
      switch (t) {
        case FLOAT32 -> b.putFloat((float) dv);
        case FLOAT64 -> b.putDouble(dv);
        case FLOAT16 -> b.putShort(Float.floatToFloat16((float) dv));
        case BFLOAT16 -> b.putShort(bfloat16((float) dv));
        case INT8, UINT8 -> b.put((byte) lv);
        case BOOL -> b.put((byte) (lv != 0 ? 1 : 0));
        case INT16, UINT16 -> b.putShort((short) lv);
        case INT32 -> b.putInt((int) lv);
        case INT64 -> b.putLong(lv);
        default -> throw new Refusal("constants of " + t.jsName());
      }
    }
    b.flip();
    return new Tensor(t, Shape.of(shape), b);
  }

  /** Rounds to the nearest bfloat16, ties to even, as MLIR reads a bf16 literal. */
  static short bfloat16(float f) {
    if (Float.isNaN(f)) {
      return (short) ((Float.floatToRawIntBits(f) >>> 16) | 0x40);
    }
    int bits = Float.floatToRawIntBits(f);
    return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
  }

  // ------------------------------------------------------------------ common shapes of ops

  V reshape(V x, long[] shape) {
    if (java.util.Arrays.equals(x.shape(), shape)) {
      return x;
    }
    return op("Reshape", x.dtype(), shape, List.of(x, i32(shape)), "Tshape", type(DType.INT32));
  }

  V transpose(V x, int[] perm) {
    boolean identity = true;
    long[] shape = new long[perm.length];
    long[] p = new long[perm.length];
    for (int k = 0; k < perm.length; k++) {
      identity &= perm[k] == k;
      shape[k] = x.dim(perm[k]);
      p[k] = perm[k];
    }
    if (identity) {
      return x;
    }
    return op("Transpose", x.dtype(), shape, List.of(x, i32(p)), "Tperm", type(DType.INT32));
  }

  /** {@code y}, or an Identity of {@code x} when a lowering changed nothing. */
  V identityIfSame(V y, V x) {
    return y == x ? identity(x) : y;
  }

  V cast(V x, DType to) {
    if (x.dtype() == to) {
      return x;
    }
    return op(
        "Cast",
        to,
        x.shape(),
        List.of(x),
        "SrcT",
        type(x.dtype()),
        "DstT",
        type(to),
        "Truncate",
        b(false),
        "T",
        type(x.dtype()));
  }

  V identity(V x) {
    return op("Identity", x.dtype(), x.shape(), List.of(x));
  }

  V broadcastTo(V x, long[] shape) {
    if (java.util.Arrays.equals(x.shape(), shape)) {
      return x;
    }
    return op("BroadcastTo", x.dtype(), shape, List.of(x, i32(shape)), "Tidx", type(DType.INT32));
  }

  /** Element {@code dim} of the int32 shape vector {@code shape}, as a scalar. */
  V shapeElement(V shape, int dim) {
    return op(
        "StridedSlice",
        DType.INT32,
        new long[0],
        List.of(shape, i32(dim), i32(dim + 1), i32(1)),
        "Index",
        type(DType.INT32),
        "begin_mask",
        i(0),
        "end_mask",
        i(0),
        "ellipsis_mask",
        i(0),
        "new_axis_mask",
        i(0),
        "shrink_axis_mask",
        i(1));
  }

  /** {@code x[begin : begin + size : stride]} on every axis. */
  V stridedSlice(V x, long[] begin, long[] end, long[] strides) {
    long[] shape = new long[x.rank()];
    boolean whole = true;
    long endMask = 0;
    for (int k = 0; k < shape.length; k++) {
      shape[k] = Math.max(0, (end[k] - begin[k] + strides[k] - 1) / strides[k]);
      whole &= begin[k] == 0 && end[k] == x.dim(k) && strides[k] == 1;
      if (x.dim(k) < 0) {
        // A ? dimension (symbolic batch) is only ever taken whole: the mask reads "to the end".
        if (begin[k] != 0 || end[k] != x.dim(k) || strides[k] != 1) {
          throw new Refusal("a slice of a dimension of dynamic size with static bounds");
        }
        endMask |= 1L << k;
        shape[k] = -1;
      }
    }
    if (whole) {
      return x;
    }
    return op(
        "StridedSlice",
        x.dtype(),
        shape,
        List.of(x, i32(begin), i32(end), i32(strides)),
        "Index",
        type(DType.INT32),
        "begin_mask",
        i(0),
        "end_mask",
        i(endMask),
        "ellipsis_mask",
        i(0),
        "new_axis_mask",
        i(0),
        "shrink_axis_mask",
        i(0));
  }

  V binary(String tfOp, V a, V b2, DType out) {
    return op(tfOp, out, Broadcasts.shape(a.shape(), b2.shape()), List.of(a, b2));
  }

  static int[] toInts(long[] v) {
    int[] out = new int[v.length];
    for (int k = 0; k < v.length; k++) {
      out[k] = Math.toIntExact(v[k]);
    }
    return out;
  }
}
