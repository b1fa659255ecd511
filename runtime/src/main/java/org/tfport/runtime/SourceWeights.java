package org.tfport.runtime;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.zip.CRC32C;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;

/**
 * How a model loaded from files gets its graphs back once it has dropped them: the compiled plans
 * hold the weights they need (packed filters, values), so the graph's own copy of every constant,
 * as read from the files, would double the weights for the model's whole life. A plan of another
 * kind (reference kernels, an observed run) re-reads the files, and the graph it gets must be the
 * one the model dropped: a fingerprint of its nodes and constants, taken when dropped, is checked.
 */
final class SourceWeights {
  private final String source;
  private final Supplier<Model> reread;

  SourceWeights(String source, Supplier<Model> reread) {
    this.source = source;
    this.reread = reread;
  }

  /**
   * The graph of the part computing signature {@code key}, read again, or a refusal when the files
   * no longer give the graph whose fingerprint was {@code expected}.
   */
  Graph graph(String key, long expected) {
    Model fresh;
    try {
      fresh = reread.get();
    } catch (TfportException e) {
      throw new UsageException(
          source
              + ": the model dropped its weights as read once compiled, and reading its files"
              + " again for another kind of plan failed: "
              + e.getMessage());
    }
    Graph g = fresh.loadedGraph(key);
    if (g == null || fingerprint(g) != expected) {
      throw new UsageException(
          source
              + ": the model's files changed since it was loaded, so they no longer give the graph"
              + " it compiled; load the model again");
    }
    return g;
  }

  /**
   * A checksum of a graph's nodes (names, ops, inputs) and of every tensor they hold, function
   * bodies included: two reads of the same files give the same value.
   */
  static long fingerprint(Graph g) {
    CRC32C crc = new CRC32C();
    nodes(crc, g.nodes());
    for (Map.Entry<String, GraphFunction> e : new TreeMap<>(g.functions()).entrySet()) {
      text(crc, e.getKey());
      nodes(crc, e.getValue().nodes());
    }
    return crc.getValue();
  }

  private static void nodes(CRC32C crc, List<Node> nodes) {
    for (Node n : nodes) {
      text(crc, n.name());
      text(crc, n.op());
      n.inputs().forEach(i -> text(crc, i));
      for (Map.Entry<String, AttrValue> a : new TreeMap<>(n.attrs()).entrySet()) {
        if (a.getValue() instanceof AttrValue.TensorAttr t && t.value().value() != null) {
          text(crc, a.getKey());
          Tensor v = t.value().value();
          text(crc, v.dtype() + v.shape().toString());
          ByteBuffer data = v.data();
          crc.update(data.duplicate());
        }
      }
    }
  }

  private static void text(CRC32C crc, String s) {
    crc.update(s.getBytes(StandardCharsets.UTF_8));
    crc.update(0);
  }
}
