/**
 * Every on-disk codec, reading and writing: Keras HDF5 and {@code .keras}, TF.js model.json and
 * weight shards, SavedModel, TensorBundle and GraphDef, TFLite FlatBuffers, {@code .npy}; and
 * {@link org.tfport.formats.ModelFormat}, the one place a model's format is told from its path.
 * Each codec checks every length, offset and shape a file gives before using it. It may use core,
 * jhdf, protobuf (the TensorFlow protos), FlatBuffers and Jackson; never graph, runtime or convert.
 */
package org.tfport.formats;
