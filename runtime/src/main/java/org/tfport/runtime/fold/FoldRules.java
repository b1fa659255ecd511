package org.tfport.runtime.fold;

import static org.tfport.runtime.fold.FoldNumbers.normal;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Node;
import org.tfport.graph.optimize.Tensors;
import org.tfport.runtime.kernel.Value;

/**
 * When a reference kernel's result may replace a node: the ops, types and values for which it is
 * TensorFlow's result bit for bit. TensorFlow runs its kernels with denormals flushed to zero, in
 * inputs, comparisons and results alike, so float arithmetic that meets a denormal is left to it.
 * So are values TensorFlow rejects (an integer division by zero, an index out of range), values
 * whose result C++ leaves to the platform (a float out of an integer's range, NaN or a pair of
 * zeros in a maximum), the sign of zero where Eigen's scalar and vector paths disagree, and ops
 * whose TensorFlow kernel rounds differently from a straightforward evaluation (transcendentals,
 * {@code Reciprocal}, float sums whose order Eigen chooses). {@code Rsqrt} is the exception: the
 * reference kernel rounds it correctly, which is what TF.js computes; TensorFlow's own result comes
 * from the CPU's reciprocal square root estimate and may differ in the last bit.
 */
final class FoldRules {
  /** Every op that may fold; a node may still be declined for its types or values. */
  static final Set<String> OPS =
      Set.of(
          "Identity",
          "Snapshot",
          "StopGradient",
          "PreventGradient",
          "Shape",
          "Size",
          "Rank",
          "Reshape",
          "ExpandDims",
          "Squeeze",
          "Transpose",
          "ConcatV2",
          "Concat",
          "Pack",
          "Slice",
          "StridedSlice",
          "GatherV2",
          "Gather",
          "Tile",
          "Fill",
          "Range",
          "BroadcastTo",
          "ZerosLike",
          "OnesLike",
          "Cast",
          "Add",
          "AddV2",
          "Sub",
          "Mul",
          "RealDiv",
          "Div",
          "TruncateDiv",
          "FloorDiv",
          "FloorMod",
          "Mod",
          "Maximum",
          "Minimum",
          "SquaredDifference",
          "BiasAdd",
          "Neg",
          "Abs",
          "Square",
          "Sqrt",
          "Rsqrt",
          "Floor",
          "Ceil",
          "Round",
          "Rint",
          "Sign",
          "Relu",
          "Relu6",
          "Equal",
          "NotEqual",
          "Less",
          "LessEqual",
          "Greater",
          "GreaterEqual",
          "LogicalAnd",
          "LogicalOr",
          "LogicalNot",
          "SelectV2",
          "Sum",
          "Prod",
          "Max",
          "Min",
          "All",
          "Any");

  /** No folded tensor is larger (constant folding's own cap is normally far lower). */
  static final int MAX_ELEMENTS = 1 << 26;

  /** The input types folding looks at; strings and types tfport cannot hold are never folded. */
  static final Set<DType> FIXED_WIDTH =
      EnumSet.of(
          DType.FLOAT32,
          DType.FLOAT64,
          DType.FLOAT16,
          DType.BFLOAT16,
          DType.INT8,
          DType.INT16,
          DType.INT32,
          DType.INT64,
          DType.UINT8,
          DType.UINT16,
          DType.BOOL,
          DType.COMPLEX64);

  private static final Set<String> IDENTITY =
      Set.of("Identity", "Snapshot", "StopGradient", "PreventGradient");
  private static final Set<String> FLOAT_UNARY =
      Set.of(
          "Neg", "Abs", "Square", "Sqrt", "Rsqrt", "Floor", "Ceil", "Round", "Rint", "Sign", "Relu",
          "Relu6");
  private static final Set<String> INT_UNARY =
      Set.of("Neg", "Abs", "Square", "Sign", "Relu", "Relu6", "Floor", "Ceil", "Round", "Rint");
  private static final Set<String> COMPARISONS =
      Set.of("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual");
  private static final Set<String> FLOAT_BINARY =
      Set.of(
          "Add",
          "AddV2",
          "Sub",
          "Mul",
          "RealDiv",
          "Div",
          "FloorDiv",
          "FloorMod",
          "Mod",
          "Maximum",
          "Minimum",
          "SquaredDifference");
  private static final Set<String> INT_BINARY =
      Set.of(
          "Add",
          "AddV2",
          "Sub",
          "Mul",
          "Div",
          "TruncateDiv",
          "FloorDiv",
          "FloorMod",
          "Mod",
          "Maximum",
          "Minimum",
          "SquaredDifference");
  private static final Set<String> REDUCTIONS = Set.of("Sum", "Prod", "Max", "Min", "All", "Any");
  static final Set<DType> FLOATS = EnumSet.of(DType.FLOAT32, DType.FLOAT64);
  static final Set<DType> INTS = EnumSet.of(DType.INT32, DType.INT64);

