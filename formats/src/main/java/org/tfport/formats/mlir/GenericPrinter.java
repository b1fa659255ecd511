package org.tfport.formats.mlir;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Prints operations in MLIR's generic syntax:
 * {@code %3:2 = "dialect.op"(%1, %2) [^bb1] ({regions}) {attrs} : (types) -> (types)}. Values
 * are named by their module-wide id, so a name never clashes across regions; a result of a
 * multi-result operation is {@code %first#index}.
 */
final class GenericPrinter {
  private final StringBuilder out = new StringBuilder();
  private final boolean locations;

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

  static String ref(MlirValue v) {
    if (v.resultCount() > 1) {
      return "%" + (v.id() - v.resultIndex()) + "#" + v.resultIndex();
    }
    return "%" + v.id();
  }

  private void op(MlirOp op, int depth) {
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
    out.append(op.operands().stream().map(GenericPrinter::ref).collect(Collectors.joining(", ")));
    out.append(')');
    if (!op.successors().isEmpty()) {
      out.append(op.successors().stream().map(s -> "^bb" + s)
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

  private void region(List<MlirBlock> blocks, int depth) {
    out.append("{\n");
    for (int b = 0; b < blocks.size(); b++) {
      MlirBlock block = blocks.get(b);
      if (b > 0 || !block.arguments().isEmpty()) {
        indent(depth);
        out.append("^bb").append(b);
        if (!block.arguments().isEmpty()) {
          out.append(block.arguments().stream().map(a -> ref(a) + ": " + a.type())
              .collect(Collectors.joining(", ", "(", ")")));
        }
        out.append(":\n");
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
