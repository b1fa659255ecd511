package org.tfport.graph;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.core.graph.TensorShape;
import org.tfport.graph.optimize.Consts;
import org.tfport.graph.optimize.ShapeInference;

/**
 * TF1 TensorArrays ({@code tf.nn.dynamic_rnn}, {@code tf.while_loop} with a {@code tf.TensorArray})
 * to plain tensors, for TFLite, which has no resources. A TensorArray's state travels in its
 * <em>flow</em> scalar (the value each write returns and each read waits for; in a TF1 loop the
 * flow is the loop variable and the handle a loop-invariant {@code Enter}). This pass makes the
 * flow carry the array itself, the dense tensor {@code [size, element...]}, and drops the handle,
 * in the TensorList form the TFLite lowering already holds (see {@code
 * Lowering.tensorListReserve}):
 *
 * <ul>
 *   <li>{@code TensorArrayV3(size)}: the flow becomes {@code TensorListReserve(element_shape,
 *       size)} (zeros);
 *   <li>{@code TensorArrayWriteV3(h, i, v, flow)}: {@code TensorListSetItem(flow, i, v)};
 *   <li>{@code TensorArrayReadV3(h, i, flow)}: {@code TensorListGetItem(flow, i)};
 *   <li>{@code TensorArrayScatterV3(h, range(s, n), v, flow)} (unstack): {@code
 *       XlaDynamicUpdateSlice} of {@code v} into the flow at row {@code s};
 *   <li>{@code TensorArrayGatherV3(h, range(0, size), flow)} (stack): {@code
 *       TensorListStack(flow)}, the flow itself; other indices: {@code GatherV2(flow, indices, 0)};
 *   <li>{@code TensorArraySizeV3(h, flow)}: dimension 0 of {@code Shape(flow)};
 *   <li>{@code TensorArrayCloseV3}: dropped.
 * </ul>
 *
 * <p>The loop nodes that pass a flow ({@code Enter}, {@code Merge}, {@code Switch}, {@code
 * NextIteration}, {@code Exit}, identities) get the array's dtype, so {@link Functionalize} types
 * the loop variable as the dense tensor; the handle's {@code Enter}s are left without readers and
 * removed, so no resource reaches a loop.
 *
 * <p>Refused in one line naming the graph and node: arrays that grow ({@code dynamic_size}), arrays
 * whose element shape has no known rank, scatters to indices other than consecutive ones, and the
 * other TensorArray ops. Only the TFLite path runs this; TF.js runs TensorArrays as they are.
 */
public final class TensorArrays {
  /** The TensorArray ops this pass rewrites. */
  private static final Set<String> HANDLED =
      Set.of(
          "TensorArrayV3",
          "TensorArrayWriteV3",
          "TensorArrayReadV3",
          "TensorArrayScatterV3",
          "TensorArrayGatherV3",
          "TensorArraySizeV3",
          "TensorArrayCloseV3");

  /** Ops that pass a handle or a flow along unchanged (loop plumbing and identities). */
  private static final Set<String> PASS =
      Set.of(
          "Enter",
          "RefEnter",
          "Exit",
          "RefExit",
          "Merge",
          "RefMerge",
          "Switch",
          "RefSwitch",
          "NextIteration",
          "RefNextIteration",
          "Identity",
          "Snapshot",
          "StopGradient");

  private final Graph g;
  private ShapeInference shapes;

  private TensorArrays(Graph g) {
    this.g = g;
  }

  /**
   * One {@code TensorArrayV3}: its dtype, element shape and the node now holding its initial flow.
   */
  private record Array(Node node, int dtype, long[] element, String elementShapeConst) {}

  /**
   * Rewrites every TensorArray of {@code g} (top level; TF1 graphs keep loops there) as described
   * above.
   *
   * @return how many arrays were rewritten
   * @throws UnsupportedModelException naming the node that cannot be rewritten
   */
  public static int apply(Graph g) {
    boolean any = false;
    for (Node n : g.nodes()) {
      if (n.op().startsWith("TensorArray")) {
        if (!HANDLED.contains(n.op())) {
          throw new UnsupportedModelException(
              g.source()
                  + ": node '"
                  + n.name()
                  + "' ("
                  + n.op()
                  + ") is a"
                  + " TensorArray op tfport cannot lower to TFLite (it lowers TensorArrayV3 with Read/Write/Scatter/"
                  + "Gather/Size)");
        }
        any = true;
      }
    }
    return any ? new TensorArrays(g).run() : 0;
  }

