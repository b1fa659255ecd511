package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.DType;
import org.tfport.core.ProgressListener;
import org.tfport.formats.savedmodel.TensorBundle;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;

/**
 * A TF1 SavedModel with a partitioned variable ({@code
 * tf.compat.v1.get_variable(partitioner=...)}): the checkpoint stores {@code w} as slices, each
 * restored into its own part variable by a {@code shape_and_slices} spec, and the graph
 * concatenates the parts. TensorFlow writes the checkpoint with the saver built here; the converted
 * model must compute what TensorFlow computes.
 */
@OracleTest
class PartitionedVariableTest {
  @TempDir Path tmp;

  static final long[][] PARTS = {{3, 3}, {2, 3}};
  static final String[] SPECS = {"5 3 0,3:-", "5 3 3,2:-"};

  private static Path export(Path dir, float[][] values) throws Exception {
    Files.createDirectories(dir.resolve("variables"));
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 5)));
      List<Operand<TFloat32>> parts = new ArrayList<>();
      List<org.tensorflow.op.Op> inits = new ArrayList<>();
      for (int i = 0; i < PARTS.length; i++) {
        var v =
            tf.withSubScope("w").withName("part_" + i).variable(Shape.of(PARTS[i]), TFloat32.class);
        parts.add(v);
        inits.add(tf.assign(v, tf.constant(Shape.of(PARTS[i]), DataBuffers.of(values[i]))));
      }
      var w = tf.withSubScope("w").withName("read").concat(parts, tf.constant(0));
      tf.withName("y").linalg.matMul(x, w);
      var prefix =
          tf.withSubScope("save")
              .withName("Const")
              .placeholderWithDefault(tf.constant("model"), Shape.scalar());
      var names = tf.constant(StandardCharsets.UTF_8, new String[] {"w", "w"});
      var specs = tf.constant(StandardCharsets.UTF_8, SPECS);
      List<Operand<?>> partOperands = new ArrayList<>(parts);
      var save =
          tf.withSubScope("save").withName("SaveV2").train.save(prefix, names, specs, partOperands);
      List<Class<? extends TType>> types = List.of(TFloat32.class, TFloat32.class);
      var restore =
          tf.withSubScope("save").withName("RestoreV2").train.restore(prefix, names, specs, types);
      List<org.tensorflow.op.Op> assigns = new ArrayList<>();
      for (int i = 0; i < PARTS.length; i++) {
        @SuppressWarnings("unchecked")
        Operand<TFloat32> r = (Operand<TFloat32>) restore.tensors().get(i);
        assigns.add(tf.withSubScope("save").assign(parts.get(i), r));
      }
      String restoreAll =
          tf.withSubScope("save")
              .withControlDependencies(assigns)
              .withName("restore_all")
              .noOp()
              .op()
              .name();
      var init = tf.withControlDependencies(inits).withName("init").noOp();
      try (Session s = new Session(g)) {
        s.runner().addTarget(init).run();
        try (var p = TString.scalarOf(dir.resolve("variables/variables").toString())) {
          s.runner().feed(prefix, p).addTarget(save).run();
        }
      }
      var sig =
          org.tensorflow.proto.SignatureDef.newBuilder()
              .setMethodName("tensorflow/serving/predict")
              .putInputs("x", info("x:0", 5))
              .putOutputs("y", info("y:0", 3));
      var meta =
          org.tensorflow.proto.MetaGraphDef.newBuilder()
              .setMetaInfoDef(
                  org.tensorflow.proto.MetaGraphDef.MetaInfoDef.newBuilder().addTags("serve"))
              .setGraphDef(g.toGraphDef())
              .setSaverDef(
                  org.tensorflow.proto.SaverDef.newBuilder()
                      .setFilenameTensorName(prefix.op().name() + ":0")
                      .setSaveTensorName(save.op().name())
                      .setRestoreOpName(restoreAll)
                      .setVersion(org.tensorflow.proto.SaverDef.CheckpointFormatVersion.V2))
              .putSignatureDef("serving_default", sig.build());
      Files.write(
          dir.resolve("saved_model.pb"),
          org.tensorflow.proto.SavedModel.newBuilder()
              .setSavedModelSchemaVersion(1)
              .addMetaGraphs(meta)
              .build()
              .toByteArray());
    }
    return dir;
  }

  private static org.tensorflow.proto.TensorInfo info(String name, long width) {
    var s =
        org.tensorflow.proto.TensorShapeProto.newBuilder()
            .addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(-1))
            .addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(width));
    return org.tensorflow.proto.TensorInfo.newBuilder()
        .setName(name)
        .setDtype(org.tensorflow.proto.DataType.DT_FLOAT)
        .setTensorShape(s)
        .build();
  }

  @Test
  void partitionedVariableIsRestoredPartByPartAndAsAWhole() throws Exception {
    Random rnd = new Random(9);
    float[][] values = new float[PARTS.length][];
    for (int i = 0; i < PARTS.length; i++) {
      values[i] = new float[(int) (PARTS[i][0] * PARTS[i][1])];
      for (int k = 0; k < values[i].length; k++) {
        values[i][k] = rnd.nextFloat() * 2 - 1;
      }
    }
    Path saved = export(tmp.resolve("partitioned_savedmodel"), values);

    // The checkpoint as TensorFlow wrote it: 'w' in slices, readable part by part and whole.
    TensorBundle bundle = TensorBundle.open(saved.resolve("variables/variables"));
    assertThat(bundle.entry("w").sliced()).isTrue();
    assertThat(bundle.read("w", SPECS[1]).toFloatArray()).containsExactly(values[1]);
    float[] whole = bundle.read("w").toFloatArray();
    assertThat(whole).hasSize(15);
    for (int k = 0; k < 15; k++) {
      assertThat(whole[k]).isEqualTo(k < 9 ? values[0][k] : values[1][k - 9]);
    }
    // A block across both slices: rows 2..3, columns 1..2.
    float[] block = bundle.read("w", "5 3 2,2:1,2").toFloatArray();
    assertThat(block).containsExactly(values[0][7], values[0][8], values[1][1], values[1][2]);

    Path out = tmp.resolve("partitioned_tfjs");
    var summary =
        TfGraphToTfjs.convertSavedModel(
            saved,
            out,
            GraphOptions.defaults(),
            TfjsOutputOptions.defaults(),
            ProgressListener.NONE);
    long[] shape = {3, 5};
    TfjsOracle.Input in = TensorFlowOracle.random("x", shape, DType.FLOAT32.tfEnum(), rnd);
    Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
    feeds.put("x", new TensorFlowOracle.Feed(in, DType.FLOAT32.tfEnum()));
    float[] expected =
        TensorFlowOracle.runSavedModel(saved, "serve", "serving_default", feeds).get("y");
    String inName =
        E2e.modelJson(out).path("signature").path("inputs").path("x").path("name").stringValue();
    var result =
        TfjsOracle.run(
                List.of(
                    TfjsOracle.Job.graph(
                        out.resolve("model.json"),
                        List.of(TfjsOracle.Input.f32(inName, shape, in.data())),
                        E2e.outputNames(out))))
            .get(0)
            .orThrow();
    Comparison c = Comparison.of(expected, result.output(0).data(), E2e.ATOL, E2e.RTOL);
    System.out.println(
        "Partitioned-variable SavedModel: " + summary.detail() + "; y max|d|=" + c.maxAbs());
    assertThat(c.ok()).as(c.toString()).isTrue();
  }
}
