package org.tfport.formats.tflite;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.tfport.formats.tflite.TfliteAnalysis.Io;
import org.tfport.formats.tflite.TfliteAnalysis.SizeEstimate;
import org.tfport.formats.tflite.TfliteAnalysis.TypeStats;

/**
 * Summarizes a {@code .tflite} model: op counts (builtin names from the {@code BuiltinOperator}
 * enum, custom ops, Flex ops), constants by type, and what each post-training quantization mode
 * would do to the file size. The estimates follow what the reference converter quantizes (spec
 * 3.3–3.6) on the constants as they are now; already-quantized constants stay as they are.
 */
public final class TfliteAnalyzer {
  // Dynamic-range quantization leaves small tensors in float (the converter's 1024-element
  // threshold).
  private static final int DYNAMIC_RANGE_MIN_ELEMENTS = 1024;

  private TfliteAnalyzer() {}

  public static TfliteAnalysis analyze(Path file) {
    TfliteModel m = TfliteReader.read(file);
    long size;
    try {
      size = Files.size(file);
    } catch (java.io.IOException e) {
      size = -1;
    }
    return analyze(m, file.getFileName().toString(), size);
  }

  /**
   * @param fileBytes the file's size; -1 to use the size tfport would write
   */
  public static TfliteAnalysis analyze(TfliteModel m, String name, long fileBytes) {
    if (fileBytes < 0) {
      fileBytes = TfliteWriter.write(m).length;
    }
    Map<String, Integer> builtin = new HashMap<>();
    Map<String, Integer> custom = new HashMap<>();
    Map<String, Integer> flex = new HashMap<>();
    int ops = 0;
    int tensors = 0;
    // How each constant buffer is used, for the estimates: weight of which op (and its channel
    // axis), or bias.
    Map<Integer, Use> uses = new HashMap<>();
    Map<Integer, TfliteTensor> owner = new LinkedHashMap<>();
    for (TfliteSubgraph g : m.subgraphs()) {
      tensors += g.tensors().size();
      for (TfliteTensor t : g.tensors()) {
        if (t.buffer() != 0 && !m.buffers().get(t.buffer()).isEmpty()) {
          owner.putIfAbsent(t.buffer(), t);
        }
      }
      for (TfliteOperator op : g.operators()) {
        ops++;
        TfliteOperatorCode c = m.opcode(op);
        if (c.isFlex()) {
          flex.merge(
              c.customCode().substring(TfliteOperatorCode.FLEX_PREFIX.length()), 1, Integer::sum);
        } else if (c.isCustom()) {
          custom.merge(
              c.customCode() == null ? "(unnamed custom op)" : c.customCode(), 1, Integer::sum);
        } else {
          builtin.merge(c.name(), 1, Integer::sum);
        }
        c.builtin().ifPresent(b -> classify(b, op, g, uses));
      }
    }
    Map<String, TypeStats> byType = new TreeMap<>();
    long params = 0;
    long constBytes = 0;
    for (Map.Entry<Integer, TfliteTensor> e : owner.entrySet()) {
      TfliteTensor t = e.getValue();
      long bytes = m.buffers().get(e.getKey()).size();
      long n = Math.max(t.elementCount(), 0);
      params += n;
      constBytes += bytes;
      byType.merge(
          t.type().name(),
          new TypeStats(1, n, bytes),
          (a, b) ->
              new TypeStats(
                  a.tensors() + b.tensors(), a.elements() + b.elements(), a.bytes() + b.bytes()));
    }
    List<SizeEstimate> est = estimates(m, owner, uses, fileBytes);

    TfliteSubgraph main = m.subgraphs().isEmpty() ? null : m.subgraphs().get(0);
    List<Io> in = main == null ? List.of() : io(main, main.inputs());
    List<Io> out = main == null ? List.of() : io(main, main.outputs());
    String md = null;
    try {
      md = TfliteMetadata.read(m).map(TfliteModelMetadata::name).orElse(null);
    } catch (RuntimeException e) {
      md = "(unreadable: " + e.getMessage() + ")";
    }
    return new TfliteAnalysis(
        name,
        fileBytes,
        m.description(),
        m.minRuntimeVersion().orElse(null),
        m.subgraphs().size(),
        ops,
        tensors,
        sorted(builtin),
        sorted(custom),
        sorted(flex),
        byType,
        params,
        constBytes,
        in,
        out,
        m.signatureDefs().stream().map(TfliteSignatureDef::key).toList(),
        m.metadata().stream().map(TfliteMetadataEntry::name).toList(),
        md,
        est);
  }

  private static List<Io> io(TfliteSubgraph g, List<Integer> idx) {
    List<Io> out = new ArrayList<>();
    for (int i : idx) {
      TfliteTensor t = g.tensors().get(i);
      out.add(
          new Io(
              t.name(),
              t.type().name(),
              t.shapeSignature() != null ? t.shapeSignature() : t.shape()));
    }
    return out;
  }

