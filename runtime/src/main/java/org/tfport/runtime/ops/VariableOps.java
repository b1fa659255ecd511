package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;

/**
 * Variables a model writes while it runs (loaders freeze the ones it only reads). Each lives in the
 * session's state, so runs of one session see each other's assignments and separate sessions do
 * not. Resource variables ({@code VarHandleOp}) are keyed by {@code shared_name} (else the node
 * name) and travel as a handle; TF1 reference variables ({@code VariableV2}) are keyed by node
 * name, and an {@code Assign} finds its variable by the name of the node feeding it, since a
 * reference is not a value here.
 */
final class VariableOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("VarHandleOp", VariableOps::varHandle);
    r.reference("ReadVariableOp", VariableOps::read);
    r.reference("AssignVariableOp", b -> update(b, Update.SET, true));
    r.reference("AssignAddVariableOp", b -> update(b, Update.ADD, true));
    r.reference("AssignSubVariableOp", b -> update(b, Update.SUB, true));
    r.reference(VariableOps::refVariable, "VariableV2", "Variable");
    r.reference("Assign", b -> update(b, Update.SET, false));
    r.reference("AssignAdd", b -> update(b, Update.ADD, false));
    r.reference("AssignSub", b -> update(b, Update.SUB, false));
    r.reference(
        "VarIsInitializedOp",
        b ->
            (in, ctx) ->
                new Value[] {
                  Value.bools(new long[0], (byte) (cell(in[0], ctx).value() != null ? 1 : 0))
                });
  }

  /** What a resource handle names: the session-state key and the declared dtype. */
  record Resource(String key, String name, DType dtype) {}

  /** A variable's current value; null until first assigned. */
  static final class Cell {
    private volatile Value value;

    Value value() {
      return value;
    }

    /** A cell starting at {@code initial} (null: unassigned). */
    static Cell holding(Value initial) {
      Cell c = new Cell();
      c.value = initial;
      return c;
    }
  }

  private enum Update {
    SET,
    ADD,
    SUB
  }

  /** The attribute graph's VariableFreezer gives a variable it keeps (see INITIAL_VALUE there). */
  static final String INITIAL_VALUE = "_tfport_initial_value";

  private static String key(String name) {
    return "variable:" + name;
  }

  private static Kernel varHandle(BindContext b) {
    String shared = b.stringAttr("shared_name", "");
    String container = b.stringAttr("container", "");
    String name = shared.isEmpty() ? b.node().name() : shared;
    Resource resource = new Resource(key(container + "/" + name), name, b.typeAttr("dtype"));
    // A variable the loader kept (the model writes it) starts each session at its checkpoint value.
    Value initial = b.hasAttr(INITIAL_VALUE) ? b.tensorAttr(INITIAL_VALUE) : null;
    if (initial != null && initial.dtype() != resource.dtype()) {
      throw new KernelException(
          "variable '"
              + name
              + "' is declared "
              + resource.dtype().jsName()
              + " but its checkpoint value is "
              + initial);
    }
    return (in, ctx) -> {
      if (initial != null) {
        ctx.sessionState(resource.key(), () -> Cell.holding(initial));
      }
      return new Value[] {Value.handle(resource)};
    };
  }

  private static Resource resource(Value v) {
    if (!v.isHandle() || !(v.data() instanceof Resource r)) {
      throw new KernelException("expected a variable handle, got " + v);
    }
    return r;
  }

  private static Cell cell(Value handle, RunContext ctx) {
    return ctx.sessionState(resource(handle).key(), Cell::new);
  }

  private static Kernel read(BindContext b) {
    DType t = b.typeAttr("dtype");
    return (in, ctx) -> {
      Resource r = resource(in[0]);
      Value v = ctx.sessionState(r.key(), Cell::new).value();
      if (v == null) {
        throw new KernelException(
            "variable '"
                + r.name()
                + "' is read before it is assigned (its value is not in"
                + " the checkpoint and no initializer has run)");
      }
      if (v.dtype() != t) {
        throw new KernelException(
            "variable '" + r.name() + "' holds " + v.dtype().jsName() + ", read as " + t.jsName());
      }
      return new Value[] {v};
    };
  }

  /**
   * What an unassigned TF1 variable outputs: Assign ignores it, any other reader fails naming this
   * type ("handle(UninitializedVariable)"), where TensorFlow says it read an uninitialized value.
   */
  record UninitializedVariable(String name) {}

  /**
   * A TF1 variable's output is its value; before the first assignment it is a placeholder handle
   * only Assign takes.
   */
  private static Kernel refVariable(BindContext b) {
    String name = b.node().name();
    String key = key("ref/" + name);
    UninitializedVariable unset = new UninitializedVariable(name);
    Value initial = b.hasAttr(INITIAL_VALUE) ? b.tensorAttr(INITIAL_VALUE) : null;
    return (in, ctx) -> {
      Value v = ctx.sessionState(key, () -> Cell.holding(initial)).value();
      return new Value[] {v != null ? v : Value.handle(unset)};
    };
  }

  /** The node feeding input 0 of {@code b}: an Assign's variable. */
  private static String refSource(BindContext b) {
    String in = b.node().dataInputs().get(0);
    int colon = in.indexOf(':');
    return colon < 0 ? in : in.substring(0, colon);
  }

  private static Kernel update(BindContext b, Update how, boolean resource) {
    String refName = resource ? null : refSource(b);
    String refKey = resource ? null : key("ref/" + refName);
    boolean validateShape = b.boolAttr("validate_shape", true);
    return (in, ctx) -> {
      String name = resource ? resource(in[0]).name() : refName;
      Cell cell = ctx.sessionState(resource ? resource(in[0]).key() : refKey, Cell::new);
      Value delta = in[1];
      Value result;
      synchronized (cell) {
        Value old = cell.value;
        if (how == Update.SET) {
          if (resource && delta.dtype() != resource(in[0]).dtype()) {
            throw new KernelException(
                "variable '"
                    + name
                    + "' holds "
                    + resource(in[0]).dtype().jsName()
                    + ", assigned "
                    + delta);
          }
          if (!resource
              && validateShape
              && old != null
              && !Arrays.equals(old.shape(), delta.shape())) {
            throw new KernelException(
                "variable '"
                    + name
                    + "' has shape "
                    + Layout.shape(old.shape())
                    + ", assigned a value of shape "
                    + Layout.shape(delta.shape()));
          }
          result = delta;
        } else {
          if (old == null) {
            throw new KernelException("variable '" + name + "' is updated before it is assigned");
          }
          if (old.dtype() != delta.dtype() || !Arrays.equals(old.shape(), delta.shape())) {
            throw new KernelException(
                "variable '" + name + "' is " + old + ", the update is " + delta);
          }
          result = combine(old, delta, how == Update.ADD ? 1 : -1, name);
        }
        cell.value = result;
      }
      return resource ? new Value[0] : new Value[] {result};
    };
  }

  private static Value combine(Value a, Value b, int sign, String name) {
    int n = a.size();
    Object out =
        switch (a.dtype()) {
          case FLOAT32 -> {
            float[] x = a.floats();
            float[] y = b.floats();
            float[] o = new float[n];
            for (int i = 0; i < n; i++) {
              o[i] = sign > 0 ? x[i] + y[i] : x[i] - y[i];
            }
            yield o;
          }
          case FLOAT64 -> {
            double[] x = a.doubles();
            double[] y = b.doubles();
            double[] o = new double[n];
            for (int i = 0; i < n; i++) {
              o[i] = sign > 0 ? x[i] + y[i] : x[i] - y[i];
            }
            yield o;
          }
          case INT32 -> {
            int[] x = a.ints();
            int[] y = b.ints();
            int[] o = new int[n];
            for (int i = 0; i < n; i++) {
              o[i] = sign > 0 ? x[i] + y[i] : x[i] - y[i];
            }
            yield o;
          }
          case INT64 -> {
            long[] x = a.longs();
            long[] y = b.longs();
            long[] o = new long[n];
            for (int i = 0; i < n; i++) {
              o[i] = sign > 0 ? x[i] + y[i] : x[i] - y[i];
            }
            yield o;
          }
          default ->
              throw new KernelException(
                  "variable '"
                      + name
                      + "' of "
                      + a.dtype().jsName()
                      + " cannot be added to; tfport updates float32, float64, int32 and int64 variables");
        };
    return Value.of(a.dtype(), a.shape(), out);
  }
}
