package org.tfport.formats.tflite;

import com.google.flatbuffers.FlatBufferBuilder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.lite.support.metadata.schema.AssociatedFile;
import org.tensorflow.lite.support.metadata.schema.Content;
import org.tensorflow.lite.support.metadata.schema.ContentProperties;
import org.tensorflow.lite.support.metadata.schema.FeatureProperties;
import org.tensorflow.lite.support.metadata.schema.ImageProperties;
import org.tensorflow.lite.support.metadata.schema.ModelMetadata;
import org.tensorflow.lite.support.metadata.schema.NormalizationOptions;
import org.tensorflow.lite.support.metadata.schema.ProcessUnit;
import org.tensorflow.lite.support.metadata.schema.ProcessUnitOptions;
import org.tensorflow.lite.support.metadata.schema.Stats;
import org.tensorflow.lite.support.metadata.schema.SubGraphMetadata;
import org.tensorflow.lite.support.metadata.schema.TensorMetadata;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.tflite.TfliteModelMetadata.TensorInfo;

/**
 * Attaches tflite-support model metadata to a model and reads it back, as the upstream {@code
 * MetadataPopulator} / {@code MetadataExtractor} do: the {@code ModelMetadata} FlatBuffer
 * (identifier {@code M001}, built with the generated {@code
 * org.tensorflow.lite.support.metadata.schema} classes of tensorflow-lite-metadata 0.4.4) goes into
 * a new buffer named by a {@code TFLITE_METADATA} entry, the model is re-serialized, and the
 * associated files follow it as a zip.
 */
public final class TfliteMetadata {
  /** The metadata FlatBuffer's file identifier. */
  public static final String IDENTIFIER = "M001";

  /** The schema version the generated classes implement ({@code MetadataParser.VERSION}). */
  public static final String SCHEMA_VERSION = "1.5.0";

  private TfliteMetadata() {}

  /**
   * The model with {@code metadata} attached and {@code files} appended as a zip: a valid {@code
   * .tflite} that is also a zip. Existing metadata and appended files are replaced.
   *
   * @param files associated files by zip entry name; every file the metadata names must be here and
   *     every file here must be named by the metadata
   * @throws UsageException when the metadata does not fit the model (subgraph count, tensor counts,
   *     missing or unused files)
   */
  public static byte[] attach(
      TfliteModel model, TfliteModelMetadata metadata, Map<String, byte[]> files) {
    check(model, metadata, files);
    TfliteModelMetadata md =
        metadata.minParserVersion() != null
            ? metadata
            : new TfliteModelMetadata(
                metadata.name(),
                metadata.description(),
                metadata.version(),
                metadata.author(),
                metadata.license(),
                metadata.subgraphs(),
                metadata.associatedFiles(),
                minParserVersion(metadata));
    byte[] flat =
        TfliteWriter.write(model.withMetadata(TfliteMetadataEntry.TFLITE_METADATA, encode(md)));
    if (files.isEmpty()) {
      return flat;
    }
    byte[] zip = AppendedZip.write(flat.length, files);
    byte[] out = new byte[flat.length + zip.length];
    System.arraycopy(flat, 0, out, 0, flat.length);
    System.arraycopy(zip, 0, out, flat.length, zip.length);
    return out;
  }

  /** Reads the model, then {@link #attach(TfliteModel, TfliteModelMetadata, Map)}. */
  public static byte[] attach(
      byte[] tflite, TfliteModelMetadata metadata, Map<String, byte[]> files) {
    return attach(TfliteReader.read(tflite, "model"), metadata, files);
  }

  /** The model's {@code TFLITE_METADATA}, parsed, if it has one. */
  public static Optional<TfliteModelMetadata> read(TfliteModel model) {
    return model
        .metadata(TfliteMetadataEntry.TFLITE_METADATA)
        .map(b -> decode(b, "TFLITE_METADATA"));
  }

  /**
   * The associated files appended to a {@code .tflite} file, by name (empty when there are none).
   */
  public static Map<String, byte[]> associatedFiles(byte[] tflite, String name) {
    return AppendedZip.read(ByteBuffer.wrap(tflite), name);
  }

  // ------------------------------------------------------------------------------------------
  // checks

