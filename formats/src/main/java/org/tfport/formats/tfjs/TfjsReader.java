package org.tfport.formats.tfjs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;

/**
 * Reads TF.js models: a model.json with its weights manifest (layers or graph model, from any
 * converter version or from tfjs {@code save()}), or a bare weights manifest such as face-api's
 * {@code *-weights_manifest.json}. Shards are found by the manifest's paths relative to the file,
 * so old shard names without {@code .bin} work. All errors are one-line {@link
 * CorruptModelException}s naming the file, the weight and the byte offset where it applies.
 */
public final class TfjsReader {
  private TfjsReader() {}

  /** Reads the model and every weight, dequantized. */
  public static TfjsModel read(Path modelJson) {
    return open(modelJson).load();
  }

  /**
   * Parses the model and checks the shards' layout without reading weights; read them through the
   * result, all at once or one by one.
   */
  public static TfjsModelFiles open(Path modelJson) {
    if (Files.isDirectory(modelJson)) {
      throw new UsageException(modelJson + " is a folder; pass the model.json file inside it");
    }
    if (!Files.isRegularFile(modelJson)) {
      throw new UsageException(modelJson + " does not exist; pass the path of a TF.js model.json");
    }
    String where = modelJson.toString();
    ModelJsonParser.Parsed parsed = ModelJsonParser.read(modelJson);
    List<ModelJsonParser.ManifestGroup> manifest =
        parsed.manifest() == null ? List.of() : parsed.manifest();
    Path folder = modelJson.toAbsolutePath().normalize().getParent();
    List<TfjsModelFiles.Layout> groups = new ArrayList<>();
    for (int g = 0; g < manifest.size(); g++) {
      groups.add(layout(manifest.get(g), g, folder, where));
    }
    return new TfjsModelFiles(modelJson, parsed.envelope(), groups);
  }

  private static TfjsModelFiles.Layout layout(
      ModelJsonParser.ManifestGroup group, int g, Path folder, String where) {
    String gw = where + ": weightsManifest[" + g + "]";
    List<String> paths = group.paths();
    List<Path> files = new ArrayList<>();
    long[] sizes = new long[paths.size()];
    for (int i = 0; i < paths.size(); i++) {
      String p = paths.get(i);
      Path file = resolveShard(folder, p, gw);
      try {
        sizes[i] = Files.size(file);
      } catch (IOException e) {
        throw new CorruptModelException(
            where
                + ": weight shard '"
                + p
                + "' is missing (expected "
                + file
                + "); copy every file listed in the weights manifest next to the model file",
            e);
      }
      if (!Files.isRegularFile(file)) {
        throw new CorruptModelException(
            where + ": weight shard '" + p + "' (" + file + ") is not a regular file");
      }
      files.add(file);
    }
    List<WeightSpec> specs = group.weights();

    List<TfjsModelFiles.Placed> placed = new ArrayList<>();
    try (GroupSource src = new GroupSource(files, sizes)) {
      long total = src.total();
      long offset = 0;
      for (WeightSpec s : specs) {
        String ww = where + ": weight '" + s.name() + "'";
        checkQuantization(s, ww);
        long length;
        try {
          length =
              s.dtype() == DType.STRING && s.quantization() == null
                  ? stringLength(s, src, offset, ww)
                  : s.storedByteLength();
        } catch (ArithmeticException e) {
          throw new CorruptModelException(
              ww + ": shape " + s.shape() + " is too large to be stored");
        }
        if (length > total - offset) {
          throw new CorruptModelException(
              ww
                  + " needs bytes "
                  + offset
                  + ".."
                  + (offset + length)
                  + " of group "
                  + (g + 1)
                  + " ("
                  + s.dtype().jsName()
                  + s.shape()
                  + storage(s)
                  + "), but its shards "
                  + paths
                  + " hold only "
                  + total
                  + " bytes; a shard is truncated, so download it again");
        }
        checkDecodedSize(s, ww);
        placed.add(new TfjsModelFiles.Placed(s, g, offset, (int) length));
        offset += length;
      }
      if (offset != total) {
        throw new CorruptModelException(
            where
                + ": the weights of group "
                + (g + 1)
                + " take "
                + offset
                + " bytes but its shards "
                + paths
                + " hold "
                + total
                + "; the shards belong to a different model.json"
                + " or are damaged");
      }
    }
    return new TfjsModelFiles.Layout(paths, files, sizes, placed);
  }

