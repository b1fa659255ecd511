package org.tfport.runtime;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * Folds a zero {@code Pad} of the height and width into the convolution that alone reads it, as an
 * explicit padding: Keras' ZeroPadding2D before a VALID strided convolution (every MobileNetV2 and
 * ResNet stem) otherwise writes a padded copy of the activation, which the optimized convolutions
 * then read, where they pad a window only at the image's edges. The sums are the same: a padded
 * zero adds a zero product (the depthwise kernel leaves such taps out, as for SAME padding).
 */
final class PadFolding {
  private PadFolding() {}

  /** Whether {@code conv} is a float NHWC convolution with VALID or EXPLICIT padding. */
  static boolean folds(Node conv) {
    return (conv.op().equals("Conv2D") || conv.op().equals("DepthwiseConv2dNative"))
        && Fusion.isFloat(conv)
        && Fusion.channelsLast(conv)
        && conv.dataInputs().size() == 2
        && conv.attr("padding") instanceof AttrValue.Str p
        && (p.string().equals("VALID") || p.string().equals("EXPLICIT"));
  }

  /**
   * {@code conv} reading {@code pad}'s input with {@code pad}'s paddings added to its own, or null
   * when {@code pad} is not a float zero padding of only the height and width by constants.
   */
  static Node withPadding(Node conv, Node pad, Map<String, Node> byName) {
    if (!Fusion.isFloat(pad) || pad.dataInputs().size() != 2) {
      return null;
    }
    long[] added = paddings(pad.dataInputs().get(1), byName);
    if (added == null || added[0] != 0 || added[1] != 0 || added[6] != 0 || added[7] != 0) {
      return null;
    }
    long[] pads = new long[8];
    if (conv.attr("padding") instanceof AttrValue.Str p && p.string().equals("EXPLICIT")) {
      if (!(conv.attr("explicit_paddings") instanceof AttrValue.ListAttr l) || l.i().size() != 8) {
        return null;
      }
      for (int i = 0; i < 8; i++) {
        pads[i] = l.i().get(i);
      }
    }
    List<Long> sum = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      sum.add(pads[i] + added[i]);
    }
    Map<String, AttrValue> attrs = new LinkedHashMap<>(conv.attrs());
    attrs.put("padding", AttrValue.Str.of("EXPLICIT"));
    attrs.put("explicit_paddings", AttrValue.ListAttr.ofInts(sum));
    List<String> inputs = new ArrayList<>();
    inputs.add(pad.dataInputs().get(0));
    inputs.add(conv.dataInputs().get(1));
    inputs.addAll(pad.controlInputs());
    inputs.addAll(conv.controlInputs());
    return new Node(conv.name(), conv.op(), inputs, conv.device(), attrs);
  }

  /**
   * A constant [4, 2] int32/int64 paddings input, flattened, when all are non-negative; else null.
   */
  private static long[] paddings(String input, Map<String, Node> byName) {
    TensorRef r = TensorRef.parse(input);
    Node c = byName.get(r.node());
    if (r.index() != 0
        || c == null
        || !c.op().equals("Const")
        || !(c.attr("value") instanceof AttrValue.TensorAttr t)
        || (t.value().dtype() != DType.INT32.tfEnum() && t.value().dtype() != DType.INT64.tfEnum())
        || t.value().value() == null
        || t.value().value().size() != 8) {
      return null;
    }
    float[] v = t.value().value().toFloatArray();
    long[] out = new long[8];
    for (int i = 0; i < 8; i++) {
      if (!(v[i] >= 0 && v[i] < 1 << 20)) {
        return null;
      }
      out[i] = (long) v[i];
    }
    return out;
  }
}
