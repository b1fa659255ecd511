package org.tfport.graph;

import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphPass;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.OpSignature;

/**
 * Writes out attributes that equal their op's default. TensorFlow leaves them out (SavedModels
 * strip them, old GraphDefs predate them) and fills them in when it loads a graph; TF.js does not,
 * and fails on, say, a {@code Conv2D} without {@code dilations}. Defaults come from the op
 * signatures the file declares, else from this table of the ops TF.js reads attributes of.
 */
public final class DefaultAttributes implements GraphPass {
  private static final AttrValue NHWC = AttrValue.Str.of("NHWC");
  private static final AttrValue ONES4 = AttrValue.ListAttr.ofInts(List.of(1L, 1L, 1L, 1L));
  private static final AttrValue ONES5 = AttrValue.ListAttr.ofInts(List.of(1L, 1L, 1L, 1L, 1L));
  private static final AttrValue FALSE = new AttrValue.Bool(false);
  private static final AttrValue ZERO = new AttrValue.Int(0);

  static final Map<String, Map<String, AttrValue>> KNOWN =
      Map.ofEntries(
          Map.entry("Conv2D", Map.of("data_format", NHWC, "dilations", ONES4)),
          Map.entry("Conv2DBackpropInput", Map.of("data_format", NHWC, "dilations", ONES4)),
          Map.entry("DepthwiseConv2dNative", Map.of("data_format", NHWC, "dilations", ONES4)),
          Map.entry("Conv3D", Map.of("data_format", AttrValue.Str.of("NDHWC"), "dilations", ONES5)),
          Map.entry("MaxPool", Map.of("data_format", NHWC)),
          Map.entry("AvgPool", Map.of("data_format", NHWC)),
          Map.entry("BiasAdd", Map.of("data_format", NHWC)),
          Map.entry(
              "FusedBatchNorm",
              Map.of(
                  "data_format",
                  NHWC,
                  "epsilon",
                  new AttrValue.Float(1e-4f),
                  "is_training",
                  new AttrValue.Bool(true))),
          Map.entry(
              "FusedBatchNormV2",
              Map.of(
                  "data_format",
                  NHWC,
                  "epsilon",
                  new AttrValue.Float(1e-4f),
                  "is_training",
                  new AttrValue.Bool(true))),
          Map.entry(
              "FusedBatchNormV3",
              Map.of(
                  "data_format",
                  NHWC,
                  "epsilon",
                  new AttrValue.Float(1e-4f),
                  "is_training",
                  new AttrValue.Bool(true))),
          Map.entry("MatMul", Map.of("transpose_a", FALSE, "transpose_b", FALSE)),
          Map.entry("BatchMatMul", Map.of("adj_x", FALSE, "adj_y", FALSE)),
          Map.entry("BatchMatMulV2", Map.of("adj_x", FALSE, "adj_y", FALSE)),
          Map.entry(
              "StridedSlice",
              Map.of(
                  "begin_mask",
                  ZERO,
                  "end_mask",
                  ZERO,
                  "ellipsis_mask",
                  ZERO,
                  "new_axis_mask",
                  ZERO,
                  "shrink_axis_mask",
                  ZERO)),
          Map.entry("Squeeze", Map.of("squeeze_dims", AttrValue.ListAttr.ofInts(List.of()))),
          Map.entry("ResizeBilinear", Map.of("align_corners", FALSE, "half_pixel_centers", FALSE)),
          Map.entry(
              "ResizeNearestNeighbor", Map.of("align_corners", FALSE, "half_pixel_centers", FALSE)),
          Map.entry("Mean", Map.of("keep_dims", FALSE)),
          Map.entry("Sum", Map.of("keep_dims", FALSE)),
          Map.entry("Max", Map.of("keep_dims", FALSE)),
          Map.entry("Min", Map.of("keep_dims", FALSE)),
          Map.entry("Prod", Map.of("keep_dims", FALSE)),
          Map.entry("All", Map.of("keep_dims", FALSE)),
          Map.entry("Any", Map.of("keep_dims", FALSE)),
          Map.entry("Pack", Map.of("axis", ZERO)),
          Map.entry("Unpack", Map.of("axis", ZERO)),
          Map.entry("GatherV2", Map.of("batch_dims", ZERO)),
          Map.entry("Cumsum", Map.of("exclusive", FALSE, "reverse", FALSE)),
          Map.entry("Cumprod", Map.of("exclusive", FALSE, "reverse", FALSE)),
          Map.entry("LeakyRelu", Map.of("alpha", new AttrValue.Float(0.2f))),
          Map.entry("OneHot", Map.of("axis", new AttrValue.Int(-1))),
          Map.entry("TopKV2", Map.of("sorted", new AttrValue.Bool(true))),
          Map.entry("ArgMax", Map.of("output_type", new AttrValue.Type(DType.INT64.tfEnum()))),
          Map.entry("ArgMin", Map.of("output_type", new AttrValue.Type(DType.INT64.tfEnum()))),
          Map.entry("Shape", Map.of("out_type", new AttrValue.Type(DType.INT32.tfEnum()))),
          Map.entry("DepthToSpace", Map.of("data_format", NHWC)),
          Map.entry(
              "LRN",
              Map.of(
                  "depth_radius",
                  new AttrValue.Int(5),
                  "bias",
                  new AttrValue.Float(1f),
                  "alpha",
                  new AttrValue.Float(1f),
                  "beta",
                  new AttrValue.Float(0.5f))));

  @Override
  public String name() {
    return "default-attributes";
  }

  @Override
  public boolean apply(Graph g) {
    boolean changed = false;
    for (Node n : g.nodes()) {
      OpSignature sig = g.ops().get(n.op());
      if (sig != null) {
        for (Map.Entry<String, AttrValue> d : sig.defaults().entrySet()) {
          changed |= n.attrs().putIfAbsent(d.getKey(), d.getValue()) == null;
        }
      }
      for (Map.Entry<String, AttrValue> d : KNOWN.getOrDefault(n.op(), Map.of()).entrySet()) {
        changed |= n.attrs().putIfAbsent(d.getKey(), d.getValue()) == null;
      }
    }
    return changed;
  }
}
