package org.tfport.runtime.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tfport.core.Tensor;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorRef;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.runtime.Model;
import org.tfport.runtime.RandomInputs;
import org.tfport.runtime.Session;
import org.tfport.runtime.Signature;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.testkit.Corpus;

/**
 * A {@link org.tfport.runtime.RunObserver} on imported TFLite models with WHILE loops: it sees
 * every tensor the importer's tensor map names (but constants) in the graph and in the loop
 * functions the run enters, a condition more often than its body, and for the signature's outputs
 * the values the run returns.
 */
class RunObserverTest {
  @Test
  void seesEveryMappedTensorInsideLoops() {
    for (String file :
        List.of(
            "tflite/litert/tflite__multi_subgraphs_while.bin",
            "tflite/litert/tflite__nested_while.bin")) {
      var path = Corpus.require(file);
      TfliteImporter.ImportedModel imported =
          TfliteImporter.importModel(TfliteReader.read(path), file);
      Map<String, Integer> calls = new HashMap<>();
      Set<String> seen = new HashSet<>();
      Set<String> entered = new HashSet<>();
      Map<String, Value> top = new HashMap<>();
      Map<String, Tensor> out;
      try (Model model = imported.toModel();
          Session session = model.newSession()) {
        Signature sig = model.defaultSignature();
        out =
            session.run(
                sig.key(),
                RandomInputs.of(sig, 7),
                (callPath, node, output, value) -> {
                  String body = callPath.isEmpty() ? "" : callPath.get(callPath.size() - 1);
                  seen.add(body + "|" + node + ":" + output);
                  entered.add(body);
                  if (callPath.isEmpty()) {
                    top.put(node + ":" + output, value);
                  } else if (node.equals(firstInput(imported, body))) {
                    calls.merge(body, 1, Integer::sum);
                  }
                });
        for (var spec : sig.outputs()) {
          TensorRef r = TensorRef.parse(spec.tensor());
          assertThat(Values.toTensor(top.get(r.node() + ":" + r.index())))
              .as(file + " " + spec.name())
              .isEqualTo(out.get(spec.name()));
        }
      }
      List<String> missing = new ArrayList<>();
      for (var s : imported.tensorMap()) {
        String body = s.function() == null ? "" : s.function();
        if (!entered.contains(body)) {
          continue; // a loop body or branch these inputs never enter
        }
        for (String ref : s.tensors()) {
          if (ref != null && !isConst(imported, s.function(), TensorRef.nodeOf(ref))) {
            TensorRef r = TensorRef.parse(ref);
            if (!seen.contains(body + "|" + r.node() + ":" + r.index())) {
              missing.add(body + "|" + ref);
            }
          }
        }
      }
      assertThat(missing).as(file + " mapped tensors never observed").isEmpty();
      assertThat(entered.size()).as(file + " runs inside functions").isGreaterThan(1);
      for (Node n : allWhiles(imported)) {
        String cond = ((org.tfport.core.graph.AttrValue.Func) n.attr("cond")).value().name();
        String body = ((org.tfport.core.graph.AttrValue.Func) n.attr("body")).value().name();
        if (entered.contains(cond)) {
          assertThat(calls.getOrDefault(cond, 0))
              .as(file + " " + cond + " runs once more than " + body + " per loop")
              .isGreaterThan(calls.getOrDefault(body, 0));
        }
      }
    }
  }

  private static String firstInput(TfliteImporter.ImportedModel m, String function) {
    var f = m.graph().functions().get(function);
    return f == null || f.inputArgs().isEmpty() ? null : f.inputArgs().get(0).name();
  }

  private static boolean isConst(TfliteImporter.ImportedModel m, String function, String node) {
    List<Node> nodes =
        function == null ? m.graph().nodes() : m.graph().functions().get(function).nodes();
    return nodes.stream().anyMatch(n -> n.name().equals(node) && n.op().equals("Const"));
  }

  private static List<Node> allWhiles(TfliteImporter.ImportedModel m) {
    List<Node> out =
        new ArrayList<>(m.graph().nodes().stream().filter(n -> n.op().equals("While")).toList());
    m.graph()
        .functions()
        .values()
        .forEach(f -> out.addAll(f.nodes().stream().filter(n -> n.op().equals("While")).toList()));
    return out;
  }
}
