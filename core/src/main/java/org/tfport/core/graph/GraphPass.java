package org.tfport.core.graph;

/**
 * One rewrite of a {@link Graph}. A pass keeps the graph's meaning for every {@linkplain
 * Graph#outputs() output} given the same {@linkplain Graph#inputs() inputs}, leaves the graph valid
 * ({@link Graph#validate()}), and goes through {@link Graph#replaceUses} when it rewires consumers,
 * so the graph's own outputs follow.
 */
public interface GraphPass {
  /** A short name for progress and debugging ({@code "inline-functions"}). */
  String name();

  /** Rewrites {@code graph} in place; returns whether anything changed. */
  boolean apply(Graph graph);
}
