package org.tfport.runtime.tflite;

import static org.tfport.formats.tflite.TfliteBuiltin.*;
import static org.tfport.runtime.tflite.ImportAttrs.b;
import static org.tfport.runtime.tflite.ImportAttrs.i;
import static org.tfport.runtime.tflite.ImportAttrs.str;
import static org.tfport.runtime.tflite.ImportAttrs.type;

import java.util.ArrayList;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.formats.tflite.BuiltinOptions;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.runtime.tflite.SubgraphImport.Refusal;

/**
 * Shapes, slicing, gathering, padding, space/depth/batch rearrangements, resizing, one-hot and
 * top-k: TFLite builtins whose TensorFlow counterpart takes the same inputs, with the options table
 * turned into attributes ({@link MathBuiltins} has the arithmetic ones, tried first).
 */
final class ArrayBuiltins {
  private ArrayBuiltins() {}

  static boolean map(SubgraphImport s, TfliteBuiltin builtin) {
    if (MathBuiltins.map(s, builtin)) {
      return true;
    }
    switch (builtin) {
      case RESHAPE -> reshape(s);
      case SQUEEZE ->
          s.define(
              0,
              s.node(
                  "Squeeze",
                  s.base,
                  List.of(s.in(0)),
                  "T",
                  type(inType(s, 0)),
                  "squeeze_dims",
                  listOption(s, "squeeze_dims")));
      case EXPAND_DIMS ->
          s.define(
              0,
              s.node(
                  "ExpandDims",
                  s.base,
                  List.of(s.in(0), s.in(1)),
                  "T",
                  type(inType(s, 0)),
                  "Tdim",
                  type(inType(s, 1))));
      case TRANSPOSE ->
          s.define(
              0,
              s.node(
                  "Transpose",
                  s.base,
                  List.of(s.in(0), s.in(1)),
                  "T",
                  type(inType(s, 0)),
                  "Tperm",
                  type(inType(s, 1))));
      case TILE -> withIndex(s, "Tile", "Tmultiples");
      case BROADCAST_TO -> withIndex(s, "BroadcastTo", "Tidx");
      case REVERSE_V2 -> withIndex(s, "ReverseV2", "Tidx");
      case CONCATENATION -> concat(s);
      case PACK ->
          s.define(
              0,
              s.node(
                  "Pack",
                  s.base,
                  allInputs(s),
                  "N",
                  i(s.op.inputs().size()),
                  "T",
                  type(inType(s, 0)),
                  "axis",
                  i(s.intOption("axis", 0))));
      case UNPACK ->
          outputs(
              s,
              s.node(
                  "Unpack",
                  s.base,
                  List.of(s.in(0)),
                  "T",
                  type(inType(s, 0)),
                  "num",
                  i(s.op.outputs().size()),
                  "axis",
                  i(s.intOption("axis", 0))));
      case SPLIT ->
          outputs(
              s,
              s.node(
                  "Split",
                  s.base,
                  List.of(s.in(0), s.in(1)),
                  "T",
                  type(inType(s, 1)),
                  "num_split",
                  i(s.op.outputs().size())));
      case SPLIT_V ->
          outputs(
              s,
              s.node(
                  "SplitV",
                  s.base,
                  List.of(s.in(0), s.in(1), s.in(2)),
                  "T",
                  type(inType(s, 0)),
                  "Tlen",
                  type(inType(s, 1)),
                  "num_split",
                  i(s.op.outputs().size())));
      case STRIDED_SLICE -> stridedSlice(s);
      case SLICE -> withIndex3(s, "Slice", "Index");
      case PAD -> withIndex(s, "Pad", "Tpaddings");
      case PADV2 ->
          s.define(
              0,
              s.node(
                  "PadV2",
                  s.base,
                  List.of(s.in(0), s.in(1), s.in(2)),
                  "T",
                  type(inType(s, 0)),
                  "Tpaddings",
                  type(inType(s, 1))));
      case MIRROR_PAD ->
          s.define(
              0,
              s.node(
                  "MirrorPad",
                  s.base,
                  List.of(s.in(0), s.in(1)),
                  "T",
                  type(inType(s, 0)),
                  "Tpaddings",
                  type(inType(s, 1)),
                  "mode",
                  str(s.intOption("mode", 0) == 0 ? "REFLECT" : "SYMMETRIC")));
      case GATHER -> gather(s);
      case EMBEDDING_LOOKUP ->
          s.define(
              0,
              s.node(
                  "GatherV2",
                  s.base,
                  List.of(s.in(1), s.in(0), s.intConst(s.base + "/axis", 0)),
                  "Tparams",
                  type(NnBuiltins.outType(s)),
                  "Tindices",
                  type(inType(s, 0)),
                  "Taxis",
                  type(DType.INT32),
                  "batch_dims",
                  i(0)));
      case GATHER_ND ->
          s.define(
              0,
              s.node(
                  "GatherNd",
                  s.base,
                  List.of(s.in(0), s.in(1)),
                  "Tparams",
                  type(inType(s, 0)),
                  "Tindices",
                  type(inType(s, 1))));
      case SHAPE ->
          s.define(
              0,
              s.node(
                  "Shape",
                  s.base,
                  List.of(s.in(0)),
                  "T",
                  type(inType(s, 0)),
                  "out_type",
                  type(s.dtypeOf(s.outIndex(0)))));
      case SPACE_TO_BATCH_ND ->
          s.define(
              0,
              s.node(
                  "SpaceToBatchND",
                  s.base,
                  List.of(s.in(0), s.in(1), s.in(2)),
                  "T",
                  type(inType(s, 0)),
                  "Tblock_shape",
                  type(inType(s, 1)),
                  "Tpaddings",
                  type(inType(s, 2))));
      case BATCH_TO_SPACE_ND ->
          s.define(
              0,
              s.node(
                  "BatchToSpaceND",
                  s.base,
                  List.of(s.in(0), s.in(1), s.in(2)),
                  "T",
                  type(inType(s, 0)),
                  "Tblock_shape",
                  type(inType(s, 1)),
                  "Tcrops",
                  type(inType(s, 2))));
      case SPACE_TO_DEPTH, DEPTH_TO_SPACE ->
          s.define(
              0,
              s.node(
                  builtin == SPACE_TO_DEPTH ? "SpaceToDepth" : "DepthToSpace",
                  s.base,
                  List.of(s.in(0)),
                  "T",
                  type(inType(s, 0)),
                  "block_size",
                  i(s.intOption("block_size", 2)),
                  "data_format",
                  str("NHWC")));
      case RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR ->
          s.define(
              0,
              s.node(
                  builtin == RESIZE_BILINEAR ? "ResizeBilinear" : "ResizeNearestNeighbor",
                  s.base,
                  List.of(s.in(0), s.in(1)),
                  "T",
                  type(inType(s, 0)),
                  "align_corners",
                  b(s.boolOption("align_corners")),
                  "half_pixel_centers",
                  b(s.boolOption("half_pixel_centers"))));
      case ONE_HOT ->
          s.define(
              0,
              s.node(
                  "OneHot",
                  s.base,
                  List.of(s.in(0), s.in(1), s.in(2), s.in(3)),
                  "T",
                  type(inType(s, 2)),
                  "TI",
                  type(inType(s, 0)),
                  "axis",
                  i(s.intOption("axis", -1))));
      case TOPK_V2 ->
          outputs(
              s,
              s.node(
                  "TopKV2",
                  s.base,
                  List.of(s.in(0), s.in(1)),
                  "T",
                  type(inType(s, 0)),
                  "Tk",
                  type(inType(s, 1)),
                  "sorted",
                  b(true)));
      case DYNAMIC_UPDATE_SLICE ->
          s.define(
              0,
              s.node(
                  "XlaDynamicUpdateSlice",
                  s.base,
                  List.of(s.in(0), s.in(1), s.in(2)),
                  "T",
                  type(inType(s, 0)),
                  "Tindices",
                  type(inType(s, 2))));
      default -> {
        return false;
      }
    }
    return true;
  }

