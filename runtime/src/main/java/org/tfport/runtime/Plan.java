package org.tfport.runtime;

import java.util.List;
import java.util.Set;
import org.tfport.core.TfportException;
import org.tfport.core.graph.TensorRef;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Memory;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;

/**
 * A compiled graph: the nodes the outputs need in a runnable order, each bound to its kernel once,
 * and every tensor given a slot of a per-run array. Immutable, so one plan serves any number of
 * runs on any threads; a run's state is its own slot array, and a slot is cleared after its last
 * reader ran so a run holds only live values.
 */
final class Plan {
  /**
   * One node's run.
   *
   * @param inputs the slot of each data input
   * @param outputBase the slot of output 0; output k is in {@code outputBase + k}
   * @param outputCount how many outputs are kept (the highest one read, plus one)
   * @param dying slots whose last reader is this step (or that nobody reads), cleared after it
   */
  record Step(
      String node,
      String op,
      Kernel kernel,
      int[] inputs,
      int outputBase,
      int outputCount,
      int[] dying) {}

  /** Sees the slot array after each step (tests check liveness with it). */
  interface Probe {
    void afterStep(Step step, Value[] slots);
  }

  private final String where;
  private final Value[] constants;
  private final List<String> inputNames;
  private final int[] inputSlots;
  private final Step[] steps;
  private final List<String> outputNames;
  private final int[] outputSlots;
  private final boolean recycles;

  /**
   * Ops whose kernels keep nothing of their inputs once they return (no variables, tensor arrays or
   * lists, tables, functions, loops): in a plan of only these, a value whose slot dies and whose
   * array no other slot holds is garbage, so its buffer can go back to the session's arena.
   */
  private static final Set<String> NON_RETAINING =
      Set.of(
          "Conv2D",
          "_FusedConv2D",
          "DepthwiseConv2dNative",
          "FusedDepthwiseConv2dNative",
          "MatMul",
          "_FusedMatMul",
          "BatchMatMul",
          "BatchMatMulV2",
          "BatchMatMulV3",
          "BiasAdd",
          "Add",
          "AddV2",
          "Sub",
          "Mul",
          "RealDiv",
          "Maximum",
          "Minimum",
          "Relu",
          "Relu6",
          "Elu",
          "Selu",
          "LeakyRelu",
          "Prelu",
          "Sigmoid",
          "Tanh",
          "Softmax",
          "MaxPool",
          "AvgPool",
          "Mean",
          "Max",
          "Sum",
          "Pad",
          "PadV2",
          "MirrorPad",
          "ConcatV2",
          "Reshape",
          "Squeeze",
          "ExpandDims",
          "Identity",
          "Shape",
          "StridedSlice",
          "Slice",
          "Pack",
          "Transpose",
          "ResizeBilinear",
          "ResizeNearestNeighbor",
          "FusedBatchNorm",
          "FusedBatchNormV3",
          "Rsqrt",
          "Sqrt",
          "Square",
          "Cast",
          // TFLite's 8-bit kernels: their outputs are new codes, nothing of the inputs is kept.
          "TfliteQuantizedConv2D",
          "TfliteQuantizedDepthwiseConv2D",
          "TfliteQuantizedFullyConnected",
          "TfliteQuantizedAdd",
          "TfliteQuantizedSub",
          "TfliteQuantizedAvgPool",
          "TfliteQuantizedMaxPool",
          "TfliteQuantizedSoftmax");

  /**
   * @param where prefix for errors, {@code ""} for a model graph or {@code "in function 'f': "}
   * @param constants the slot array a run starts from: constants at their slots, null elsewhere
   * @param inputSlots per input, its slot, or -1 when nothing reads it
   */
  Plan(
      String where,
      Value[] constants,
      List<String> inputNames,
      int[] inputSlots,
      List<Step> steps,
      List<String> outputNames,
      int[] outputSlots) {
    this.where = where;
    this.constants = constants.clone();
    this.inputNames = List.copyOf(inputNames);
    this.inputSlots = inputSlots.clone();
    this.steps = steps.toArray(new Step[0]);
    this.outputNames = List.copyOf(outputNames);
    this.outputSlots = outputSlots.clone();
    boolean all = true;
    for (Step st : this.steps) {
      all &= NON_RETAINING.contains(st.op);
    }
    this.recycles = all;
  }

