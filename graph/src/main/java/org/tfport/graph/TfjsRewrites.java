package org.tfport.graph;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Permutation;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphPass;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorValue;
import org.tfport.graph.optimize.BatchNormFolding;

/**
 * Rewrites of ops TF.js lacks into equivalent ones it has, where the rewrite is exact. Not
 * optimizations: without these the model would not run in TF.js at all.
 *
 * <ul>
 *   <li>{@code MaxPoolV2}, max pooling with {@code ksize} and {@code strides} as inputs (what TF
 *       Java and the C API build), becomes {@code MaxPool} with them as attributes when both are
 *       constants.
 *   <li>Convolutions and pooling in {@code NCHW}: TF.js reads strides, sizes and dilations at the
 *       NHWC positions whatever the format, so the op runs in NHWC between two transposes.
 *   <li>{@code BiasAdd} in {@code NCHW}: TF.js adds the bias along the last axis whatever the
 *       format, so the bias is reshaped to {@code [1, C, 1, 1]} and added.
 *   <li>{@code FusedBatchNorm*} with {@code is_training}: TF.js always normalizes with the given
 *       mean and variance, so the batch moments are computed explicitly, as TensorFlow does in
 *       training mode.
 * </ul>
 */
public final class TfjsRewrites implements GraphPass {
  @Override
  public String name() {
    return "tfjs-rewrites";
  }

  @Override
  public boolean apply(Graph g) {
    boolean changed = false;
    for (Node n : g.nodes()) {
      if (n.op().startsWith("FusedBatchNorm")
          && n.attr("is_training") instanceof AttrValue.Bool b
          && b.value()) {
        batchNormTraining(g, n);
        changed = true;
      } else if (CHANNELS_FIRST_OPS.contains(n.op())
          && "NCHW".equals(n.stringAttr("data_format"))) {
        channelsFirstToLast(g, n);
        changed = true;
      } else if (n.op().equals("BiasAdd") && "NCHW".equals(n.stringAttr("data_format"))) {
        biasAddChannelsFirst(g, n);
        changed = true;
      }
      if (n.op().equals("MaxPoolV2") && n.dataInputs().size() == 3) {
        long[] ksize = constInts(g, n.input(1));
        long[] strides = constInts(g, n.input(2));
        if (ksize != null && strides != null) {
          List<String> ins = new ArrayList<>();
          ins.add(n.input(0));
          ins.addAll(n.controlInputs());
          n.setInputs(ins);
          n.op("MaxPool");
          n.attr("ksize", AttrValue.ListAttr.ofInts(asList(ksize)));
          n.attr("strides", AttrValue.ListAttr.ofInts(asList(strides)));
          changed = true;
        }
      }
    }
    return changed;
  }

  static final java.util.Set<String> CHANNELS_FIRST_OPS =
      java.util.Set.of(
          "Conv2D",
          "DepthwiseConv2dNative",
          "MaxPool",
          "AvgPool",
          "FusedBatchNorm",
          "FusedBatchNormV2",
          "FusedBatchNormV3");

  /**
   * {@code y = op_NCHW(x)} becomes {@code y = transpose(op_NHWC(transpose(x)))}; the node keeps its
   * name as the final transpose, so readers and outputs are unchanged.
   */
  private static void channelsFirstToLast(Graph g, Node n) {
    if (n.op().startsWith("FusedBatchNorm") && BatchNormFolding.readsBeyondOutputZero(g, n)) {
      throw new UnsupportedModelException(
          g.source()
              + ": node '"
              + n.name()
              + "' ("
              + n.op()
              + ", NCHW) has"
              + " its batch statistics read, which tfport cannot yet rewrite for TF.js; export the model NHWC");
    }
    AttrValue t = n.attr("T");
    String toLast =
        addConst(
            g, n.name() + "/to_nhwc/perm", Tensor.ofInts(Shape.of(4), Permutation.nchwToNhwc()));
    String toFirst =
        addConst(
            g, n.name() + "/to_nchw/perm", Tensor.ofInts(Shape.of(4), Permutation.nhwcToNchw()));
    Map<String, AttrValue> tr = Map.of("T", t, "Tperm", new AttrValue.Type(DType.INT32.tfEnum()));
    String x = add(g, n.name() + "/to_nhwc", "Transpose", List.of(n.input(0), toLast), tr);
    List<String> ins = new ArrayList<>(n.dataInputs());
    ins.set(0, x);
    Map<String, AttrValue> attrs = new java.util.LinkedHashMap<>(n.attrs());
    attrs.put("data_format", AttrValue.Str.of("NHWC"));
    for (String key : List.of("strides", "ksize", "dilations")) {
      if (attrs.get(key) instanceof AttrValue.ListAttr l && l.i().size() == 4) {
        long[] nchw = l.i().stream().mapToLong(Long::longValue).toArray();
        attrs.put(
            key,
            AttrValue.ListAttr.ofInts(
                java.util.Arrays.stream(Permutation.apply(nchw, Permutation.nchwToNhwc()))
                    .boxed()
                    .toList()));
      }
    }
    String inner = g.uniqueName(n.name() + "/nhwc");
    g.add(new Node(inner, n.op(), ins, n.device(), attrs));
    List<String> outer = new ArrayList<>(List.of(inner, toFirst));
    outer.addAll(n.controlInputs());
    n.op("Transpose");
    n.attrs().clear();
    n.attrs().putAll(new java.util.TreeMap<>(tr));
    n.setInputs(outer);
  }