  private int run() {
    // Which array each op works on, found before anything changes.
    Map<String, Node> arrayOf = new LinkedHashMap<>();
    for (Node n : g.topologicalOrder()) {
      if (HANDLED.contains(n.op()) && !n.op().equals("TensorArrayV3")) {
        arrayOf.put(n.name(), source(n));
      }
    }
    Map<String, Array> arrays = new LinkedHashMap<>();
    for (Node n : g.topologicalOrder()) {
      if (n.op().equals("TensorArrayV3")) {
        arrays.put(n.name(), array(n, arrayOf));
      }
    }
    // Stacks are recognised by the Size they read, so before Size is rewritten.
    Set<String> stacks = new HashSet<>();
    for (Map.Entry<String, Node> e : arrayOf.entrySet()) {
      Node n = g.node(e.getKey());
      if (n.op().equals("TensorArrayGatherV3") && wholeArray(n.input(1), flowIn(n))) {
        stacks.add(n.name());
      }
    }
    // Flow producers, from which the loop plumbing is retyped.
    Map<String, Integer> flows = new LinkedHashMap<>();
    for (Map.Entry<String, Node> e : arrayOf.entrySet()) {
      Node n = g.node(e.getKey());
      Array a = arrays.get(e.getValue().name());
      switch (n.op()) {
        case "TensorArrayWriteV3" -> {
          write(n, a);
          flows.put(n.name(), a.dtype());
        }
        case "TensorArrayReadV3" -> read(n, a);
        case "TensorArrayScatterV3" -> {
          scatter(n, a);
          flows.put(n.name(), a.dtype());
        }
        case "TensorArrayGatherV3" -> gather(n, a, stacks.contains(n.name()));
        case "TensorArraySizeV3" -> size(n, a);
        case "TensorArrayCloseV3" -> {
          g.replaceControlUses(
              n.name(), n.controlInputs().stream().map(TensorRef::nodeOf).toList());
          g.remove(n.name());
        }
        default -> throw new IllegalStateException(n.op());
      }
    }
    for (Array a : arrays.values()) {
      String list = reserve(a);
      flows.put(list, a.dtype());
      g.replaceUses(a.node().name() + ":1", list);
    }
    retype(flows);
    for (Array a : arrays.values()) {
      dropHandle(a);
    }
    g.validate();
    return arrays.size();
  }

  // ------------------------------------------------------------------------------------------------ arrays

  /** The TensorArrayV3 whose handle {@code n} reads (input 0), through Enters and identities. */
  private Node source(Node n) {
    String ref = n.dataInputs().isEmpty() ? null : n.input(0);
    for (int guard = 0; ref != null && guard < 10_000; guard++) {
      TensorRef r = TensorRef.parse(ref);
      Node p = g.node(r.node());
      if (p == null) {
        break;
      }
      if (p.op().equals("TensorArrayV3") && r.index() == 0) {
        return p;
      }
      if (!PASS.contains(p.op()) || p.dataInputs().isEmpty()) {
        break;
      }
      ref = p.input(0);
    }
    throw new UnsupportedModelException(
        g.source()
            + ": node '"
            + n.name()
            + "' ("
            + n.op()
            + ") reads a"
            + " TensorArray handle tfport cannot trace back to its TensorArrayV3; it cannot lower it to TFLite");
  }

  private Array array(Node n, Map<String, Node> arrayOf) {
    String where = g.source() + ": TensorArray '" + n.name() + "'";
    if (n.attr("dynamic_size") instanceof AttrValue.Bool b && b.value()) {
      throw new UnsupportedModelException(
          where
              + " grows as it is written (dynamic_size=true); TFLite needs its"
              + " size fixed when it is made (tf.TensorArray(size=..., dynamic_size=False))");
    }
    int dtype = n.typeAttr("dtype");
    if (dtype < 0 || DataTypes.toDType(DataTypes.base(dtype)) == null) {
      throw new UnsupportedModelException(where + " holds a type TFLite has no tensors of");
    }
    long[] element = null;
    if (n.attr("element_shape") instanceof AttrValue.Shape s && !s.value().unknownRank()) {
      element = s.value().dims();
    }
    if (element == null) {
      element = elementFromUses(n, arrayOf);
    }
    if (element == null) {
      throw new UnsupportedModelException(
          where
              + " has an element shape of unknown rank, and no write or"
              + " scatter into it tells it; tfport needs it to lower the array to a TFLite tensor (give"
              + " tf.TensorArray an element_shape)");
    }
    int[] e = new int[element.length];
    for (int i = 0; i < e.length; i++) {
      e[i] = (int) element[i];
    }
    String c = Consts.add(g, n.name() + "/element_shape", Tensor.ofInts(Shape.of(e.length), e));
    return new Array(n, DataTypes.base(dtype), element, c);
  }

