package org.tfport.formats.stablehlo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.formats.stablehlo.Attr.ArrayAttr;
import org.tfport.formats.stablehlo.Attr.DenseArrayAttr;
import org.tfport.formats.stablehlo.Attr.DialectAttr;
import org.tfport.formats.stablehlo.Attr.DictAttr;
import org.tfport.formats.stablehlo.Attr.EnumAttr;
import org.tfport.formats.stablehlo.Attr.IntAttr;
import org.tfport.formats.stablehlo.Attr.SymAttr;

/**
 * The pretty (custom assembly) syntax of the ops JAX prints, turned into the generic form: {@code
 * stablehlo.compare GT, %a, %b, FLOAT : ...} gets {@code comparison_direction} and {@code
 * compare_type}, {@code dims = [...]} the op's own attribute name, and so on.
 */
final class PrettyOps {
  private PrettyOps() {}

  /** Keyword renames: pretty keyword to generic attribute, per op. */
  private static final Map<String, Map<String, String>> RENAMES =
      Map.ofEntries(
          Map.entry("stablehlo.broadcast_in_dim", Map.of("dims", "broadcast_dimensions")),
          Map.entry("stablehlo.iota", Map.of("dim", "iota_dimension")),
          Map.entry("stablehlo.transpose", Map.of("dims", "permutation")),
          Map.entry("stablehlo.reverse", Map.of("dims", "dimensions")),
          Map.entry("stablehlo.concatenate", Map.of("dim", "dimension")),
          Map.entry(
              "stablehlo.pad",
              Map.of(
                  "low",
                  "edge_padding_low",
                  "high",
                  "edge_padding_high",
                  "interior",
                  "interior_padding")),
          Map.entry("stablehlo.dynamic_slice", Map.of("sizes", "slice_sizes")),
          Map.entry("stablehlo.get_dimension_size", Map.of("dim", "dimension")),
          Map.entry("stablehlo.rng_bit_generator", Map.of("algorithm", "rng_algorithm")),
          Map.entry("stablehlo.broadcast", Map.of("sizes", "broadcast_sizes")),
          Map.entry("stablehlo.dynamic_iota", Map.of("dim", "iota_dimension")),
          Map.entry("stablehlo.dynamic_broadcast_in_dim", Map.of("dims", "broadcast_dimensions")),
          Map.entry(
              "stablehlo.convolution",
              Map.of(
                  "dim_numbers",
                  "dimension_numbers",
                  "stride",
                  "window_strides",
                  "pad",
                  "padding",
                  "lhs_dilate",
                  "lhs_dilation",
                  "rhs_dilate",
                  "rhs_dilation",
                  "reverse",
                  "window_reversal")));

  static Op parse(StableHloText p, MlirCursor c, List<String> results, int line) {
    String name = c.word();
    return switch (name) {
      case "return", "func.return", "stablehlo.return" -> terminator(p, c, name, line);
      case "call", "func.call" -> call(p, c, results, line);
      case "stablehlo.constant" -> constant(p, c, results, line);
      case "stablehlo.custom_call" -> customCall(p, c, results, line);
      case "stablehlo.while" -> whileOp(p, c, results, line);
      case "stablehlo.reduce" -> reduce(p, c, results, line);
      default -> {
        if (name.startsWith("check.") && name.endsWith("_const")) {
          yield checkConst(p, c, name, line);
        }
        yield collected(p, c, name, results, line);
      }
    };
  }

  private static Op terminator(StableHloText p, MlirCursor c, String name, int line) {
    List<String> operands = new ArrayList<>();
    List<MlirType> types = new ArrayList<>();
    if (c.peek() == '%') {
      do {
        operands.add(c.valueName());
      } while (c.eat(","));
      c.expect(":");
      do {
        types.add(MlirAttrs.type(c));
      } while (c.eat(","));
    }
    return p.make(List.of(), name, operands, Map.of(), List.of(), types, List.of(), line);
  }