  private static void biasAddChannelsFirst(Graph g, Node n) {
    int rank = rankOf(g, n.input(0));
    if (rank < 3) {
      throw new UnsupportedModelException(
          g.source()
              + ": node '"
              + n.name()
              + "' adds a channels-first bias to"
              + " a tensor of unknown rank, which TF.js cannot do; export the model channels-last (NHWC)");
    }
    long[] shape = new long[rank - 1];
    java.util.Arrays.fill(shape, 1);
    shape[0] = -1;
    String shapeNode =
        addConst(g, n.name() + "/bias_shape", Tensor.ofInts(Shape.of(rank - 1), toInts(shape)));
    String reshaped =
        add(
            g,
            n.name() + "/bias_reshaped",
            "Reshape",
            List.of(n.input(1), shapeNode),
            Map.of("T", n.attr("T"), "Tshape", new AttrValue.Type(DType.INT32.tfEnum())));
    List<String> ins = new ArrayList<>(List.of(n.input(0), reshaped));
    ins.addAll(n.controlInputs());
    n.op("AddV2");
    AttrValue t = n.attr("T");
    n.attrs().clear();
    n.attr("T", t);
    n.setInputs(ins);
  }

  /**
   * Training-mode batch norm as the ops TF.js has. The node becomes an {@code IdentityN} of (y,
   * batch mean, batch variance) so every reader of its outputs 0 to 2 keeps its name; variance
   * output 2 is Bessel-corrected as TensorFlow's is.
   */
  private static void batchNormTraining(Graph g, Node n) {
    String name = n.name();
    int rank = rankOf(g, n.input(0));
    boolean nchw = "NCHW".equals(n.stringAttr("data_format"));
    if (rank != 4) {
      throw new UnsupportedModelException(
          g.source()
              + ": node '"
              + name
              + "' ("
              + n.op()
              + ") normalizes a"
              + " batch in training mode on a tensor that is not known to be 4-D; TF.js cannot; export it with"
              + " training=False");
    }
    for (Node r : g.nodes()) {
      for (String in : r.dataInputs()) {
        TensorRef ref = TensorRef.parse(in);
        if (ref.node().equals(name) && ref.index() > 2) {
          throw new UnsupportedModelException(
              g.source()
                  + ": node '"
                  + r.name()
                  + "' reads output "
                  + ref.index()
                  + " of batch norm '"
                  + name
                  + "', which only TensorFlow's kernels produce");
        }
      }
    }
    AttrValue t = n.attr("T") == null ? new AttrValue.Type(DType.FLOAT32.tfEnum()) : n.attr("T");
    Map<String, AttrValue> tOnly = Map.of("T", t);
    float eps = n.attr("epsilon") instanceof AttrValue.Float f ? f.value() : 1e-4f;
    String x = n.input(0);
    String axes =
        addConst(
            g,
            name + "/moments/axes",
            Tensor.ofInts(Shape.of(3), nchw ? new int[] {0, 2, 3} : new int[] {0, 1, 2}));
    Map<String, AttrValue> keep =
        Map.of(
            "T",
            t,
            "Tidx",
            new AttrValue.Type(DType.INT32.tfEnum()),
            "keep_dims",
            new AttrValue.Bool(true));
    String mean = add(g, name + "/moments/mean", "Mean", List.of(x, axes), keep);
    String sq =
        add(g, name + "/moments/squared_difference", "SquaredDifference", List.of(x, mean), tOnly);
    String var = add(g, name + "/moments/variance", "Mean", List.of(sq, axes), keep);
    String epsNode = addConst(g, name + "/epsilon", Tensor.ofFloats(Shape.SCALAR, eps));
    String inv =
        add(
            g,
            name + "/rsqrt",
            "Rsqrt",
            List.of(add(g, name + "/variance_eps", "AddV2", List.of(var, epsNode), tOnly)),
            tOnly);
    String scale = n.input(1);
    String offset = n.input(2);
    if (nchw) {
      String cshape = addConst(g, name + "/channel_shape", Tensor.ofInts(Shape.of(4), 1, -1, 1, 1));
      Map<String, AttrValue> reshape =
          Map.of("T", t, "Tshape", new AttrValue.Type(DType.INT32.tfEnum()));
      scale = add(g, name + "/scale_reshaped", "Reshape", List.of(scale, cshape), reshape);
      offset = add(g, name + "/offset_reshaped", "Reshape", List.of(offset, cshape), reshape);
    }
    String centered = add(g, name + "/centered", "Sub", List.of(x, mean), tOnly);
    String factor = add(g, name + "/factor", "Mul", List.of(inv, scale), tOnly);
    String y =
        add(
            g,
            name + "/y",
            "AddV2",
            List.of(add(g, name + "/scaled", "Mul", List.of(centered, factor), tOnly), offset),
            tOnly);
    String flat = addConst(g, name + "/flat", Tensor.ofInts(Shape.of(1), -1));
    Map<String, AttrValue> reshape =
        Map.of("T", t, "Tshape", new AttrValue.Type(DType.INT32.tfEnum()));
    String meanOut = add(g, name + "/batch_mean", "Reshape", List.of(mean, flat), reshape);
    // n / max(n - 1, 1) with n the elements per channel, from the runtime shape.
    String shape =
        add(
            g,
            name + "/shape",
            "Shape",
            List.of(x),
            Map.of("T", t, "out_type", new AttrValue.Type(DType.INT32.tfEnum())));
    String count =
        add(
            g,
            name + "/count",
            "Prod",
            List.of(
                add(
                    g,
                    name + "/reduced_dims",
                    "GatherV2",
                    List.of(
                        shape, axes, addConst(g, name + "/zero", Tensor.ofInts(Shape.SCALAR, 0))),
                    Map.of(
                        "Tparams",
                        new AttrValue.Type(DType.INT32.tfEnum()),
                        "Tindices",
                        new AttrValue.Type(DType.INT32.tfEnum()),
                        "Taxis",
                        new AttrValue.Type(DType.INT32.tfEnum()),
                        "batch_dims",
                        new AttrValue.Int(0))),
                addConst(g, name + "/zero_axis", Tensor.ofInts(Shape.SCALAR, 0))),
            Map.of(
                "T",
                new AttrValue.Type(DType.INT32.tfEnum()),
                "Tidx",
                new AttrValue.Type(DType.INT32.tfEnum()),
                "keep_dims",
                new AttrValue.Bool(false)));
    String countF =
        add(
            g,
            name + "/count_float",
            "Cast",
            List.of(count),
            Map.of(
                "SrcT",
                new AttrValue.Type(DType.INT32.tfEnum()),
                "DstT",
                t,
                "Truncate",
                new AttrValue.Bool(false)));
    String one = addConst(g, name + "/one", Tensor.ofFloats(Shape.SCALAR, 1f));
    String denom =
        add(
            g,
            name + "/count_minus_one",
            "Maximum",
            List.of(add(g, name + "/count_sub", "Sub", List.of(countF, one), tOnly), one),
            tOnly);
    String bessel = add(g, name + "/bessel", "RealDiv", List.of(countF, denom), tOnly);
    String varOut =
        add(
            g,
            name + "/batch_variance",
            "Mul",
            List.of(
                add(g, name + "/variance_flat", "Reshape", List.of(var, flat), reshape), bessel),
            tOnly);
    List<String> ins = new ArrayList<>(List.of(y, meanOut, varOut));
    ins.addAll(n.controlInputs());
    n.op("IdentityN");
    n.attrs().clear();
    n.attr(
        "T",
        AttrValue.ListAttr.ofTypes(
            List.of(
                ((AttrValue.Type) t).value(),
                ((AttrValue.Type) t).value(),
                ((AttrValue.Type) t).value())));
    n.setInputs(ins);
  }

