/**
 * The conversion targets (TF.js layers and graph models, TFLite) and the analyzer. The API is
 * {@link org.tfport.convert.Converter} with its options and results in {@code org.tfport.convert},
 * and the analyzer in {@code org.tfport.convert.analyze}; the targets' own packages stay inside.
 */
module org.tfport.convert {
  requires transitive org.tfport.formats;
  requires transitive org.tfport.runtime;
  requires com.google.protobuf;
  requires flatbuffers.java;
  requires tensorflow.nativelib;

  exports org.tfport.convert;
  exports org.tfport.convert.analyze;
}
