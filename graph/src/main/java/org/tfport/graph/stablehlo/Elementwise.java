package org.tfport.graph.stablehlo;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.formats.stablehlo.Attr;
import org.tfport.formats.stablehlo.DenseElements;
import org.tfport.formats.stablehlo.Op;
import org.tfport.graph.stablehlo.Lowerer.Refusal;
import org.tfport.graph.stablehlo.Lowerer.V;

/** Elementwise math, comparisons, select, clamp, convert and constants. */
final class Elementwise {
  private Elementwise() {}

  private static final Map<String, String> UNARY =
      Map.ofEntries(
          Map.entry("stablehlo.abs", "Abs"),
          Map.entry("stablehlo.negate", "Neg"),
          Map.entry("stablehlo.exponential", "Exp"),
          Map.entry("stablehlo.exponential_minus_one", "Expm1"),
          Map.entry("stablehlo.log", "Log"),
          Map.entry("stablehlo.log_plus_one", "Log1p"),
          Map.entry("stablehlo.logistic", "Sigmoid"),
          Map.entry("stablehlo.tanh", "Tanh"),
          Map.entry("stablehlo.sine", "Sin"),
          Map.entry("stablehlo.cosine", "Cos"),
          Map.entry("stablehlo.tan", "Tan"),
          Map.entry("stablehlo.sqrt", "Sqrt"),
          Map.entry("stablehlo.rsqrt", "Rsqrt"),
          Map.entry("stablehlo.floor", "Floor"),
          Map.entry("stablehlo.ceil", "Ceil"),
          Map.entry("stablehlo.round_nearest_even", "Rint"),
          Map.entry("stablehlo.sign", "Sign"),
          Map.entry("stablehlo.is_finite", "IsFinite"),
          Map.entry("stablehlo.popcnt", "PopulationCount"));

  private static final Map<String, String> BINARY =
      Map.ofEntries(
          Map.entry("stablehlo.add", "AddV2"),
          Map.entry("stablehlo.subtract", "Sub"),
          Map.entry("stablehlo.multiply", "Mul"),
          Map.entry("stablehlo.maximum", "Maximum"),
          Map.entry("stablehlo.minimum", "Minimum"),
          Map.entry("stablehlo.power", "Pow"),
          Map.entry("stablehlo.atan2", "Atan2"),
          Map.entry("stablehlo.shift_left", "LeftShift"),
          Map.entry("stablehlo.shift_right_arithmetic", "RightShift"));

  private static final Map<String, String> COMPARE =
      Map.of(
          "EQ",
          "Equal",
          "NE",
          "NotEqual",
          "LT",
          "Less",
          "LE",
          "LessEqual",
          "GT",
          "Greater",
          "GE",
          "GreaterEqual");

  static final Set<String> NAMES =
      Set.copyOf(
          java.util.stream.Stream.concat(
                  java.util.stream.Stream.concat(UNARY.keySet().stream(), BINARY.keySet().stream()),
                  java.util.stream.Stream.of(
                      "stablehlo.divide",
                      "stablehlo.remainder",
                      "stablehlo.and",
                      "stablehlo.or",
                      "stablehlo.xor",
                      "stablehlo.not",
                      "stablehlo.compare",
                      "stablehlo.select",
                      "stablehlo.clamp",
                      "stablehlo.convert",
                      "stablehlo.constant",
                      "stablehlo.round_nearest_afz",
                      "stablehlo.cbrt"))
              .toList());