  private static Op call(StableHloText p, MlirCursor c, List<String> results, int line) {
    String callee = c.symbol();
    List<String> operands = parenValues(c);
    if (c.peek() == '{') {
      MlirAttrs.dict(c);
    }
    c.expect(":");
    List<List<MlirType>> fn = MlirAttrs.functionType(c);
    return p.make(
        results,
        "func.call",
        operands,
        Map.of("callee", new SymAttr(callee)),
        List.of(),
        fn.get(0),
        fn.get(1),
        line);
  }

  private static Op constant(StableHloText p, MlirCursor c, List<String> results, int line) {
    Map<String, Attr> attrs = new LinkedHashMap<>();
    if (c.peek() == '{') {
      attrs.putAll(MlirAttrs.dict(c));
    }
    Attr value = MlirAttrs.attr(c);
    if (!(value instanceof Attr.DenseAttr d)) {
      throw c.error("a constant whose value is not dense<...>");
    }
    attrs.put("value", value);
    return p.make(
        results,
        "stablehlo.constant",
        List.of(),
        attrs,
        List.of(),
        List.of(),
        List.of(d.value().type()),
        line);
  }

  private static Op checkConst(StableHloText p, MlirCursor c, String name, int line) {
    String operand = c.valueName();
    c.expect(",");
    Attr value = MlirAttrs.attr(c);
    Map<String, Attr> attrs = new LinkedHashMap<>();
    attrs.put("value", value);
    if (c.peek() == '{') {
      attrs.putAll(MlirAttrs.dict(c));
    }
    return p.make(List.of(), name, List.of(operand), attrs, List.of(), List.of(), List.of(), line);
  }

  private static Op customCall(StableHloText p, MlirCursor c, List<String> results, int line) {
    String target = c.symbol();
    List<String> operands = parenValues(c);
    Map<String, Attr> attrs = new LinkedHashMap<>();
    attrs.put("call_target_name", new Attr.StrAttr(target));
    if (c.peek() == '{') {
      attrs.putAll(MlirAttrs.dict(c));
    }
    c.expect(":");
    List<List<MlirType>> fn = MlirAttrs.functionType(c);
    return p.make(
        results, "stablehlo.custom_call", operands, attrs, List.of(), fn.get(0), fn.get(1), line);
  }

  private static Op whileOp(StableHloText p, MlirCursor c, List<String> results, int line) {
    c.expect("(");
    List<String> iterNames = new ArrayList<>();
    List<String> operands = new ArrayList<>();
    if (!c.eat(")")) {
      do {
        iterNames.add(c.valueName());
        c.expect("=");
        operands.add(c.valueName());
      } while (c.eat(","));
      c.expect(")");
    }
    List<MlirType> types = new ArrayList<>();
    if (c.eat(":")) {
      do {
        types.add(MlirAttrs.type(c));
      } while (c.eat(","));
    }
    if (c.eat("attributes")) {
      MlirAttrs.dict(c);
    }
    if (types.size() != operands.size()) {
      throw c.error("a while with " + operands.size() + " values but " + types.size() + " types");
    }
    List<Arg> args = new ArrayList<>();
    for (int i = 0; i < iterNames.size(); i++) {
      args.add(new Arg(iterNames.get(i), types.get(i)));
    }
    c.expect("cond");
    Region cond = p.region(args);
    c.expect("do");
    Region body = p.region(args);
    return p.make(
        results, "stablehlo.while", operands, Map.of(), List.of(cond, body), types, types, line);
  }

