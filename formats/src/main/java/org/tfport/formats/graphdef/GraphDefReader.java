package org.tfport.formats.graphdef;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TextFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.tensorflow.proto.GraphDef;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.Graph;

/**
 * Reads a frozen GraphDef: a binary {@code .pb}, or a text {@code .pbtxt} as {@code
 * tf.io.write_graph} writes.
 */
public final class GraphDefReader {
  /** Protobuf cannot parse a message over 2 GiB; TensorFlow has the same limit on GraphDefs. */
  static final long MAX_BYTES = Integer.MAX_VALUE;

  private GraphDefReader() {}

  /**
   * @throws CorruptModelException in one line naming the file when it is not a GraphDef
   * @throws UsageException when the file cannot be read or is a folder
   */
  public static Graph read(Path file) {
    if (Files.isDirectory(file)) {
      throw new UsageException(
          file
              + ": is a folder; a frozen model is one GraphDef .pb file (a folder with"
              + " saved_model.pb is ModelFormat.TF_SAVED_MODEL)");
    }
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new UsageException(file + ": cannot read the file (" + e.getMessage() + ")");
    }
    if (size > MAX_BYTES) {
      throw new CorruptModelException(
          file
              + ": "
              + size
              + " bytes is over protobuf's 2 GiB limit for one"
              + " GraphDef; this is not a GraphDef TensorFlow could have written");
    }
    GraphDef def;
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    try {
      if (name.endsWith(".pbtxt") || name.endsWith(".txt")) {
        GraphDef.Builder b = GraphDef.newBuilder();
        TextFormat.getParser().merge(Files.readString(file, StandardCharsets.UTF_8), b);
        def = b.build();
      } else {
        try (InputStream in = Files.newInputStream(file)) {
          CodedInputStream cis = CodedInputStream.newInstance(in);
          cis.setSizeLimit(Integer.MAX_VALUE);
          cis.setRecursionLimit(1000);
          def = GraphDef.parseFrom(cis);
        }
      }
    } catch (InvalidProtocolBufferException | TextFormat.ParseException e) {
      throw new CorruptModelException(
          file
              + ": not a TensorFlow GraphDef (protobuf says: "
              + oneLine(e.getMessage())
              + "); give a frozen graph .pb written by TensorFlow",
          e);
    } catch (IOException e) {
      throw new UsageException(file + ": cannot read the file (" + e.getMessage() + ")");
    }
    if (def.getNodeCount() == 0) {
      throw new CorruptModelException(
          file + ": the GraphDef has no nodes; this is not a frozen model (or it is" + " empty)");
    }
    for (var n : def.getNodeList()) {
      if (n.getName().isEmpty() || n.getOp().isEmpty()) {
        throw new CorruptModelException(
            file
                + ": a node without a name or op was read; the file is not a"
                + " TensorFlow GraphDef");
      }
    }
    return ProtoGraphs.toGraph(def, null, file.toString());
  }

  static String oneLine(String s) {
    return s == null ? "parse error" : s.replaceAll("\\s+", " ").trim();
  }
}