  static V lower(Lowerer l, Op op, List<V> ins) {
    String name = op.name();
    if (name.equals("stablehlo.constant")) {
      return constant(l, op);
    }
    V out = l.resultLike(op, 0);
    String tf = UNARY.containsKey(name) ? UNARY.get(name) : BINARY.get(name);
    if (tf != null) {
      DType t = out.dtype();
      if (t == DType.FLOAT16 || t == DType.BFLOAT16) {
        // As XLA does: compute half-precision math in float32, round once at the end.
        List<V> wide = ins.stream().map(v -> l.cast(v, DType.FLOAT32)).toList();
        return l.cast(l.op(tf, DType.FLOAT32, out.shape(), wide), t);
      }
      return l.op(tf, t, out.shape(), ins);
    }
    V a = ins.isEmpty() ? null : ins.get(0);
    boolean isFloat = a != null && a.dtype().isFloating();
    return switch (name) {
      case "stablehlo.divide" ->
          l.op(isFloat ? "RealDiv" : "TruncateDiv", out.dtype(), out.shape(), ins);
      case "stablehlo.remainder" ->
          l.op(isFloat ? "FloorMod" : "TruncateMod", out.dtype(), out.shape(), ins);
      case "stablehlo.and", "stablehlo.or", "stablehlo.xor" -> logic(l, name, out, ins);
      case "stablehlo.not" ->
          a.dtype() == DType.BOOL
              ? l.op("LogicalNot", out.dtype(), out.shape(), ins)
              : l.op("Invert", out.dtype(), out.shape(), ins);
      case "stablehlo.compare" -> {
        String dir = ((Attr.EnumAttr) op.attr("comparison_direction")).value();
        String cmp = COMPARE.get(dir);
        if (cmp == null) {
          throw new Refusal("comparison direction " + dir);
        }
        yield l.op(cmp, DType.BOOL, out.shape(), ins);
      }
      case "stablehlo.select" ->
          l.op("SelectV2", out.dtype(), out.shape(), ins, "T", Lowerer.type(out.dtype()));
      case "stablehlo.clamp" -> {
        V lo = l.op("Maximum", out.dtype(), out.shape(), List.of(ins.get(1), ins.get(0)));
        yield l.op("Minimum", out.dtype(), out.shape(), List.of(lo, ins.get(2)));
      }
      case "stablehlo.convert" -> convert(l, a, out.dtype());
      case "stablehlo.round_nearest_afz" -> {
        // Half away from zero: sign(x) * floor(|x| + 0.5).
        V abs = l.op("Abs", a.dtype(), a.shape(), List.of(a));
        V half = l.binary("AddV2", abs, l.scalar(a.dtype(), 0.5), a.dtype());
        V fl = l.op("Floor", a.dtype(), a.shape(), List.of(half));
        V sign = l.op("Sign", a.dtype(), a.shape(), List.of(a));
        yield l.op("Mul", a.dtype(), a.shape(), List.of(sign, fl));
      }
      case "stablehlo.cbrt" -> {
        V abs = l.op("Abs", a.dtype(), a.shape(), List.of(a));
        V root = l.binary("Pow", abs, l.scalar(a.dtype(), 1.0 / 3.0), a.dtype());
        V sign = l.op("Sign", a.dtype(), a.shape(), List.of(a));
        yield l.op("Mul", a.dtype(), a.shape(), List.of(sign, root));
      }
      default -> throw new Refusal("no lowering");
    };
  }

  private static V logic(Lowerer l, String name, V out, List<V> ins) {
    if (out.dtype() == DType.BOOL) {
      return switch (name) {
        case "stablehlo.and" -> l.op("LogicalAnd", DType.BOOL, out.shape(), ins, "T", null);
        case "stablehlo.or" -> l.op("LogicalOr", DType.BOOL, out.shape(), ins, "T", null);
        default -> l.op("NotEqual", DType.BOOL, out.shape(), ins);
      };
    }
    String tf =
        switch (name) {
          case "stablehlo.and" -> "BitwiseAnd";
          case "stablehlo.or" -> "BitwiseOr";
          default -> "BitwiseXor";
        };
    return l.op(tf, out.dtype(), out.shape(), ins);
  }

  static V convert(Lowerer l, V a, DType to) {
    if (a.dtype() == to) {
      return l.identity(a);
    }
    if (to == DType.BOOL) {
      return l.binary("NotEqual", a, l.scalar(a.dtype(), 0), DType.BOOL);
    }
    return l.cast(a, to);
  }

  private static V constant(Lowerer l, Op op) {
    if (!(op.attr("value") instanceof Attr.DenseAttr d)) {
      throw new Refusal("a constant whose value is not dense<...>");
    }
    return l.constant(tensorOf(d.value()));
  }

  static org.tfport.core.Tensor tensorOf(DenseElements d) {
    DType t = Lowerer.dtype(d.type());
    long[] shape = d.type().dims();
    if (t.isFloating()) {
      return Lowerer.tensor(t, shape, null, d.toDoubles());
    }
    return Lowerer.tensor(t, shape, d.toLongs(), null);
  }
}
