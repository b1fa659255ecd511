/**
 * Dtypes, shapes, tensors, errors, atomic output and the graph IR: what every other tfport module
 * shares.
 */
module org.tfport.core {
  requires transitive tools.jackson.databind;

  exports org.tfport.core;
  exports org.tfport.core.graph;
}