  /** A tensor's rank from the producer's recorded shape or its op, or -1. */
  static int rankOf(Graph g, String ref) {
    TensorRef r = TensorRef.parse(ref);
    Node src = g.node(r.node());
    if (src == null) {
      return -1;
    }
    if (src.attr("_output_shapes") instanceof AttrValue.ListAttr l
        && r.index() < l.shape().size()) {
      return l.shape().get(r.index()).rank();
    }
    return switch (src.op()) {
      case "Conv2D",
          "DepthwiseConv2dNative",
          "Conv2DBackpropInput",
          "MaxPool",
          "AvgPool",
          "FusedBatchNorm",
          "FusedBatchNormV2",
          "FusedBatchNormV3" ->
          4;
      case "Conv3D", "MaxPool3D", "AvgPool3D" -> 5;
      case "Placeholder", "Const" ->
          src.attr("shape") instanceof AttrValue.Shape s
              ? s.value().rank()
              : src.tensorAttr("value") != null ? src.tensorAttr("value").shape().rank() : -1;
      case "Identity", "Relu", "Relu6", "Elu", "Tanh", "Sigmoid", "Transpose" ->
          src.dataInputs().isEmpty() ? -1 : rankOf(g, src.input(0));
      default -> -1;
    };
  }

  private static int[] toInts(long[] v) {
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (int) v[i];
    }
    return out;
  }

  static String addConst(Graph g, String base, Tensor t) {
    String name = g.uniqueName(base);
    Node c = new Node(name, "Const", List.of());
    VariableFreezer.toConst(c, t.dtype().tfEnum(), t);
    g.add(c);
    return name;
  }

  static String add(
      Graph g, String base, String op, List<String> inputs, Map<String, AttrValue> attrs) {
    String name = g.uniqueName(base);
    g.add(new Node(name, op, inputs, "", new java.util.TreeMap<>(attrs)));
    return name;
  }

  private static List<Long> asList(long[] v) {
    List<Long> out = new ArrayList<>();
    for (long x : v) {
      out.add(x);
    }
    return out;
  }

  /** The values of an int32/int64 constant, or null when the tensor is not one. */
  static long[] constInts(Graph g, String ref) {
    Node c = g.node(TensorRef.nodeOf(ref));
    if (c == null || !c.op().equals("Const")) {
      return null;
    }
    TensorValue tv = c.tensorAttr("value");
    if (tv == null || tv.value() == null) {
      return null;
    }
    Tensor t = tv.value();
    if (t.dtype() != DType.INT32 && t.dtype() != DType.INT64) {
      return null;
    }
    long[] out = new long[Math.toIntExact(t.size())];
    for (int i = 0; i < out.length; i++) {
      out[i] = t.dtype() == DType.INT32 ? t.bytes().getInt(4 * i) : t.bytes().getLong(8 * i);
    }
    return out;
  }

  /**
   * Drops what only TensorFlow's runtime reads: device placements and attributes named {@code
   * _...}.
   */
  public static final class Cleanup implements GraphPass {
    @Override
    public String name() {
      return "cleanup";
    }

    @Override
    public boolean apply(Graph g) {
      boolean changed = false;
      for (Node n : g.nodes()) {
        if (!n.device().isEmpty()) {
          n.device("");
          changed = true;
        }
        changed |= n.attrs().keySet().removeIf(k -> k.startsWith("_"));
        changed |= n.attrs().values().removeIf(v -> v instanceof AttrValue.None);
        // A control edge from a constant orders nothing: constants have no side effects.
        List<String> ins = new ArrayList<>(n.inputs());
        boolean dropped =
            ins.removeIf(in -> TensorRef.isControl(in) && isConst(g, in.substring(1)));
        if (dropped) {
          n.setInputs(ins);
          changed = true;
        }
      }
      return changed;
    }

    private static boolean isConst(Graph g, String name) {
      Node n = g.node(name);
      return n != null && n.op().equals("Const");
    }
  }
}
