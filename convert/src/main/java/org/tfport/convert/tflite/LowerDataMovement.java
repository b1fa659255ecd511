package org.tfport.convert.tflite;

import static org.tfport.convert.tflite.Lowering.MOVABLE;
import static org.tfport.convert.tflite.Lowering.ref;
import static org.tfport.convert.tflite.NodeAttrs.boolAttr;
import static org.tfport.convert.tflite.NodeAttrs.intAttr;
import static org.tfport.convert.tflite.NodeAttrs.ints;
import static org.tfport.convert.tflite.NodeAttrs.longs;
import static org.tfport.formats.tflite.TfliteBuiltin.*;
import static org.tfport.formats.tflite.TfliteOptionsType.*;

import java.util.ArrayList;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Node;
import org.tfport.formats.tflite.TfliteType;

/**
 * The lowering of ops that move, select or resample values without arithmetic: reshaping,
 * squeezing, concatenating, packing and splitting, slicing and gathering, reversing, ranges,
 * broadcasting, TF1 Select, mirror padding, depth/space rearrangement, one-hot and image resizing.
 */
final class LowerDataMovement {
  private final Lowering core;
  private final ModelBuilder.Sub sub;

  LowerDataMovement(Lowering core) {
    this.core = core;
    this.sub = core.sub;
  }

  boolean reshape(Node n) {
    Tensor s = core.constant(n.input(1));
    int shape;
    if (s != null) {
      long[] v = longs(s);
      int[] iv = new int[v.length];
      for (int i = 0; i < v.length; i++) {
        iv[i] = (int) v[i];
      }
      shape = sub.constInts(n.name() + "/shape", iv);
    } else if (core.dtypeOf(n.input(1)) == DType.INT32.tfEnum()) {
      shape = core.tensor(n.input(1));
    } else {
      return false;
    }
    core.simple(n, RESHAPE, NONE, List.of(core.in(n, 0), shape));
    return true;
  }

  boolean squeeze(Node n) {
    long[] dims = ints(n, "squeeze_dims", null);
    if (dims == null) {
      dims = ints(n, "axis", new long[0]);
    }
    List<Integer> l = new ArrayList<>();
    for (long d : dims) {
      l.add((int) d);
    }
    core.simple(n, SQUEEZE, SQUEEZE_OPTIONS, List.of(core.in(n, 0))).opt("squeeze_dims", l);
    return true;
  }

  boolean concat(Node n) {
    List<String> data = n.dataInputs();
    Tensor axis = core.constant(data.get(data.size() - 1));
    if (axis == null) {
      return false;
    }
    int a = (int) longs(axis)[0];
    int rank = core.shapes.rank(ref(n.name(), 0));
    if (a < 0 && rank > 0) {
      a += rank;
    }
    List<Integer> ins = new ArrayList<>();
    for (int i = 0; i < data.size() - 1; i++) {
      ins.add(core.tensor(data.get(i)));
    }
    ModelBuilder.Op o = sub.op(CONCATENATION, CONCATENATION_OPTIONS, ins, List.of());
    o.tfName = n.name();
    o.opt("axis", a).opt("fused_activation_function", 0);
    Node end = core.isFloat(n) ? core.fuseActivation(n, o) : n;
    o.outputs.add(core.output(end, 0));
    return true;
  }

  boolean pack(Node n) {
    List<Integer> ins = new ArrayList<>();
    for (String i : n.dataInputs()) {
      ins.add(core.tensor(i));
    }
    long axis = n.attr("axis") instanceof AttrValue.Int i ? i.value() : 0;
    int rank = core.shapes.rank(ref(n.name(), 0));
    if (axis < 0 && rank > 0) {
      axis += rank;
    }
    core.simple(n, PACK, PACK_OPTIONS, ins).opt("values_count", ins.size()).opt("axis", (int) axis);
    return true;
  }

  boolean unpack(Node n) {
    int num = (int) intAttr(n, "num");
    long axis = intAttr(n, "axis");
    List<Integer> outs = new ArrayList<>();
    for (int k = 0; k < num; k++) {
      outs.add(core.output(n, k));
    }
    ModelBuilder.Op o = sub.op(UNPACK, UNPACK_OPTIONS, List.of(core.in(n, 0)), outs);
    o.tfName = n.name();
    o.opt("num", num).opt("axis", (int) axis);
    return true;
  }

