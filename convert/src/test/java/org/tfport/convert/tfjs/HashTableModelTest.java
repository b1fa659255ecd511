package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.DType;
import org.tfport.core.ProgressListener;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;
import tools.jackson.databind.JsonNode;

/**
 * A SavedModel with a hash table (a vocabulary lookup, as Keras' StringLookup/IntegerLookup make),
 * filled by the model's initializer: the TF.js model must carry the table's contents as a {@code
 * modelInitializer} graph, which TF.js runs once at load, and look keys up as TensorFlow does
 * (missing keys get the default).
 */
@OracleTest
class HashTableModelTest {
  @TempDir Path tmp;

  static final int[] KEYS = {3, 7, 11, 42, -5};
  static final float[] VALUES = {0.5f, -1.25f, 2f, 10f, 3.5f};

  private static Path export(Path dir) throws Exception {
    return export(dir, null);
  }

  /**
   * @param vocabulary a text file to fill the table from (one value per line, keys the line
   *     numbers), or null
   */
  private static Path export(Path dir, Path vocabulary) throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Ops init = tf.withInitScope();
      Signature sig;
      if (vocabulary == null) {
        var table = init.withName("vocab").hashTable(TInt32.class, TFloat32.class);
        init.withName("vocab_init")
            .lookupTableImport(table, init.constant(KEYS), init.constant(VALUES));
        var ids = tf.withName("ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
        var found = tf.lookupTableFind(table, ids, tf.constant(-1f));
        var y = tf.withName("y").math.mul(found, tf.constant(2f));
        sig =
            Signature.builder()
                .key(Signature.DEFAULT_KEY)
                .methodName("tensorflow/serving/predict")
                .input("ids", ids)
                .output("y", y)
                .build();
      } else {
        // Words to their line numbers, as a vocabulary file fills a table.
        var table =
            init.withName("vocab")
                .hashTable(org.tensorflow.types.TString.class, org.tensorflow.types.TInt64.class);
        init.withName("vocab_init")
            .initializeTableFromTextFile(table, init.constant(vocabulary.toString()), -2L, -1L);
        var words =
            tf.withName("words")
                .placeholder(org.tensorflow.types.TString.class, Placeholder.shape(Shape.of(-1)));
        var y =
            tf.withName("y")
                .dtypes
                .cast(tf.lookupTableFind(table, words, tf.constant(-1L)), TFloat32.class);
        sig =
            Signature.builder()
                .key(Signature.DEFAULT_KEY)
                .methodName("tensorflow/serving/predict")
                .input("words", words)
                .output("y", y)
                .build();
      }
      try (Session s = new Session(g)) {
        s.initialize();
        SavedModelBundle.exporter(dir.toString())
            .withSession(s)
            .withFunction(SessionFunction.create(sig, s))
            .export();
      }
    }
    // TF Java's exporter does not record which ops initialize tables; a TF1 SavedModel names its
    // main op in
    // the 'saved_model_main_op' collection, which TensorFlow's loader runs after restoring.
    Path pb = dir.resolve("saved_model.pb");
    var sm =
        org.tensorflow.proto.SavedModel.parseFrom(java.nio.file.Files.readAllBytes(pb)).toBuilder();
    var mg = sm.getMetaGraphsBuilder(0);
    mg.putCollectionDef(
        "saved_model_main_op",
        org.tensorflow.proto.CollectionDef.newBuilder()
            .setNodeList(
                org.tensorflow.proto.CollectionDef.NodeList.newBuilder().addValue("vocab_init"))
            .build());
    java.nio.file.Files.write(pb, sm.build().toByteArray());
    return dir;
  }

  @Test
  void tableContentsTravelInTheModelInitializer() throws Exception {
    Path saved = export(tmp.resolve("table_savedmodel"));
    Path out = tmp.resolve("table_tfjs");
    var summary =
        TfGraphToTfjs.convertSavedModel(
            saved,
            out,
            GraphOptions.defaults(),
            TfjsOutputOptions.defaults(),
            ProgressListener.NONE);
    int[] ids = {3, 4, 42, -5, 0, 7, 11, 11, 100};
    long[] shape = {ids.length};
    TfjsOracle.Input in = TfjsOracle.Input.i32("ids", shape, ids);
    Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
    feeds.put("ids", new TensorFlowOracle.Feed(in, DType.INT32.tfEnum()));
    float[] expected =
        TensorFlowOracle.runSavedModel(saved, "serve", "serving_default", feeds).get("y");

    JsonNode json = E2e.modelJson(out);
    assertThat(json.path("modelInitializer").path("node").isArray())
        .as("modelInitializer graph")
        .isTrue();
    String inName = json.path("signature").path("inputs").path("ids").path("name").stringValue();
    var result =
        TfjsOracle.run(
                List.of(
                    TfjsOracle.Job.graph(
                        out.resolve("model.json"),
                        List.of(TfjsOracle.Input.i32(inName, shape, ids)),
                        E2e.outputNames(out))))
            .get(0)
            .orThrow();
    Comparison c = Comparison.of(expected, result.output(0).data(), 0, 0);
    System.out.println("Hash table SavedModel: " + summary.detail() + "; y max|d|=" + c.maxAbs());
    assertThat(c.ok()).as(c.toString()).isTrue();
    // Missing keys come back as the default, so the table really was filled: 3 -> 1.0, 4 -> -2.0.
    assertThat(expected[0]).isEqualTo(1f);
    assertThat(expected[1]).isEqualTo(-2f);
  }

  @Test
  void tableFilledFromAFileIsRefusedNamingIt() throws Exception {
    Path vocab = java.nio.file.Files.writeString(tmp.resolve("vocab.txt"), "apple\nbanana\n");
    Path saved = export(tmp.resolve("file_table_savedmodel"), vocab);
    Path out = tmp.resolve("file_table_tfjs");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                TfGraphToTfjs.convertSavedModel(
                    saved,
                    out,
                    GraphOptions.defaults(),
                    TfjsOutputOptions.defaults(),
                    ProgressListener.NONE))
        .isInstanceOf(org.tfport.core.TfportException.UnsupportedModelException.class)
        .hasMessageContaining("hash table 'vocab'")
        .hasMessageContaining("vocabulary file")
        .hasMessageContaining("vocab_init");
    assertThat(out).doesNotExist();
  }
}
