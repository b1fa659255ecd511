package org.tfport.convert.tfjs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tfport.convert.ConversionSummary;
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
 * A TF.js layers model written again with other shard sizes, quantization or grouping. Unlike upstream,
 * which round-trips through Keras, the topology, {@code generatedBy} and metadata are kept as they were
 * (new {@code --metadata} entries are added), and weights are dequantized exactly before requantizing.
 */
public final class TfjsLayersReshard {
  private TfjsLayersReshard() {}

  public static ConversionSummary convert(Path input, Path output, TfjsOutputOptions options,
      ProgressListener progress) {
    long start = System.nanoTime();
    Path json = Files.isDirectory(input) ? input.resolve("model.json") : input;
    if (!Files.isRegularFile(json)) {
      throw new UsageException(input + ": no model.json there; give the path of a TF.js layers model.json");
    }
    TfjsModel model = TfjsReader.read(json);
    TfjsModelJson mj = model.modelJson();
    if (mj.format() != null && !TfjsModelJson.LAYERS_MODEL.equals(mj.format())) {
      throw new UsageException(json + ": is a " + mj.format() + ", not a layers model; use"
          + " --input_format=tfjs_graph_model");
    }
    if (options.userDefinedMetadata() != null) {
      var merged = mj.userDefinedMetadata() != null && mj.userDefinedMetadata().isObject()
          ? mj.userDefinedMetadata().deepCopy() : org.tfport.core.Json.MAPPER.createObjectNode();
      ((tools.jackson.databind.node.ObjectNode) merged).setAll(options.userDefinedMetadata());
      mj = mj.withUserDefinedMetadata(merged);
    }
    mj = new TfjsModelJson(mj.format() == null ? TfjsModelJson.LAYERS_MODEL : mj.format(), mj.generatedBy(),
        Version.CONVERTED_BY, mj.modelTopology(), mj.signature(), mj.userDefinedMetadata(), mj.trainingConfig(),
        mj.modelInitializer(), mj.initializerSignature(), mj.extras());
    List<List<WeightEntry>> groups = model.weightEntries();
    if (options.splitWeightsByLayer()) {
      groups = byLayer(groups);
    }
    try (AtomicOutput out = AtomicOutput.folder(output)) {
      WriteSummary ws = TfjsWriter.write(out.dir(), mj, groups,
          new WriteOptions(options.shardSizeBytes(), options.quantization()), progress);
      out.commit();
      return new ConversionSummary(output, ws.files().size(), ws.totalBytes(), ws.weightCount(),
          (System.nanoTime() - start) / 1_000_000, ws.notices());
    }
  }

  /** Groups weights by the layer part of their name ({@code dense_1/kernel} belongs to {@code dense_1}). */
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
