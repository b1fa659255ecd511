package org.tfport.formats.savedmodel;

import com.google.protobuf.InvalidProtocolBufferException;
import java.util.Collection;
import java.util.List;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedObjectGraph;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorShapeProto;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.TensorShape;
import org.tfport.formats.graphdef.GraphDefWriter;

/**
 * A {@code saved_model.pb} of one MetaGraphDef: the graph (nodes and function library), its tags,
 * its SignatureDefs and, when the graph holds variables, the {@code SaverDef} naming the tensors
 * and ops TensorFlow's loader feeds and runs to restore them from {@code variables/variables}.
 */
public final class SavedModelWriter {
  /** The SignatureDef method of a prediction signature, as TensorFlow Serving expects it. */
  public static final String PREDICT_METHOD = "tensorflow/serving/predict";

  private SavedModelWriter() {}

  /**
   * The restore and save ends of a V2 checkpoint saver in the graph: the checkpoint prefix
   * placeholder ({@code save/Const:0}), the tensor whose evaluation saves ({@code
   * save/control_dependency:0}) and the op that restores ({@code save/restore_all}).
   */
  public record Saver(String filenameTensor, String saveTensor, String restoreOp) {}

  /** The serialized {@code SavedModel}; {@code saver} null when the graph has no variables. */
  public static byte[] write(
      Graph g, Collection<String> tags, List<SignatureInfo> signatures, Saver saver) {
    return write(g, tags, signatures, saver, null);
  }

  /**
   * As {@link #write(Graph, Collection, List, Saver)}, with the TF2 object graph ({@code objects},
   * null for none) that TensorFlow 2's object loader rebuilds the model's variables and functions
   * from; TensorFlow 1 loaders ignore it and go by the saver and the signatures.
   */
  public static byte[] write(
      Graph g,
      Collection<String> tags,
      List<SignatureInfo> signatures,
      Saver saver,
      SavedObjectGraph objects) {
    GraphDef def;
    try {
      def = GraphDef.parseFrom(GraphDefWriter.write(g));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("the GraphDef just written does not parse", e);
    }
    MetaGraphDef.Builder mg =
        MetaGraphDef.newBuilder()
            .setMetaInfoDef(MetaGraphDef.MetaInfoDef.newBuilder().addAllTags(tags))
            .setGraphDef(def);
    if (saver != null) {
      mg.setSaverDef(
          SaverDef.newBuilder()
              .setFilenameTensorName(saver.filenameTensor())
              .setSaveTensorName(saver.saveTensor())
              .setRestoreOpName(saver.restoreOp())
              .setMaxToKeep(5)
              .setKeepCheckpointEveryNHours(10000f)
              .setVersion(SaverDef.CheckpointFormatVersion.V2));
    }
    if (objects != null) {
      mg.setObjectGraphDef(objects);
    }
    for (SignatureInfo s : signatures) {
      SignatureDef.Builder sd = SignatureDef.newBuilder().setMethodName(s.methodName());
      s.inputs().forEach((k, t) -> sd.putInputs(k, tensorInfo(t)));
      s.outputs().forEach((k, t) -> sd.putOutputs(k, tensorInfo(t)));
      mg.putSignatureDef(s.key(), sd.build());
    }
    return SavedModel.newBuilder()
        .setSavedModelSchemaVersion(1)
        .addMetaGraphs(mg)
        .build()
        .toByteArray();
  }

  private static org.tensorflow.proto.TensorInfo tensorInfo(TensorInfo t) {
    return org.tensorflow.proto.TensorInfo.newBuilder()
        .setName(t.name())
        .setDtypeValue(t.dtype())
        .setTensorShape(shape(t.shape()))
        .build();
  }

  private static TensorShapeProto shape(TensorShape s) {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    if (s == null || s.unknownRank()) {
      return b.setUnknownRank(true).build();
    }
    for (long d : s.dims()) {
      b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return b.build();
  }
}
