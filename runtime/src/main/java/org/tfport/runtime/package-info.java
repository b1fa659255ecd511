/**
 * The JVM runtime: {@link org.tfport.runtime.Model} loads any model tfport reads (SavedModel, TF
 * Hub, frozen GraphDef, TF.js graph model, {@code .tflite}) and compiles it once into an immutable
 * plan; {@link org.tfport.runtime.Session}s run it, one per thread. Kernels live per op family in
 * {@code org.tfport.runtime.ops} (a reference kernel per op, an optimized one where it matters),
 * behind the SPI in {@code org.tfport.runtime.kernel}; the TFLite importer is in {@code
 * org.tfport.runtime.tflite}. It may use core, formats and graph; never convert.
 */
package org.tfport.runtime;
