package org.tfport.graph.optimize;

import java.util.ArrayList;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.Permutation;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphPass;
import org.tfport.core.graph.Node;

/**
 * Identities that hold for every value of the other operand:
 *
 * <ul>
 *   <li>{@code x * 1}, {@code 1 * x}, {@code x / 1}, {@code x + 0}, {@code 0 + x}, {@code x - 0}
 *       and {@code BiasAdd(x, 0)} are {@code x}, when the constant's shape broadcasts into {@code
 *       x}'s without changing it (adding a {@code [3]} zero to a {@code [2, 1]} tensor makes a
 *       {@code [2, 3]} one);
 *   <li>a transpose of a transpose is one transpose with the composed permutation, or nothing when
 *       that is the identity, and so is a transpose by the identity permutation;
 *   <li>a reshape of a reshape reshapes the original tensor, and a reshape to the shape the tensor
 *       already has is nothing;
 *   <li>a cast to the type a tensor already has is nothing;
 *   <li>a reshape of {@code x} to {@code [shape(x)[0], c...]} (Keras' {@code Flatten}, and {@code
 *       tf.reshape(x, [tf.shape(x)[0], -1])}) is a reshape to the constant {@code [-1, c...]} when
 *       {@code x}'s other dimensions are known: the batch is what is left over either way, and a
 *       constant target is what TFLite's delegates need to plan static tensors.
 * </ul>
 *
 * A node that goes is bypassed; one that is a graph output becomes an {@code Identity} so its name
 * stays.
 */
public final class ArithmeticSimplification implements GraphPass {
  private int simplified;

  @Override
  public String name() {
    return "arithmetic";
  }

  public int simplified() {
    return simplified;
  }

  @Override
  public boolean apply(Graph g) {
    ShapeInference shapes = ShapeInference.of(g);
    Readers readers = Readers.of(g);
    boolean changed = false;
    for (Node n : g.topologicalOrder()) {
      if (g.node(n.name()) != n) {
        continue;
      }
      String same =
          switch (n.op()) {
            case "Mul" -> neutral(g, shapes, n, 1, true);
            case "Add", "AddV2" -> neutral(g, shapes, n, 0, true);
            case "Sub", "BiasAdd" -> neutral(g, shapes, n, 0, false);
            case "RealDiv", "Div" -> neutral(g, shapes, n, 1, false);
            case "Cast" ->
                n.attr("SrcT") != null
                        && CommonSubexpressionElimination.same(n.attr("SrcT"), n.attr("DstT"))
                        && !(n.attr("Truncate") instanceof AttrValue.Bool t && t.value())
                    ? n.input(0)
                    : null;
            case "Transpose" -> {
              long[] perm = constInts(g, n.input(1));
              if (perm != null && Permutation.isIdentity(perm)) {
                yield n.input(0);
              }
              yield null;
            }
            case "Reshape" -> reshapeIdentity(g, shapes, n);
            default -> null;
          };
      if (same != null) {
        bypass(g, n, same, readers);
        simplified++;
        changed = true;
        continue;
      }
      if (n.op().equals("Transpose") || n.op().equals("Reshape")) {
        changed |= collapse(g, readers, n);
      }
      if (n.op().equals("Reshape") && constantBatchTarget(g, shapes, readers, n)) {
        simplified++;
        changed = true;
      }
    }
    return changed;
  }

  /** Replaces {@code n} by {@code x} for its readers. */
  static void bypass(Graph g, Node n, String x) {
    bypass(g, n, x, null);
  }

  private static void bypass(Graph g, Node n, String x, Readers readers) {
    if (g.outputNodes().contains(n.name())) {
      AttrValue t = n.attr("T") != null ? n.attr("T") : n.attr("DstT");
      n.op("Identity");
      List<String> ins = new ArrayList<>();
      ins.add(x);
      ins.addAll(n.controlInputs());
      n.attrs().clear();
      if (t != null) {
        n.attr("T", t);
      }
      if (readers != null) {
        readers.unread(n);
      }
      n.setInputs(ins);
      if (readers != null) {
        readers.read(n);
      }
    } else {
      GraphEdits.forward(g, n, x, readers);
    }
  }

