package org.tfport.graph.optimize;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphPass;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * Replaces nodes whose inputs are all constants by their value, where the installed {@link
 * ConstantEvaluator} (the runtime's reference kernels) reproduces TensorFlow's result exactly, and
 * {@code Shape}, {@code Size} and {@code Rank} of tensors whose shape is known statically. A folded
 * node keeps its name and its control inputs (and those of the constants it read), so readers and
 * graph outputs are unchanged.
 *
 * <p>Folding must not make the weights balloon: an output of more than {@code maxElements} elements
 * is never made, and one over {@value #SMALL_BYTES} bytes only when it is no larger than the
 * constants it leaves unused (a {@code Fill} of a large shape from two scalars stays a {@code
 * Fill}).
 */
public final class ConstantFolding implements GraphPass {
  public static final long DEFAULT_MAX_ELEMENTS = 1 << 20;

  /** Outputs up to this size are always folded: index and shape arithmetic. */
  public static final int SMALL_BYTES = 4096;

  private static final Set<String> SHAPE_OPS = Set.of("Shape", "Size", "Rank");

  private final long maxElements;
  private final ConstantEvaluator evaluator;
  private int folded;

  public ConstantFolding() {
    this(DEFAULT_MAX_ELEMENTS);
  }

  public ConstantFolding(long maxElements) {
    this(maxElements, ConstantEvaluator.installed());
  }

  public ConstantFolding(long maxElements, ConstantEvaluator evaluator) {
    this.maxElements = maxElements;
    this.evaluator = evaluator;
  }

  @Override
  public String name() {
    return "constant-folding";
  }

  /** How many nodes this pass has folded so far. */
  public int folded() {
    return folded;
  }

  @Override
  public boolean apply(Graph g) {
    ShapeInference shapes = null;
    Map<String, Integer> readers = new HashMap<>();
    g.consumers().forEach((k, v) -> readers.put(k, v.size()));
    Set<String> iface = new LinkedHashSet<>(g.outputNodes());
    iface.addAll(g.inputs());
    boolean changed = false;
    for (Node n : g.topologicalOrder()) {
      if (n.op().equals("Const")
          || g.inputs().contains(n.name())
          || n.dataInputs().isEmpty()
          || !GraphEdits.isPure(g, n)
          || !evaluator.ops().contains(n.op()) && !SHAPE_OPS.contains(n.op())) {
        continue;
      }
      List<Tensor> values = new ArrayList<>();
      for (String in : n.dataInputs()) {
        Tensor t = Consts.value(g, in);
        if (t == null) {
          values = null;
          break;
        }
        values.add(t);
      }
      Tensor out;
      if (values != null && evaluator.ops().contains(n.op())) {
        out = evaluator.evaluate(n, values);
      } else if (SHAPE_OPS.contains(n.op())) {
        if (shapes == null) {
          shapes = ShapeInference.of(g, evaluator);
        }
        out = fromShape(n, shapes.dims(n.input(0)));
      } else {
        continue;
      }
      if (out == null || out.size() > maxElements || out.dtype() == DType.STRING) {
        continue;
      }
      Set<String> sources = new LinkedHashSet<>();
      n.dataInputs().forEach(i -> sources.add(TensorRef.nodeOf(i)));
      if (out.byteLength() > SMALL_BYTES && values != null) {
        long freed = 0;
        for (String s : sources) {
          if (readers.getOrDefault(s, 0) == 1 && !iface.contains(s)) {
            freed += Consts.value(g.node(s)).byteLength();
          }
        }
        if (out.byteLength() > freed) {
          continue;
        }
      }
      List<String> control = new ArrayList<>(n.controlInputs());
      for (String s : sources) {
        readers.merge(s, -1, Integer::sum);
        if (values != null) {
          control.addAll(g.node(s).controlInputs());
        }
      }
      Consts.become(n, out);
      List<String> ins = new ArrayList<>(control);
      n.setInputs(ins);
      folded++;
      changed = true;
    }
    return changed;
  }

  /** {@code Shape}, {@code Size} or {@code Rank} of a tensor of statically known dimensions. */
  private static Tensor fromShape(Node n, long[] dims) {
    if (dims == null) {
      return null;
    }
    if (n.op().equals("Rank")) {
      return Tensors.of(new long[0], new int[] {dims.length});
    }
    if (!ShapeInference.known(dims)) {
      return null;
    }
    int outType = n.attr("out_type") instanceof AttrValue.Type t ? t.value() : DType.INT32.tfEnum();
    if (n.op().equals("Size")) {
      long size = 1;
      for (long d : dims) {
        size = Math.multiplyExact(size, d);
      }
      return outType == DType.INT64.tfEnum()
          ? Tensors.of(new long[0], new long[] {size})
          : size > Integer.MAX_VALUE ? null : Tensors.of(new long[0], new int[] {(int) size});
    }
    if (outType == DType.INT64.tfEnum()) {
      return Tensors.of(new long[] {dims.length}, dims);
    }
    int[] v = new int[dims.length];
    for (int i = 0; i < v.length; i++) {
      if (dims[i] > Integer.MAX_VALUE) {
        return null;
      }
      v[i] = (int) dims[i];
    }
    return Tensors.of(new long[] {dims.length}, v);
  }
}
