/**
 * Loading TensorFlow-family sources (SavedModel, frozen GraphDef, TF Hub, TF.js graph model) into
 * the core graph IR, freezing, inlining, functionalizing, TensorArray/TensorList handling and the
 * target-independent optimizer.
 */
module org.tfport.graph {
  requires transitive org.tfport.formats;

  exports org.tfport.graph;
  exports org.tfport.graph.optimize;
  exports org.tfport.graph.keras;
  exports org.tfport.graph.stablehlo;

  uses org.tfport.graph.optimize.ConstantEvaluator;
}