  boolean split(Node n) {
    Integer axis = core.int32(n, n.input(0), 0);
    int num = (int) intAttr(n, "num_split");
    if (axis == null) {
      return false;
    }
    List<Integer> outs = new ArrayList<>();
    for (int k = 0; k < num; k++) {
      outs.add(core.output(n, k));
    }
    ModelBuilder.Op o = sub.op(SPLIT, SPLIT_OPTIONS, List.of(axis, core.in(n, 1)), outs);
    o.tfName = n.name();
    o.opt("num_splits", num);
    return true;
  }

  /**
   * {@code SplitV(value, size_splits, axis)} to SPLIT_V with the same inputs (sizes and axis as
   * int32).
   */
  boolean splitV(Node n) {
    int num = (int) intAttr(n, "num_split");
    Integer sizes = core.int32(n, n.input(1), 1);
    Integer axis = core.int32(n, n.input(2), 2);
    if (num < 1 || sizes == null || axis == null) {
      return false;
    }
    List<Integer> outs = new ArrayList<>();
    for (int k = 0; k < num; k++) {
      outs.add(core.output(n, k));
    }
    ModelBuilder.Op o = sub.op(SPLIT_V, SPLIT_V_OPTIONS, List.of(core.in(n, 0), sizes, axis), outs);
    o.tfName = n.name();
    o.opt("num_splits", num);
    return true;
  }

  boolean stridedSlice(Node n) {
    List<Integer> ins = new ArrayList<>();
    ins.add(core.in(n, 0));
    for (int i = 1; i <= 3; i++) {
      Integer t = core.int32(n, n.input(i), i);
      if (t == null) {
        return false;
      }
      ins.add(t);
    }
    core.simple(n, STRIDED_SLICE, STRIDED_SLICE_OPTIONS, ins)
        .opt("begin_mask", (int) intAttr(n, "begin_mask"))
        .opt("end_mask", (int) intAttr(n, "end_mask"))
        .opt("ellipsis_mask", (int) intAttr(n, "ellipsis_mask"))
        .opt("new_axis_mask", (int) intAttr(n, "new_axis_mask"))
        .opt("shrink_axis_mask", (int) intAttr(n, "shrink_axis_mask"));
    return true;
  }

  boolean gather(Node n) {
    Tensor axis = core.constant(n.input(2));
    if (axis == null) {
      return false;
    }
    int a = (int) longs(axis)[0];
    core.simple(n, GATHER, GATHER_OPTIONS, List.of(core.in(n, 0), core.in(n, 1)))
        .opt("axis", a)
        .opt("batch_dims", (int) intAttr(n, "batch_dims"));
    return true;
  }

  /**
   * {@code GatherNd} to GATHER_ND. Out-of-range indices are an error in both unless TF is told to
   * ignore them ({@code bad_indices_policy} IGNORE, which writes zeros): not lowered.
   */
  boolean gatherNd(Node n) {
    String policy = n.stringAttr("bad_indices_policy");
    int it = core.dtypeOf(n.input(1));
    if (policy != null && !policy.isEmpty() && !policy.equals("DEFAULT") && !policy.equals("ERROR")
        || it != DType.INT32.tfEnum() && it != DType.INT64.tfEnum()
        || !MOVABLE.contains(core.dtypeOf(n.input(0)))) {
      return false;
    }
    core.simple(n, GATHER_ND, NONE, List.of(core.in(n, 0), core.in(n, 1)));
    return true;
  }

  /**
   * {@code ScatterNd(indices, updates, shape)} to SCATTER_ND, which takes the same three inputs and
   * also sums the updates of repeated indices into zeros.
   */
  boolean scatterNd(Node n) {
    int it = core.dtypeOf(n.input(0));
    if (it != DType.INT32.tfEnum() || !MOVABLE.contains(core.dtypeOf(n.input(1)))) {
      return false;
    }
    core.simple(
        n, SCATTER_ND, SCATTER_ND_OPTIONS, List.of(core.in(n, 0), core.in(n, 1), core.in(n, 2)));
    return true;
  }

