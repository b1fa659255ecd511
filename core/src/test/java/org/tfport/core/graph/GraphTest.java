package org.tfport.core.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tfport.core.TfportException.CorruptModelException;

class GraphTest {
  static Graph graph(Node... nodes) {
    Graph g = new Graph("g.pb");
    for (Node n : nodes) {
      g.add(n);
    }
    return g;
  }

  static Node n(String name, String op, String... inputs) {
    return new Node(name, op, List.of(inputs));
  }

  @Test
  void topologicalOrderPutsReadersAfterWhatTheyRead() {
    Graph g =
        graph(
            n("c", "Add", "a", "b:1"),
            n("a", "Placeholder"),
            n("b", "Split", "a"),
            n("d", "NoOp", "^c"));
    assertThat(g.topologicalOrder()).extracting(Node::name).containsExactly("a", "b", "c", "d");
  }

  @Test
  void missingInputNamesBothNodes() {
    Graph g = graph(n("a", "Placeholder"), n("b", "Relu", "nope:0"));
    assertThatThrownBy(g::validate)
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("g.pb")
        .hasMessageContaining("'b'")
        .hasMessageContaining("'nope'");
  }

  @Test
  void cycleNamesANodeOnIt() {
    Graph g =
        graph(
            n("x", "Placeholder"),
            n("a", "Add", "x", "c"),
            n("b", "Relu", "a"),
            n("c", "Relu", "b"));
    assertThatThrownBy(g::validate)
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("cycle")
        .hasMessageContaining("a -> ")
        .hasMessageNotContaining("'x'");
  }

  @Test
  void whileLoopBackEdgesAreNotCycles() {
    Graph g =
        graph(
            n("i", "Const"),
            n("enter", "Enter", "i"),
            n("merge", "Merge", "enter", "next"),
            n("add", "Add", "merge", "i"),
            n("next", "NextIteration", "add"));
    assertThat(g.topologicalOrder()).hasSize(5);
  }

  @Test
  void replaceUsesAndRenameFollowOutputs() {
    Graph g = graph(n("a", "Placeholder"), n("b", "Relu", "a"), n("c", "Relu", "b", "^a"));
    g.outputs().add("b");
    g.replaceUses("b:0", "a");
    assertThat(g.node("c").inputs()).containsExactly("a", "^a");
    assertThat(g.outputs()).containsExactly("a");
    g.rename("a", "x");
    assertThat(g.node("c").inputs()).containsExactly("x", "^x");
    assertThat(g.outputs()).containsExactly("x");
    assertThat(g.prune()).isEqualTo(2);
  }

  @Test
  void tensorRefs() {
    assertThat(TensorRef.parse("a/b:3")).isEqualTo(new TensorRef("a/b", 3, false));
    assertThat(TensorRef.parse("^a")).isEqualTo(new TensorRef("a", -1, true));
    assertThat(TensorRef.parse("a:0").toString()).isEqualTo("a");
    assertThat(TensorRef.of("a", 0).tensorName()).isEqualTo("a:0");
  }
}
