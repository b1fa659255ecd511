package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tfport.core.Json;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import tools.jackson.databind.JsonNode;

/**
 * SavedModel and GraphDef inputs through the CLI, in-process: bad input gets one stderr line, a
 * non-zero exit and no output; good input converts with and without format flags.
 */
@OracleTest
class GraphInputTest {
  static final String TIMES_THREE = "savedmodel/tfjs-node_times_three_float";

  @TempDir Path tmp;

  private void assertRefused(CliRunner r, int code, String... mustMention) throws IOException {
    assertThat(r.code()).as(r.err()).isEqualTo(code);
    assertThat(r.errLines()).as("exactly one line on stderr: " + r.err()).hasSize(1);
    assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
    for (String m : mustMention) {
      assertThat(r.err()).contains(m);
    }
    assertThat(tmp.resolve("out")).doesNotExist();
    try (Stream<Path> s = Files.list(tmp)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tfport-"));
    }
  }

  private CliRunner frozen(Path pb, String outputs) {
    return CliRunner.run(
        "convert",
        "--input_format=tf_frozen_model",
        "--output_format=tfjs_graph_model",
        "--output_node_names=" + outputs,
        pb.toString(),
        tmp.resolve("out").toString());
  }

  static NodeDef node(String name, String op, String... inputs) {
    NodeDef.Builder b = NodeDef.newBuilder().setName(name).setOp(op);
    for (String i : inputs) {
      b.addInput(i);
    }
    b.putAttr("T", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build());
    return b.build();
  }

