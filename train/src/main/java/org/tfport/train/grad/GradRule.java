package org.tfport.train.grad;

import java.util.List;
import org.tfport.core.graph.Node;

/** The gradient of one op: from the gradients of its outputs, those of its data inputs. */
@FunctionalInterface
public interface GradRule {
  /**
   * @param g where to emit, with the forward graph's static shapes
   * @param n the forward node
   * @param dy one gradient per output of {@code n}, null where none flows back
   * @return one gradient tensor per data input of {@code n}, null where none flows (an integer
   *     input, a shape)
   */
  List<String> apply(GradContext g, Node n, List<String> dy);
}
