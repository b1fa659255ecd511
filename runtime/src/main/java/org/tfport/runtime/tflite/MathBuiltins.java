package org.tfport.runtime.tflite;

import static java.util.Map.entry;
import static org.tfport.formats.tflite.TfliteBuiltin.*;
import static org.tfport.runtime.tflite.ArrayBuiltins.allInputs;
import static org.tfport.runtime.tflite.ArrayBuiltins.inType;
import static org.tfport.runtime.tflite.ArrayBuiltins.isFloat;
import static org.tfport.runtime.tflite.ImportAttrs.b;
import static org.tfport.runtime.tflite.ImportAttrs.i;
import static org.tfport.runtime.tflite.ImportAttrs.type;

import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.runtime.tflite.SubgraphImport.Refusal;

/**
 * Elementwise math and comparisons, casts, reductions, arg-max, selection, fills, cumulative and
 * segment sums, ranges, RFFT2D and the DEQUANTIZE of constants: TFLite builtins whose TensorFlow
 * counterpart takes the same inputs, with the options table turned into attributes. {@link
 * ArrayBuiltins} has the ones that move data (shapes, slicing, gathering).
 */
final class MathBuiltins {
  private MathBuiltins() {}

  /** One-input ops taking {@code T}. */
  private static final Map<TfliteBuiltin, String> UNARY =
      Map.ofEntries(
          entry(EXP, "Exp"),
          entry(LOG, "Log"),
          entry(SQRT, "Sqrt"),
          entry(RSQRT, "Rsqrt"),
          entry(SQUARE, "Square"),
          entry(NEG, "Neg"),
          entry(ABS, "Abs"),
          entry(FLOOR, "Floor"),
          entry(CEIL, "Ceil"),
          entry(ROUND, "Round"),
          entry(SIGN, "Sign"),
          entry(SIN, "Sin"),
          entry(COS, "Cos"),
          entry(LOGICAL_NOT, "LogicalNot"),
          entry(ZEROS_LIKE, "ZerosLike"),
          entry(WHERE, "Where"),
          entry(RANK, "Rank"),
          entry(COMPLEX_ABS, "ComplexAbs"),
          entry(REAL, "Real"),
          entry(IMAG, "Imag"));

  /** Two-input broadcasting ops taking {@code T} (without a fused activation). */
  private static final Map<TfliteBuiltin, String> BINARY =
      Map.ofEntries(
          entry(MAXIMUM, "Maximum"),
          entry(MINIMUM, "Minimum"),
          entry(SQUARED_DIFFERENCE, "SquaredDifference"),
          entry(POW, "Pow"),
          entry(FLOOR_DIV, "FloorDiv"),
          entry(FLOOR_MOD, "FloorMod"),
          entry(LESS, "Less"),
          entry(LESS_EQUAL, "LessEqual"),
          entry(GREATER, "Greater"),
          entry(GREATER_EQUAL, "GreaterEqual"),
          entry(EQUAL, "Equal"),
          entry(NOT_EQUAL, "NotEqual"),
          entry(LOGICAL_AND, "LogicalAnd"),
          entry(LOGICAL_OR, "LogicalOr"),
          entry(ATAN2, "Atan2"));

  /** Reductions over the axes of input 1 ({@code Tidx}), {@code keep_dims} from ReducerOptions. */
  private static final Map<TfliteBuiltin, String> REDUCE =
      Map.of(
          MEAN,
          "Mean",
          SUM,
          "Sum",
          REDUCE_MAX,
          "Max",
          REDUCE_MIN,
          "Min",
          REDUCE_PROD,
          "Prod",
          REDUCE_ANY,
          "Any",
          REDUCE_ALL,
          "All");

