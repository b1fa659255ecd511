/**
 * Target-independent optimization of the graph IR, the work Grappler's constant folding,
 * arithmetic, dependency and pruning passes and the TF.js converter's batch-norm folding do for
 * {@code tensorflowjs_converter}: passes ({@link org.tfport.core.graph.GraphPass}) that keep every
 * graph output's value for any feed, and {@link org.tfport.graph.optimize.GraphOptimizer}, which
 * runs them in upstream's order. Targets run it on a frozen graph and add their own fusions after
 * it (TF.js: {@code org.tfport.convert.tfjs.TfjsFusion}).
 *
 * <p>The graph's interface is fixed: graph inputs (placeholders) stay even when nothing reads them
 * any more, and a node named by a graph output keeps its name (it becomes an {@code Identity}
 * rather than go). Nothing is merged or fused across a node that something else also reads.
 *
 * <p>Constant folding evaluates ops with the runtime's reference kernels, installed as a {@link
 * org.tfport.graph.optimize.ConstantEvaluator}, only where the result is TensorFlow's bit for bit;
 * the runtime's {@code KernelFoldingTest} checks that against TensorFlow 2.18 itself.
 */
package org.tfport.graph.optimize;
