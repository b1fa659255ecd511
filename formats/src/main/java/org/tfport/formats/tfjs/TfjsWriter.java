package org.tfport.formats.tfjs;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.ProgressListener;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.OutputException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.tfjs.QuantMath.FloatAt;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes a TF.js model folder the way {@code tensorflowjs_converter} does: weights converted to
 * dtypes TF.js has, quantized as asked, concatenated in C order per group and cut into {@code
 * group{G}-shard{S}of{N}.bin} files, then model.json. Weights are fetched one at a time and
 * streamed into the shards, so memory stays at about one tensor whatever the model size.
 */
public final class TfjsWriter {
  public static final String MODEL_JSON = "model.json";

  private static final int CHUNK = 64 * 1024;

  private TfjsWriter() {}

  /**
   * Writes model.json and the shard files into {@code dir}, which must exist; the caller owns
   * atomicity (write into a temporary folder, then move it).
   *
   * @param groups the weight groups in manifest order; graph models have one, layers models one or
   *     one per layer
   * @throws UnsupportedModelException for duplicate weight names or a dtype TF.js cannot store
   *     (int8, ...)
   * @throws org.tfport.core.TfportException.UsageException when quantization patterns conflict on a
   *     name
   * @throws OutputException when a file cannot be written
   */
  public static WriteSummary write(
      Path dir,
      TfjsModelJson model,
      List<List<WeightEntry>> groups,
      WriteOptions options,
      ProgressListener progress) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(groups, "groups");
    options = options == null ? WriteOptions.defaults() : options;
    progress = progress == null ? ProgressListener.NONE : progress;
    if (!Files.isDirectory(dir)) {
      throw new OutputException(
          "output folder " + dir + " does not exist or is not a folder; create it first", null);
    }
    List<String> notices = new ArrayList<>();
    // Everything that can be refused is refused before the first byte is written.
    List<List<Planned>> plan = plan(groups, options.quantization(), notices);
    long totalWeightBytes = 0;
    List<ShardSink> sinks = new ArrayList<>();
    for (int g = 0; g < plan.size(); g++) {
      long bytes = plan.get(g).stream().mapToLong(Planned::bytes).sum();
      totalWeightBytes = Math.addExact(totalWeightBytes, bytes);
      sinks.add(new ShardSink(dir, g + 1, bytes, options.shardSizeBytes()));
    }

    List<Path> files = new ArrayList<>();
    List<WriteSummary.Group> summaries = new ArrayList<>();
    ArrayNode manifest = Json.MAPPER.createArrayNode();
    long done = 0;
    int weightCount = 0;
    progress.progress("weights", 0, totalWeightBytes);
    for (int g = 0; g < plan.size(); g++) {
      List<WeightSpec> specs = new ArrayList<>();
      try (ShardSink sink = sinks.get(g)) {
        for (Planned p : plan.get(g)) {
          specs.add(writeOne(p, sink, notices));
          done += p.bytes();
          weightCount++;
          progress.progress("weights", done, totalWeightBytes);
        }
        sink.finish();
      }
      ShardSink sink = sinks.get(g);
      files.addAll(sink.files());
      summaries.add(new WriteSummary.Group(sink.names(), specs, sink.written()));
      ObjectNode group = manifest.addObject();
      ArrayNode paths = group.putArray("paths");
      sink.names().forEach(paths::add);
      ArrayNode weights = group.putArray("weights");
      specs.forEach(s -> weights.add(s.toJson()));
    }