  /** {@code ReverseV2(x, axis)} as REVERSE_V2 along one constant axis. */
  boolean reverse(Node n) {
    Tensor axis = core.constant(n.input(1));
    if (axis == null || axis.size() != 1) {
      return false;
    }
    int a = (int) longs(axis)[0];
    int rank =
        sub.t(core.in(n, 0)).hasRank
            ? sub.t(core.in(n, 0)).shape.length
            : core.shapes.rank(n.input(0));
    if (a < 0) {
      if (rank < 0) {
        return false;
      }
      a += rank;
    }
    core.simple(
        n,
        REVERSE_V2,
        REVERSE_V2_OPTIONS,
        List.of(core.in(n, 0), sub.constInts(n.name() + "/axis", a)));
    return true;
  }

  /**
   * {@code Range(start, limit, delta)} as RANGE: a vector whose length is known only at run time.
   */
  boolean range(Node n) {
    int dt = core.dtypeOf(ref(n.name(), 0));
    if (dt != DType.INT32.tfEnum() && dt != DType.FLOAT32.tfEnum() && dt != DType.INT64.tfEnum()) {
      return false;
    }
    ModelBuilder.Op o =
        core.simple(n, RANGE, RANGE_OPTIONS, List.of(core.in(n, 0), core.in(n, 1), core.in(n, 2)));
    ModelBuilder.T out = sub.t(o.outputs.get(0));
    if (!out.hasRank) {
      out.shape = new int[] {1};
      out.signature = new int[] {-1};
      out.hasRank = true;
    }
    return true;
  }

  /**
   * {@code BroadcastTo(x, shape)} as BROADCAST_TO. With a shape computed at run time the result's
   * dimensions are x's where x has them (a dimension other than 1 cannot change) and unknown (-1)
   * elsewhere.
   */
  boolean broadcastTo(Node n) {
    Integer shape = core.int32(n, n.input(1), 1);
    if (shape == null && core.dtypeOf(n.input(1)) == DType.INT64.tfEnum()) {
      // TFLite's BROADCAST_TO takes an int64 shape too.
      shape = core.tensor(n.input(1));
    }
    if (shape == null) {
      return false;
    }
    int x = core.in(n, 0);
    ModelBuilder.Op o = core.simple(n, BROADCAST_TO, NONE, List.of(x, shape));
    ModelBuilder.T out = sub.t(o.outputs.get(0));
    ModelBuilder.T st = sub.t(shape);
    if (!out.hasRank
        && st.hasRank
        && st.shape.length == 1
        && (st.signature == null || st.signature[0] >= 0)) {
      int rank = st.shape[0];
      ModelBuilder.T xt = sub.t(x);
      int[] dims = new int[rank];
      int[] sig = new int[rank];
      for (int i = 0; i < rank; i++) {
        int j = i - (rank - (xt.hasRank ? xt.shape.length : 0));
        boolean known =
            xt.hasRank
                && j >= 0
                && (xt.signature == null || xt.signature[j] >= 0)
                && xt.shape[j] != 1;
        dims[i] = known ? xt.shape[j] : 1;
        sig[i] = known ? xt.shape[j] : -1;
      }
      out.shape = dims;
      out.signature = sig;
      out.hasRank = true;
    }
    return true;
  }

  /**
   * TF1 {@code Select(condition, t, e)}: a condition of t's shape is SELECT; a scalar one
   * broadcasts (SELECT_V2); a vector one picks whole rows of higher-rank t/e, which is SELECT_V2
   * after reshaping it to [n, 1, ..., 1].
   */
  boolean selectV1(Node n) {
    int cr = core.rankOf(n.input(0));
    int tr = core.rankOf(n.input(1));
    if (cr < 0 || tr < 0) {
      return false;
    }
    int cond = core.in(n, 0);
    if (cr == tr) {
      core.simple(n, SELECT, SELECT_OPTIONS, List.of(cond, core.in(n, 1), core.in(n, 2)));
      return true;
    }
    if (cr == 1) {
      ModelBuilder.T c = sub.t(cond);
      int[] target = new int[tr];
      java.util.Arrays.fill(target, 1);
      target[0] = -1;
      int[] shape = target.clone();
      shape[0] = c.hasRank && c.shape.length == 1 ? c.shape[0] : 1;
      int[] sig = c.signature == null && c.hasRank ? null : target.clone();
      int rows = sub.add(new ModelBuilder.T(n.name() + "/condition", TfliteType.BOOL, shape, sig));
      sub.op(
                  RESHAPE,
                  NONE,
                  List.of(cond, sub.constInts(n.name() + "/condition_shape", target)),
                  List.of(rows))
              .tfName =
          n.name();
      cond = rows;
    } else if (cr != 0) {
      return false;
    }
    core.simple(n, SELECT_V2, SELECT_V2_OPTIONS, List.of(cond, core.in(n, 1), core.in(n, 2)));
    return true;
  }