  /**
   * The element shape a write's value or a scatter's rows have, when the graph's shapes say; else
   * null.
   */
  private long[] elementFromUses(Node array, Map<String, Node> arrayOf) {
    if (shapes == null) {
      shapes = ShapeInference.of(g);
    }
    for (Map.Entry<String, Node> e : arrayOf.entrySet()) {
      if (e.getValue() != array) {
        continue;
      }
      Node n = g.node(e.getKey());
      if (n.op().equals("TensorArrayWriteV3")) {
        long[] d = shapes.dims(n.input(2));
        if (d != null) {
          return d;
        }
      } else if (n.op().equals("TensorArrayScatterV3")) {
        long[] d = shapes.dims(n.input(2));
        if (d != null && d.length > 0) {
          return java.util.Arrays.copyOfRange(d, 1, d.length);
        }
      }
    }
    return null;
  }

  /** The array's initial flow: zeros of {@code [size, element...]}. */
  private String reserve(Array a) {
    Node n = a.node();
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("element_dtype", new AttrValue.Type(a.dtype()));
    attrs.put("shape_type", new AttrValue.Type(DType.INT32.tfEnum()));
    List<String> ins = new ArrayList<>(List.of(a.elementShapeConst(), n.input(0)));
    ins.addAll(n.controlInputs());
    return g.add(
            new Node(g.uniqueName(n.name() + "/list"), "TensorListReserve", ins, n.device(), attrs))
        .name();
  }

  // ------------------------------------------------------------------------------------------------ ops

  /**
   * Rewrites {@code n} in place (so its readers stay as they are): new op, data inputs and
   * attributes.
   */
  private static void become(Node n, String op, List<String> data, Map<String, AttrValue> attrs) {
    List<String> ins = new ArrayList<>(data);
    ins.addAll(n.controlInputs());
    n.op(op);
    n.setInputs(ins);
    Map<String, AttrValue> keep = new LinkedHashMap<>();
    n.attrs()
        .forEach(
            (k, v) -> {
              if (k.startsWith("_") && !k.equals("_output_shapes")) {
                keep.put(k, v);
              }
            });
    n.attrs().clear();
    n.attrs().putAll(keep);
    n.attrs().putAll(attrs);
  }

  private static Map<String, AttrValue> elementDtype(Array a) {
    Map<String, AttrValue> m = new LinkedHashMap<>();
    m.put("element_dtype", new AttrValue.Type(a.dtype()));
    return m;
  }

  private static String flowIn(Node n) {
    List<String> d = n.dataInputs();
    return d.get(d.size() - 1);
  }

  private void write(Node n, Array a) {
    become(n, "TensorListSetItem", List.of(flowIn(n), n.input(1), n.input(2)), elementDtype(a));
  }

  private void read(Node n, Array a) {
    Map<String, AttrValue> attrs = elementDtype(a);
    // Shape inference knows no TensorList op: record the element shape for the ops reading the
    // item.
    attrs.put(
        "_output_shapes",
        new AttrValue.ListAttr(
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            List.of(),
            List.of(TensorShape.of(a.element())),
            List.of(),
            List.of()));
    become(n, "TensorListGetItem", List.of(flowIn(n), n.input(1), a.elementShapeConst()), attrs);
  }

