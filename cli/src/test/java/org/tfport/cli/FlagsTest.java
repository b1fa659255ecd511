package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.testkit.Corpus;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Flags users know: every flag of every picocli subcommand says in one line what it does, the
 * converter flags scripts written for {@code tflite_convert} pass are accepted, and a float64 graph
 * converts with {@code --cast_float64_to_float32} after an error that names that flag.
 */
class FlagsTest {
  @TempDir Path tmp;

  @Test
  void everyFlagHasAOneLineDescription() {
    List<String> missing = new ArrayList<>();
    for (Object command :
        List.of(
            new ConvertCommand(),
            new TfliteConvertCommand(),
            new PredictCommand(),
            new BenchmarkCommand())) {
      for (OptionSpec o : new CommandLine(command).getCommandSpec().options()) {
        String[] d = o.description();
        if (d.length == 0 || d[0].isBlank()) {
          missing.add(command.getClass().getSimpleName() + " " + o.longestName());
        }
      }
    }
    assertThat(missing).isEmpty();
  }

  @Test
  void tfliteConvertAcceptsItsCompatibilityFlagsAndTheFloat64Cast() throws Exception {
    Path pb = Corpus.require("frozen_pb/dl4j-tf_graphs/primitive_gru/frozen_model.pb");
    Path out = tmp.resolve("gru.tflite");
    CliRunner refused =
        CliRunner.run(
            "tflite_convert",
            "--graph_def_file=" + pb,
            "--output_arrays=output",
            "--output_file=" + out);
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err())
        .contains("computes in float64")
        .contains("--cast_float64_to_float32")
        .doesNotContain("TfliteOutputOptions");
    assertThat(out).doesNotExist();

    CliRunner ok =
        CliRunner.run(
            "tflite_convert",
            "--graph_def_file=" + pb,
            "--output_arrays=output",
            "--output_file=" + out,
            "--enable_v1_converter",
            "--experimental_new_converter=true",
            "--quantize_to_float16",
            "--cast_float64_to_float32");
    assertThat(ok.code()).as(ok.err()).isEqualTo(0);
    assertThat(ok.err()).contains("float64 nodes cast");
    assertThat(Files.size(out)).isPositive();

    CliRunner bad =
        CliRunner.run(
            "tflite_convert",
            "--graph_def_file=" + pb,
            "--output_arrays=output",
            "--output_file=" + tmp.resolve("x.tflite"),
            "--enable_v1_converter=maybe");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("--enable_v1_converter");
  }
}
