package org.tfport.formats.stablehlo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.TfportException;
import org.tfport.formats.stablehlo.Attr.DialectAttr;
import org.tfport.formats.stablehlo.Attr.DictAttr;
import org.tfport.formats.stablehlo.Attr.StrAttr;
import org.tfport.formats.stablehlo.Attr.SymAttr;

/**
 * Reads StableHLO programs in MLIR text: a {@code module} (or bare {@code func.func}s, as the
 * StableHLO interpreter tests write them) whose ops are in the pretty syntax JAX prints or in the
 * generic syntax ({@code "stablehlo.add"(%a, %b) : (...) -> ...}). Every op comes out in the
 * generic form ({@link Op}); the dimension-number attributes {@code #stablehlo.dot<...>}, {@code
 * #stablehlo.gather<...>} and {@code #stablehlo.scatter<...>} become dictionaries.
 */
public final class StableHloText {
  private final MlirCursor c;

  private StableHloText(String text, String fileName) {
    this.c = new MlirCursor(text, fileName);
  }

  /**
   * Parses {@code text}; {@code fileName} names it in errors ({@code file:line: what}).
   *
   * @throws TfportException when the text is not a StableHLO module this reader understands
   */
  public static StableHloModule parse(String text, String fileName) {
    return new StableHloText(text, fileName).module();
  }