  static DType inType(SubgraphImport s, int i) {
    int t = s.inIndex(i);
    if (t < 0) {
      throw new Refusal("input " + i + " is missing");
    }
    // Dequantized constants are float32 by the time an op reads them.
    if (s.isConstant(t)
        && s.tensor(t).type() != TfliteType.FLOAT32
        && !s.op.outputs().isEmpty()
        && s.tensor(s.outIndex(0)).type() == TfliteType.FLOAT32
        && (s.tensor(t).type() == TfliteType.FLOAT16 || Weights.isQuantized(s.tensor(t)))) {
      return DType.FLOAT32;
    }
    return s.dtypeOf(t);
  }

  static boolean isFloat(DType t) {
    return t == DType.FLOAT32 || t == DType.FLOAT64 || t == DType.FLOAT16 || t == DType.BFLOAT16;
  }

  static List<String> allInputs(SubgraphImport s) {
    List<String> out = new ArrayList<>();
    for (int k = 0; k < s.op.inputs().size(); k++) {
      out.add(s.in(k));
    }
    return out;
  }

  /** Output k of a multi-output node is {@code node:k}. */
  static void outputs(SubgraphImport s, String node) {
    for (int k = 0; k < s.op.outputs().size(); k++) {
      s.define(k, k == 0 ? node : node + ":" + k);
    }
  }

