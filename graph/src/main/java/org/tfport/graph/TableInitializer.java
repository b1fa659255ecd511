package org.tfport.graph;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;

/**
 * Hash tables the signature looks keys up in are filled by the model's initializer, which a frozen
 * inference graph does not contain. TF.js runs a separate {@code modelInitializer} graph once at
 * load; a table created there is found again by the inference graph's table node of the same name.
 * This class cuts that graph out of the SavedModel: each table node with the ops that fill it and
 * what they read (constants, once frozen).
 */
final class TableInitializer {
  static final Set<String> TABLES = Set.of("HashTable", "HashTableV2");
  static final Set<String> FILLS =
      Set.of("LookupTableImport", "LookupTableImportV2", "InitializeTable", "InitializeTableV2");
  static final Set<String> FILLS_FROM_FILE =
      Set.of("InitializeTableFromTextFile", "InitializeTableFromTextFileV2");

  /**
   * What a filling op may read, besides the table: anything else would need the model's inputs or
   * state.
   */
  private static final Set<String> NOT_IN_INITIALIZER =
      Set.of(
          "Placeholder",
          "PlaceholderWithDefault",
          "VariableV2",
          "Variable",
          "VarHandleOp",
          "ReadVariableOp");

  private TableInitializer() {}

  /**
   * Ops whose presence in a function makes its calls worth inlining: they show how tables are
   * filled.
   */
  static boolean fillsTables(String op) {
    return FILLS.contains(op) || FILLS_FROM_FILE.contains(op);
  }

  /**
   * The initializer graph for the tables among {@code needed}, or null when the signature uses
   * none. Call after inlining and freezing and before pruning, while the filling ops are still in
   * {@code g}.
   *
   * @throws UnsupportedModelException naming the table when it is filled from a file, from run-time
   *     values, or not at all
   */
  static Graph extract(Graph g, Set<String> needed) {
    Map<String, Node> tables = new LinkedHashMap<>();
    for (Node n : g.nodes()) {
      if (needed.contains(n.name()) && TABLES.contains(n.op())) {
        tables.put(n.name(), n);
      }
    }
    if (tables.isEmpty()) {
      return null;
    }
    List<String> fills = new ArrayList<>();
    Set<String> filled = new HashSet<>();
    for (Node n : g.nodes()) {
      if (!fillsTables(n.op()) || n.dataInputs().isEmpty()) {
        continue;
      }
      Node table = tableOf(g, n.input(0));
      if (table == null || !tables.containsKey(table.name())) {
        continue;
      }
      if (FILLS_FROM_FILE.contains(n.op())) {
        throw new UnsupportedModelException(
            g.source()
                + ": hash table '"
                + table.name()
                + "' is filled from a"
                + " vocabulary file by node '"
                + n.name()
                + "' ("
                + n.op()
                + "), which TF.js cannot run; build the"
                + " table from constant keys and values (tf.lookup.KeyValueTensorInitializer) and export again");
      }
      fills.add(n.name());
      filled.add(table.name());
    }
    for (String t : tables.keySet()) {
      if (!filled.contains(t)) {
        throw new UnsupportedModelException(
            g.source()
                + ": hash table '"
                + t
                + "' is read by the signature but"
                + " nothing in the model fills it (no LookupTableImport or InitializeTable); TF.js would look every"
                + " key up in an empty table. Export the model with its table initializer");
      }
    }
    // Data inputs only: control edges into the initializer (restore ops, NoOps) are TensorFlow's
    // scheduling.
    Set<String> keep = new HashSet<>();
    Deque<String> work = new ArrayDeque<>(fills);
    keep.addAll(fills);
    while (!work.isEmpty()) {
      Node n = g.node(work.poll());
      if (NOT_IN_INITIALIZER.contains(n.op())) {
        throw new UnsupportedModelException(
            g.source()
                + ": a hash table is filled from node '"
                + n.name()
                + "' ("
                + n.op()
                + "), a value known only when the model runs; TF.js fills tables once, from constants");
      }
      for (String in : n.dataInputs()) {
        String src = TensorRef.nodeOf(in);
        if (g.has(src) && keep.add(src)) {
          work.add(src);
        }
      }
    }
    Graph init = new Graph(g.source());
    for (Node n : g.nodes()) {
      if (keep.contains(n.name())) {
        Node c = n.copy();
        c.setInputs(c.dataInputs());
        init.add(c);
      }
    }
    for (String f : fills) {
      init.outputs().add(f);
    }
    return init;
  }

  /** The table node a handle reference reaches through identities, or null. */
  private static Node tableOf(Graph g, String ref) {
    Node n = g.node(TensorRef.nodeOf(ref));
    for (int guard = 0; n != null && guard < 10_000; guard++) {
      if (TABLES.contains(n.op())) {
        return n;
      }
      if (!VariableFreezer.IDENTITIES.contains(n.op()) || n.dataInputs().isEmpty()) {
        return null;
      }
      n = g.node(TensorRef.nodeOf(n.input(0)));
    }
    return null;
  }
}