  private static void check(TfliteModel model, TfliteModelMetadata md, Map<String, byte[]> files) {
    if (md.subgraphs().size() != 1 || model.subgraphs().isEmpty()) {
      throw new UsageException(
          "metadata must describe exactly one subgraph (the model's first), got "
              + md.subgraphs().size());
    }
    TfliteSubgraph g = model.mainSubgraph();
    TfliteModelMetadata.Subgraph s = md.subgraphs().get(0);
    if (!s.inputs().isEmpty() && s.inputs().size() != g.inputs().size()) {
      throw new UsageException(
          "metadata describes "
              + s.inputs().size()
              + " inputs but the model has "
              + g.inputs().size()
              + "; give one entry per input, in order");
    }
    if (!s.outputs().isEmpty() && s.outputs().size() != g.outputs().size()) {
      throw new UsageException(
          "metadata describes "
              + s.outputs().size()
              + " outputs but the model has "
              + g.outputs().size()
              + "; give one entry per output, in order");
    }
    Set<String> named = new LinkedHashSet<>();
    for (TfliteModelMetadata.AssociatedFile f : allFiles(md)) {
      named.add(f.name());
    }
    for (String n : named) {
      if (!files.containsKey(n)) {
        throw new UsageException(
            "associated file '" + n + "' is named in the metadata but was not given");
      }
    }
    for (String n : files.keySet()) {
      if (!named.contains(n)) {
        throw new UsageException(
            "file '" + n + "' is not named by any associated_files entry of the metadata");
      }
    }
  }

  private static List<TfliteModelMetadata.AssociatedFile> allFiles(TfliteModelMetadata md) {
    List<TfliteModelMetadata.AssociatedFile> all = new ArrayList<>(md.associatedFiles());
    for (TfliteModelMetadata.Subgraph s : md.subgraphs()) {
      all.addAll(s.associatedFiles());
      for (TensorInfo t : s.inputs()) {
        all.addAll(t.associatedFiles());
      }
      for (TensorInfo t : s.outputs()) {
        all.addAll(t.associatedFiles());
      }
    }
    return all;
  }

  /**
   * The oldest metadata parser that understands what tfport writes (metadata_version.cc rules for
   * the features representable here): 1.0.0, VOCABULARY files 1.0.1, SCANN index files 1.4.0,
   * AssociatedFile.version 1.4.1.
   */
  static String minParserVersion(TfliteModelMetadata md) {
    String v = "1.0.0";
    for (TfliteModelMetadata.AssociatedFile f : allFiles(md)) {
      if (f.type() == TfliteModelMetadata.FileType.VOCABULARY) {
        v = max(v, "1.0.1");
      }
      if (f.type() == TfliteModelMetadata.FileType.SCANN_INDEX_FILE) {
        v = max(v, "1.4.0");
      }
      if (f.version() != null) {
        v = max(v, "1.4.1");
      }
    }
    return v;
  }

  private static String max(String a, String b) {
    return MinRuntimeVersion.compare(a, b) >= 0 ? a : b;
  }

  // ----------------------------------------------------------------------------------------
  // encoding

  /** The {@code ModelMetadata} FlatBuffer, finished with identifier M001. */
  static byte[] encode(TfliteModelMetadata md) {
    FlatBufferBuilder b = new FlatBufferBuilder(1024);
    int name = str(b, md.name());
    int description = str(b, md.description());
    int version = str(b, md.version());
    int author = str(b, md.author());
    int license = str(b, md.license());
    int minParser = str(b, md.minParserVersion());
    int[] subgraphs = new int[md.subgraphs().size()];
    for (int i = 0; i < subgraphs.length; i++) {
      subgraphs[i] = subgraph(b, md.subgraphs().get(i));
    }
    int subgraphsVec = ModelMetadata.createSubgraphMetadataVector(b, subgraphs);
    int files = files(b, md.associatedFiles());
    ModelMetadata.startModelMetadata(b);
    add(name, o -> ModelMetadata.addName(b, o));
    add(description, o -> ModelMetadata.addDescription(b, o));
    add(version, o -> ModelMetadata.addVersion(b, o));
    ModelMetadata.addSubgraphMetadata(b, subgraphsVec);
    add(author, o -> ModelMetadata.addAuthor(b, o));
    add(license, o -> ModelMetadata.addLicense(b, o));
    add(files, o -> ModelMetadata.addAssociatedFiles(b, o));
    add(minParser, o -> ModelMetadata.addMinParserVersion(b, o));
    ModelMetadata.finishModelMetadataBuffer(b, ModelMetadata.endModelMetadata(b));
    return b.sizedByteArray();
  }

  private static int subgraph(FlatBufferBuilder b, TfliteModelMetadata.Subgraph s) {
    int name = str(b, s.name());
    int description = str(b, s.description());
    int inputs = SubGraphMetadata.createInputTensorMetadataVector(b, tensors(b, s.inputs()));
    int outputs = SubGraphMetadata.createOutputTensorMetadataVector(b, tensors(b, s.outputs()));
    int files = files(b, s.associatedFiles());
    SubGraphMetadata.startSubGraphMetadata(b);
    add(name, o -> SubGraphMetadata.addName(b, o));
    add(description, o -> SubGraphMetadata.addDescription(b, o));
    SubGraphMetadata.addInputTensorMetadata(b, inputs);
    SubGraphMetadata.addOutputTensorMetadata(b, outputs);
    add(files, o -> SubGraphMetadata.addAssociatedFiles(b, o));
    return SubGraphMetadata.endSubGraphMetadata(b);
  }