  private static AttrValue listOption(SubgraphImport s, String field) {
    Object v = s.option(field, List.of());
    List<Long> out = new ArrayList<>();
    for (Object o : (List<?>) v) {
      out.add(((Number) o).longValue());
    }
    return AttrValue.ListAttr.ofInts(out);
  }

  private static void withIndex(SubgraphImport s, String op, String indexAttr) {
    s.define(
        0,
        s.node(
            op,
            s.base,
            List.of(s.in(0), s.in(1)),
            "T",
            type(inType(s, 0)),
            indexAttr,
            type(inType(s, 1))));
  }

  private static void withIndex3(SubgraphImport s, String op, String indexAttr) {
    s.define(
        0,
        s.node(
            op,
            s.base,
            List.of(s.in(0), s.in(1), s.in(2)),
            "T",
            type(inType(s, 0)),
            indexAttr,
            type(inType(s, 1))));
  }

  private static void concat(SubgraphImport s) {
    DType t = inType(s, 0);
    int n = s.op.inputs().size();
    String y =
        s.node(
            "ConcatV2",
            s.base + "/ConcatV2",
            concatInputs(s, n),
            "N",
            i(n),
            "T",
            type(t),
            "Tidx",
            type(DType.INT32));
    s.define(0, NnBuiltins.activation(s, y, NnBuiltins.fusedActivation(s), t));
  }

  private static List<String> concatInputs(SubgraphImport s, int n) {
    List<String> ins = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      ins.add(s.in(k));
    }
    ins.add(s.intConst(s.base + "/axis", s.intOption("axis", 0)));
    return ins;
  }

  /**
   * RESHAPE takes its shape from input 1 when that is a 1-D int32 tensor, else from the options'
   * {@code new_shape} (where [0] meant a scalar in old files), as TFLite's kernel does.
   */
  private static void reshape(SubgraphImport s) {
    DType t = inType(s, 0);
    String shape;
    int st = s.inIndex(1);
    if (st >= 0 && s.tensor(st).type() == TfliteType.INT32 && s.tensor(st).shape().size() == 1) {
      shape = s.in(1);
    } else {
      Object v = s.option("new_shape", null);
      long[] dims;
      if (v instanceof List<?> l && !(l.isEmpty() && st < 0 && s.options() == null)) {
        dims = l.stream().mapToLong(o -> ((Number) o).longValue()).toArray();
        if (dims.length == 1 && dims[0] == 0) {
          dims = new long[0];
        }
      } else {
        dims = s.staticShape(s.outIndex(0));
        if (dims == null) {
          throw new Refusal("it gives no shape and its output's shape is not static");
        }
      }
      shape = s.intsConst(s.base + "/shape", dims);
    }
    s.define(
        0,
        s.node(
            "Reshape", s.base, List.of(s.in(0), shape), "T", type(t), "Tshape", type(DType.INT32)));
  }

  private static void stridedSlice(SubgraphImport s) {
    var o = s.options(BuiltinOptions.StridedSlice.class);
    DType index = inType(s, 1);
    String end = s.in(2);
    if (o != null && o.offset()) {
      // With offset, end is a size counted from begin.
      end = s.node("AddV2", s.base + "/end", List.of(s.in(1), end), "T", type(index));
    }
    s.define(
        0,
        s.node(
            "StridedSlice",
            s.base,
            List.of(s.in(0), s.in(1), end, s.in(3)),
            "T",
            type(inType(s, 0)),
            "Index",
            type(index),
            "begin_mask",
            i(o == null ? 0 : o.beginMask()),
            "end_mask",
            i(o == null ? 0 : o.endMask()),
            "ellipsis_mask",
            i(o == null ? 0 : o.ellipsisMask()),
            "new_axis_mask",
            i(o == null ? 0 : o.newAxisMask()),
            "shrink_axis_mask",
            i(o == null ? 0 : o.shrinkAxisMask())));
  }

  private static void gather(SubgraphImport s) {
    var o = s.options(BuiltinOptions.Gather.class);
    int axis = o == null ? 0 : o.axis();
    s.define(
        0,
        s.node(
            "GatherV2",
            s.base,
            List.of(s.in(0), s.in(1), s.intConst(s.base + "/axis", axis)),
            "Tparams",
            type(inType(s, 0)),
            "Tindices",
            type(inType(s, 1)),
            "Taxis",
            type(DType.INT32),
            "batch_dims",
            i(o == null ? 0 : o.batchDims())));
  }
}
