/**
 * The conversion targets behind one typed API ({@link org.tfport.convert.Converter}): Keras to
 * TF.js layers models ({@code convert.keras}), TensorFlow graphs to TF.js graph models ({@code
 * convert.tfjs}), graphs to TFLite with quantization and metadata ({@code convert.tflite}), the
 * analyzer, and {@link org.tfport.convert.ConversionCheck}, which runs source and output in the
 * runtime. It may use core, formats, graph and runtime; never io, server or cli.
 */
package org.tfport.convert;
