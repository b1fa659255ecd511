package org.tfport.graph.stablehlo;

import java.util.Arrays;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.formats.stablehlo.Attrs;
import org.tfport.formats.stablehlo.Op;
import org.tfport.graph.stablehlo.Lowerer.Refusal;
import org.tfport.graph.stablehlo.Lowerer.V;

/**
 * The dynamic-shape ops of a program exported with symbolic dimensions whose shape operands do not
 * fold ({@link ShapeRefinement}): they become TensorFlow's ops that take their shape as a tensor,
 * so that one graph serves every size of the {@code ?} dimensions. The shape operands are computed
 * in the graph ({@code get_dimension_size} as {@code Shape} + {@code StridedSlice}, the integer
 * arithmetic as ops on int tensors) and cast to int32, the index type TF.js and TFLite read.
 */
final class DynamicShapes {
  private DynamicShapes() {}

  static V lower(Lowerer l, Op op, List<V> ins) {
    V out = l.resultLike(op, 0);
    return switch (op.name()) {
      case "stablehlo.dynamic_broadcast_in_dim" ->
          broadcastInDim(
              l,
              ins.get(0),
              shape(l, ins.get(1), out),
              Attrs.longs(op.attr("broadcast_dimensions")),
              out);
      case "stablehlo.dynamic_reshape" -> {
        V shape = shape(l, ins.get(1), out);
        yield l.op(
            "Reshape",
            out.dtype(),
            out.shape(),
            List.of(ins.get(0), shape),
            "Tshape",
            Lowerer.type(DType.INT32));
      }
      case "stablehlo.dynamic_iota" ->
          iota(
              l,
              shape(l, ins.get(0), out),
              (int) Attrs.intValue(op.attr("iota_dimension"), 0),
              out);
      case "stablehlo.real_dynamic_slice" -> slice(l, ins, out);
      default -> throw new Refusal("no lowering");
    };
  }

  /** A 1-D shape operand of as many elements as {@code out} has dimensions, as int32. */
  private static V shape(Lowerer l, V s, V out) {
    if (s.rank() != 1 || s.dim(0) != out.rank()) {
      throw new Refusal(
          "its shape operand of shape "
              + Arrays.toString(s.shape())
              + " does not give the "
              + out.rank()
              + " dimensions of its result");
    }
    if (s.dtype() != DType.INT32 && s.dtype() != DType.INT64) {
      throw new Refusal("a shape operand of " + s.dtype().jsName() + ", not an integer");
    }
    return l.cast(s, DType.INT32);
  }

  private static V broadcastInDim(Lowerer l, V x, V shape, long[] dims, V out) {
    if (dims.length != x.rank()) {
      throw new Refusal(
          "broadcast_dimensions " + Arrays.toString(dims) + " for an operand of rank " + x.rank());
    }
    // Order the operand's axes as they appear in the result, then insert each new axis as a 1
    // (ExpandDims, which needs no static size), and broadcast to the computed shape.
    Integer[] order = new Integer[dims.length];
    for (int k = 0; k < order.length; k++) {
      order[k] = k;
    }
    Arrays.sort(order, (p, q) -> Long.compare(dims[p], dims[q]));
    int[] perm = new int[order.length];
    long[] kept = new long[order.length];
    for (int k = 0; k < perm.length; k++) {
      perm[k] = order[k];
      kept[k] = dims[order[k]];
    }
    V t = l.transpose(x, perm);
    long[] shapeSoFar = t.shape().clone();
    for (int axis = 0; axis < out.rank(); axis++) {
      if (Arrays.binarySearch(kept, axis) >= 0) {
        continue;
      }
      long[] next = new long[shapeSoFar.length + 1];
      System.arraycopy(shapeSoFar, 0, next, 0, axis);
      next[axis] = 1;
      System.arraycopy(shapeSoFar, axis, next, axis + 1, shapeSoFar.length - axis);
      t =
          l.op(
              "ExpandDims",
              t.dtype(),
              next,
              List.of(t, l.i32Scalar(axis)),
              "Tdim",
              Lowerer.type(DType.INT32));
      shapeSoFar = next;
    }
    return l.op(
        "BroadcastTo",
        out.dtype(),
        out.shape(),
        List.of(t, shape),
        "Tidx",
        Lowerer.type(DType.INT32));
  }

  /** {@code Range(0, shape[dim])} along {@code dim}, broadcast to {@code shape}. */
  private static V iota(Lowerer l, V shape, int dim, V out) {
    if (dim < 0 || dim >= out.rank()) {
      throw new Refusal("iota_dimension " + dim + " of a result of rank " + out.rank());
    }
    V n = l.shapeElement(shape, dim);
    V range =
        l.op(
            "Range",
            DType.INT32,
            new long[] {out.dim(dim)},
            List.of(l.i32Scalar(0), n, l.i32Scalar(1)),
            "Tidx",
            Lowerer.type(DType.INT32));
    V values = l.cast(range, out.dtype());
    long[] along = new long[out.rank()];
    Arrays.fill(along, 1);
    along[dim] = -1;
    long[] alongShape = along.clone();
    alongShape[dim] = out.dim(dim);
    V r =
        l.op(
            "Reshape",
            out.dtype(),
            alongShape,
            List.of(values, l.i32(along)),
            "Tshape",
            Lowerer.type(DType.INT32));
    return l.op(
        "BroadcastTo",
        out.dtype(),
        out.shape(),
        List.of(r, shape),
        "Tidx",
        Lowerer.type(DType.INT32));
  }

  /** StableHLO's slice with computed bounds: TensorFlow's StridedSlice takes them as tensors. */
  private static V slice(Lowerer l, List<V> ins, V out) {
    V x = ins.get(0);
    V begin = shape(l, ins.get(1), out);
    V end = shape(l, ins.get(2), out);
    V strides = shape(l, ins.get(3), out);
    return l.op(
        "StridedSlice",
        out.dtype(),
        out.shape(),
        List.of(x, begin, end, strides),
        "Index",
        Lowerer.type(DType.INT32),
        "begin_mask",
        Lowerer.i(0),
        "end_mask",
        Lowerer.i(0),
        "ellipsis_mask",
        Lowerer.i(0),
        "new_axis_mask",
        Lowerer.i(0),
        "shrink_axis_mask",
        Lowerer.i(0));
  }
}