    Path modelJson = dir.resolve(MODEL_JSON);
    try (OutputStream out = Files.newOutputStream(modelJson)) {
      Json.MAPPER.writeValue(out, model.toJson(manifest));
    } catch (IOException | JacksonException e) {
      throw new OutputException(
          "cannot write "
              + modelJson
              + ": "
              + e.getMessage()
              + "; check the output folder is writable and has space",
          e);
    }
    files.add(modelJson);
    long totalBytes = totalWeightBytes;
    try {
      totalBytes += Files.size(modelJson);
    } catch (IOException e) {
      throw new OutputException(
          "cannot read back the size of " + modelJson + ": " + e.getMessage(), e);
    }
    return new WriteSummary(files, totalBytes, weightCount, summaries, notices);
  }

  /**
   * One weight's fate, fixed before writing.
   *
   * @param stored the dtype written (or dequantized to) after the automatic conversions
   * @param quant the quantization dtype, or null
   * @param bytes the exact bytes it will take in the shard stream
   * @param keep the source's own quantization, stored again as it was, or null
   */
  record Planned(WeightEntry entry, DType stored, DType quant, long bytes, Quantization keep) {}

  static List<List<Planned>> plan(
      List<List<WeightEntry>> groups, QuantizationMap quantization, List<String> notices) {
    Map<String, Integer> seen = new HashMap<>();
    for (int g = 0; g < groups.size(); g++) {
      for (WeightEntry e : groups.get(g)) {
        Integer before = seen.putIfAbsent(e.name(), g + 1);
        if (before != null) {
          throw new UnsupportedModelException(
              "duplicate weight name '"
                  + e.name()
                  + "' (group "
                  + before
                  + (before == g + 1 ? "" : " and group " + (g + 1))
                  + "); TF.js finds weights by name, so each"
                  + " must be unique: rename one of the layers or variables");
        }
        if (!e.shape().isFullyKnown()) {
          throw new IllegalArgumentException(
              "weight '" + e.name() + "' has an unknown dimension in " + e.shape());
        }
      }
    }
    List<String> names = groups.stream().flatMap(List::stream).map(WeightEntry::name).toList();
    List<String> unmatched = quantization.unmatched(names);
    if (!unmatched.isEmpty()) {
      throw new UsageException(
          "the quantization pattern"
              + (unmatched.size() == 1 ? " " : "s ")
              + String.join(", ", unmatched)
              + (unmatched.size() == 1 ? " matches" : " match")
              + " no weight; the weights are named like "
              + String.join(", ", names.subList(0, Math.min(3, names.size())))
              + (names.isEmpty() ? "(none: the model has no weights)" : ""));
    }
    List<List<Planned>> plan = new ArrayList<>();
    for (List<WeightEntry> group : groups) {
      List<Planned> ps = new ArrayList<>();
      for (WeightEntry e : group) {
        DType stored = storedDtype(e);
        if (stored != e.dtype()) {
          notices.add(
              "weight '"
                  + e.name()
                  + "' has dtype "
                  + e.dtype().jsName()
                  + ", which TF.js does not"
                  + " support; converted to "
                  + stored.jsName());
        }
        DType quant = stored == DType.FLOAT32 ? quantization.resolve(e.name()) : null;
        // A quantization asked for now wins over the one the weight came with.
        Quantization keep = quant == null ? e.keep() : null;
        if (keep != null) {
          quant = keep.dtype();
        }
        long bytes;
        if (quant != null) {
          bytes = Math.multiplyExact(e.shape().size(), (long) quant.byteSize());
        } else if (stored == DType.STRING) {
          // A string weight's size is in its length prefixes, so the tensor has to be fetched once
          // here.
          bytes = fetch(e).byteLength();
        } else {
          bytes = Math.multiplyExact(e.shape().size(), (long) stored.byteSize());
        }
        if (bytes > Integer.MAX_VALUE) {
          throw new UnsupportedModelException(
              "weight '"
                  + e.name()
                  + "' takes "
                  + bytes
                  + " bytes; TF.js and"
                  + " tfport hold one weight in one array buffer of at most 2 GiB, so split the weight");
        }
        ps.add(new Planned(e, stored, quant, bytes, keep));
      }
      plan.add(ps);
    }
    return plan;
  }

  /** The dtype TF.js gets for a source dtype, following the converter's automatic conversions. */
  static DType storedDtype(WeightEntry e) {
    return switch (e.dtype()) {
      case FLOAT32, INT32, BOOL, STRING, COMPLEX64, UINT8, UINT16 -> e.dtype();
      // bfloat16 is not a numpy dtype the converter knows; widening it is exact, so it goes the
      // float16 way.
      case FLOAT16, FLOAT64, BFLOAT16 -> DType.FLOAT32;
      case INT64 -> DType.INT32;
      default ->
          throw new UnsupportedModelException(
              "weight '"
                  + e.name()
                  + "' has dtype "
                  + e.dtype().jsName()
                  + ", which TF.js cannot store (it has float32, int32, bool, string and complex64); cast the"
                  + " variable to int32 or float32 before converting");
    };
  }

  private static Tensor fetch(WeightEntry e) {
    Tensor t = e.data().get();
    if (t == null || t.dtype() != e.dtype() || !t.shape().equals(e.shape())) {
      throw new IllegalStateException(
          "weight '"
              + e.name()
              + "' was declared "
              + e.dtype().jsName()
              + e.shape()
              + " but its supplier gave "
              + t);
    }
    return t;
  }

  private static WeightSpec writeOne(Planned p, ShardSink sink, List<String> notices) {
    WeightEntry e = p.entry();
    Tensor t = fetch(e);
    int n = Math.toIntExact(t.size());
    long before = sink.written();
    Quantization q = null;
    if (p.quant() == null && p.stored() == t.dtype()) {
      if (t.byteLength() != p.bytes()) {
        throw new IllegalStateException(
            "weight '"
                + e.name()
                + "' was "
                + p.bytes()
                + " bytes when sized but "
                + t.byteLength()
                + " when written; its supplier must return the same tensor each time");
      }
      sink.write(t.bytes());
    } else if (p.quant() == null && p.stored() == DType.INT32) {
      ByteBuffer src = t.bytes();
      int wrapped = 0;
      Chunker out = new Chunker(sink);
      for (int i = 0; i < n; i++) {
        long v = src.getLong(i * 8);
        if (v != (int) v) {
          wrapped++;
        }
        out.room(4).putInt((int) v);
      }
      out.flush();
      if (wrapped > 0) {
        notices.add(
            "weight '"
                + e.name()
                + "': "
                + wrapped
                + " int64 values lie outside the int32 range and"
                + " wrapped around, as in the Python converter; check the model does not depend on them");
      }
    } else {
      FloatAt xs = floats(t);
      Chunker out = new Chunker(sink);
      if (p.keep() != null) {
        int width = p.keep().bytesPerElement();
        for (int i = 0; i < n; i++) {
          int v = QuantMath.stored(xs.get(i), p.keep());
          if (width == 2) {
            out.room(2).putShort((short) v);
          } else {
            out.room(1).put((byte) v);
          }
        }
        q = p.keep();
      } else if (p.quant() == null) {
        for (int i = 0; i < n; i++) {
          out.room(4).putFloat(xs.get(i));
        }
      } else if (p.quant() == DType.FLOAT16) {
        for (int i = 0; i < n; i++) {
          out.room(2).putShort(QuantMath.toFloat16(xs.get(i)));
        }
        q = Quantization.float16();
      } else {
        QuantMath.Affine a = QuantMath.fit(xs, n, p.quant(), e.name());
        boolean wide = p.quant() == DType.UINT16;
        for (int i = 0; i < n; i++) {
          int v = a.quantize(xs.get(i));
          if (wide) {
            out.room(2).putShort((short) v);
          } else {
            out.room(1).put((byte) v);
          }
        }
        q = a.metadata(p.quant());
      }
      out.flush();
    }
    if (sink.written() - before != p.bytes()) {
      throw new IllegalStateException(
          "weight '"
              + e.name()
              + "': wrote "
              + (sink.written() - before)
              + " bytes, planned "
              + p.bytes());
    }
    return new WeightSpec(e.name(), e.shape(), p.stored(), q, e.group());
  }

  /** Element reader for the float source dtypes the writer converts or quantizes. */
  static FloatAt floats(Tensor t) {
    ByteBuffer b = t.bytes();
    return switch (t.dtype()) {
      case FLOAT32 -> i -> b.getFloat(i * 4);
      case FLOAT16 -> i -> Float.float16ToFloat(b.getShort(i * 2));
      case BFLOAT16 -> i -> Float.intBitsToFloat((b.getShort(i * 2) & 0xffff) << 16);
      // numpy's astype(float32) rounds to nearest even, as Java's narrowing cast does.
      case FLOAT64 -> i -> (float) b.getDouble(i * 8);
      default -> throw new IllegalStateException("not a float dtype: " + t.dtype());
    };
  }

  /**
   * Encodes elements into a small reusable buffer and hands it to the sink whenever it fills up.
   */
  private static final class Chunker {
    private final ShardSink sink;
    private final ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);

    Chunker(ShardSink sink) {
      this.sink = sink;
    }

    ByteBuffer room(int bytes) {
      if (buf.remaining() < bytes) {
        flush();
      }
      return buf;
    }

    void flush() {
      buf.flip();
      sink.write(buf);
      buf.clear();
    }
  }
}
