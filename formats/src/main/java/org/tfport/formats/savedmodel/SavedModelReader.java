package org.tfport.formats.savedmodel;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.Graph;
import org.tfport.formats.graphdef.ProtoGraphs;

/**
 * Reads a SavedModel folder ({@code saved_model.pb} and {@code variables/}) and picks one MetaGraph
 * by its tag set and one signature by its key, the way TensorFlow's loader does.
 */
public final class SavedModelReader {
  public static final String SAVED_MODEL_PB = "saved_model.pb";

  /** Marks a TF1 Hub module folder; its graph is still in {@code saved_model.pb}. */
  public static final String HUB_MODULE_PB = "tfhub_module.pb";

  private SavedModelReader() {}

  /**
   * @param tags the exact tag set of the MetaGraph to use ({@code serve}; empty for TF1 Hub
   *     modules)
   * @param signatureName the signature key ({@code serving_default})
   * @throws UsageException when the folder has no saved_model.pb, no MetaGraph has these tags
   *     (listing the tag sets there are) or the signature is absent (listing the ones there are)
   * @throws CorruptModelException when saved_model.pb or the checkpoint is damaged
   */
  public static SavedModelGraph read(Path dir, Set<String> tags, String signatureName) {
    Path file = dir.resolve(SAVED_MODEL_PB);
    if (!Files.isRegularFile(file)) {
      throw new UsageException(
          dir
              + ": no "
              + SAVED_MODEL_PB
              + " in this folder; give the SavedModel folder"
              + " (the one holding saved_model.pb and variables/)");
    }
    SavedModel sm = parse(file);
    if (sm.getMetaGraphsCount() == 0) {
      throw new CorruptModelException(
          file
              + ": the SavedModel holds no MetaGraph; the file is damaged or not a"
              + " SavedModel");
    }
    MetaGraphDef chosen = null;
    List<String> available = new ArrayList<>();
    for (MetaGraphDef mg : sm.getMetaGraphsList()) {
      Set<String> have = new TreeSet<>(mg.getMetaInfoDef().getTagsList());
      available.add(have.isEmpty() ? "(no tags)" : String.join(",", have));
      if (have.equals(new TreeSet<>(tags)) && chosen == null) {
        chosen = mg;
      }
    }
    if (chosen == null) {
      throw new UsageException(
          file
              + ": no MetaGraph has the tags "
              + (tags.isEmpty() ? "(none)" : String.join(",", new TreeSet<>(tags)))
              + "; the tag sets there are: "
              + String.join("; ", available)
              + "; choose the tags "
              + available.get(0).replace("(no tags)", "''"));
    }
    SignatureDef sig = chosen.getSignatureDefMap().get(signatureName);
    if (sig == null) {
      List<String> keys = new ArrayList<>(new TreeSet<>(chosen.getSignatureDefMap().keySet()));
      keys.remove("__saved_model_init_op");
      throw new UsageException(
          file
              + ": no signature '"
              + signatureName
              + "' in the MetaGraph tagged "
              + String.join(",", new TreeSet<>(tags))
              + "; the signatures there are: "
              + (keys.isEmpty() ? "(none)" : String.join(", ", keys))
              + "; choose a signature by its key");
    }
    SignatureInfo signature =
        new SignatureInfo(
            signatureName,
            sig.getMethodName(),
            tensors(sig.getInputsMap(), file, signatureName, "input"),
            tensors(sig.getOutputsMap(), file, signatureName, "output"));
    Graph graph =
        ProtoGraphs.toGraph(
            chosen.getGraphDef(), chosen.getMetaInfoDef().getStrippedOpList(), file.toString());
    Path prefix = dir.resolve("variables").resolve("variables");
    TensorBundle variables =
        Files.exists(TensorBundle.indexFile(prefix)) ? TensorBundle.open(prefix) : null;
    return new SavedModelGraph(
        file,
        graph,
        signature,
        List.copyOf(chosen.getMetaInfoDef().getTagsList()),
        chosen.getMetaInfoDef().getTensorflowVersion(),
        variables);
  }

