package org.tfport.runtime.fold;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Node;
import org.tfport.graph.optimize.ConstantEvaluator;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelFactory;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.NodeBinding;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.runtime.ops.StandardKernels;

/**
 * Constant folding on the runtime's reference kernels: the node is bound with its constant inputs
 * and run, and its result is used only where {@link FoldRules} says it is TensorFlow's bit for bit.
 * Installed for the graph module's {@link org.tfport.graph.optimize.ConstantFolding} and shape
 * inference through {@link java.util.ServiceLoader}.
 */
public final class KernelFolding implements ConstantEvaluator {
  private static final RunContext SINGLE_THREAD =
      new RunContext() {
        @Override
        public int threads() {
          return 1;
        }

        @Override
        public ForkJoinPool pool() {
          return ForkJoinPool.commonPool();
        }

        @Override
        public <T> T sessionState(String key, Supplier<T> create) {
          // Folded ops keep no state between runs.
          return create.get();
        }
      };

  private final KernelRegistry registry = StandardKernels.registry();

  /** Made by {@link java.util.ServiceLoader}. */
  public KernelFolding() {}

  @Override
  public Set<String> ops() {
    return FoldRules.OPS;
  }

  @Override
  public Tensor evaluate(Node n, List<Tensor> inputs) {
    if (!FoldRules.OPS.contains(n.op())) {
      return null;
    }
    for (Tensor t : inputs) {
      if (t == null || !FoldRules.FIXED_WIDTH.contains(t.dtype())) {
        return null;
      }
    }
    try {
      Value[] in = new Value[inputs.size()];
      for (int i = 0; i < in.length; i++) {
        in[i] = Values.fromTensor(inputs.get(i));
      }
      FoldRules.before(n, in);
      KernelFactory factory = registry.factory(n.op(), KernelRegistry.Mode.REFERENCE);
      if (factory == null) {
        return null;
      }
      Kernel k = factory.bind(new Binding(n, in));
      Value[] out = k.run(in, SINGLE_THREAD);
      if (out.length != 1 || out[0].isHandle()) {
        return null;
      }
      FoldRules.after(n, in, out[0]);
      return Values.toTensor(out[0]);
    } catch (RuntimeException e) {
      // Values TensorFlow itself would reject (a bad shape, an index out of range), or a declined
      // node.
      return null;
    }
  }

  /** A node whose inputs are all known constants. */
  private static final class Binding extends NodeBinding {
    private final Value[] inputs;

    Binding(Node node, Value[] inputs) {
      super(node, defaults(node, inputs));
      this.inputs = inputs;
    }

    /**
     * An attribute a hand-made node may leave out that the folding evaluator never needed: the
     * element type (from the inputs).
     */
    private static Map<String, AttrValue> defaults(Node node, Value[] inputs) {
      Map<String, AttrValue> d = new HashMap<>();
      int typed = node.op().equals("SelectV2") || node.op().equals("Concat") ? 1 : 0;
      if (typed < inputs.length) {
        d.put("T", new AttrValue.Type(inputs[typed].dtype().tfEnum()));
      }
      return d;
    }

    @Override
    public Value constantInput(int i) {
      return inputs[i];
    }

    @Override
    public DType inputType(int i) {
      return inputs[i].dtype();
    }

    @Override
    public long[] inputShape(int i) {
      return inputs[i].shape().clone();
    }

    @Override
    public Function function(String attrName) {
      throw new KernelException("constant folding calls no functions");
    }
  }
}
