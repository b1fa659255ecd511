package org.tfport.convert.tflite;

import static org.tfport.convert.tflite.Lowering.MOVABLE;
import static org.tfport.convert.tflite.Lowering.ref;
import static org.tfport.convert.tflite.NodeAttrs.boolAttr;
import static org.tfport.formats.tflite.TfliteBuiltin.*;
import static org.tfport.formats.tflite.TfliteOptionsType.*;

import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Node;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteType;

/**
 * The lowering of reductions (MEAN, SUM, REDUCE_MAX/MIN/PROD) and searches over a tensor's values:
 * arg max/min, top-k, cumulative sum, where, and Size of a tensor whose dimensions are known only
 * at run time.
 */
final class LowerReductions {
  private final Lowering core;
  private final ModelBuilder.Sub sub;

  LowerReductions(Lowering core) {
    this.core = core;
    this.sub = core.sub;
  }

  boolean reduce(Node n, TfliteBuiltin op) {
    Integer axes = core.int32(n, n.input(1), 1);
    if (axes == null) {
      return false;
    }
    core.simple(n, op, REDUCER_OPTIONS, List.of(core.in(n, 0), axes))
        .opt("keep_dims", boolAttr(n, "keep_dims"));
    return true;
  }

  boolean argMax(Node n) {
    Integer axis = core.int32(n, n.input(1), 1);
    if (axis == null) {
      return false;
    }
    core.simple(n, ARG_MAX, ARG_MAX_OPTIONS, List.of(core.in(n, 0), axis))
        .opt("output_type", core.dtypeOf(ref(n.name(), 0)) == DType.INT64.tfEnum() ? 4 : 2);
    return true;
  }

  /** {@code ArgMin} to ARG_MIN {output_type}; both return the first of equal minima. */
  boolean argMin(Node n) {
    Integer axis = core.int32(n, n.input(1), 1);
    int out = core.dtypeOf(ref(n.name(), 0));
    if (axis == null || out != DType.INT32.tfEnum() && out != DType.INT64.tfEnum()) {
      return false;
    }
    core.simple(n, ARG_MIN, ARG_MIN_OPTIONS, List.of(core.in(n, 0), axis))
        .opt("output_type", out == DType.INT64.tfEnum() ? 4 : 2);
    return true;
  }

  /**
   * {@code TopKV2} to TOPK_V2 (values, int32 indices; ties to the lower index in both). TFLite
   * always sorts, so {@code sorted=false}, whose order TF leaves to its kernel, is not lowered.
   */
  boolean topK(Node n) {
    if (n.attr("sorted") instanceof AttrValue.Bool b && !b.value()
        || n.attr("index_type") instanceof AttrValue.Type t && t.value() != DType.INT32.tfEnum()
        || !MOVABLE.contains(core.dtypeOf(n.input(0)))
        || core.dtypeOf(n.input(0)) == DType.INT16.tfEnum()) {
      return false;
    }
    Integer k = core.int32(n, n.input(1), 1);
    if (k == null) {
      return false;
    }
    // dtypeOf reads T for every output; the indices are int32.
    core.dtypes.put(ref(n.name(), 1), DType.INT32.tfEnum());
    ModelBuilder.Op o =
        sub.op(
            TOPK_V2,
            TOPK_V2_OPTIONS,
            List.of(core.in(n, 0), k),
            List.of(core.output(n, 0), core.output(n, 1)));
    o.tfName = n.name();
    return true;
  }

  /** {@code Cumsum(x, axis)} to CUMSUM {exclusive, reverse} (float32, int32 and int64 kernels). */
  boolean cumsum(Node n) {
    int dt = core.dtypeOf(ref(n.name(), 0));
    Integer axis = core.int32(n, n.input(1), 1);
    if (axis == null
        || dt != DType.FLOAT32.tfEnum()
            && dt != DType.INT32.tfEnum()
            && dt != DType.INT64.tfEnum()) {
      return false;
    }
    core.simple(n, CUMSUM, CUMSUM_OPTIONS, List.of(core.in(n, 0), axis))
        .opt("exclusive", boolAttr(n, "exclusive"))
        .opt("reverse", boolAttr(n, "reverse"));
    return true;
  }

  /**
   * One-input {@code Where}: WHERE, the int64 coordinates of the non-zero (true) elements in
   * row-major order.
   */
  boolean where(Node n) {
    int dt = core.dtypeOf(n.input(0));
    if (n.dataInputs().size() != 1
        || dt != DType.BOOL.tfEnum() && (!MOVABLE.contains(dt) || dt == DType.INT16.tfEnum())) {
      return false;
    }
    core.dtypes.put(ref(n.name(), 0), DType.INT64.tfEnum());
    core.simple(n, WHERE, NONE, List.of(core.in(n, 0)));
    return true;
  }

  /**
   * {@code Size} of a tensor whose dimensions are known only at run time: REDUCE_PROD of its SHAPE.
   */
  boolean size(Node n) {
    int out = core.dtypeOf(ref(n.name(), 0));
    if (out != DType.INT32.tfEnum() && out != DType.INT64.tfEnum()) {
      return false;
    }
    int x = core.in(n, 0);
    ModelBuilder.T xt = sub.t(x);
    TfliteType type = out == DType.INT64.tfEnum() ? TfliteType.INT64 : TfliteType.INT32;
    int dims =
        sub.add(
            new ModelBuilder.T(
                n.name() + "/shape",
                type,
                new int[] {xt.hasRank ? xt.shape.length : 1},
                xt.hasRank ? null : new int[] {-1}));
    sub.op(SHAPE, SHAPE_OPTIONS, List.of(x), List.of(dims))
            .opt("out_type", out == DType.INT64.tfEnum() ? 4 : 2)
            .tfName =
        n.name();
    core.simple(
            n, REDUCE_PROD, REDUCER_OPTIONS, List.of(dims, sub.constInts(n.name() + "/axis", 0)))
        .opt("keep_dims", false);
    return true;
  }
}
