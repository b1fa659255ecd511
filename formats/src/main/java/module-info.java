/**
 * Every on-disk codec, reading and writing: Keras HDF5 and .keras, TF.js model.json and weight
 * shards, SavedModel, TensorBundle and GraphDef, TFLite FlatBuffers, .npy.
 */
module org.tfport.formats {
  requires transitive org.tfport.core;
  requires io.jhdf;
  requires com.google.protobuf;
  requires tensorflow.nativelib;
  requires flatbuffers.java;
  requires tensorflow.lite.metadata;

  exports org.tfport.formats;
  exports org.tfport.formats.graphdef;
  exports org.tfport.formats.keras;
  exports org.tfport.formats.mlir;
  exports org.tfport.formats.npy;
  exports org.tfport.formats.savedmodel;
  exports org.tfport.formats.stablehlo;
  exports org.tfport.formats.tfjs;
  exports org.tfport.formats.tflite;
}