  /**
   * For {@code x op c} with {@code c} a constant equal to {@code value} everywhere, {@code x} (also
   * for {@code c op x} when {@code commutes}), provided the result has {@code x}'s shape.
   */
  private static String neutral(
      Graph g, ShapeInference shapes, Node n, int value, boolean commutes) {
    if (n.dataInputs().size() != 2) {
      return null;
    }
    for (int side = 1; side >= (commutes ? 0 : 1); side--) {
      Tensor c = Consts.value(g, n.input(side));
      String x = n.input(1 - side);
      if (c != null && allEqual(c, value) && keepsShape(shapes.dims(x), c.shape().dims())) {
        return x;
      }
    }
    return null;
  }

  private static boolean allEqual(Tensor c, int value) {
    if (c.size() > ConstantFolding.DEFAULT_MAX_ELEMENTS) {
      return false;
    }
    float[] v;
    switch (c.dtype()) {
      case FLOAT32, FLOAT64, INT32, INT64, INT16, INT8, UINT8, UINT16 -> v = c.toFloatArray();
      default -> {
        return false;
      }
    }
    if (c.dtype() == DType.INT64) {
      for (long x : Tensors.int64s(c)) {
        if (x != value) {
          return false;
        }
      }
      return true;
    }
    for (float x : v) {
      if (x != value) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether broadcasting a {@code c}-shaped tensor against an {@code x}-shaped one gives {@code
   * x}'s shape.
   */
  static boolean keepsShape(long[] x, long[] c) {
    if (x == null || c.length > x.length) {
      return false;
    }
    for (int i = 0; i < c.length; i++) {
      long xd = x[x.length - c.length + i];
      if (c[i] != 1 && c[i] != xd) {
        return false;
      }
    }
    return true;
  }

  static long[] constInts(Graph g, String ref) {
    Tensor t = Consts.value(g, ref);
    if (t == null || t.dtype() != DType.INT32 && t.dtype() != DType.INT64) {
      return null;
    }
    return Tensors.ints(t);
  }

  /**
   * {@code Reshape(x, s)} where the result provably has {@code x}'s shape: {@code x}; else null.
   */
  private static String reshapeIdentity(Graph g, ShapeInference shapes, Node n) {
    long[] x = shapes.dims(n.input(0));
    long[] target = constInts(g, n.input(1));
    if (x == null || target == null || x.length != target.length) {
      return null;
    }
    int unknownAt = -1;
    for (int i = 0; i < x.length; i++) {
      if (x[i] < 0) {
        if (unknownAt >= 0) {
          return null;
        }
        unknownAt = i;
      }
    }
    for (int i = 0; i < x.length; i++) {
      if (i == unknownAt) {
        // The one unknown dimension is recovered from the element count only if the target leaves
        // it open.
        if (target[i] != -1) {
          return null;
        }
      } else if (target[i] != x[i] && !(target[i] == -1 && unknownAt < 0)) {
        return null;
      }
    }
    return n.input(0);
  }

  /** {@code Transpose(Transpose(x))} and {@code Reshape(Reshape(x))} read {@code x} directly. */
  private static boolean collapse(Graph g, Readers readers, Node n) {
    Node inner = GraphEdits.producer(g, n.input(0));
    if (inner == null
        || !inner.op().equals(n.op())
        || inner.dataInputs().size() != 2
        || !n.input(0).equals(inner.name()) && !n.input(0).equals(inner.name() + ":0")) {
      return false;
    }
    if (n.op().equals("Reshape")) {
      List<String> ins = new ArrayList<>(n.inputs());
      ins.set(0, inner.input(0));
      ins.addAll(inner.controlInputs());
      rewire(readers, n, ins);
      return true;
    }
    long[] p1 = constInts(g, inner.input(1));
    long[] p2 = constInts(g, n.input(1));
    long[] composed = p1 == null || p2 == null ? null : Permutation.compose(p1, p2);
    if (composed == null) {
      return false;
    }
    boolean identity = Permutation.isIdentity(composed);
    // Without the inner transpose dying, composing would only trade one transpose for another.
    if (!identity && !GraphEdits.soleReader(g, readers, inner, n)) {
      return false;
    }
    List<String> ins = new ArrayList<>();
    ins.add(inner.input(0));
    if (identity) {
      ins.add(n.input(1));
    } else {
      int[] v = new int[composed.length];
      for (int i = 0; i < v.length; i++) {
        v[i] = (int) composed[i];
      }
      Tensor perm = Tensor.ofInts(Shape.of(v.length), v);
      ins.add(Consts.add(g, n.name() + "/perm", perm));
      n.attr("Tperm", new AttrValue.Type(DType.INT32.tfEnum()));
    }
    ins.addAll(n.controlInputs());
    ins.addAll(inner.controlInputs());
    rewire(readers, n, ins);
    if (identity) {
      bypass(g, n, inner.input(0), readers);
    }
    return true;
  }

  /**
   * {@code Reshape(x, Pack(StridedSlice(Shape(x), [0], [1], [1], shrink 1), c1, ..., ck))} with x's
   * dimensions after the first known: the target becomes the constant {@code [-1, c1, ..., ck]}, a
   * {@code -1} among the {@code ci} resolved from those dimensions. Equal for every batch size: the
   * -1 is the element count over the other dims' product, which is x's first dim.
   */
  private static boolean constantBatchTarget(
      Graph g, ShapeInference shapes, Readers readers, Node n) {
    Node pack = GraphEdits.producer(g, n.input(1));
    long[] x = shapes.dims(n.input(0));
    if (n.dataInputs().size() != 2
        || pack == null
        || !pack.op().equals("Pack")
        || !(pack.attr("axis") instanceof AttrValue.Int axis && axis.value() == 0)
        || pack.dataInputs().size() < 2
        || x == null
        || x.length < 1
        || !isFirstDimOf(g, pack.input(0), n.input(0))) {
      return false;
    }
    long rest = 1;
    for (int i = 1; i < x.length; i++) {
      if (x[i] <= 0) {
        return false;
      }
      rest = Math.multiplyExact(rest, x[i]);
    }
    int k = pack.dataInputs().size();
    long[] target = new long[k];
    target[0] = -1;
    int open = -1;
    long product = 1;
    for (int i = 1; i < k; i++) {
      long[] c = constInts(g, pack.input(i));
      if (c == null || c.length != 1 || c[0] == 0 || c[0] < -1 || c[0] == -1 && open >= 0) {
        return false;
      }
      target[i] = c[0];
      if (c[0] == -1) {
        open = i;
      } else {
        product = Math.multiplyExact(product, c[0]);
      }
    }
    if (open >= 0) {
      if (rest % product != 0) {
        return false;
      }
      target[open] = rest / product;
    } else if (product != rest) {
      return false;
    }
    boolean int64 = pack.attr("T") instanceof AttrValue.Type t && t.value() == DType.INT64.tfEnum();
    int[] narrow = new int[k];
    for (int i = 0; i < k; i++) {
      if (target[i] > Integer.MAX_VALUE) {
        return false;
      }
      narrow[i] = (int) target[i];
    }
    Tensor shape = int64 ? Tensors.of(new long[] {k}, target) : Tensors.of(new long[] {k}, narrow);
    List<String> ins = new ArrayList<>(n.inputs());
    ins.set(1, Consts.add(g, n.name() + "/shape", shape));
    ins.addAll(pack.controlInputs());
    rewire(readers, n, ins);
    return true;
  }

  /** Whether {@code ref} is {@code StridedSlice(Shape(x), [0], [1], [1])} shrunk to a scalar. */
  private static boolean isFirstDimOf(Graph g, String ref, String x) {
    Node slice = GraphEdits.producer(g, ref);
    if (slice == null
        || !slice.op().equals("StridedSlice")
        || slice.dataInputs().size() != 4
        || !(slice.attr("shrink_axis_mask") instanceof AttrValue.Int shrink
            && shrink.value() == 1)) {
      return false;
    }
    for (String mask : new String[] {"begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask"}) {
      if (slice.attr(mask) instanceof AttrValue.Int m && m.value() != 0) {
        return false;
      }
    }
    long[] begin = constInts(g, slice.input(1));
    long[] end = constInts(g, slice.input(2));
    long[] strides = constInts(g, slice.input(3));
    Node shape = GraphEdits.producer(g, slice.input(0));
    return begin != null
        && begin.length == 1
        && begin[0] == 0
        && end != null
        && end.length == 1
        && end[0] == 1
        && strides != null
        && strides.length == 1
        && strides[0] == 1
        && shape != null
        && shape.op().equals("Shape")
        && shape.dataInputs().size() == 1
        && sameTensor(shape.input(0), x);
  }

  private static boolean sameTensor(String a, String b) {
    return a.equals(b) || (a + ":0").equals(b) || a.equals(b + ":0");
  }

  /** Gives {@code n} new inputs, and the index the same. */
  private static void rewire(Readers readers, Node n, List<String> ins) {
    readers.unread(n);
    n.setInputs(ins);
    readers.read(n);
  }
}