  public static StableHloModule read(Path file) {
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    } catch (IOException e) {
      throw new TfportException(file + ": cannot read the StableHLO text (" + e.getMessage() + ")");
    }
  }

  private StableHloModule module() {
    String name = "";
    List<Func> funcs = new ArrayList<>();
    while (!c.atEnd()) {
      if (c.peek() == '#') {
        c.skipLine();
      } else if (c.eat("module")) {
        if (c.peek() == '@') {
          name = c.symbol();
        }
        if (c.eat("attributes")) {
          MlirAttrs.dict(c);
        }
        c.expect("{");
        while (!c.eat("}")) {
          if (c.atEnd()) {
            throw c.error("the module is not closed with '}'");
          }
          topLevel(funcs);
        }
        c.skipLocation();
      } else {
        topLevel(funcs);
      }
    }
    return new StableHloModule(name, c.fileName(), funcs);
  }

  private void topLevel(List<Func> funcs) {
    if (c.eat("func.func")) {
      funcs.add(func());
    } else {
      // Other top-level ops (sdy.mesh, attribute aliases) say nothing about the computation.
      c.skipLine();
    }
  }

  private Func func() {
    int line = c.line();
    String visibility = "";
    if (c.eat("public") || c.eat("private") || c.eat("nested")) {
      visibility = c.textBefore();
    }
    String name = c.symbol();
    c.expect("(");
    List<Arg> args = new ArrayList<>();
    if (!c.eat(")")) {
      do {
        String argName = c.valueName();
        c.expect(":");
        MlirType type = MlirAttrs.type(c);
        Map<String, Attr> argAttrs = c.peek() == '{' ? MlirAttrs.dict(c) : Map.of();
        c.skipLocation();
        args.add(new Arg(argName, type, argAttrs));
      } while (c.eat(","));
      c.expect(")");
    }
    List<MlirType> results = new ArrayList<>();
    List<String> resultNames = new ArrayList<>();
    if (c.eat("->")) {
      if (c.eat("(")) {
        if (!c.eat(")")) {
          do {
            results.add(MlirAttrs.type(c));
            String resultName = "";
            if (c.peek() == '{') {
              Attr info = MlirAttrs.dict(c).get("jax.result_info");
              if (info instanceof StrAttr s) {
                resultName = s.value();
              }
            }
            resultNames.add(resultName);
          } while (c.eat(","));
          c.expect(")");
        }
      } else {
        results.add(MlirAttrs.type(c));
        resultNames.add("");
      }
    }
    if (c.eat("attributes")) {
      MlirAttrs.dict(c);
    }
    Region body = new Region(args, List.of());
    if (c.peek() == '{') {
      body = region(args);
    }
    c.skipLocation();
    return new Func(name, visibility, args, results, resultNames, body, line);
  }

  /** A region: {@code { [^bb0(args):] ops }}; {@code args} are used when it has no label. */
  Region region(List<Arg> args) {
    c.expect("{");
    List<Arg> blockArgs = args;
    if (c.peek() == '^') {
      c.expect("^");
      c.word();
      blockArgs = new ArrayList<>();
      if (c.eat("(")) {
        if (!c.eat(")")) {
          do {
            String n = c.valueName();
            c.expect(":");
            blockArgs.add(new Arg(n, MlirAttrs.type(c)));
            c.skipLocation();
          } while (c.eat(","));
          c.expect(")");
        }
      }
      c.expect(":");
    }
    List<Op> ops = new ArrayList<>();
    while (!c.eat("}")) {
      if (c.atEnd()) {
        throw c.error("a region is not closed with '}'");
      }
      if (c.peek() == '^') {
        throw c.error("a region with more than one block");
      }
      ops.add(op());
    }
    return new Region(blockArgs, ops);
  }

  private Op op() {
    int line = c.line();
    List<String> results = new ArrayList<>();
    if (c.peek() == '%') {
      do {
        String n = c.valueName();
        int count = 1;
        if (c.peek() == ':' && Character.isDigit(c.peekAt(1))) {
          c.expect(":");
          count = Integer.parseInt(c.number());
        }
        if (count == 1) {
          results.add(n);
        } else {
          for (int i = 0; i < count; i++) {
            results.add(n + "#" + i);
          }
        }
      } while (c.eat(","));
      c.expect("=");
    }
    Op op = c.peek() == '"' ? generic(results, line) : PrettyOps.parse(this, c, results, line);
    c.skipLocation();
    return op;
  }

  private Op generic(List<String> results, int line) {
    String name = c.string();
    c.expect("(");
    List<String> operands = new ArrayList<>();
    if (!c.eat(")")) {
      do {
        operands.add(c.valueName());
      } while (c.eat(","));
      c.expect(")");
    }
    if (c.eat("[")) {
      throw c.error(name + " has successor blocks, which StableHLO programs do not use");
    }
    Map<String, Attr> attrs = new LinkedHashMap<>();
    if (c.peek() == '<' && c.peekAt(1) == '{') {
      c.expect("<");
      attrs.putAll(MlirAttrs.dict(c));
      c.expect(">");
    }
    List<Region> regions = new ArrayList<>();
    if (c.peek() == '(') {
      c.expect("(");
      do {
        regions.add(region(List.of()));
      } while (c.eat(","));
      c.expect(")");
    }
    if (c.peek() == '{') {
      attrs.putAll(MlirAttrs.dict(c));
    }
    c.expect(":");
    List<List<MlirType>> fn = MlirAttrs.functionType(c);
    return make(results, name, operands, attrs, regions, fn.get(0), fn.get(1), line);
  }

  /** Builds the op, turning dimension-number attributes into dictionaries. */
  Op make(
      List<String> results,
      String name,
      List<String> operands,
      Map<String, Attr> attrs,
      List<Region> regions,
      List<MlirType> operandTypes,
      List<MlirType> resultTypes,
      int line) {
    Map<String, Attr> normal = new LinkedHashMap<>();
    for (Map.Entry<String, Attr> e : attrs.entrySet()) {
      Attr v = e.getValue();
      if (v instanceof DialectAttr d
          && (d.name().equals("stablehlo.dot")
              || d.name().equals("stablehlo.gather")
              || d.name().equals("stablehlo.scatter"))) {
        v = fields(d.body());
      }
      normal.put(e.getKey(), v);
    }
    if (name.equals("return")) {
      name = "func.return";
    } else if (name.equals("call")) {
      name = "func.call";
    }
    if (name.equals("func.call") && normal.get("callee") == null) {
      throw c.error("a call without a callee");
    }
    if (results.size() != resultTypes.size()) {
      throw c.error(
          name + " names " + results.size() + " results but its type has " + resultTypes.size());
    }
    return new Op(results, name, operands, normal, regions, operandTypes, resultTypes, line);
  }

  /** {@code key = value, ...} inside a dialect attribute. */
  private DictAttr fields(String body) {
    MlirCursor sub = new MlirCursor(body, c.fileName());
    Map<String, Attr> out = new LinkedHashMap<>();
    while (!sub.atEnd()) {
      String key = sub.word();
      sub.expect("=");
      out.put(key, MlirAttrs.attr(sub));
      sub.eat(",");
    }
    return new DictAttr(out);
  }

  static SymAttr callee(String name) {
    return new SymAttr(name);
  }
}
