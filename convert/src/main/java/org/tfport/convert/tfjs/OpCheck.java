package org.tfport.convert.tfjs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;

/**
 * Refuses graphs with ops TensorFlow.js 4.22 cannot run, naming each op type with a node that uses
 * it.
 */
final class OpCheck {
  static final String RESOURCE = "tfjs_ops.txt";

  /**
   * What {@code --strip_debug_ops} allows even when the ops remain (upstream's pre-check does the
   * same).
   */
  static final Set<String> DEBUG_OPS = Set.of("Assert", "CheckNumerics", "Print");

  private static volatile Set<String> supported;

  private OpCheck() {}

  /** The 248 op types of the TF.js 4.22 converter's op list. */
  static Set<String> supported() {
    Set<String> s = supported;
    if (s == null) {
      s = load();
      supported = s;
    }
    return s;
  }

  private static Set<String> load() {
    Set<String> out = new TreeSet<>();
    try (InputStream in = OpCheck.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("resource " + RESOURCE + " is missing from the tfport jar");
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      for (String line; (line = r.readLine()) != null; ) {
        line = line.strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        for (String op : line.substring(line.indexOf(':') + 1).split(",")) {
          if (!op.isBlank()) {
            out.add(op.strip());
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Collections.unmodifiableSet(out);
  }

  /**
   * Op type to the first node that uses it, for every op TF.js lacks, in the graph and in the
   * functions it keeps.
   */
  static Map<String, String> unsupported(Graph g, boolean allowDebugOps) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Node n : g.topologicalOrder()) {
      check(n, allowDebugOps, out, "");
    }
    for (GraphFunction f : g.functions().values()) {
      for (Node n : f.nodes()) {
        check(n, allowDebugOps, out, f.name() + "/");
      }
    }
    return out;
  }

  private static void check(Node n, boolean allowDebugOps, Map<String, String> out, String prefix) {
    if (!supported().contains(n.op()) && !(allowDebugOps && DEBUG_OPS.contains(n.op()))) {
      out.putIfAbsent(n.op(), prefix + n.name());
    }
  }

  /**
   * Ops TF.js lacks that optimizing removes when the graph allows it (batch norms folded into a
   * convolution): the check before optimizing lets them through, the one after names any left.
   */
  static final Set<String> OPTIMIZED_AWAY = Set.of("BatchNormWithGlobalNormalization");

  /** Throws one line listing every unsupported op with a node name, unless there is none. */
  static void require(Graph g, boolean allowDebugOps, String source) {
    report(unsupported(g, allowDebugOps), source, "frozen graph");
  }

  /** The check before optimizing: as {@link #require}, but ops the optimizer may remove pass. */
  static void requireBeforeOptimizing(Graph g, boolean allowDebugOps, String source) {
    Map<String, String> bad = unsupported(g, allowDebugOps);
    bad.keySet().removeAll(OPTIMIZED_AWAY);
    report(bad, source, "frozen graph");
  }

  static void requireAfterOptimizing(Graph g, boolean allowDebugOps, String source) {
    report(unsupported(g, allowDebugOps), source, "optimized graph");
  }

  private static void report(Map<String, String> bad, String source, String stage) {
    if (bad.isEmpty()) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    bad.forEach(
        (op, node) ->
            sb.append(sb.isEmpty() ? "" : ", ")
                .append(op)
                .append(" (node '")
                .append(node)
                .append("')"));
    throw new UnsupportedModelException(
        source
            + ": TensorFlow.js 4.22 has no kernel for "
            + bad.size()
            + " op type"
            + (bad.size() == 1 ? "" : "s")
            + " in the "
            + stage
            + ": "
            + sb
            + "; export a signature without them, or turn GraphLoadingOptions.checkOps off to write the model anyway");
  }
}
