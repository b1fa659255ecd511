package org.tfport.convert.tflite;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.tfport.core.graph.Graph;

/**
 * Which nodes the TFLite lowering expresses, found by running exactly what {@link TfliteConverter}
 * runs (TF1 control flow rewritten to If/While, the optimizer, then {@link Lowering}) without
 * writing a file. The graph is rewritten in place.
 */
public final class TfliteOpSupport {
  private TfliteOpSupport() {}

  /**
   * @param unsupported {@code "Op (node)"} for each node with no builtin (empty with select TF ops)
   * @param flexOps the op types that became Flex ops (select TF ops only)
   */
  public record Result(List<String> unsupported, Set<String> flexOps) {}

  public static Result check(Graph g, List<String> inputNodes, boolean selectTfOps) {
    TfliteConverter.prepare(g);
    TfliteOptions o = TfliteOptions.defaults().withOps(false, selectTfOps);
    ModelBuilder model = new ModelBuilder();
    ModelBuilder.Sub main = new ModelBuilder.Sub("main");
    model.subgraphs.add(main);
    Lowering low = new Lowering(g, main, o);
    low.model = model;
    low.run(inputNodes);
    return new Result(new ArrayList<>(low.unsupported), new TreeSet<>(low.flexOps));
  }
}