  private static int[] tensors(FlatBufferBuilder b, List<TensorInfo> ts) {
    int[] out = new int[ts.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = tensor(b, ts.get(i));
    }
    return out;
  }

  private static int tensor(FlatBufferBuilder b, TensorInfo t) {
    int name = str(b, t.name());
    int description = str(b, t.description());
    int content = 0;
    if (t.content() == TfliteModelMetadata.Content.FEATURE
        || t.content() == TfliteModelMetadata.Content.IMAGE) {
      int props;
      byte type;
      if (t.content() == TfliteModelMetadata.Content.IMAGE) {
        TfliteModelMetadata.ColorSpace cs =
            t.colorSpace() == null ? TfliteModelMetadata.ColorSpace.UNKNOWN : t.colorSpace();
        props = ImageProperties.createImageProperties(b, (byte) cs.ordinal(), 0);
        type = ContentProperties.ImageProperties;
      } else {
        FeatureProperties.startFeatureProperties(b);
        props = FeatureProperties.endFeatureProperties(b);
        type = ContentProperties.FeatureProperties;
      }
      content = Content.createContent(b, type, props, 0);
    }
    int units = 0;
    if (!t.mean().isEmpty()) {
      int norm =
          NormalizationOptions.createNormalizationOptions(
              b,
              NormalizationOptions.createMeanVector(b, floats(t.mean())),
              NormalizationOptions.createStdVector(b, floats(t.std())));
      int unit = ProcessUnit.createProcessUnit(b, ProcessUnitOptions.NormalizationOptions, norm);
      units = TensorMetadata.createProcessUnitsVector(b, new int[] {unit});
    }
    int stats = 0;
    if (!t.statsMin().isEmpty() || !t.statsMax().isEmpty()) {
      int max = t.statsMax().isEmpty() ? 0 : Stats.createMaxVector(b, floats(t.statsMax()));
      int min = t.statsMin().isEmpty() ? 0 : Stats.createMinVector(b, floats(t.statsMin()));
      stats = Stats.createStats(b, max, min);
    }
    int files = files(b, t.associatedFiles());
    TensorMetadata.startTensorMetadata(b);
    add(name, o -> TensorMetadata.addName(b, o));
    add(description, o -> TensorMetadata.addDescription(b, o));
    add(content, o -> TensorMetadata.addContent(b, o));
    add(units, o -> TensorMetadata.addProcessUnits(b, o));
    add(stats, o -> TensorMetadata.addStats(b, o));
    add(files, o -> TensorMetadata.addAssociatedFiles(b, o));
    return TensorMetadata.endTensorMetadata(b);
  }

  private static int files(FlatBufferBuilder b, List<TfliteModelMetadata.AssociatedFile> files) {
    if (files.isEmpty()) {
      return 0;
    }
    int[] out = new int[files.size()];
    for (int i = 0; i < out.length; i++) {
      TfliteModelMetadata.AssociatedFile f = files.get(i);
      out[i] =
          AssociatedFile.createAssociatedFile(
              b,
              str(b, f.name()),
              str(b, f.description()),
              (byte) f.type().ordinal(),
              str(b, f.locale()),
              str(b, f.version()));
    }
    return b.createVectorOfTables(out);
  }

  private static int str(FlatBufferBuilder b, String s) {
    return s == null ? 0 : b.createString(s);
  }

  private static void add(int offset, java.util.function.IntConsumer adder) {
    if (offset != 0) {
      adder.accept(offset);
    }
  }

  private static float[] floats(List<Float> l) {
    float[] a = new float[l.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = l.get(i);
    }
    return a;
  }

  // ----------------------------------------------------------------------------------------
  // decoding

