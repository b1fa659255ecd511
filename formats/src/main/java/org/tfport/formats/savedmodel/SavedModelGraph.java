package org.tfport.formats.savedmodel;

import java.nio.file.Path;
import java.util.List;
import org.tfport.core.graph.Graph;

/**
 * The MetaGraph and signature chosen from a SavedModel, as the IR.
 *
 * @param file the {@code saved_model.pb} read
 * @param graph the MetaGraph's graph with its function library and declared op signatures; its
 *     inputs and outputs are not set
 * @param tags the chosen MetaGraph's tags
 * @param tensorflowVersion the TensorFlow that wrote the file, or "" when not recorded
 * @param variables the checkpoint in {@code variables/}, or null when the model has none
 */
public record SavedModelGraph(
    Path file,
    Graph graph,
    SignatureInfo signature,
    List<String> tags,
    String tensorflowVersion,
    TensorBundle variables) {}
