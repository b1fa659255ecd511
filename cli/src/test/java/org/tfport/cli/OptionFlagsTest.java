package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class OptionFlagsTest {
  @Test
  void libraryOptionNamesBecomeFlags() {
    assertThat(
            OptionFlags.reword(
                "m/saved_model.pb: no MetaGraph has the tags serve; the tag sets there are: gpu;"
                    + " choose the tags gpu"))
        .endsWith("give --saved_model_tags=gpu");
    assertThat(OptionFlags.reword("no signature 'x'; choose a signature by its key"))
        .endsWith("give --signature_name=NAME");
    assertThat(
            OptionFlags.reword(
                "d: is a folder (this folder is a SavedModel: use ModelFormat.TF_SAVED_MODEL)"))
        .endsWith("use --input_format=tf_saved_model)");
    assertThat(
            OptionFlags.reword(
                "m.json: not a TF.js graph model; use ModelFormat.TFJS_LAYERS_MODEL"))
        .endsWith("use --input_format=tfjs_layers_model");
    assertThat(OptionFlags.reword("WriteOptions.shardSizeBytes must be a positive number of bytes"))
        .startsWith("--weight_shard_size_bytes must be");
    assertThat(OptionFlags.reword("name the nodes to compute (LoadOptions.outputNodeNames)"))
        .endsWith("(--output_node_names)");
  }

  @Test
  void quantizationOptionsBecomeFlags() {
    assertThat(OptionFlags.reword("QuantizationMap.float16 '*/gamma' matches no weight"))
        .isEqualTo("--quantize_float16 '*/gamma' matches no weight");
    assertThat(
            OptionFlags.reword(
                "QuantizationMap.quantizationBytes cannot be combined with"
                    + " QuantizationMap.float16/uint8/uint16 patterns; use only the patterns"))
        .isEqualTo(
            "--quantization_bytes cannot be combined with --quantize_* flags; use only the"
                + " patterns");
    assertThat(OptionFlags.reword("leave it out of the QuantizationMap.uint16 patterns"))
        .endsWith("the --quantize_uint16 patterns");
    assertThat(
            OptionFlags.reword(
                "convert it as ModelFormat.TF_SAVED_MODEL into ModelFormat.TFJS_GRAPH_MODEL"))
        .isEqualTo(
            "convert it with --input_format=tf_saved_model --output_format=tfjs_graph_model");
    assertThat(OptionFlags.reword("write a .h5 file instead (into ModelFormat.KERAS)"))
        .isEqualTo("write a .h5 file instead (with --output_format=keras)");
    assertThat(OptionFlags.reword("convert into ModelFormat.KERAS_KERAS (a .keras file)"))
        .isEqualTo("convert with --output_format=keras_keras (a .keras file)");
    assertThat(OptionFlags.reword("kept (no QuantizationMap.float16/uint8/uint16 patterns given)"))
        .isEqualTo("kept (no --quantize_* flags given)");
  }

  /**
   * The library's messages name API options; only the CLI knows flags. A string literal in a
   * library module that spells a flag ({@code --name}) is a message the CLI cannot map back.
   */
  @Test
  void libraryMessagesNameNoFlags() throws IOException {
    Path root = Path.of("..").toAbsolutePath().normalize();
    Pattern flag = Pattern.compile("\"[^\"]*(?<![-\\w])--[a-z][a-z0-9_]*[^\"]*\"");
    List<String> found = new ArrayList<>();
    for (String module : List.of("core", "formats", "graph", "runtime", "convert", "io", "train")) {
      Path src = root.resolve(module).resolve("src/main/java");
      assertThat(src).as("library sources of " + module).isDirectory();
      try (Stream<Path> files = Files.walk(src)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
          List<String> lines = Files.readAllLines(f);
          for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.startsWith("*") || line.startsWith("//") || line.startsWith("/*")) {
              continue;
            }
            Matcher m = flag.matcher(line);
            if (m.find()) {
              found.add(root.relativize(f) + ":" + (i + 1) + ": " + m.group());
            }
          }
        }
      }
    }
    assertThat(found).as("flag names in library string literals").isEmpty();
  }
}