  /**
   * Unstack: rows {@code s, s+1, ...} of the array become the rows of the value, which is a dynamic
   * update slice at {@code [s, 0, ...]}. When the element shape has unknown dimensions the array
   * was made with 1s there (see {@code Lowering.tensorListReserve}), so it is first broadcast to
   * {@code [size] + value.shape[1:]}.
   */
  private void scatter(Node n, Array a) {
    String where = g.source() + ": TensorArrayScatterV3 '" + n.name() + "'";
    Node range = g.node(TensorRef.nodeOf(n.input(1)));
    if (range == null || !range.op().equals("Range") || !isInt(range.input(2), 1)) {
      throw new UnsupportedModelException(
          where
              + " scatters to indices that are not a run of consecutive"
              + " integers (a Range with delta 1, as tf.TensorArray.unstack writes); tfport cannot lower it to TFLite");
    }
    String base = n.name();
    String flow = flowIn(n);
    String value = n.input(2);
    boolean unknown = false;
    for (long d : a.element()) {
      unknown |= d < 0;
    }
    if (unknown) {
      String flowShape = shape(base + "/array_shape", flow, a.dtype());
      String length = slice(base + "/length", flowShape, 0, 1);
      String rows =
          slice(base + "/row_shape", shape(base + "/value_shape", value, a.dtype()), 1, -1);
      String target = concat(base + "/target", List.of(length, rows));
      Map<String, AttrValue> attrs = new LinkedHashMap<>();
      attrs.put("T", new AttrValue.Type(a.dtype()));
      attrs.put("Tidx", new AttrValue.Type(DType.INT32.tfEnum()));
      flow =
          g.add(
                  new Node(
                      g.uniqueName(base + "/grown"),
                      "BroadcastTo",
                      List.of(flow, target),
                      "",
                      attrs))
              .name();
    }
    Map<String, AttrValue> reshapeAttrs = new LinkedHashMap<>();
    reshapeAttrs.put("T", new AttrValue.Type(DType.INT32.tfEnum()));
    reshapeAttrs.put("Tshape", new AttrValue.Type(DType.INT32.tfEnum()));
    String one = Consts.add(g, base + "/one", Tensor.ofInts(Shape.of(1), 1));
    String start =
        g.add(
                new Node(
                    g.uniqueName(base + "/start"),
                    "Reshape",
                    List.of(range.input(0), one),
                    "",
                    reshapeAttrs))
            .name();
    int rank = a.element().length + 1;
    String zeros =
        Consts.add(g, base + "/zeros", Tensor.ofInts(Shape.of(rank - 1), new int[rank - 1]));
    String begin = concat(base + "/begin", List.of(start, zeros));
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("T", new AttrValue.Type(a.dtype()));
    attrs.put("Tindices", new AttrValue.Type(DType.INT32.tfEnum()));
    become(n, "XlaDynamicUpdateSlice", List.of(flow, value, begin), attrs);
  }

  /**
   * Stack: the whole array when the indices are {@code range(0, size(array), 1)}, else a gather of
   * its rows.
   */
  private void gather(Node n, Array a, boolean whole) {
    String flow = flowIn(n);
    if (whole) {
      Map<String, AttrValue> attrs = elementDtype(a);
      attrs.put("num_elements", new AttrValue.Int(-1));
      become(n, "TensorListStack", List.of(flow, a.elementShapeConst()), attrs);
      return;
    }
    String axis = Consts.add(g, n.name() + "/axis", Tensor.ofInts(Shape.of(), 0));
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("Tparams", new AttrValue.Type(a.dtype()));
    attrs.put("Tindices", new AttrValue.Type(DType.INT32.tfEnum()));
    attrs.put("Taxis", new AttrValue.Type(DType.INT32.tfEnum()));
    attrs.put("batch_dims", new AttrValue.Int(0));
    become(n, "GatherV2", List.of(flow, n.input(1), axis), attrs);
  }

  /**
   * Whether {@code indices} is {@code Range(0, TensorArraySizeV3(_, flow), 1)} of this very flow.
   */
  private boolean wholeArray(String indices, String flow) {
    Node range = g.node(TensorRef.nodeOf(indices));
    if (range == null
        || !range.op().equals("Range")
        || !isInt(range.input(0), 0)
        || !isInt(range.input(2), 1)) {
      return false;
    }
    Node size = g.node(TensorRef.nodeOf(range.input(1)));
    return size != null
        && size.op().equals("TensorArraySizeV3")
        && size.dataInputs().size() == 2
        && TensorRef.parse(size.input(1)).equals(TensorRef.parse(flow));
  }

  private boolean isInt(String ref, long v) {
    Tensor t = Consts.value(g, ref);
    if (t == null || t.size() != 1) {
      return false;
    }
    java.nio.ByteBuffer b = t.bytes().order(java.nio.ByteOrder.LITTLE_ENDIAN);
    return switch (t.dtype()) {
      case INT32 -> b.getInt(0) == v;
      case INT64 -> b.getLong(0) == v;
      default -> false;
    };
  }

  /** Size: dimension 0 of the dense array. */
  private void size(Node n, Array a) {
    String s = shape(n.name() + "/shape", flowIn(n), a.dtype());
    String begin = Consts.add(g, n.name() + "/begin", Tensor.ofInts(Shape.of(1), 0));
    String end = Consts.add(g, n.name() + "/end", Tensor.ofInts(Shape.of(1), 1));
    String stride = Consts.add(g, n.name() + "/stride", Tensor.ofInts(Shape.of(1), 1));
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("T", new AttrValue.Type(DType.INT32.tfEnum()));
    attrs.put("Index", new AttrValue.Type(DType.INT32.tfEnum()));
    for (String k : List.of("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask")) {
      attrs.put(k, new AttrValue.Int(0));
    }
    attrs.put("shrink_axis_mask", new AttrValue.Int(1));
    become(n, "StridedSlice", List.of(s, begin, end, stride), attrs);
  }

