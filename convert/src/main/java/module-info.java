/**
 * The conversion targets (TF.js layers and graph models, TFLite) and the analyzer. The API is
 * {@link org.tfport.convert.Converter} and its options in {@code org.tfport.convert}, and the analyzer in
 * {@code org.tfport.convert.analyze}; the targets' own packages are not exported.
 */
module org.tfport.convert {
  requires transitive org.tfport.formats;
  requires org.tfport.graph;
  requires tensorflow.nativelib;

  exports org.tfport.convert;
  exports org.tfport.convert.analyze;
}
