/**
 * The JVM runtime: loads any model tfport reads into the core graph IR and runs it on pure-Java
 * kernels. Exported: the session API, the kernel SPI and the TFLite importer; the kernels and the
 * constant-folding bridge stay inside.
 */
module org.tfport.runtime {
  requires transitive org.tfport.graph;
  // Models load by URL (file://, http(s)://, plug-in schemes) through io's handlers.
  requires org.tfport.io;
  requires flatbuffers.java;
  requires tensorflow.nativelib;
  // Optional: the optimized kernels use the Vector API only when the JVM was started with
  // --add-modules jdk.incubator.vector; without it they run their scalar micro-kernels.
  requires static jdk.incubator.vector;

  exports org.tfport.runtime;
  exports org.tfport.runtime.kernel;
  exports org.tfport.runtime.tflite;

  // The graph module's constant folding and shape inference evaluate on these kernels.
  provides org.tfport.graph.optimize.ConstantEvaluator with
      org.tfport.runtime.fold.KernelFolding;
}