  /**
   * Whether a run may give dead values' buffers back to an arena: every op is one that keeps
   * nothing of its inputs.
   */
  boolean recycles() {
    return recycles;
  }

  List<String> inputNames() {
    return inputNames;
  }

  List<String> outputNames() {
    return outputNames;
  }

  List<Step> steps() {
    return List.of(steps);
  }

  int slotCount() {
    return constants.length;
  }

  /** The outputs, in output order, for inputs in input order. */
  Value[] run(Value[] inputs, RunContext context) {
    return run(inputs, context, null);
  }

  Value[] run(Value[] inputs, RunContext context, Probe probe) {
    return run(inputs, context, probe, null);
  }

  /**
   * Runs as {@link #run(Value[], RunContext, Probe)}; when {@link #recycles()}, gives the buffers
   * of values that die to {@code arena} (may be null), which the kernels took them from.
   */
  Value[] run(Value[] inputs, RunContext context, Probe probe, BufferArena arena) {
    BufferArena recycle = recycles ? arena : null;
    if (inputs.length != inputSlots.length) {
      throw new KernelException(
          where + "called with " + inputs.length + " inputs, but takes " + inputSlots.length);
    }
    Value[] slots = constants.clone();
    for (int i = 0; i < inputs.length; i++) {
      if (inputSlots[i] >= 0) {
        slots[inputSlots[i]] = inputs[i];
      }
    }
    ObservedContext observed = context instanceof ObservedContext o ? o : null;
    if (observed != null) {
      for (int i = 0; i < inputs.length; i++) {
        observed.observer.computed(
            observed.callPath, TensorRef.nodeOf(inputNames.get(i)), 0, inputs[i]);
      }
    }
    for (Step step : steps) {
      int[] in = step.inputs;
      Value[] args = new Value[in.length];
      for (int j = 0; j < in.length; j++) {
        args[j] = slots[in[j]];
      }
      Value[] out = call(step, args, context);
      if (out.length < step.outputCount) {
        throw new KernelException(
            where
                + "node '"
                + step.node
                + "' ("
                + step.op
                + ") computed "
                + out.length
                + " outputs, but its output "
                + (step.outputCount - 1)
                + " is read");
      }
      if (observed != null) {
        for (int k = 0; k < out.length; k++) {
          observed.observer.computed(observed.callPath, step.node, k, out[k]);
        }
      }
      System.arraycopy(out, 0, slots, step.outputBase, step.outputCount);
      for (int d : step.dying) {
        Value dead = slots[d];
        slots[d] = null;
        if (recycle != null) {
          recycle.release(dead, slots);
        }
      }
      if (probe != null) {
        probe.afterStep(step, slots);
      }
    }
    Value[] result = new Value[outputSlots.length];
    for (int i = 0; i < result.length; i++) {
      result[i] = slots[outputSlots[i]];
      if (arena != null) {
        arena.escape(result[i]);
      }
    }
    return result;
  }

  private Value[] call(Step step, Value[] args, RunContext context) {
    try {
      return step.kernel.run(args, context);
    } catch (KernelException e) {
      throw new KernelException(
          where + "node '" + step.node + "' (" + step.op + "): " + e.getMessage(), e);
    } catch (TfportException e) {
      throw e;
    } catch (OutOfMemoryError e) {
      // A size no shape check foresaw: the run's values die with it, so the JVM recovers; say how
      // much the step started from and how much there is.
      long held = 0;
      for (Value v : args) {
        long b = v == null || v.isHandle() ? 0 : Memory.bytes(v.dtype(), v.shape());
        held = b < 0 || held + b < 0 ? Long.MAX_VALUE : held + b;
      }
      throw new KernelException(
          where
              + "node '"
              + step.node
              + "' ("
              + step.op
              + ") needs more memory than the JVM has: its inputs hold "
              + Memory.human(held)
              + " and the heap is at most "
              + Memory.human(Memory.heapLimit())
              + "; "
              + Memory.REMEDY);
    } catch (RuntimeException e) {
      // A kernel bug or an unchecked case: still say where it happened.
      throw new KernelException(
          where + "node '" + step.node + "' (" + step.op + ") failed: " + e, e);
    }
  }
}