  /**
   * The signatures of the MetaGraph tagged {@code tags}, by key in key order, without reading its
   * graph into the IR: what a caller can pick from. TensorFlow's {@code __saved_model_init_op} is
   * left out, and so are signatures with sparse or composite tensors, which tfport cannot feed
   * ({@link #read} names the reason when one is asked for).
   *
   * @throws UsageException when the folder has no saved_model.pb or no MetaGraph has these tags
   * @throws CorruptModelException when saved_model.pb is damaged
   */
  public static Map<String, SignatureInfo> signatures(Path dir, Set<String> tags) {
    Path file = dir.resolve(SAVED_MODEL_PB);
    if (!Files.isRegularFile(file)) {
      throw new UsageException(
          dir
              + ": no "
              + SAVED_MODEL_PB
              + " in this folder; give the SavedModel folder"
              + " (the one holding saved_model.pb and variables/)");
    }
    SavedModel sm = parse(file);
    List<String> available = new ArrayList<>();
    for (MetaGraphDef mg : sm.getMetaGraphsList()) {
      Set<String> have = new TreeSet<>(mg.getMetaInfoDef().getTagsList());
      available.add(have.isEmpty() ? "(no tags)" : String.join(",", have));
      if (have.equals(new TreeSet<>(tags))) {
        Map<String, SignatureInfo> out = new LinkedHashMap<>();
        for (String key : new TreeSet<>(mg.getSignatureDefMap().keySet())) {
          SignatureDef sig = mg.getSignatureDefMap().get(key);
          if (key.equals("__saved_model_init_op")
              || !dense(sig.getInputsMap())
              || !dense(sig.getOutputsMap())) {
            continue;
          }
          out.put(
              key,
              new SignatureInfo(
                  key,
                  sig.getMethodName(),
                  tensors(sig.getInputsMap(), file, key, "input"),
                  tensors(sig.getOutputsMap(), file, key, "output")));
        }
        return out;
      }
    }
    throw new UsageException(
        file
            + ": no MetaGraph has the tags "
            + (tags.isEmpty() ? "(none)" : String.join(",", new TreeSet<>(tags)))
            + "; the tag sets there are: "
            + (available.isEmpty() ? "(none)" : String.join("; ", available)));
  }

  private static boolean dense(Map<String, org.tensorflow.proto.TensorInfo> m) {
    return m.values().stream()
        .allMatch(t -> t.getEncodingCase() == org.tensorflow.proto.TensorInfo.EncodingCase.NAME);
  }

  private static Map<String, TensorInfo> tensors(
      Map<String, org.tensorflow.proto.TensorInfo> in, Path file, String sig, String what) {
    Map<String, TensorInfo> out = new LinkedHashMap<>();
    for (String key : new TreeSet<>(in.keySet())) {
      org.tensorflow.proto.TensorInfo t = in.get(key);
      if (t.getEncodingCase() != org.tensorflow.proto.TensorInfo.EncodingCase.NAME) {
        throw new UnsupportedModelException(
            file
                + ": signature '"
                + sig
                + "' "
                + what
                + " '"
                + key
                + "' is a "
                + t.getEncodingCase().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                + " tensor; TF.js takes dense tensors only, so export a signature with dense inputs and outputs");
      }
      out.put(
          key,
          new TensorInfo(t.getName(), t.getDtypeValue(), ProtoGraphs.shape(t.getTensorShape())));
    }
    return out;
  }

  private static SavedModel parse(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      CodedInputStream cis = CodedInputStream.newInstance(in);
      cis.setSizeLimit(Integer.MAX_VALUE);
      cis.setRecursionLimit(1000);
      return SavedModel.parseFrom(cis);
    } catch (InvalidProtocolBufferException e) {
      throw new CorruptModelException(
          file
              + ": not a SavedModel (protobuf says: "
              + String.valueOf(e.getMessage()).replaceAll("\\s+", " ").trim()
              + "); the file is damaged",
          e);
    } catch (IOException e) {
      throw new UsageException(file + ": cannot read the file (" + e.getMessage() + ")");
    }
  }
}