  /** Emits the operator's nodes; false when the builtin is not one of these. */
  static boolean map(SubgraphImport s, TfliteBuiltin builtin) {
    if (UNARY.containsKey(builtin)) {
      s.define(0, s.node(UNARY.get(builtin), s.base, List.of(s.in(0)), "T", type(inType(s, 0))));
      return true;
    }
    if (BINARY.containsKey(builtin)) {
      s.define(
          0,
          s.node(BINARY.get(builtin), s.base, List.of(s.in(0), s.in(1)), "T", type(inType(s, 0))));
      return true;
    }
    if (REDUCE.containsKey(builtin)) {
      s.define(
          0,
          s.node(
              REDUCE.get(builtin),
              s.base,
              List.of(s.in(0), s.in(1)),
              "T",
              type(inType(s, 0)),
              "Tidx",
              type(inType(s, 1)),
              "keep_dims",
              b(s.boolOption("keep_dims"))));
      return true;
    }
    switch (builtin) {
      case ADD -> arithmetic(s, "AddV2");
      case SUB -> arithmetic(s, "Sub");
      case MUL -> arithmetic(s, "Mul");
      case DIV -> arithmetic(s, isFloat(inType(s, 0)) ? "RealDiv" : "Div");
      case ADD_N ->
          s.define(
              0,
              s.node(
                  "AddN",
                  s.base,
                  allInputs(s),
                  "N",
                  i(s.op.inputs().size()),
                  "T",
                  type(inType(s, 0))));
      case CAST ->
          s.define(
              0,
              s.node(
                  "Cast",
                  s.base,
                  List.of(s.in(0)),
                  "SrcT",
                  type(inType(s, 0)),
                  "DstT",
                  type(s.dtypeOf(s.outIndex(0))),
                  "Truncate",
                  b(false)));
      case ARG_MAX, ARG_MIN ->
          s.define(
              0,
              s.node(
                  builtin == ARG_MAX ? "ArgMax" : "ArgMin",
                  s.base,
                  List.of(s.in(0), s.in(1)),
                  "T",
                  type(inType(s, 0)),
                  "Tidx",
                  type(inType(s, 1)),
                  "output_type",
                  type(s.dtypeOf(s.outIndex(0)))));
      case FILL ->
          s.define(
              0,
              s.node(
                  "Fill",
                  s.base,
                  List.of(s.in(0), s.in(1)),
                  "T",
                  type(inType(s, 1)),
                  "index_type",
                  type(inType(s, 0))));
      case SELECT, SELECT_V2 ->
          s.define(
              0,
              s.node(
                  builtin == SELECT ? "Select" : "SelectV2",
                  s.base,
                  List.of(s.in(0), s.in(1), s.in(2)),
                  "T",
                  type(inType(s, 1))));
      case CUMSUM ->
          s.define(
              0,
              s.node(
                  "Cumsum",
                  s.base,
                  List.of(s.in(0), s.in(1)),
                  "T",
                  type(inType(s, 0)),
                  "Tidx",
                  type(inType(s, 1)),
                  "exclusive",
                  b(s.boolOption("exclusive")),
                  "reverse",
                  b(s.boolOption("reverse"))));
      case RANGE ->
          s.define(
              0,
              s.node(
                  "Range", s.base, List.of(s.in(0), s.in(1), s.in(2)), "Tidx", type(inType(s, 0))));
      case SEGMENT_SUM ->
          s.define(
              0,
              s.node(
                  "SegmentSum",
                  s.base,
                  List.of(s.in(0), s.in(1)),
                  "T",
                  type(inType(s, 0)),
                  "Tindices",
                  type(inType(s, 1))));
      case RFFT2D ->
          s.define(
              0,
              s.node(
                  "RFFT2D",
                  s.base,
                  List.of(s.in(0), s.in(1)),
                  "Treal",
                  type(inType(s, 0)),
                  "Tcomplex",
                  type(s.dtypeOf(s.outIndex(0)))));
      case DEQUANTIZE -> dequantize(s);
      default -> {
        return false;
      }
    }
    return true;
  }

  private static void arithmetic(SubgraphImport s, String op) {
    DType t = inType(s, 0);
    String y = s.node(op, s.base + "/" + op, List.of(s.in(0), s.in(1)), "T", type(t));
    s.define(0, NnBuiltins.activation(s, y, NnBuiltins.fusedActivation(s), t));
  }

  /**
   * DEQUANTIZE of a constant (float16 or int8 weights) is folded into a float32 constant; of a
   * float16 activation it is a {@code Cast}. Integer activations make the model an integer one,
   * refused before this is reached.
   */
  private static void dequantize(SubgraphImport s) {
    int t = s.inIndex(0);
    if (t >= 0 && s.isConstant(t)) {
      if (s.constantFloats(t) == null) {
        throw new Refusal(
            "its constant input is " + s.tensor(t).type() + " without quantization parameters");
      }
      s.define(0, s.floatConstant(t));
      return;
    }
    if (t >= 0 && s.tensor(t).type() == TfliteType.FLOAT16) {
      s.define(
          0,
          s.node(
              "Cast",
              s.base,
              List.of(s.in(0)),
              "SrcT",
              type(DType.FLOAT16),
              "DstT",
              type(DType.FLOAT32),
              "Truncate",
              b(false)));
      return;
    }
    throw new Refusal(
        "it dequantizes a "
            + (t < 0 ? "missing" : s.tensor(t).type())
            + " tensor computed at run time");
  }
}