  static NodeDef placeholder(String name) {
    return NodeDef.newBuilder()
        .setName(name)
        .setOp("Placeholder")
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())
        .putAttr(
            "shape",
            AttrValue.newBuilder()
                .setShape(
                    TensorShapeProto.newBuilder()
                        .addDim(TensorShapeProto.Dim.newBuilder().setSize(-1)))
                .build())
        .build();
  }

  static NodeDef constant(String name, float value) {
    return NodeDef.newBuilder()
        .setName(name)
        .setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())
        .putAttr(
            "value",
            AttrValue.newBuilder()
                .setTensor(
                    TensorProto.newBuilder()
                        .setDtype(DataType.DT_FLOAT)
                        .setTensorShape(TensorShapeProto.getDefaultInstance())
                        .addFloatVal(value))
                .build())
        .build();
  }

  private Path graph(String name, NodeDef... nodes) throws IOException {
    return Files.write(
        tmp.resolve(name), GraphDef.newBuilder().addAllNode(List.of(nodes)).build().toByteArray());
  }

  @Test
  void savedModelConvertsWithoutFormatFlags() throws IOException {
    Path in = Corpus.require(TIMES_THREE);
    CliRunner r = CliRunner.run("convert", in.toString(), tmp.resolve("out").toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("wrote");
    assertThat(r.out()).contains("graph: 9 nodes", "before", "after");
    JsonNode json = Json.MAPPER.readTree(Files.readString(tmp.resolve("out/model.json")));
    assertThat(json.path("format").stringValue()).isEqualTo("graph-model");
    assertThat(json.path("signature").path("inputs").has("x")).isTrue();
  }

  @Test
  void optimizationReportsAndCanBeSkipped() throws IOException {
    Path pb = Corpus.require("frozen_pb/dl4j-tf_graphs/lenet_frozen.pb");
    CliRunner r = frozen(pb, "output");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("graph: 40 nodes before", "after optimizing", "3 _FusedConv2D", "2 _FusedMatMul");
    CliRunner plain =
        CliRunner.run(
            "convert",
            "--input_format=tf_frozen_model",
            "--output_node_names=output",
            "--skip_optimization=true",
            pb.toString(),
            tmp.resolve("plain").toString());
    assertThat(plain.code()).as(plain.err()).isZero();
    assertThat(plain.out()).contains("not optimized").doesNotContain("_Fused");
    assertThat(Files.readString(tmp.resolve("plain/model.json"))).doesNotContain("_FusedConv2D");
  }

  @Test
  void savedModelConvertsWithFormatFlags() throws IOException {
    Path in = Corpus.require(TIMES_THREE);
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=tf_saved_model",
            "--output_format=tfjs_graph_model",
            "--use_structured_outputs_names=true",
            in.toString(),
            tmp.resolve("out").toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode json = Json.MAPPER.readTree(Files.readString(tmp.resolve("out/model.json")));
    assertThat(json.path("userDefinedMetadata").path("structuredOutputKeys").get(0).stringValue())
        .isEqualTo("output_0");
  }

  /**
   * A TF1 Hub module: tfhub_module.pb beside a SavedModel whose graph has no tags and a 'default'
   * signature.
   */
  @Test
  void tf1HubModuleConverts() throws IOException {
    Path src = Corpus.require("savedmodel/tfjava_saved_model");
    Path hub = Files.createDirectories(tmp.resolve("hub"));
    Files.createDirectories(hub.resolve("variables"));
    for (String f :
        List.of("variables/variables.index", "variables/variables.data-00000-of-00001")) {
      Files.copy(src.resolve(f), hub.resolve(f));
    }
    var sm =
        org.tensorflow.proto.SavedModel.parseFrom(Files.readAllBytes(src.resolve("saved_model.pb")))
            .toBuilder();
    var mg = sm.getMetaGraphsBuilder(0);
    mg.getMetaInfoDefBuilder().clearTags();
    var sig = mg.getSignatureDefMap().get("serving_default");
    mg.clearSignatureDef().putSignatureDef("default", sig);
    Files.write(hub.resolve("saved_model.pb"), sm.build().toByteArray());
    Files.write(hub.resolve("tfhub_module.pb"), new byte[] {8, 3});
    CliRunner r =
        CliRunner.run(
            "convert", "--input_format=tf_hub", hub.toString(), tmp.resolve("hub_out").toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode json = Json.MAPPER.readTree(Files.readString(tmp.resolve("hub_out/model.json")));
    assertThat(json.path("signature").path("outputs").has("y")).isTrue();
    // Without --input_format, tfhub_module.pb says it is a hub module (its graph has no 'serve'
    // tag).
    r = CliRunner.run("convert", hub.toString(), tmp.resolve("hub_out2").toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Files.readString(tmp.resolve("hub_out2/model.json")))
        .isEqualTo(Files.readString(tmp.resolve("hub_out/model.json")));
  }

  /**
   * With no format flags, an output named *.tflite picks the TFLite converter; the input format is
   * read as usual.
   */
  @Test
  void tfliteOutputNameSelectsTheTfliteConverter() throws IOException {
    Path in = Corpus.require(TIMES_THREE);
    Path out = tmp.resolve("times_three.tflite");
    CliRunner r = CliRunner.run("convert", in.toString(), out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(org.tfport.formats.tflite.TfliteReader.read(out).signatureDefs()).hasSize(1);
  }

  /** A .pb file is a frozen graph, and a graph model's model.json says so in "format". */
  @Test
  void frozenGraphAndGraphModelAreRecognisedWithoutFormatFlags() throws IOException {
    Path pb = Corpus.require("frozen_pb/dl4j-tf_graphs/lenet_frozen.pb");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--output_node_names=output",
            pb.toString(),
            tmp.resolve("graph").toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode json = Json.MAPPER.readTree(Files.readString(tmp.resolve("graph/model.json")));
    assertThat(json.path("format").stringValue()).isEqualTo("graph-model");
    assertThat(ConvertCommand.infer(tmp.resolve("graph")))
        .isEqualTo(org.tfport.formats.ModelFormat.TFJS_GRAPH_MODEL);
    assertThat(ConvertCommand.infer(tmp.resolve("graph/model.json")))
        .isEqualTo(org.tfport.formats.ModelFormat.TFJS_GRAPH_MODEL);
  }

  @Test
  void unknownTagListsTheTagSets() throws IOException {
    Path in = Corpus.require(TIMES_THREE);
    assertRefused(
        CliRunner.run(
            "convert",
            "--saved_model_tags=serve,gpu",
            in.toString(),
            tmp.resolve("out").toString()),
        2,
        "saved_model.pb",
        "gpu,serve",
        "tag sets there are: serve");
  }

  @Test
  void unknownSignatureListsTheSignatures() throws IOException {
    Path in = Corpus.require("savedmodel/tfjava_saved_model_using_python");
    assertRefused(
        CliRunner.run(
            "convert", "--signature_name=nope", in.toString(), tmp.resolve("out").toString()),
        2,
        "no signature 'nope'",
        "add, get_const_matrix");
  }

  @Test
  void unsupportedOpsAreNamedWithANode() throws IOException {
    Path in = Corpus.require("savedmodel/serving_saved_model_counter");
    assertRefused(
        CliRunner.run(
            "convert",
            "--signature_name=incr_counter",
            in.toString(),
            tmp.resolve("out").toString()),
        1,
        "AssignAdd (node 'incr_counter_op/AssignAdd')",
        "--skip_op_check");
  }

  @Test
  void nodeReadingAMissingNode() throws IOException {
    Path pb = graph("missing.pb", placeholder("x"), node("y", "Relu", "nope"));
    assertRefused(frozen(pb, "y"), 1, pb.toString(), "'y'", "'nope'");
  }

  @Test
  void cycle() throws IOException {
    Path pb =
        graph(
            "cycle.pb",
            placeholder("x"),
            node("a", "Add", "x", "b"),
            node("b", "Relu", "a"),
            node("y", "Relu", "b"));
    assertRefused(frozen(pb, "y"), 1, pb.toString(), "cycle");
  }

  @Test
  void notProtobuf() throws IOException {
    Path pb = Files.writeString(tmp.resolve("model.pb"), "this is not a model");
    assertRefused(frozen(pb, "y"), 1, pb.toString(), "not a TensorFlow GraphDef");
  }

  @Test
  void unsupportedOpInAFrozenGraph() throws IOException {
    Path pb =
        graph("fancy.pb", placeholder("x"), node("f", "FancyOp", "x"), node("g", "AnotherOp", "f"));
    assertRefused(frozen(pb, "g"), 1, "FancyOp (node 'f')", "AnotherOp (node 'g')");
  }

  @Test
  void unknownOutputNode() throws IOException {
    Path pb = graph("ok.pb", placeholder("x"), node("y", "Relu", "x"));
    assertRefused(frozen(pb, "z"), 2, "'z'", "y");
  }

  @Test
  void frozenNeedsOutputNodeNames() throws IOException {
    Path pb = graph("ok.pb", placeholder("x"), node("y", "Relu", "x"));
    assertRefused(
        CliRunner.run(
            "convert",
            "--input_format=tf_frozen_model",
            pb.toString(),
            tmp.resolve("out").toString()),
        2,
        "--output_node_names");
  }

  @Test
  void frozenGraphConverts() throws IOException {
    Path pb =
        graph(
            "ok.pb",
            placeholder("x"),
            constant("two", 2f),
            node("m", "Mul", "x", "two"),
            node("i", "Identity", "m"),
            node("y", "Relu", "i"),
            node("dbg", "CheckNumerics", "y"));
    CliRunner r = frozen(pb, "dbg");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode json = Json.MAPPER.readTree(Files.readString(tmp.resolve("out/model.json")));
    List<String> ops =
        json.path("modelTopology")
            .path("node")
            .valueStream()
            .map(n -> n.path("op").stringValue())
            .toList();
    assertThat(ops).containsExactly("Placeholder", "Const", "Mul", "Relu");
    assertThat(json.path("signature").path("outputs").path("dbg").path("name").stringValue())
        .isEqualTo("y");
  }
}
