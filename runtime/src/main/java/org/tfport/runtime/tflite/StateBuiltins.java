package org.tfport.runtime.tflite;

import static org.tfport.runtime.tflite.ImportAttrs.str;
import static org.tfport.runtime.tflite.ImportAttrs.type;

import java.util.ArrayList;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.FuncRef;
import org.tfport.formats.tflite.BuiltinOptions;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteOperator;
import org.tfport.formats.tflite.TfliteSubgraph;
import org.tfport.runtime.tflite.SubgraphImport.Refusal;

/**
 * TFLite's resource variables and its once-per-interpreter initializer: {@code VAR_HANDLE}, {@code
 * READ_VARIABLE} and {@code ASSIGN_VARIABLE} become TensorFlow's {@code VarHandleOp}, {@code
 * ReadVariableOp} and {@code AssignVariableOp} (variables live in the session, keyed by container
 * and shared name as TFLite keys them per interpreter), and {@code CALL_ONCE} becomes {@code
 * TfliteCallOnce}, which runs its initializer subgraph (a library function) the first time a
 * session reaches it.
 *
 * <p>TFLite runs operators in file order; the IR orders only by dependencies. So each of these
 * operators gets a control input on the previous one of its subgraph ({@link
 * SubgraphImport#effect}), and the subgraph's results wait for the last one, which keeps reads
 * before later assignments and assignments that no output reads.
 */
final class StateBuiltins {
  private StateBuiltins() {}

  static boolean map(SubgraphImport s, TfliteBuiltin builtin) {
    switch (builtin) {
      case VAR_HANDLE -> varHandle(s);
      case READ_VARIABLE -> {
        DType t = s.dtypeOf(s.outIndex(0));
        s.define(0, s.effect("ReadVariableOp", s.base, inputs(s, s.in(0)), "dtype", type(t)));
      }
      case ASSIGN_VARIABLE -> {
        DType t = s.dtypeOf(s.inIndex(1));
        s.effect(
            "AssignVariableOp", s.base + "/assign", inputs(s, s.in(0), s.in(1)), "dtype", type(t));
      }
      case CALL_ONCE -> {
        var o = s.options(BuiltinOptions.CallOnce.class);
        if (o == null) {
          throw new Refusal("it has no CallOnceOptions");
        }
        String init = s.importer.function(o.initSubgraphIndex());
        s.effect(
            "TfliteCallOnce",
            s.base + "/call_once",
            inputs(s),
            "init",
            new AttrValue.Func(FuncRef.of(init)));
      }
      default -> {
        return false;
      }
    }
    return true;
  }

  private static List<String> inputs(SubgraphImport s, String... data) {
    return new ArrayList<>(List.of(data));
  }

  private static void varHandle(SubgraphImport s) {
    String container = String.valueOf(s.option("container", ""));
    String shared = String.valueOf(s.option("shared_name", ""));
    DType t = variableType(s, container, shared);
    s.define(
        0,
        s.node(
            "VarHandleOp",
            s.base,
            List.of(),
            "dtype",
            type(t),
            "container",
            str(container),
            "shared_name",
            str(shared.isEmpty() ? s.base : shared)));
  }

  /**
   * A resource tensor carries no element type in TFLite; the variable's is what the model reads
   * from or assigns to a handle of the same container and name, in any subgraph.
   */
  private static DType variableType(SubgraphImport s, String container, String shared) {
    for (TfliteSubgraph sg : s.model.subgraphs()) {
      List<Integer> handles = new ArrayList<>();
      for (TfliteOperator op : sg.operators()) {
        if (name(s, op).equals("VAR_HANDLE")
            && !op.outputs().isEmpty()
            && container.equals(String.valueOf(option(op, "container")))
            && shared.equals(String.valueOf(option(op, "shared_name")))) {
          handles.add(op.outputs().get(0));
        }
      }
      for (TfliteOperator op : sg.operators()) {
        String n = name(s, op);
        int t = -1;
        if (n.equals("READ_VARIABLE")
            && !op.inputs().isEmpty()
            && handles.contains(op.inputs().get(0))
            && !op.outputs().isEmpty()) {
          t = op.outputs().get(0);
        } else if (n.equals("ASSIGN_VARIABLE")
            && op.inputs().size() > 1
            && handles.contains(op.inputs().get(0))) {
          t = op.inputs().get(1);
        }
        if (t >= 0 && t < sg.tensors().size() && sg.tensors().get(t).type().dtype() != null) {
          return sg.tensors().get(t).type().dtype();
        }
      }
    }
    // Nothing reads or assigns it, so no run can observe its type.
    return DType.FLOAT32;
  }

  private static String name(SubgraphImport s, TfliteOperator op) {
    return op.opcodeIndex() >= 0 && op.opcodeIndex() < s.model.operatorCodes().size()
        ? s.model.opcode(op).name()
        : "";
  }

  private static Object option(TfliteOperator op, String field) {
    return op.builtinOptions() == null ? "" : op.builtinOptions().fields().getOrDefault(field, "");
  }
}
