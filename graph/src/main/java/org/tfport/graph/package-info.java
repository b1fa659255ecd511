/**
 * Loading TensorFlow-family sources into the core graph IR ({@link org.tfport.graph.GraphLoader}
 * for SavedModels, TF Hub modules and frozen GraphDefs, {@link org.tfport.graph.TfjsGraphReader}
 * for TF.js graph models): signature choice, function inlining, variable freezing, table
 * initializers, TF1 control flow to functional form and TensorArrays to plain tensors. The
 * target-independent optimizer is in {@code org.tfport.graph.optimize}; constant folding there
 * finds its kernels through {@link org.tfport.graph.optimize.ConstantEvaluator} (the runtime
 * provides them). It may use core and formats; never runtime or convert.
 */
package org.tfport.graph;
