package org.tfport.formats.mlir;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tfport.core.graph.Graph;
import org.tfport.formats.graphdef.GraphDefReader;
import org.tfport.formats.savedmodel.SavedModelReader;
import org.tfport.testkit.Corpus;

/**
 * Every MLIR bytecode file of the corpus decoded and compared with the MLIR text JAX or StableHLO
 * printed for the same module: operations in order, function signatures, constants, attributes.
 */
class MlirBytecodeCorpusTest {
  private static final Pattern OP =
      Pattern.compile(
          "^\\s*(?:%[\\w#:, %]+=\\s*)?\"?((?:stablehlo|func|sdy|chlo)\\.[\\w.-]+|return|call)"
              + "\"?(?=[\\s(@<]|$)");

  static MlirModule decode(String relative) throws Exception {
    Path p = Corpus.require(relative);
    return MlirBytecode.read(Files.readAllBytes(p), p.toString());
  }

  /** Operation names in source order from MLIR text (pretty or generic), comments skipped. */
  static List<String> opsInText(String text) {
    List<String> ops = new ArrayList<>();
    for (String line : text.split("\n")) {
      String code = line.replaceFirst("//.*", "");
      Matcher m = OP.matcher(code);
      if (m.find()) {
        String op = m.group(1);
        ops.add(op.equals("return") ? "func.return" : op.equals("call") ? "func.call" : op);
      }
    }
    return ops;
  }

