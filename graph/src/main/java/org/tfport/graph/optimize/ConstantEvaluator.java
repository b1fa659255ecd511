package org.tfport.graph.optimize;

import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import org.tfport.core.Tensor;
import org.tfport.core.graph.Node;

/**
 * Evaluates one node on constant inputs for constant folding and shape inference, giving
 * TensorFlow's result bit for bit or nothing. The graph module has no kernels of its own: the
 * runtime installs one (found with {@link ServiceLoader}); without it only {@code Shape}, {@code
 * Size} and {@code Rank} of statically known shapes fold.
 */
public interface ConstantEvaluator {
  /**
   * Evaluates nothing: what {@link #installed()} gives when no implementation is on the class path.
   */
  ConstantEvaluator NONE =
      new ConstantEvaluator() {
        @Override
        public Set<String> ops() {
          return Set.of();
        }

        @Override
        public Tensor evaluate(Node n, List<Tensor> inputs) {
          return null;
        }
      };

  /** Every op {@link #evaluate} may fold; it may still decline a node for its types or values. */
  Set<String> ops();

  /**
   * The single output of {@code n} given its data inputs' values, or null when the op, a type or a
   * value is outside what this evaluator reproduces exactly. Never throws for values TensorFlow
   * would reject: it declines.
   */
  Tensor evaluate(Node n, List<Tensor> inputs);

  /** The first implementation on the class path (looked up once), else {@link #NONE}. */
  static ConstantEvaluator installed() {
    return Installed.EVALUATOR;
  }
}

/** Holds the looked-up evaluator: initialized on first use, then shared. */
final class Installed {
  static final ConstantEvaluator EVALUATOR =
      ServiceLoader.load(ConstantEvaluator.class, ConstantEvaluator.class.getClassLoader())
          .findFirst()
          .orElse(ConstantEvaluator.NONE);

  private Installed() {}
}