  private static final Set<DType> FILLABLE =
      EnumSet.of(
          DType.FLOAT32,
          DType.FLOAT64,
          DType.INT32,
          DType.INT64,
          DType.BOOL,
          DType.INT8,
          DType.INT16,
          DType.UINT8,
          DType.UINT16);

  /**
   * Inputs that are indices, axes or shapes (int32 or int64 only); negative positions count from
   * the end.
   */
  private static final Map<String, int[]> INDEX_INPUTS =
      Map.ofEntries(
          Map.entry("Reshape", new int[] {1}),
          Map.entry("ExpandDims", new int[] {1}),
          Map.entry("Transpose", new int[] {1}),
          Map.entry("ConcatV2", new int[] {-1}),
          Map.entry("Concat", new int[] {0}),
          Map.entry("Slice", new int[] {1, 2}),
          Map.entry("StridedSlice", new int[] {1, 2, 3}),
          Map.entry("GatherV2", new int[] {1, 2}),
          Map.entry("Gather", new int[] {1}),
          Map.entry("Tile", new int[] {1}),
          Map.entry("Fill", new int[] {0}),
          Map.entry("BroadcastTo", new int[] {1}));

  private FoldRules() {}

  /** Thrown by a check to decline the node; never escapes {@link KernelFolding}. */
  static final class Declined extends RuntimeException {
    Declined() {
      super(null, null, false, false);
    }
  }

  private static final Declined NO = new Declined();

  static void need(boolean ok) {
    if (!ok) {
      throw NO;
    }
  }

  // ------------------------------------------------------------------ before the kernel

  /** Checks made before the kernel runs: types, values, and the size of what it would make. */
  static void before(Node n, Value[] in) {
    String op = n.op();
    for (int i : INDEX_INPUTS.getOrDefault(op, new int[0])) {
      need(in.length > 0 && INTS.contains(in[i < 0 ? in.length + i : i].dtype()));
    }
    if (IDENTITY.contains(op)) {
      return;
    }
    if (FLOAT_UNARY.contains(op) || op.equals("LogicalNot")) {
      unary(op, in);
    } else if (COMPARISONS.contains(op)
        || FLOAT_BINARY.contains(op)
        || INT_BINARY.contains(op)
        || op.equals("LogicalAnd")
        || op.equals("LogicalOr")) {
      binary(op, in);
    } else if (REDUCTIONS.contains(op)) {
      reduction(n, in);
    } else {
      switch (op) {
        case "Shape", "Size" -> {
          DType t = type(n, "out_type", DType.INT32);
          need(INTS.contains(t));
          long size = 1;
          for (long d : in[0].shape()) {
            need(t == DType.INT64 || d <= Integer.MAX_VALUE);
            size = Math.multiplyExact(size, d);
          }
          need(t == DType.INT64 || op.equals("Shape") || size <= Integer.MAX_VALUE);
        }
        case "ConcatV2", "Concat", "Pack" -> {
          // The parts: all but the axis, all of one type.
          int from = op.equals("Concat") ? 1 : 0;
          int to = op.equals("ConcatV2") ? in.length - 1 : in.length;
          need(to > from);
          for (int i = from; i < to; i++) {
            need(in[i].dtype() == in[from].dtype());
          }
        }
        case "GatherV2", "Gather" -> gather(n, in);
        case "Tile" -> {
          long size = in[0].size();
          for (long m : in[1].toLongArray()) {
            need(m >= 0);
            size = Math.multiplyExact(size, m);
          }
          cap(size);
        }
        case "Fill" -> cap(count(in[0].toLongArray()));
        case "BroadcastTo" -> cap(count(in[1].toLongArray()));
        case "ZerosLike", "OnesLike" -> need(FILLABLE.contains(in[0].dtype()));
        case "Range" -> FoldNumbers.range(in);
        case "Cast" -> FoldNumbers.cast(in, type(n, "DstT", null));
        case "SelectV2" -> {
          need(in[0].dtype() == DType.BOOL && in[1].dtype() == in[2].dtype());
          cap(
              count(
                  Tensors.broadcastShape(
                      Tensors.broadcastShape(in[0].shape(), in[1].shape()), in[2].shape())));
        }
        case "BiasAdd" -> biasAdd(n, in);
        default -> {
          // Shapes only: Rank, Reshape, ExpandDims, Squeeze, Transpose, Slice, StridedSlice.
        }
      }
    }
  }