  /** {@code MirrorPad} to MIRROR_PAD, mode REFLECT (0) or SYMMETRIC (1). */
  boolean mirrorPad(Node n) {
    String mode = n.stringAttr("mode");
    int m = "REFLECT".equals(mode) ? 0 : "SYMMETRIC".equals(mode) ? 1 : -1;
    Integer pads = core.int32(n, n.input(1), 1);
    if (m < 0 || pads == null || !MOVABLE.contains(core.dtypeOf(n.input(0)))) {
      return false;
    }
    core.simple(n, MIRROR_PAD, MIRROR_PAD_OPTIONS, List.of(core.in(n, 0), pads)).opt("mode", m);
    return true;
  }

  /** {@code DepthToSpace}/{@code SpaceToDepth}: TFLite's kernels use TF's NHWC element order. */
  boolean depthSpace(Node n) {
    String df = n.stringAttr("data_format");
    int block = (int) intAttr(n, "block_size");
    if (df != null && !df.equals("NHWC")
        || block < 2
        || !MOVABLE.contains(core.dtypeOf(n.input(0)))
        || core.dtypeOf(n.input(0)) == DType.INT16.tfEnum()) {
      return false;
    }
    boolean toSpace = n.op().equals("DepthToSpace");
    core.simple(
            n,
            toSpace ? DEPTH_TO_SPACE : SPACE_TO_DEPTH,
            toSpace ? DEPTH_TO_SPACE_OPTIONS : SPACE_TO_DEPTH_OPTIONS,
            List.of(core.in(n, 0)))
        .opt("block_size", block);
    return true;
  }

  /**
   * {@code OneHot(indices, depth, on, off)} to ONE_HOT with the same inputs; both write off_value
   * for indices outside [0, depth). {@code axis} defaults to -1 (TF's default).
   */
  boolean oneHot(Node n) {
    int it = core.dtypeOf(n.input(0));
    int vt = core.dtypeOf(ref(n.name(), 0));
    Integer depth = core.int32(n, n.input(1), 1);
    if (it != DType.INT32.tfEnum() && it != DType.INT64.tfEnum()
        || depth == null
        || !MOVABLE.contains(vt) && vt != DType.BOOL.tfEnum()) {
      return false;
    }
    int axis = n.attr("axis") instanceof AttrValue.Int a ? (int) a.value() : -1;
    core.simple(
            n,
            ONE_HOT,
            ONE_HOT_OPTIONS,
            List.of(core.in(n, 0), depth, core.in(n, 2), core.in(n, 3)))
        .opt("axis", axis);
    return true;
  }

  /**
   * {@code ResizeBilinear}/{@code ResizeNearestNeighbor} [images, size]: TFLite computes the same
   * sampling positions for each align_corners/half_pixel_centers combination. TF's bilinear output
   * is float whatever the input, TFLite's has the input's type, so only float images are lowered;
   * both flags together is an error in TF.
   */
  boolean resize(Node n, boolean bilinear) {
    boolean align = boolAttr(n, "align_corners");
    boolean half = boolAttr(n, "half_pixel_centers");
    int dt = core.dtypeOf(n.input(0));
    if (align && half
        || (bilinear
            ? dt != DType.FLOAT32.tfEnum()
            : dt == DType.INT32.tfEnum() || dt == DType.INT64.tfEnum() || !MOVABLE.contains(dt))) {
      return false;
    }
    Integer size = core.int32(n, n.input(1), 1);
    if (size == null) {
      return false;
    }
    core.simple(
            n,
            bilinear ? RESIZE_BILINEAR : RESIZE_NEAREST_NEIGHBOR,
            bilinear ? RESIZE_BILINEAR_OPTIONS : RESIZE_NEAREST_NEIGHBOR_OPTIONS,
            List.of(core.in(n, 0), size))
        .opt("align_corners", align)
        .opt("half_pixel_centers", half);
    return true;
  }

  /** {@code IdentityN}: each output is its input. */
  boolean identityN(Node n) {
    List<String> data = n.dataInputs();
    for (int k = 0; k < data.size(); k++) {
      core.tensors.put(ref(n.name(), k), core.tensor(data.get(k)));
    }
    return true;
  }
}
