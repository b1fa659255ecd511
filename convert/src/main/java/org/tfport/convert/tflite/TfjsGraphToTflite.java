package org.tfport.convert.tflite;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tfport.convert.ConversionResult;
import org.tfport.formats.tflite.ConversionMetadata;
import org.tfport.graph.TfjsGraphReader;

/**
 * {@code tfjs_graph_model -> tflite}: the model.json read back into a frozen graph ({@link
 * TfjsGraphReader}, which splits the TF.js fused ops), then the same optimizer, lowering and writer
 * as a frozen GraphDef, with one {@code serving_default} SignatureDef from the model.json
 * signature.
 */
public final class TfjsGraphToTflite {
  private TfjsGraphToTflite() {}

  public static ConversionResult convert(Path modelJson, Path output, TfliteOptions o) {
    long start = System.nanoTime();
    TfliteConverter.checkOutput(output);
    TfjsGraphReader.TfjsGraph tg = TfjsGraphReader.read(modelJson);
    Map<String, String> ins = new TreeMap<>(tg.inputs());
    TfliteConverter.Source s =
        new TfliteConverter.Source(
            tg.graph(),
            "serving_default",
            new ArrayList<>(ins.keySet()),
            new ArrayList<>(ins.values()),
            List.copyOf(tg.outputKeys()),
            tg.graph().size());
    return TfliteConverter.convert(
        List.of(s),
        output,
        o,
        ConversionMetadata.MODEL_TYPE_TF_GRAPH_DEF,
        "",
        tg.source().toString(),
        start,
        true);
  }
}
