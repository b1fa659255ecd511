package org.tfport.graph;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;

/**
 * TF.js's converter-fused ops ({@code _FusedConv2D}, {@code _FusedMatMul}, {@code
 * FusedDepthwiseConv2dNative}, {@code _FusedBatchMatMulV2}) split back into the TensorFlow ops they
 * came from (the conv or matmul, then {@code BiasAdd}, then the activation), so the rest of tfport
 * sees one op vocabulary.
 */
final class TfjsFusedOps {
  private static final Set<String> FUSED =
      Set.of(
          "_FusedConv2D",
          "_FusedMatMul",
          "FusedDepthwiseConv2dNative",
          "_FusedDepthwiseConv2dNative",
          "FusedBatchMatMulV2",
          "_FusedBatchMatMulV2",
          "_FusedBatchMatMul");

  private static final Set<String> FUSION_ATTRS =
      Set.of("fused_ops", "num_args", "epsilon", "leakyrelu_alpha");

  private TfjsFusedOps() {}

  /**
   * Splits each converter-fused op back into its base op, {@code BiasAdd} and activation; the last
   * of these keeps the fused node's name so its readers are unchanged. Returns how many were split.
   */
  static int unfuse(Graph g) {
    int count = 0;
    for (Node n : new ArrayList<>(g.nodes())) {
      if (!FUSED.contains(n.op())) {
        continue;
      }
      String src = g.source();
      List<String> ops = new ArrayList<>();
      if (n.attr("fused_ops") instanceof AttrValue.ListAttr l) {
        l.s().forEach(b -> ops.add(new String(b, StandardCharsets.UTF_8)));
      }
      int numArgs = n.attr("num_args") instanceof AttrValue.Int i ? (int) i.value() : 0;
      String base =
          switch (n.op()) {
            case "_FusedConv2D" -> "Conv2D";
            case "_FusedMatMul" -> "MatMul";
            case "FusedDepthwiseConv2dNative", "_FusedDepthwiseConv2dNative" ->
                "DepthwiseConv2dNative";
            default -> "BatchMatMulV2";
          };
      List<String> data = n.dataInputs();
      List<String> control = n.controlInputs();
      if (data.size() < 2 + numArgs) {
        throw damaged(src, n, "has num_args " + numArgs + " but " + data.size() + " inputs");
      }
      String name = n.name();
      int t = n.typeAttr("T");
      Map<String, AttrValue> baseAttrs = new LinkedHashMap<>(n.attrs());
      FUSION_ATTRS.forEach(baseAttrs::remove);
      List<String[]> chain = new ArrayList<>(); // op, extra inputs
      int arg = 2;
      for (String f : ops) {
        switch (f) {
          case "BiasAdd", "Add" -> chain.add(new String[] {"BiasAdd", extra(src, n, f, arg++)});
          case "Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "LeakyRelu" ->
              chain.add(new String[] {f, null});
          case "Prelu" -> chain.add(new String[] {"Prelu", extra(src, n, f, arg++)});
          // TensorFlow's remapper: scale, offset, mean, variance, in that order.
          case "FusedBatchNorm" -> {
            if (arg + 4 > data.size()) {
              throw damaged(
                  src,
                  n,
                  "fuses FusedBatchNorm but has "
                      + (data.size() - 2)
                      + " extra inputs, not the 4 it needs");
            }
            chain.add(
                new String[] {
                  "FusedBatchNorm",
                  data.get(arg),
                  data.get(arg + 1),
                  data.get(arg + 2),
                  data.get(arg + 3)
                });
            arg += 4;
          }
          // TF.js writes [NoOp, act] for an activation without bias.
          case "NoOp" -> {}
          default ->
              throw new org.tfport.core.TfportException.UnsupportedModelException(
                  src
                      + ": node '"
                      + name
                      + "' ("
                      + n.op()
                      + ") fuses '"
                      + f
                      + "', which tfport cannot split back into TensorFlow ops");
        }
      }
      // The fused node is replaced by a chain that ends under its name.
      g.remove(name);
      String prev = name + (chain.isEmpty() ? "" : "/" + base);
      List<String> baseIns = new ArrayList<>(List.of(data.get(0), data.get(1)));
      baseIns.addAll(control);
      prev = chain.isEmpty() ? prev : uniq(g, prev);
      g.add(new Node(prev, base, baseIns, n.device(), baseAttrs));
      for (int k = 0; k < chain.size(); k++) {
        String op = chain.get(k)[0];
        String extra = chain.get(k)[1];
        String nm = k == chain.size() - 1 ? name : uniq(g, name + "/" + op);
        Map<String, AttrValue> a = new LinkedHashMap<>();
        if (t >= 0) {
          a.put("T", new AttrValue.Type(t));
        }
        switch (op) {
          case "BiasAdd" -> {
            if (n.attr("data_format") != null) {
              a.put("data_format", n.attr("data_format"));
            }
            g.add(new Node(nm, "BiasAdd", List.of(prev, extra), "", a));
          }
          case "LeakyRelu" -> {
            a.put(
                "alpha",
                n.attr("leakyrelu_alpha") instanceof AttrValue.Float f
                    ? f
                    : new AttrValue.Float(0.2f));
            g.add(new Node(nm, "LeakyRelu", List.of(prev), "", a));
          }
          case "Prelu" -> g.add(new Node(nm, "Prelu", List.of(prev, extra), "", a));
          case "FusedBatchNorm" -> {
            // Inference batch norm, which BatchNormFolding then folds into the convolution.
            a.put("U", new AttrValue.Type(DType.FLOAT32.tfEnum()));
            a.put(
                "epsilon",
                n.attr("epsilon") instanceof AttrValue.Float f ? f : new AttrValue.Float(1e-3f));
            a.put("is_training", new AttrValue.Bool(false));
            if (n.attr("data_format") != null) {
              a.put("data_format", n.attr("data_format"));
            }
            List<String> bn = new ArrayList<>(List.of(prev));
            bn.addAll(java.util.Arrays.asList(chain.get(k)).subList(1, 5));
            g.add(new Node(nm, "FusedBatchNormV3", bn, "", a));
          }
          default -> g.add(new Node(nm, op, List.of(prev), "", a));
        }
        prev = nm;
      }
      count++;
    }
    return count;
  }

  /**
   * The input a fused op takes beyond the two of the base op. A damaged node can list more fused
   * ops that take one than it has inputs (found by fuzzing), which is refused naming the op.
   */
  private static String extra(String src, Node n, String fusedOp, int arg) {
    List<String> data = n.dataInputs();
    if (arg >= data.size()) {
      throw damaged(
          src,
          n,
          "fuses '"
              + fusedOp
              + "', which takes input "
              + arg
              + ", but the node has "
              + data.size()
              + " inputs; the model.json is damaged");
    }
    return data.get(arg);
  }

  private static CorruptModelException damaged(String src, Node n, String what) {
    return new CorruptModelException(src + ": node '" + n.name() + "' (" + n.op() + ") " + what);
  }

  private static String uniq(Graph g, String name) {
    return g.has(name) ? g.uniqueName(name) : name;
  }
}
