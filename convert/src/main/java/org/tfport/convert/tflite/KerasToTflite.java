package org.tfport.convert.tflite;

import java.nio.file.Path;
import java.util.List;
import org.tfport.convert.ConversionResult;
import org.tfport.formats.tflite.ConversionMetadata;
import org.tfport.graph.keras.KerasGraph;

/**
 * {@code keras|keras_keras|tfjs_layers_model -> tflite} ({@code from_keras_model}, {@code
 * tflite_convert --keras_model_file}): the TensorFlow graph the layers compute, then the optimizer,
 * lowering and writer of a frozen graph, with one {@code serving_default} SignatureDef whose inputs
 * and outputs are named after the model's input and output layers.
 */
public final class KerasToTflite {
  private KerasToTflite() {}

  public static ConversionResult convert(Path source, KerasGraph kg, Path output, TfliteOptions o) {
    long start = System.nanoTime();
    TfliteConverter.checkOutput(output);
    TfliteConverter.Source s =
        new TfliteConverter.Source(
            kg.graph(),
            "serving_default",
            kg.inputs(),
            kg.inputs(),
            kg.outputs(),
            kg.graph().size());
    return TfliteConverter.convert(
        List.of(s),
        output,
        o,
        ConversionMetadata.MODEL_TYPE_KERAS_MODEL,
        "",
        source.toString(),
        start,
        true);
  }
}