  private static void unary(String op, Value[] in) {
    need(in.length == 1);
    Value x = in[0];
    switch (x.dtype()) {
      case FLOAT32, FLOAT64 -> {
        need(FLOAT_UNARY.contains(op));
        FoldNumbers.noDenormals(x);
        if (op.startsWith("Relu")) {
          // Eigen's vector and scalar paths disagree on -0 and NaN.
          for (int i = 0; i < x.size(); i++) {
            double v = x.doubleAt(i);
            need(v == v && !(v == 0 && Double.doubleToRawLongBits(v) != 0));
          }
        }
      }
      case INT32, INT64 -> need(INT_UNARY.contains(op));
      case BOOL -> need(op.equals("LogicalNot"));
      default -> need(false);
    }
  }

  private static void binary(String op, Value[] in) {
    need(in.length == 2 && in[0].dtype() == in[1].dtype());
    DType t = in[0].dtype();
    long size = count(Tensors.broadcastShape(in[0].shape(), in[1].shape()));
    cap(size);
    // When no element is computed, no value matters.
    Value a = size == 0 ? Value.zeros(t, new long[] {0}) : in[0];
    Value b = size == 0 ? a : in[1];
    if (COMPARISONS.contains(op)) {
      need(
          FLOATS.contains(t)
              || INTS.contains(t)
              || t == DType.BOOL && (op.equals("Equal") || op.equals("NotEqual")));
      if (FLOATS.contains(t)) {
        FoldNumbers.noDenormals(a);
        FoldNumbers.noDenormals(b);
      }
      return;
    }
    switch (t) {
      case FLOAT32 -> {
        need(FLOAT_BINARY.contains(op));
        FoldNumbers.noDenormals(a);
        FoldNumbers.noDenormals(b);
        float[] x = a.floats();
        float[] y = b.floats();
        switch (op) {
          // The intermediate results must be normal too.
          case "FloorDiv" -> Pairs.check(a.shape(), b.shape(), (i, j) -> normal(x[i] / y[j]));
          case "FloorMod" -> Pairs.check(a.shape(), b.shape(), (i, j) -> normal(x[i] % y[j]));
          case "SquaredDifference" ->
              Pairs.check(a.shape(), b.shape(), (i, j) -> normal(x[i] - y[j]));
          // NaN handling and the sign of zero differ between Eigen's scalar and vector paths.
          case "Maximum", "Minimum" ->
              Pairs.check(
                  a.shape(),
                  b.shape(),
                  (i, j) -> x[i] == x[i] && y[j] == y[j] && !(x[i] == 0 && y[j] == 0));
          default -> {}
        }
      }
      case FLOAT64 -> {
        need(FLOAT_BINARY.contains(op));
        FoldNumbers.noDenormals(a);
        FoldNumbers.noDenormals(b);
        double[] x = a.doubles();
        double[] y = b.doubles();
        switch (op) {
          case "FloorDiv" -> Pairs.check(a.shape(), b.shape(), (i, j) -> normal(x[i] / y[j]));
          case "FloorMod" -> Pairs.check(a.shape(), b.shape(), (i, j) -> normal(x[i] % y[j]));
          case "SquaredDifference" ->
              Pairs.check(a.shape(), b.shape(), (i, j) -> normal(x[i] - y[j]));
          case "Maximum", "Minimum" ->
              Pairs.check(
                  a.shape(),
                  b.shape(),
                  (i, j) -> x[i] == x[i] && y[j] == y[j] && !(x[i] == 0 && y[j] == 0));
          default -> {}
        }
      }
      case INT32, INT64 -> {
        need(INT_BINARY.contains(op));
        long min = t == DType.INT32 ? Integer.MIN_VALUE : Long.MIN_VALUE;
        switch (op) {
          // TensorFlow refuses integer division by zero; MIN / -1 is undefined in C++.
          case "Div", "TruncateDiv", "FloorDiv" ->
              Pairs.check(
                  a.shape(),
                  b.shape(),
                  (i, j) -> b.longAt(j) != 0 && !(a.longAt(i) == min && b.longAt(j) == -1));
          case "FloorMod", "Mod" -> Pairs.check(a.shape(), b.shape(), (i, j) -> b.longAt(j) != 0);
          default -> {}
        }
      }
      case BOOL -> need(op.equals("LogicalAnd") || op.equals("LogicalOr"));
      default -> need(false);
    }
  }

