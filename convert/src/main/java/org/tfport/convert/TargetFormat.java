package org.tfport.convert;

/** The formats {@link Converter} writes. */
public enum TargetFormat {
  /** A TF.js layers model folder (from Keras, or a TF.js layers model written again). */
  TFJS_LAYERS_MODEL,
  /** A TF.js graph model folder (from a TensorFlow graph, or a TF.js graph model written again). */
  TFJS_GRAPH_MODEL,
  /** A {@code .tflite} file (from a TensorFlow graph or a TF.js graph model). */
  TFLITE;

  /** The TF.js format that fits {@code source}: a layers model for Keras models, a graph model for graphs. */
  public static TargetFormat tfjsFor(SourceFormat source) {
    return switch (source) {
      case KERAS_H5, KERAS_V3, TFJS_LAYERS_MODEL -> TFJS_LAYERS_MODEL;
      case TF_SAVED_MODEL, TF_FROZEN_MODEL, TF_HUB, TFJS_GRAPH_MODEL -> TFJS_GRAPH_MODEL;
    };
  }
}
