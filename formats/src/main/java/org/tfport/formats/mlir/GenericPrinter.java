package org.tfport.formats.mlir;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Prints operations in MLIR's generic syntax, except {@code module} and {@code func.func} which
 * take their usual custom form (what JAX prints, and what StableHLO text readers start from):
 * {@code %3:2 = "dialect.op"(%1, %2) [^bb1] ({regions}) {attrs} : (types) -> (types)}. Values are
 * named by their module-wide id, so a name never clashes across regions; a result of a multi-result
 * operation is {@code %first#index}; function parameters are {@code %argN}.
 */
final class GenericPrinter {
  private final StringBuilder out = new StringBuilder();
  private final boolean locations;
  // Function parameters are %arg0, %arg1... as MLIR and JAX print them (input names downstream).
  private final Map<MlirValue, String> params = new IdentityHashMap<>();

  private GenericPrinter(boolean locations) {
    this.locations = locations;
  }

  static String print(List<MlirOp> ops, boolean locations) {
    GenericPrinter p = new GenericPrinter(locations);
    for (MlirOp op : ops) {
      p.op(op, 0);
    }
    return p.out.toString();
  }

  private String ref(MlirValue v) {
    String named = params.get(v);
    if (named != null) {
      return named;
    }
    if (v.resultCount() > 1) {
      return "%" + (v.id() - v.resultIndex()) + "#" + v.resultIndex();
    }
    return "%" + v.id();
  }

  private void op(MlirOp op, int depth) {
    if (op.name().equals("builtin.module")
        && op.results().isEmpty()
        && op.operands().isEmpty()
        && op.regions().size() == 1
        && op.regions().get(0).size() <= 1) {
      module(op, depth);
      return;
    }
    if (op.name().equals("func.func")
        && op.regions().size() == 1
        && op.attribute("function_type") instanceof MlirAttr.TypeAttr t
        && t.type() instanceof MlirType.Function
        && op.attribute("sym_name") instanceof MlirAttr.Str) {
      func(op, depth);
      return;
    }
    indent(depth);
    List<MlirValue> results = op.results();
    if (!results.isEmpty()) {
      out.append('%').append(results.get(0).id());
      if (results.size() > 1) {
        out.append(':').append(results.size());
      }
      out.append(" = ");
    }
    out.append(MlirAttr.quote(op.name())).append('(');
    out.append(op.operands().stream().map(this::ref).collect(Collectors.joining(", ")));
    out.append(')');
    if (!op.successors().isEmpty()) {
      out.append(
          op.successors().stream()
              .map(s -> "^bb" + s)
              .collect(Collectors.joining(", ", " [", "]")));
    }
    if (!op.regions().isEmpty()) {
      out.append(" (");
      for (int r = 0; r < op.regions().size(); r++) {
        if (r > 0) {
          out.append(", ");
        }
        region(op.regions().get(r), depth);
      }
      out.append(')');
    }
    if (!op.attributes().isEmpty()) {
      out.append(' ').append(new MlirAttr.Dict(op.attributes()));
    }
    out.append(" : ");
    List<MlirType> in = op.operands().stream().map(MlirValue::type).toList();
    out.append(new MlirType.Function(in, op.resultTypes()));
    if (locations) {
      out.append(' ').append(op.location());
    }
    out.append('\n');
  }

  /** {@code module @name attributes {...} { ops }}: the form every StableHLO reader takes. */
  private void module(MlirOp op, int depth) {
    indent(depth);
    out.append("module");
    List<MlirAttr.Named> rest = new ArrayList<>();
    for (MlirAttr.Named a : op.attributes()) {
      if (a.name().equals("sym_name") && a.value() instanceof MlirAttr.Str s) {
        out.append(" @").append(MlirAttr.symbol(s.value()));
      } else {
        rest.add(a);
      }
    }
    if (!rest.isEmpty()) {
      out.append(" attributes ").append(new MlirAttr.Dict(rest));
    }
    out.append(" {\n");
    for (MlirBlock b : op.regions().get(0)) {
      for (MlirOp inner : b.operations()) {
        op(inner, depth + 1);
      }
    }
    indent(depth);
    out.append("}\n");
  }

  /**
   * {@code func.func public @main(%0: tensor<2xf32> {attrs}) -> (tensor<2xf32> {attrs}) attributes
   * {...} { ops }}: the function form, whose entry block arguments are the parameters.
   */
  private void func(MlirOp op, int depth) {
    MlirType.Function type =
        (MlirType.Function) ((MlirAttr.TypeAttr) op.attribute("function_type")).type();
    List<MlirAttr> argAttrs = list(op.attribute("arg_attrs"));
    List<MlirAttr> resAttrs = list(op.attribute("res_attrs"));
    List<MlirBlock> body = op.regions().get(0);
    List<MlirValue> params = body.isEmpty() ? List.of() : body.get(0).arguments();
    indent(depth);
    out.append("func.func ");
    if (op.attribute("sym_visibility") instanceof MlirAttr.Str v && !v.value().isEmpty()) {
      out.append(v.value()).append(' ');
    }
    out.append('@').append(MlirAttr.symbol(((MlirAttr.Str) op.attribute("sym_name")).value()));
    out.append('(');
    for (int i = 0; i < params.size() && i < type.inputs().size(); i++) {
      this.params.put(params.get(i), "%arg" + i);
    }
    for (int i = 0; i < type.inputs().size(); i++) {
      if (i > 0) {
        out.append(", ");
      }
      out.append(i < params.size() ? ref(params.get(i)) : "%arg" + i).append(": ");
      out.append(type.inputs().get(i)).append(dictSuffix(argAttrs, i));
    }
    out.append(')');
    List<MlirType> results = type.results();
    boolean anyResAttr = false;
    for (int i = 0; i < results.size(); i++) {
      anyResAttr |= !dictSuffix(resAttrs, i).isEmpty();
    }
    if (results.size() == 1 && !anyResAttr && !(results.get(0) instanceof MlirType.Function)) {
      out.append(" -> ").append(results.get(0));
    } else if (!results.isEmpty()) {
      out.append(" -> (");
      for (int i = 0; i < results.size(); i++) {
        out.append(i > 0 ? ", " : "").append(results.get(i)).append(dictSuffix(resAttrs, i));
      }
      out.append(')');
    }
    List<MlirAttr.Named> rest = new ArrayList<>();
    for (MlirAttr.Named a : op.attributes()) {
      if (!Set.of("sym_name", "sym_visibility", "function_type", "arg_attrs", "res_attrs")
          .contains(a.name())) {
        rest.add(a);
      }
    }
    if (!rest.isEmpty()) {
      out.append(" attributes ").append(new MlirAttr.Dict(rest));
    }
    if (body.isEmpty()) {
      out.append('\n');
      return;
    }
    out.append(" {\n");
    for (int b = 0; b < body.size(); b++) {
      MlirBlock block = body.get(b);
      if (b > 0) {
        blockLabel(block, b, depth);
      }
      for (MlirOp inner : block.operations()) {
        op(inner, depth + 1);
      }
    }
    indent(depth);
    out.append("}\n");
  }

  private static List<MlirAttr> list(MlirAttr a) {
    return a instanceof MlirAttr.Array arr ? arr.elements() : List.of();
  }

  private static String dictSuffix(List<MlirAttr> dicts, int i) {
    if (i < dicts.size() && dicts.get(i) instanceof MlirAttr.Dict d && !d.entries().isEmpty()) {
      return " " + d;
    }
    return "";
  }

  private void blockLabel(MlirBlock block, int index, int depth) {
    indent(depth);
    out.append("^bb").append(index);
    if (!block.arguments().isEmpty()) {
      out.append(
          block.arguments().stream()
              .map(a -> ref(a) + ": " + a.type())
              .collect(Collectors.joining(", ", "(", ")")));
    }
    out.append(":\n");
  }

  private void region(List<MlirBlock> blocks, int depth) {
    out.append("{\n");
    for (int b = 0; b < blocks.size(); b++) {
      MlirBlock block = blocks.get(b);
      if (b > 0 || !block.arguments().isEmpty()) {
        blockLabel(block, b, depth);
      }
      for (MlirOp op : block.operations()) {
        op(op, depth + 1);
      }
    }
    indent(depth);
    out.append('}');
  }

  private void indent(int depth) {
    out.append("  ".repeat(depth));
  }
}