  private static Op reduce(StableHloText p, MlirCursor c, List<String> results, int line) {
    List<String> inputs = new ArrayList<>();
    List<String> inits = new ArrayList<>();
    do {
      c.expect("(");
      inputs.add(c.valueName());
      c.expect("init");
      c.expect(":");
      inits.add(c.valueName());
      c.expect(")");
    } while (c.eat(","));
    String applies = c.eat("applies") ? c.word() : null;
    c.expect("across");
    c.expect("dimensions");
    c.expect("=");
    Map<String, Attr> attrs = new LinkedHashMap<>();
    attrs.put("dimensions", denseArray(MlirAttrs.attr(c)));
    if (c.peek() == '{') {
      attrs.putAll(MlirAttrs.dict(c));
    }
    c.expect(":");
    List<List<MlirType>> fn = MlirAttrs.functionType(c);
    List<String> operands = new ArrayList<>(inputs);
    operands.addAll(inits);
    int n = inputs.size();
    if (fn.get(0).size() != 2 * n) {
      throw c.error("a reduce of " + n + " inputs whose type lists " + fn.get(0).size());
    }
    Region body;
    if (applies != null) {
      MlirType t = fn.get(0).get(n);
      List<Arg> args = List.of(new Arg("%lhs", t), new Arg("%rhs", t));
      Op apply =
          p.make(
              List.of("%r"),
              applies,
              List.of("%lhs", "%rhs"),
              Map.of(),
              List.of(),
              List.of(t, t),
              List.of(t),
              line);
      Op ret =
          p.make(
              List.of(),
              "stablehlo.return",
              List.of("%r"),
              Map.of(),
              List.of(),
              List.of(t),
              List.of(),
              line);
      body = new Region(args, List.of(apply, ret));
    } else {
      c.expect("reducer");
      List<Arg> lhs = new ArrayList<>();
      List<Arg> rhs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        c.expect("(");
        lhs.add(blockArg(c));
        c.expect(",");
        rhs.add(blockArg(c));
        c.expect(")");
      }
      List<Arg> args = new ArrayList<>(lhs);
      args.addAll(rhs);
      body = p.region(args);
    }
    return p.make(
        results, "stablehlo.reduce", operands, attrs, List.of(body), fn.get(0), fn.get(1), line);
  }

  private static Arg blockArg(MlirCursor c) {
    String name = c.valueName();
    c.expect(":");
    MlirType type = MlirAttrs.type(c);
    c.skipLocation();
    return new Arg(name, type);
  }

  private static List<String> parenValues(MlirCursor c) {
    c.expect("(");
    List<String> out = new ArrayList<>();
    if (!c.eat(")")) {
      do {
        out.add(c.valueName());
      } while (c.eat(","));
      c.expect(")");
    }
    return out;
  }

  /**
   * The general pretty form: operands, bare enum words, {@code key = value}s, a bracketed slice or
   * index, a trailing attribute dictionary, then {@code :} and the types.
   */
  private static Op collected(
      StableHloText p, MlirCursor c, String name, List<String> results, int line) {
    List<String> operands = new ArrayList<>();
    List<String> bare = new ArrayList<>();
    Map<String, Attr> attrs = new LinkedHashMap<>();
    String bracket = null;
    Map<String, String> renames = RENAMES.getOrDefault(name, Map.of());
    loop:
    while (true) {
      char ch = c.peek();
      switch (ch) {
        case '%' -> operands.add(c.valueName());
        case ',' -> c.expect(",");
        case '(' -> operands.addAll(parenValues(c));
        case '{' -> attrs.putAll(MlirAttrs.dict(c));
        case '[' -> {
          c.expect("[");
          bracket = c.balanced(']');
        }
        case ':', '}', '\0' -> {
          break loop;
        }
        default -> {
          if (!c.atWord()) {
            throw c.error("unexpected " + c.excerpt() + " in " + name);
          }
          if (c.lookingAt("loc") && c.peekAt(3) == '(') {
            break loop;
          }
          String word = c.word();
          if (c.eat("=")) {
            Attr value = keywordValue(c, word);
            if (value instanceof DictAttr window && word.equals("window")) {
              window.entries().forEach((k, v) -> attrs.put(renames.getOrDefault(k, k), v));
            } else {
              attrs.put(renames.getOrDefault(word, word), value);
            }
          } else {
            bare.add(word);
          }
        }
      }
    }
    List<MlirType> operandTypes = new ArrayList<>();
    List<MlirType> resultTypes = new ArrayList<>();
    if (c.eat(":")) {
      if (c.peek() == '(') {
        List<List<MlirType>> fn = MlirAttrs.functionType(c);
        operandTypes.addAll(fn.get(0));
        resultTypes.addAll(fn.get(1));
      } else {
        List<MlirType> types = new ArrayList<>();
        do {
          types.add(MlirAttrs.type(c));
        } while (c.eat(","));
        if (results.size() > 1 && types.size() == results.size()) {
          resultTypes.addAll(types);
          operandTypes.addAll(types);
        } else {
          if (!results.isEmpty()) {
            resultTypes.add(types.get(types.size() - 1));
          }
          if (types.size() == 1) {
            operandTypes.addAll(Collections.nCopies(operands.size(), types.get(0)));
          } else {
            operandTypes.addAll(types);
          }
        }
      }
    }
    normalize(c, name, bare, bracket, attrs);
    return p.make(results, name, operands, attrs, List.of(), operandTypes, resultTypes, line);
  }

  private static Attr keywordValue(MlirCursor c, String word) {
    if (word.equals("dim_numbers")) {
      int start = c.pos;
      c.expect("[");
      c.balanced(']');
      c.expect("x");
      c.expect("[");
      c.balanced(']');
      c.expect("->");
      c.expect("[");
      c.balanced(']');
      return new DialectAttr("stablehlo.conv", c.textFrom(start));
    }
    Attr value = MlirAttrs.attr(c);
    if (value instanceof ArrayAttr && c.eat("x")) {
      return new ArrayAttr(List.of(value, MlirAttrs.attr(c)));
    }
    return value;
  }

  private static void normalize(
      MlirCursor c, String name, List<String> bare, String bracket, Map<String, Attr> attrs) {
    switch (name) {
      case "stablehlo.compare" -> {
        if (bare.isEmpty()) {
          throw c.error("a compare without its direction (EQ, NE, LT, LE, GT, GE)");
        }
        attrs.put("comparison_direction", new EnumAttr(bare.get(0)));
        if (bare.size() > 1) {
          attrs.put("compare_type", new EnumAttr(bare.get(1)));
        }
      }
      case "stablehlo.slice" -> {
        if (bracket == null) {
          return;
        }
        String[] parts = bracket.split(",");
        long[] start = new long[parts.length];
        long[] limit = new long[parts.length];
        long[] stride = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
          String[] f = parts[i].strip().split(":");
          try {
            start[i] = Long.parseLong(f[0].strip());
            limit[i] = Long.parseLong(f[1].strip());
            stride[i] = f.length > 2 ? Long.parseLong(f[2].strip()) : 1;
          } catch (RuntimeException e) {
            throw c.error(
                "a slice range '" + parts[i].strip() + "' that is not start:limit[:stride]");
          }
        }
        attrs.put("start_indices", new DenseArrayAttr("i64", start));
        attrs.put("limit_indices", new DenseArrayAttr("i64", limit));
        attrs.put("strides", new DenseArrayAttr("i64", stride));
      }
      case "stablehlo.get_tuple_element" -> {
        if (bracket != null) {
          attrs.put("index", new IntAttr(Long.parseLong(bracket.strip()), "i32"));
        }
      }
      case "stablehlo.dot_general" -> {
        Map<String, Attr> dims = new LinkedHashMap<>();
        pair(attrs.remove("batching_dims"), "batching_dimensions", dims);
        pair(attrs.remove("contracting_dims"), "contracting_dimensions", dims);
        attrs.put("dot_dimension_numbers", new DictAttr(dims));
      }
      case "stablehlo.reduce_precision" -> {
        if (attrs.remove("format") instanceof EnumAttr f && f.value().matches("e[0-9]+m[0-9]+")) {
          int m = f.value().indexOf('m');
          attrs.put("exponent_bits", new IntAttr(Long.parseLong(f.value().substring(1, m)), "i32"));
          attrs.put(
              "mantissa_bits", new IntAttr(Long.parseLong(f.value().substring(m + 1)), "i32"));
        }
      }
      default -> {
        if (!bare.isEmpty()) {
          attrs.put(
              "_words", new ArrayAttr(bare.stream().map(w -> (Attr) new EnumAttr(w)).toList()));
        }
      }
    }
  }

  private static void pair(Attr value, String key, Map<String, Attr> out) {
    if (value instanceof ArrayAttr a && a.items().size() == 2) {
      out.put("lhs_" + key, a.items().get(0));
      out.put("rhs_" + key, a.items().get(1));
    } else {
      out.put("lhs_" + key, new ArrayAttr(List.of()));
      out.put("rhs_" + key, new ArrayAttr(List.of()));
    }
  }

  private static Attr denseArray(Attr a) {
    return new DenseArrayAttr("i64", Attrs.longs(a));
  }
}