  /**
   * Resolves a manifest path inside the model folder. Paths that climb out of it or are absolute
   * are refused: a downloaded model.json must not be able to make the reader open arbitrary files.
   */
  static Path resolveShard(Path folder, String p, String where) {
    if (p.isEmpty()) {
      throw new CorruptModelException(
          where + ": a weight shard path is empty; the manifest is damaged");
    }
    if (p.contains("://")) {
      throw new CorruptModelException(
          where
              + ": weight shard '"
              + p
              + "' is a URL; download the shards next to"
              + " the model file and make the paths relative");
    }
    Path rel;
    try {
      rel = Path.of(p);
    } catch (InvalidPathException e) {
      throw new CorruptModelException(
          where + ": weight shard path '" + p + "' is not a valid file name here");
    }
    Path resolved = folder.resolve(rel).normalize();
    if (rel.isAbsolute()
        || p.startsWith("/")
        || p.startsWith("\\")
        || !resolved.startsWith(folder)
        || resolved.equals(folder)) {
      throw new CorruptModelException(
          where
              + ": weight shard path '"
              + p
              + "' points outside the model folder "
              + folder
              + "; only paths relative to the model file and inside its folder are allowed");
    }
    return resolved;
  }

  /** Walks the uint32 length prefixes, checking each stays inside the group before trusting it. */
  private static long stringLength(WeightSpec s, GroupSource src, long start, String where) {
    long total = src.total();
    long n = s.shape().size();
    long pos = start;
    for (long i = 0; i < n; i++) {
      if (total - pos < 4) {
        throw new CorruptModelException(
            where
                + ": the length of string element "
                + i
                + " (at "
                + src.locate(pos)
                + ") runs past the end of the shards; a shard is truncated, so download it again");
      }
      long len = src.readUint32(pos);
      if (len > total - pos - 4) {
        throw new CorruptModelException(
            where
                + ": string element "
                + i
                + " claims "
                + len
                + " bytes at "
                + src.locate(pos)
                + " but only "
                + (total - pos - 4)
                + " remain; the shard is damaged or truncated");
      }
      pos += 4 + len;
    }
    long length = pos - start;
    if (length > Integer.MAX_VALUE) {
      throw new UnsupportedModelException(
          where + " takes " + length + " bytes; tfport reads weights of at most" + " 2 GiB each");
    }
    return length;
  }

  private static void checkQuantization(WeightSpec s, String where) {
    Quantization q = s.quantization();
    if (q == null) {
      return;
    }
    boolean ok =
        q.dtype() == DType.FLOAT16
            ? s.dtype() == DType.FLOAT32
            : s.dtype() == DType.FLOAT32 || s.dtype() == DType.INT32;
    if (!ok) {
      throw new CorruptModelException(
          where
              + ": a "
              + s.dtype().jsName()
              + " weight cannot be stored as "
              + q.dtype().jsName()
              + " (TF.js dequantizes only to float32"
              + (q.dtype() == DType.FLOAT16 ? "" : " and int32")
              + "); the manifest is damaged");
    }
    if (q.dtype() != DType.FLOAT16 && (q.min() == null || q.scale() == null)) {
      throw new CorruptModelException(
          where
              + ": "
              + q.dtype().jsName()
              + " quantization needs 'min' and 'scale',"
              + " and one is missing; the manifest is damaged");
    }
  }

  private static void checkDecodedSize(WeightSpec s, String where) {
    if (s.dtype() == DType.STRING) {
      return;
    }
    long bytes;
    try {
      bytes = Math.multiplyExact(s.shape().size(), (long) s.dtype().byteSize());
    } catch (ArithmeticException e) {
      bytes = Long.MAX_VALUE;
    }
    if (bytes > Integer.MAX_VALUE) {
      throw new UnsupportedModelException(
          where
              + " takes "
              + bytes
              + " bytes in memory; tfport reads weights of"
              + " at most 2 GiB each");
    }
  }

  private static String storage(WeightSpec s) {
    return s.quantization() == null ? "" : " stored as " + s.quantization().dtype().jsName();
  }
}