  static List<String> opsDecoded(MlirModule m) {
    return MlirBytecode.toStablehlo(m).walk().stream()
        .map(MlirOp::name)
        .filter(n -> !n.equals("builtin.module"))
        .toList();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"jax_export_sin_dummy", "jax_export_dynamic_top_k", "jax_export_add_sdy_v1_13"})
  void jaxExportOpsMatchTheirText(String dir) throws Exception {
    MlirModule m = decode("jax/" + dir + "/module.mlirbc");
    String text = Files.readString(Corpus.require("jax/" + dir + "/mlir_module_text.txt"));
    assertThat(opsDecoded(m)).isEqualTo(opsInText(text)).isNotEmpty();
    assertThat(m.dialects()).contains("builtin", "vhlo");
    // Every constant prints as the text prints it.
    List<String> constants = new ArrayList<>();
    Matcher c =
        Pattern.compile("stablehlo\\.constant (dense<[^>]*> : tensor<[^>]*>)").matcher(text);
    while (c.find()) {
      constants.add(c.group(1));
    }
    List<String> decoded =
        m.walk().stream()
            .filter(op -> op.name().equals("vhlo.constant_v1"))
            .map(op -> op.attribute("value").toString())
            .toList();
    assertThat(decoded).isEqualTo(constants);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"jax_export_sin_dummy", "jax_export_dynamic_top_k", "jax_export_add_sdy_v1_13"})
  void functionSignaturesMatchTheirText(String dir) throws Exception {
    MlirModule m = decode("jax/" + dir + "/module.mlirbc");
    String text = Files.readString(Corpus.require("jax/" + dir + "/mlir_module_text.txt"));
    List<MlirOp> funcs = m.walk().stream().filter(op -> op.name().equals("vhlo.func_v1")).toList();
    assertThat(funcs).isNotEmpty();
    for (MlirOp f : funcs) {
      String name = ((MlirAttr.Str) f.attribute("sym_name")).value();
      MlirType.Function type =
          (MlirType.Function) ((MlirAttr.TypeAttr) f.attribute("function_type")).type();
      Matcher sig =
          Pattern.compile("func\\.func (?:public |private )?@" + name + "\\((.*)\\) -> (.*) \\{")
              .matcher(text);
      assertThat(sig.find()).as("signature of @%s in the text", name).isTrue();
      List<String> args = new ArrayList<>();
      Matcher a = Pattern.compile("%arg\\d+: (tensor<[^>]*>)").matcher(sig.group(1));
      while (a.find()) {
        args.add(a.group(1));
      }
      assertThat(type.inputs().stream().map(String::valueOf).toList()).isEqualTo(args);
      List<String> results = new ArrayList<>();
      Matcher r = Pattern.compile("tensor<[^>]*>").matcher(sig.group(2));
      while (r.find()) {
        results.add(r.group());
      }
      assertThat(type.results().stream().map(String::valueOf).toList()).isEqualTo(results);
    }
  }

  @Test
  void dynamicTopKAttributes() throws Exception {
    MlirModule m = decode("jax/jax_export_dynamic_top_k/module.mlirbc");
    assertThat(m.bytecodeVersion()).isZero();
    assertThat(m.producer()).isEqualTo("StableHLO_v0.9.0");
    MlirOp compare =
        m.walk().stream().filter(op -> op.name().equals("vhlo.compare_v1")).findFirst().get();
    assertThat(compare.attribute("comparison_direction"))
        .hasToString("#stablehlo<comparison_direction GE>");
    assertThat(compare.attribute("compare_type")).hasToString("#stablehlo<comparison_type SIGNED>");
    MlirOp dim =
        m.walk().stream()
            .filter(op -> op.name().equals("vhlo.get_dimension_size_v1"))
            .findFirst()
            .get();
    assertThat(dim.attribute("dimension")).hasToString("1 : i64");
    assertThat(dim.resultTypes()).hasToString("[tensor<i32>]");
    List<String> targets =
        m.walk().stream()
            .filter(op -> op.name().equals("vhlo.custom_call_v1"))
            .map(op -> ((MlirAttr.Str) op.attribute("call_target_name")).value())
            .toList();
    assertThat(targets).containsExactly("shape_assertion", "stablehlo.dynamic_top_k");
    // The two results of the call are one value group: %N#0 and %N#1 in the text.
    MlirOp call =
        m.walk().stream().filter(op -> op.name().equals("vhlo.call_v1")).findFirst().get();
    assertThat(call.results()).hasSize(2);
    assertThat(call.attribute("callee")).hasToString("\"_wrapped_jax_export_main\"");
    MlirOp ret =
        m.walk().stream().filter(op -> op.name().equals("vhlo.return_v1")).findFirst().get();
    assertThat(ret.operands()).containsExactlyElementsOf(call.results());
  }

  @Test
  void shardyAnnotationsAndLocations() throws Exception {
    MlirModule m = decode("jax/jax_export_add_sdy_v1_13/module.mlirbc");
    assertThat(m.bytecodeVersion()).isEqualTo(6);
    assertThat(m.producer()).isEqualTo("StableHLO_v1.13.1");
    MlirOp mesh = m.walk().stream().filter(op -> op.name().equals("sdy.mesh")).findFirst().get();
    assertThat(mesh.attribute("mesh")).hasToString("#sdy.mesh<[\"a\"=1]>");
    MlirOp func =
        m.walk().stream().filter(op -> op.name().equals("vhlo.func_v1")).findFirst().get();
    assertThat(func.attribute("arg_attrs").toString())
        .contains("sdy.sharding = #sdy.sharding<@mesh, [{\"a\"}]>")
        .contains("mhlo.memory_kind = \"pinned_host\"");
    MlirOp add = m.walk().stream().filter(op -> op.name().equals("vhlo.add_v1")).findFirst().get();
    assertThat(add.location())
        .hasToString(
            "loc(\"add\"(\"jit(func)\"(\"/rocm-jax/jax/tests/export_back_compat_test.py\":902:13)))");
    assertThat(add.operands()).extracting(MlirValue::isBlockArgument).containsExactly(true, true);
  }

  @Test
  void portableArtifactCoversTheOpsOfItsSource() throws Exception {
    String dir = "jax/stablehlo_vhlo_portable_artifact/";
    MlirModule m = decode(dir + "stablehlo_legalize_to_vhlo.1_0_0.mlir.bc");
    assertThat(m.producer()).isEqualTo("StableHLO_v1.0.0");
    String text = Files.readString(Corpus.require(dir + "stablehlo_legalize_to_vhlo.1_0_0.mlir"));
    List<String> decoded = opsDecoded(m);
    assertThat(decoded).hasSizeGreaterThan(600).isEqualTo(opsInText(text));
    assertThat(m.walk())
        .allMatch(op -> op.name().startsWith("vhlo.") || op.name().equals("builtin.module"));
  }

  @Test
  void portableArtifactAttributesInStablehloForm() throws Exception {
    String dir = "jax/stablehlo_vhlo_portable_artifact/";
    String text =
        MlirBytecode.toGenericText(
            Files.readAllBytes(Corpus.require(dir + "stablehlo_legalize_to_vhlo.1_0_0.mlir.bc")),
            "artifact");
    assertThat(text)
        .contains(
            "dimension_numbers = #stablehlo.conv<[b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]>",
            "dot_dimension_numbers = #stablehlo.dot<lhs_batching_dimensions = [0],"
                + " rhs_batching_dimensions = [0], lhs_contracting_dimensions = [2],"
                + " rhs_contracting_dimensions = [1]>",
            "#stablehlo.gather<offset_dims = [2], collapsed_slice_dims = [0, 1],"
                + " start_index_map = [0, 1], index_vector_dim = 2>",
            "slice_sizes = array<i64: 1, 1, 1>",
            "precision_config = [#stablehlo<precision HIGH>, #stablehlo<precision HIGH>]",
            "padding = dense<[[0, 0], [2, 0], [0, 2], [0, 0]]> : tensor<4x2xi64>",
            "edge_padding_high = array<i64: 4>",
            "value = dense<0.0> : tensor<f32>",
            "channel_handle = #stablehlo.channel_handle<handle = 0, type = 1>",
            "channel_handle = #stablehlo.channel_handle<handle = 1, type = 0>",
            "\"func.call\"",
            "\"stablehlo.return\"");
    // Defaults VHLO spells out and StableHLO leaves implicit are gone.
    assertThat(text).doesNotContain("comparison_type NOTYPE", "precision DEFAULT>]");
  }

  @Test
  void xlaCallModuleInGraphDef() throws Exception {
    Path p = Corpus.require("jax/jax2tf_call_tf_graphdef_v5/graph_def.pb");
    List<XlaCallModule> calls = XlaCallModule.all(GraphDefReader.read(p));
    assertThat(calls).hasSize(1);
    XlaCallModule call = calls.get(0);
    assertThat(call.version()).isEqualTo(5);
    assertThat(call.module().producer()).isEqualTo("StableHLO_v0.9.0");
    assertThat(call.functionList()).hasSize(1);
    assertThat(call.outputShapes()).hasSize(1);
    assertThat(call.outputShapes().get(0).dims()).containsExactly(2);
    String expected =
        Files.readString(Corpus.require("jax/jax2tf_call_tf_graphdef_v5/mlir_module_text.txt"));
    assertThat(opsDecoded(call.module())).isEqualTo(opsInText(expected));
    assertThat(call.text())
        .contains("\"stablehlo.cosine\"", "call_target_name = \"tf.call_tf_function\"")
        .contains("tf.backend_config = {called_index = 0 : i64, has_token_input_output = false}");
  }

  @Test
  void xlaCallModuleInSavedModel() throws Exception {
    Path dir = Corpus.require("jax/jax2tf_call_tf_savedmodel/saved_model");
    Graph g = SavedModelReader.read(dir, Set.of("serve"), "serving_default").graph();
    List<XlaCallModule> calls = XlaCallModule.all(g);
    assertThat(calls).isNotEmpty();
    String expected =
        Files.readString(Corpus.require("jax/jax2tf_call_tf_savedmodel/mlir_module_text.txt"));
    for (XlaCallModule call : calls) {
      assertThat(call.platforms()).contains("CPU");
      assertThat(opsDecoded(call.module())).isEqualTo(opsInText(expected));
    }
  }
}