  private static Map<String, Integer> sorted(Map<String, Integer> m) {
    return m.entrySet().stream()
        .sorted(
            Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder())
                .thenComparing(Map.Entry.comparingByKey()))
        .collect(
            Collectors.toMap(
                Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
  }

  /**
   * A constant's role: a weight (with the axis per-channel scales run along, -1 per-tensor) or a
   * bias.
   */
  private record Use(boolean weight, boolean hybrid, int channelAxis) {}

  private static void classify(
      TfliteBuiltin code, TfliteOperator op, TfliteSubgraph g, Map<Integer, Use> uses) {
    List<Integer> in = op.inputs();
    switch (code) {
      case CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV, CONV_3D -> { // weights are per output channel
        int axis = code == TfliteBuiltin.CONV_3D ? 4 : 0;
        mark(
            g,
            in,
            1,
            new Use(
                true, code == TfliteBuiltin.CONV_2D || code == TfliteBuiltin.FULLY_CONNECTED, axis),
            uses);
        mark(g, in, code == TfliteBuiltin.TRANSPOSE_CONV ? 3 : 2, new Use(false, false, -1), uses);
      }
      case DEPTHWISE_CONV_2D -> { // channels last
        mark(g, in, 1, new Use(true, true, 3), uses);
        mark(g, in, 2, new Use(false, false, -1), uses);
      }
      case BATCH_MATMUL -> mark(g, in, 1, new Use(true, true, -1), uses); // the rhs
      case LSTM,
          UNIDIRECTIONAL_SEQUENCE_LSTM,
          BIDIRECTIONAL_SEQUENCE_LSTM,
          RNN,
          UNIDIRECTIONAL_SEQUENCE_RNN,
          BIDIRECTIONAL_SEQUENCE_RNN,
          SVDF -> { // every 2-D constant is a weight matrix
        for (int k = 1; k < in.size(); k++) {
          int t = in.get(k);
          if (t >= 0 && g.tensors().get(t).shape().size() == 2) {
            mark(g, in, k, new Use(true, true, -1), uses);
          }
        }
      }
      default -> {}
    }
  }

  private static void mark(
      TfliteSubgraph g, List<Integer> in, int k, Use use, Map<Integer, Use> uses) {
    if (k < in.size() && in.get(k) >= 0) {
      int b = g.tensors().get(in.get(k)).buffer();
      if (b != 0) {
        uses.putIfAbsent(b, use);
      }
    }
  }

  private static List<SizeEstimate> estimates(
      TfliteModel m, Map<Integer, TfliteTensor> owner, Map<Integer, Use> uses, long file) {
    long f32 = 0;
    long dynSaved = 0;
    long int8Saved = 0;
    long int16Saved = 0;
    for (Map.Entry<Integer, TfliteTensor> e : owner.entrySet()) {
      TfliteTensor t = e.getValue();
      if (t.type() != TfliteType.FLOAT32) {
        continue;
      }
      long bytes = m.buffers().get(e.getKey()).size();
      long n = bytes / 4;
      f32 += bytes;
      Use u = uses.get(e.getKey());
      long scales = 4L * channels(t, u);
      if (u != null && u.weight()) {
        if (u.hybrid() && n >= DYNAMIC_RANGE_MIN_ELEMENTS) {
          dynSaved += bytes - n - scales;
        }
        int8Saved += bytes - n - scales;
        int16Saved += bytes - n - scales;
      } else if (u != null) {
        // Biases become int32 (same size) in full int8 and int64 (twice the size) in 16x8.
        int16Saved -= bytes;
      } else {
        int8Saved += bytes - n;
        int16Saved += bytes - 2 * n;
      }
    }
    List<SizeEstimate> out = new ArrayList<>();
    out.add(new SizeEstimate("current", file, "as stored"));
    out.add(
        new SizeEstimate(
            "float16",
            file - f32 / 2,
            "every float32 constant stored as float16 (DEQUANTIZE" + " ops added)"));
    out.add(
        new SizeEstimate(
            "dynamic_range_int8",
            file - dynSaved,
            "float32 weights of conv/FC/matmul/RNN ops"
                + " with >= 1024 values to int8 plus per-channel scales; activations stay float"));
    out.add(
        new SizeEstimate(
            "full_int8",
            file - int8Saved,
            "float32 weights and constants to int8, biases to"
                + " int32 (needs a representative dataset)"));
    out.add(
        new SizeEstimate(
            "int16x8",
            file - int16Saved,
            "int8 weights, int64 biases, other constants int16"
                + " (needs a representative dataset)"));
    return out;
  }

  /** How many scales quantizing this weight adds: one per channel along its axis, else one. */
  private static long channels(TfliteTensor t, Use u) {
    if (u == null || !u.weight() || u.channelAxis() < 0 || u.channelAxis() >= t.shape().size()) {
      return 1;
    }
    return Math.max(1, t.shape().get(u.channelAxis()));
  }
}
