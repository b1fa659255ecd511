package org.tfport.convert.tfjs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.convert.Version;
import org.tfport.core.AtomicOutput;
import org.tfport.core.ProgressListener;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.tfjs.TfjsModel;
import org.tfport.formats.tfjs.TfjsModelJson;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.formats.tfjs.TfjsWriter;
import org.tfport.formats.tfjs.WeightEntry;
import org.tfport.formats.tfjs.WriteOptions;
import org.tfport.formats.tfjs.WriteSummary;

/**
 * A TF.js model written again with other shard sizes, quantization or grouping. Unlike upstream,
 * which round-trips a layers model through Keras, the topology, {@code generatedBy} and metadata
 * are kept as they were (new metadata entries are added). Without a new quantization, quantized
 * weights keep their stored bytes; with one, they are dequantized exactly and quantized as asked.
 */
public final class TfjsReshard {
  private TfjsReshard() {}

  /** {@code tfjs_layers_model -> tfjs_layers_model}. */
  public static ConversionResult convertLayersModel(
      Path input, Path output, TfjsOutputOptions options, ProgressListener progress) {
    return convert(input, output, options, progress, TfjsModelJson.LAYERS_MODEL);
  }

  /** {@code tfjs_graph_model -> tfjs_graph_model}. */
  public static ConversionResult convertGraphModel(
      Path input, Path output, TfjsOutputOptions options, ProgressListener progress) {
    return convert(input, output, options, progress, TfjsModelJson.GRAPH_MODEL);
  }

  private static ConversionResult convert(
      Path input,
      Path output,
      TfjsOutputOptions options,
      ProgressListener progress,
      String format) {
    long start = System.nanoTime();
    Path json = Files.isDirectory(input) ? input.resolve("model.json") : input;
    if (!Files.isRegularFile(json)) {
      throw new UsageException(
          input + ": no model.json there; give the path of a TF.js " + format + " model.json");
    }
    TfjsModel model = TfjsReader.read(json);
    TfjsModelJson mj = model.modelJson();
    // model.json files from converters before 1.0 have no format: they are layers models.
    String found = mj.format() == null ? TfjsModelJson.LAYERS_MODEL : mj.format();
    if (!format.equals(found)) {
      throw new UsageException(
          json + ": is a " + found + ", not a " + format + "; convert it as a " + found);
    }
    if (format.equals(TfjsModelJson.GRAPH_MODEL)
        && options.weightGrouping() == TfjsOutputOptions.WeightGrouping.PER_LAYER) {
      throw new UsageException(
          json
              + ": a graph model has no layers to group weights by; use"
              + " TfjsOutputOptions.WeightGrouping.ONE_GROUP");
    }
    if (options.userDefinedMetadata() != null) {
      var merged =
          mj.userDefinedMetadata() != null && mj.userDefinedMetadata().isObject()
              ? mj.userDefinedMetadata().deepCopy()
              : org.tfport.core.Json.MAPPER.createObjectNode();
      ((tools.jackson.databind.node.ObjectNode) merged).setAll(options.userDefinedMetadata());
      mj = mj.withUserDefinedMetadata(merged);
    }
    mj =
        new TfjsModelJson(
            found,
            mj.generatedBy(),
            Version.CONVERTED_BY,
            mj.modelTopology(),
            mj.signature(),
            mj.userDefinedMetadata(),
            mj.trainingConfig(),
            mj.modelInitializer(),
            mj.initializerSignature(),
            mj.extras());
    // Without a new quantization, quantized weights keep their stored bytes: dequantizing and
    // writing float32 would grow the model and requantizing would round them a second time.
    boolean keep = options.quantization().isEmpty();
    List<List<WeightEntry>> groups = keep ? model.storedWeightEntries() : model.weightEntries();
    long kept = groups.stream().flatMap(List::stream).filter(e -> e.keep() != null).count();
    if (options.weightGrouping() == TfjsOutputOptions.WeightGrouping.PER_LAYER) {
      groups = byLayer(groups);
    }
    try (AtomicOutput out = AtomicOutput.modelFolder(output, options.overwrite())) {
      WriteSummary ws =
          TfjsWriter.write(
              out.dir(),
              mj,
              groups,
              new WriteOptions(options.shardSizeBytes(), options.quantization()),
              progress);
      out.commit();
      List<String> notices = new ArrayList<>(ws.notices());
      if (kept > 0) {
        notices.add(
            String.format(
                "%,d quantized weight%s kept as stored (no QuantizationMap.float16/uint8/uint16 patterns"
                    + " given)",
                kept, kept == 1 ? "" : "s"));
      }
      return new ConversionResult(
          output,
          ws.files().stream().map(f -> output.resolve(out.dir().relativize(f))).toList(),
          ws.totalBytes(),
          ws.weightCount(),
          null,
          (System.nanoTime() - start) / 1_000_000,
          notices,
          "");
    }
  }

  /**
   * Groups weights by the layer part of their name ({@code dense_1/kernel} belongs to {@code
   * dense_1}).
   */
  static List<List<WeightEntry>> byLayer(List<List<WeightEntry>> groups) {
    java.util.LinkedHashMap<String, List<WeightEntry>> byLayer = new java.util.LinkedHashMap<>();
    for (List<WeightEntry> g : groups) {
      for (WeightEntry e : g) {
        int slash = e.name().indexOf('/');
        String layer = slash < 0 ? e.name() : e.name().substring(0, slash);
        byLayer.computeIfAbsent(layer, k -> new ArrayList<>()).add(e);
      }
    }
    return new ArrayList<>(byLayer.values());
  }
}
