package org.tfport.convert.tflite;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Node;

/**
 * A TF node's attributes with the defaults the lowering assumes, and a constant's values as
 * integers.
 */
final class NodeAttrs {
  private NodeAttrs() {}

  static int typeAttr(Node n, String k, int dflt) {
    return n.attr(k) instanceof AttrValue.Type t ? t.value() : dflt;
  }

  static long[] ints(Node n, String key, long[] dflt) {
    if (n.attr(key) instanceof AttrValue.ListAttr l && !l.i().isEmpty()) {
      return l.i().stream().mapToLong(Long::longValue).toArray();
    }
    return dflt;
  }

  static boolean boolAttr(Node n, String key) {
    return n.attr(key) instanceof AttrValue.Bool b && b.value();
  }

  static long intAttr(Node n, String key) {
    return n.attr(key) instanceof AttrValue.Int i ? i.value() : 0;
  }

  static float floatAttr(Node n, String key, float dflt) {
    return n.attr(key) instanceof AttrValue.Float f ? f.value() : dflt;
  }

  static long[] longs(Tensor t) {
    int n = (int) t.size();
    long[] out = new long[n];
    ByteBuffer b = t.bytes().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      out[i] =
          switch (t.dtype()) {
            case INT64 -> b.getLong(8 * i);
            case INT32 -> b.getInt(4 * i);
            case INT16 -> b.getShort(2 * i);
            case INT8, UINT8 -> b.get(i);
            case FLOAT32 -> (long) b.getFloat(4 * i);
            default -> throw new IllegalArgumentException("not an integer tensor: " + t.dtype());
          };
    }
    return out;
  }
}
