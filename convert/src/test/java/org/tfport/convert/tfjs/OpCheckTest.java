package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;

/** The TF.js op list check. */
class OpCheckTest {
  static Node node(String name, String op, String... inputs) {
    return new Node(name, op, List.of(inputs));
  }

  static Node placeholder(String name) {
    return new Node(name, "Placeholder", List.of(), "", Map.of("dtype", new AttrValue.Type(1)));
  }

  @Test
  void opCheckNamesEveryUnsupportedOpOnce() {
    Graph g = new Graph("ops.pb");
    g.add(placeholder("x"));
    g.add(node("a", "Fancy", "x"));
    g.add(node("b", "Fancy", "a"));
    g.add(node("c", "Assert", "b"));
    g.add(node("d", "Relu", "b"));
    assertThat(OpCheck.unsupported(g, true)).containsExactly(Map.entry("Fancy", "a"));
    assertThat(OpCheck.unsupported(g, false)).containsOnlyKeys("Fancy", "Assert");
    assertThat(OpCheck.supported()).hasSize(248);
  }
}