  private static void biasAdd(Node n, Value[] in) {
    String format = n.stringAttr("data_format");
    need(format == null || format.equals("NHWC"));
    Value x = in[0];
    Value bias = in[1];
    need(x.dtype() == bias.dtype() && (FLOATS.contains(x.dtype()) || INTS.contains(x.dtype())));
    need(bias.rank() == 1 && x.rank() >= 1 && x.dim(x.rank() - 1) == bias.dim(0));
    if (FLOATS.contains(x.dtype())) {
      FoldNumbers.noDenormals(x);
      FoldNumbers.noDenormals(bias);
    }
  }

  private static void gather(Node n, Value[] in) {
    long axis = 0;
    if (n.op().equals("GatherV2")) {
      need(!(n.attr("batch_dims") instanceof AttrValue.Int b) || b.value() == 0);
      need(in[2].size() == 1);
      axis = in[2].longAt(0);
    }
    long[] p = in[0].shape();
    need(axis >= -p.length && axis < p.length);
    int a = (int) (axis < 0 ? axis + p.length : axis);
    long size = in[1].size();
    for (int i = 0; i < p.length; i++) {
      size = i == a ? size : Math.multiplyExact(size, p[i]);
    }
    cap(size);
  }

  /**
   * Integer sums and products (exact in any order), maxima and minima (order-free), boolean
   * all/any, and float sums only when every partial sum is exact: integer values whose magnitudes
   * add up to less than 2^24 (float32) or 2^53 (float64). Then the order TensorFlow's reduction
   * adds in cannot change the result; any other float sum is left to TensorFlow, whose summation
   * order is Eigen's to choose. A zero result is +0 in any order: exact sums that cancel round to
   * +0, and the reduction starts from +0.
   */
  private static void reduction(Node n, Value[] in) {
    need(in.length == 2 && INTS.contains(in[1].dtype()));
    String op = n.op();
    Value x = in[0];
    int rank = x.rank();
    boolean[] reduced = new boolean[rank];
    for (long a : in[1].toLongArray()) {
      need(a >= -rank && a < rank);
      int ax = (int) (a < 0 ? a + rank : a);
      need(!reduced[ax]);
      reduced[ax] = true;
    }
    switch (x.dtype()) {
      case INT32, INT64 ->
          need(op.equals("Sum") || op.equals("Prod") || op.equals("Max") || op.equals("Min"));
      case FLOAT32, FLOAT64 -> {
        if (op.equals("Sum")) {
          double limit = x.dtype() == DType.FLOAT32 ? 0x1p24 : 0x1p53;
          double total = 0;
          for (int i = 0; i < x.size(); i++) {
            double v = x.doubleAt(i);
            need(v == Math.rint(v) && !Double.isInfinite(v));
            total += Math.abs(v);
            need(total < limit);
          }
        } else {
          need(op.equals("Max") || op.equals("Min"));
          FoldNumbers.noDenormals(x);
          for (int i = 0; i < x.size(); i++) {
            need(!Double.isNaN(x.doubleAt(i)));
          }
        }
      }
      case BOOL -> need(op.equals("All") || op.equals("Any"));
      default -> need(false);
    }
  }

  // ------------------------------------------------------------------ after the kernel

  /** Checks made on the kernel's result. */
  static void after(Node n, Value[] in, Value out) {
    String op = n.op();
    if (IDENTITY.contains(op)) {
      return;
    }
    need(out.size() <= MAX_ELEMENTS);
    boolean arithmetic =
        FLOAT_UNARY.contains(op)
            || FLOAT_BINARY.contains(op)
            || op.equals("BiasAdd")
            || op.equals("Cast") && in[0].dtype() != out.dtype();
    if (arithmetic && FLOATS.contains(out.dtype())) {
      FoldNumbers.noDenormals(out);
    }
    if ((op.equals("Max") || op.equals("Min")) && FLOATS.contains(out.dtype())) {
      // Which zero wins a tie between -0 and +0 is up to Eigen's evaluation order.
      for (int i = 0; i < out.size(); i++) {
        need(out.doubleAt(i) != 0);
      }
    }
  }

  // ------------------------------------------------------------------ helpers

  private static DType type(Node n, String attr, DType absent) {
    return n.attr(attr) instanceof AttrValue.Type t ? DataTypes.toDType(t.value()) : absent;
  }

  static void cap(double elements) {
    need(elements <= MAX_ELEMENTS);
  }

  private static long count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      need(d >= 0);
      n = Math.multiplyExact(n, d);
    }
    return n;
  }
}
