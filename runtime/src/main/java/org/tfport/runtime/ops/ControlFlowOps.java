package org.tfport.runtime.ops;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.BindContext.Function;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Pass-through ops and TF2 functional control flow: loops, branches and calls run library functions
 * compiled by the planner, in the caller's run.
 */
public final class ControlFlowOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference(
        node -> (in, ctx) -> new Value[] {in[0]},
        "Identity",
        "Snapshot",
        "StopGradient",
        "PreventGradient",
        "Print");
    r.reference(node -> (in, ctx) -> in.clone(), "IdentityN");
    r.reference(node -> (in, ctx) -> new Value[0], "NoOp", "PrintV2");
    r.reference("Assert", ControlFlowOps::assertOp);
    r.reference(ControlFlowOps::whileLoop, "While", "StatelessWhile");
    r.reference(ControlFlowOps::ifElse, "If", "StatelessIf");
    r.reference(ControlFlowOps::caseOp, "Case", "StatelessCase");
    r.reference(ControlFlowOps::call, "PartitionedCall", "StatefulPartitionedCall");
    r.reference("TfliteCallOnce", ControlFlowOps::callOnce);
  }

  /**
   * TensorFlow's truth of a predicate: a scalar is true when nonzero (non-empty for strings), a
   * tensor when non-empty.
   */
  static boolean truth(Value v) {
    if (v.isHandle()) {
      throw new KernelException("the predicate is a " + v + ", not a tensor");
    }
    if (v.rank() > 0) {
      return v.size() > 0;
    }
    return switch (v.dtype()) {
      case STRING -> v.strings()[0].length > 0;
      case COMPLEX64 -> v.floats()[0] != 0 || v.floats()[1] != 0;
      case FLOAT32, FLOAT64, FLOAT16, BFLOAT16 -> v.doubleAt(0) != 0;
      default -> v.longAt(0) != 0;
    };
  }

  private static Kernel assertOp(BindContext node) {
    return (in, ctx) -> {
      Value cond = in[0];
      if (cond.isHandle() || cond.dtype() != DType.BOOL || cond.rank() != 0) {
        throw new KernelException("the condition must be a bool scalar, got " + cond);
      }
      if (cond.bytes()[0] == 0) {
        List<String> data = new ArrayList<>();
        for (int i = 1; i < in.length; i++) {
          data.add(summary(in[i]));
        }
        throw new KernelException("assertion failed: " + String.join(" ", data));
      }
      return new Value[0];
    };
  }

  /**
   * A short text of an Assert data value: the message strings TF puts there, or the first few
   * numbers.
   */
  private static String summary(Value v) {
    if (v.isHandle()) {
      return v.toString();
    }
    int n = Math.min(v.size(), 3);
    List<String> items = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      items.add(
          switch (v.dtype()) {
            case STRING -> new String(v.strings()[i], StandardCharsets.UTF_8);
            case COMPLEX64 -> v.floats()[2 * i] + "+" + v.floats()[2 * i + 1] + "j";
            case FLOAT32, FLOAT64, FLOAT16, BFLOAT16 -> Double.toString(v.doubleAt(i));
            default -> Long.toString(v.longAt(i));
          });
    }
    String s = String.join(" ", items) + (v.size() > n ? " ..." : "");
    return v.dtype() == DType.STRING && v.rank() == 0 ? s : "[" + s + "]";
  }

  private static Kernel whileLoop(BindContext node) {
    Function cond = node.function("cond");
    Function body = node.function("body");
    int n = node.inputCount();
    if (cond.inputCount() != n || body.inputCount() != n || body.outputCount() != n) {
      throw new KernelException(
          "the loop carries "
              + n
              + " values, but cond '"
              + cond.name()
              + "' takes "
              + cond.inputCount()
              + " and body '"
              + body.name()
              + "' takes "
              + body.inputCount()
              + " and returns "
              + body.outputCount());
    }
    if (cond.outputCount() < 1) {
      throw new KernelException("the loop condition '" + cond.name() + "' returns nothing");
    }
    return (in, ctx) -> {
      Value[] vars = in.clone();
      while (truth(cond.call(vars, ctx)[0])) {
        vars = body.call(vars, ctx);
      }
      return vars;
    };
  }

  private static Kernel ifElse(BindContext node) {
    Function then = node.function("then_branch");
    Function otherwise = node.function("else_branch");
    checkBranches(List.of(then, otherwise), node.inputCount() - 1);
    return (in, ctx) -> {
      Value[] args = Arrays.copyOfRange(in, 1, in.length);
      return (truth(in[0]) ? then : otherwise).call(args, ctx);
    };
  }

  private static Kernel caseOp(BindContext node) {
    List<Function> branches = node.functions("branches");
    if (branches.isEmpty()) {
      throw new KernelException("a Case needs at least one branch");
    }
    checkBranches(branches, node.inputCount() - 1);
    Function[] b = branches.toArray(new Function[0]);
    return (in, ctx) -> {
      Value index = in[0];
      if (index.isHandle() || index.dtype() != DType.INT32 || index.rank() != 0) {
        throw new KernelException("branch_index must be an int32 scalar, got " + index);
      }
      int i = index.ints()[0];
      // TensorFlow runs the last branch for an index out of range (its default branch).
      Function f = i >= 0 && i < b.length ? b[i] : b[b.length - 1];
      return f.call(Arrays.copyOfRange(in, 1, in.length), ctx);
    };
  }

  private static void checkBranches(List<Function> branches, int args) {
    int outs = branches.get(0).outputCount();
    for (Function f : branches) {
      if (f.inputCount() != args || f.outputCount() != outs) {
        throw new KernelException(
            "branch '"
                + f.name()
                + "' takes "
                + f.inputCount()
                + " and returns "
                + f.outputCount()
                + ", but the node passes "
                + args
                + " and the branches return "
                + outs);
      }
    }
  }

  private static Kernel call(BindContext node) {
    Function f = node.function("f");
    if (f.inputCount() != node.inputCount()) {
      throw new KernelException(
          "function '"
              + f.name()
              + "' takes "
              + f.inputCount()
              + " arguments, the node passes "
              + node.inputCount());
    }
    return f::call;
  }

  /** Whether a session has run a {@code TfliteCallOnce} initializer. */
  private static final class Ran {
    private boolean done;
  }

  /**
   * TFLite's CALL_ONCE: runs the function {@code init} (no arguments, no results) the first time a
   * session reaches the node, never again in that session, as TFLite runs it once per interpreter.
   * A failed initializer is not marked done, so the next run tries again.
   */
  private static Kernel callOnce(BindContext node) {
    Function init = node.function("init");
    if (init.inputCount() != 0) {
      throw new KernelException(
          "initializer '" + init.name() + "' takes " + init.inputCount() + " arguments, not 0");
    }
    String key = "call_once:" + init.name();
    return (in, ctx) -> {
      Ran ran = ctx.sessionState(key, Ran::new);
      synchronized (ran) {
        if (!ran.done) {
          init.call(new Value[0], ctx);
          ran.done = true;
        }
      }
      return new Value[0];
    };
  }
}