  /** Parses a {@code ModelMetadata} FlatBuffer, every offset checked. */
  static TfliteModelMetadata decode(ByteBuffer data, String where) {
    FbReader r = new FbReader(data, where);
    if (r.size() < 8) {
      throw r.corrupt(0, "", "metadata is " + r.size() + " bytes, too small for a FlatBuffer");
    }
    byte[] id = new byte[4];
    r.buffer().get(4, id);
    if (!IDENTIFIER.equals(new String(id, StandardCharsets.ISO_8859_1))) {
      throw r.corrupt(4, "", "metadata identifier is not '" + IDENTIFIER + "'");
    }
    FbReader.Table m = r.root("ModelMetadata");
    List<TfliteModelMetadata.Subgraph> subgraphs = new ArrayList<>();
    FbReader.Vec sv = m.tables(3, "subgraph_metadata");
    for (int i = 0; sv != null && i < sv.length(); i++) {
      FbReader.Table s = m.tableAt(sv, i, "subgraph_metadata", "subgraph_metadata[" + i + "]");
      subgraphs.add(
          new TfliteModelMetadata.Subgraph(
              s.string(0, "name"),
              s.string(1, "description"),
              tensorInfos(r, s, 2, "input_tensor_metadata"),
              tensorInfos(r, s, 3, "output_tensor_metadata"),
              files(s, 4)));
    }
    return new TfliteModelMetadata(
        m.string(0, "name"),
        m.string(1, "description"),
        m.string(2, "version"),
        m.string(4, "author"),
        m.string(5, "license"),
        subgraphs,
        files(m, 6),
        m.string(7, "min_parser_version"));
  }

  private static List<TensorInfo> tensorInfos(
      FbReader r, FbReader.Table s, int field, String name) {
    List<TensorInfo> out = new ArrayList<>();
    FbReader.Vec v = s.tables(field, name);
    for (int i = 0; v != null && i < v.length(); i++) {
      FbReader.Table t = s.tableAt(v, i, name, s.where + ", " + name + "[" + i + "]");
      TfliteModelMetadata.Content content = TfliteModelMetadata.Content.NONE;
      TfliteModelMetadata.ColorSpace color = null;
      FbReader.Table c = t.table(3, "content", t.where + ", content");
      if (c != null) {
        int type = c.u8(0, 0, "content_properties_type");
        content =
            switch (type) {
              case 0 -> TfliteModelMetadata.Content.NONE;
              case 1 -> TfliteModelMetadata.Content.FEATURE;
              case 2 -> TfliteModelMetadata.Content.IMAGE;
              default -> TfliteModelMetadata.Content.OTHER;
            };
        if (type == 2) {
          FbReader.Table p = c.union(1, "content_properties", c.where + ", ImageProperties");
          int cs = p == null ? 0 : p.i8(0, 0, "color_space");
          color =
              cs >= 0 && cs < 3
                  ? TfliteModelMetadata.ColorSpace.values()[cs]
                  : TfliteModelMetadata.ColorSpace.UNKNOWN;
        }
      }
      List<Float> mean = List.of();
      List<Float> std = List.of();
      FbReader.Vec pu = t.tables(4, "process_units");
      for (int k = 0; pu != null && k < pu.length(); k++) {
        FbReader.Table u =
            t.tableAt(pu, k, "process_units", t.where + ", process_units[" + k + "]");
        if (u.u8(0, 0, "options_type") == ProcessUnitOptions.NormalizationOptions) {
          FbReader.Table n = u.union(1, "options", u.where + ", NormalizationOptions");
          if (n != null) {
            mean = boxed(n.floats(0, "mean"));
            std = boxed(n.floats(1, "std"));
          }
        }
      }
      if (mean.size() != std.size()) {
        throw r.corrupt(
            t.pos,
            t.where,
            "normalization has " + mean.size() + " means but " + std.size() + " std values");
      }
      FbReader.Table st = t.table(5, "stats", t.where + ", stats");
      List<Float> max = st == null ? List.of() : boxed(st.floats(0, "max"));
      List<Float> min = st == null ? List.of() : boxed(st.floats(1, "min"));
      out.add(
          new TensorInfo(
              t.string(0, "name"),
              t.string(1, "description"),
              content,
              color,
              mean,
              std,
              min,
              max,
              files(t, 6)));
    }
    return out;
  }

  private static List<TfliteModelMetadata.AssociatedFile> files(FbReader.Table t, int field) {
    List<TfliteModelMetadata.AssociatedFile> out = new ArrayList<>();
    FbReader.Vec v = t.tables(field, "associated_files");
    for (int i = 0; v != null && i < v.length(); i++) {
      FbReader.Table f =
          t.tableAt(v, i, "associated_files", t.where + ", associated_files[" + i + "]");
      String name = f.string(0, "name");
      int type = f.i8(2, 0, "type");
      out.add(
          new TfliteModelMetadata.AssociatedFile(
              name == null ? "" : name,
              f.string(1, "description"),
              type >= 0 && type < TfliteModelMetadata.FileType.values().length
                  ? TfliteModelMetadata.FileType.values()[type]
                  : TfliteModelMetadata.FileType.UNKNOWN,
              f.string(3, "locale"),
              f.string(4, "version")));
    }
    return out;
  }

  private static List<Float> boxed(float[] a) {
    List<Float> l = new ArrayList<>();
    for (int i = 0; a != null && i < a.length; i++) {
      l.add(a[i]);
    }
    return l;
  }
}