  private String shape(String name, String of, int dtype) {
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("T", new AttrValue.Type(dtype));
    attrs.put("out_type", new AttrValue.Type(DType.INT32.tfEnum()));
    return g.add(new Node(g.uniqueName(name), "Shape", List.of(of), "", attrs)).name();
  }

  /** {@code Slice(of, [begin], [size])} of an int32 vector. */
  private String slice(String name, String of, int begin, int size) {
    String b = Consts.add(g, name + "/begin", Tensor.ofInts(Shape.of(1), begin));
    String s = Consts.add(g, name + "/size", Tensor.ofInts(Shape.of(1), size));
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("T", new AttrValue.Type(DType.INT32.tfEnum()));
    attrs.put("Index", new AttrValue.Type(DType.INT32.tfEnum()));
    return g.add(new Node(g.uniqueName(name), "Slice", List.of(of, b, s), "", attrs)).name();
  }

  /** {@code ConcatV2} of int32 vectors along axis 0. */
  private String concat(String name, List<String> parts) {
    String axis = Consts.add(g, name + "/axis", Tensor.ofInts(Shape.of(), 0));
    List<String> ins = new ArrayList<>(parts);
    ins.add(axis);
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    attrs.put("N", new AttrValue.Int(parts.size()));
    attrs.put("T", new AttrValue.Type(DType.INT32.tfEnum()));
    attrs.put("Tidx", new AttrValue.Type(DType.INT32.tfEnum()));
    return g.add(new Node(g.uniqueName(name), "ConcatV2", ins, "", attrs)).name();
  }

  // ------------------------------------------------------------------------------------------------ plumbing

  /**
   * Gives every loop node or identity that passes a flow on the array's dtype (the flow was a float
   * scalar); its recorded shapes went with the scalar.
   */
  private void retype(Map<String, Integer> flows) {
    Map<String, List<Node>> consumers = g.consumers();
    Deque<Map.Entry<String, Integer>> work = new ArrayDeque<>(flows.entrySet());
    Set<String> seen = new HashSet<>(flows.keySet());
    while (!work.isEmpty()) {
      Map.Entry<String, Integer> e = work.poll();
      for (Node c : consumers.getOrDefault(e.getKey(), List.of())) {
        if (!PASS.contains(c.op()) || seen.contains(c.name()) || !readsData(c, e.getKey())) {
          continue;
        }
        seen.add(c.name());
        c.attr("T", new AttrValue.Type(e.getValue()));
        c.attrs().remove("_output_shapes");
        work.add(Map.entry(c.name(), e.getValue()));
      }
    }
  }

  private static boolean readsData(Node c, String producer) {
    for (String in : c.dataInputs()) {
      if (TensorRef.nodeOf(in).equals(producer)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Removes the array's node and the Enters and identities that carried its handle, which nothing
   * reads now; a handle still read by anything else is refused.
   */
  private void dropHandle(Array a) {
    Map<String, List<Node>> consumers = g.consumers();
    List<String> carriers = new ArrayList<>();
    Deque<String> work = new ArrayDeque<>(List.of(a.node().name()));
    Set<String> seen = new HashSet<>();
    Map<String, Node> strays = new HashMap<>();
    while (!work.isEmpty()) {
      String p = work.poll();
      if (!seen.add(p)) {
        continue;
      }
      carriers.add(p);
      for (Node c : consumers.getOrDefault(p, List.of())) {
        if (PASS.contains(c.op()) && readsData(c, p)) {
          work.add(c.name());
        } else if (readsData(c, p)) {
          strays.put(c.name(), c);
        }
      }
    }
    for (Node s : strays.values()) {
      throw new UnsupportedModelException(
          g.source()
              + ": node '"
              + s.name()
              + "' ("
              + s.op()
              + ") reads the"
              + " handle of TensorArray '"
              + a.node().name()
              + "'; tfport lowers a TensorArray to a plain tensor for"
              + " TFLite and cannot pass it its handle");
    }
    Set<String> outputs = g.outputNodes();
    for (String c : carriers) {
      if (outputs.contains(c)) {
        throw new UnsupportedModelException(
            g.source()
                + ": the graph output '"
                + c
                + "' is the handle of"
                + " TensorArray '"
                + a.node().name()
                + "'; TFLite has no resources to return (ask for a value read"
                + " from the array instead)");
      }
      g.replaceControlUses(c, List.of());
    }
    carriers.forEach(g::remove);
  }
}
