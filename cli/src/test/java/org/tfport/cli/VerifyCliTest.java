package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.ConversionCheck.Precision;
import org.tfport.runtime.LoadOptions;
import org.tfport.testkit.Corpus;

/**
 * {@code --verify} on {@code convert} and {@code tflite_convert}: a line per output and exit 0 when
 * within tolerance; exit 1, with the output left written, when an output is beyond it or nothing
 * could be compared.
 */
class VerifyCliTest {
  @TempDir Path tmp;

  @Test
  void savedModelToTfjsAndTflitePass() {
    Path sm = Corpus.require("savedmodel/serving_saved_model_half_plus_two_tf2_cpu");
    CliRunner r =
        CliRunner.run("convert", "--verify", sm.toString(), tmp.resolve("tfjs").toString());
    assertThat(r.code()).as(r.err() + r.out()).isZero();
    assertThat(r.out())
        .containsPattern(
            "verify: y max\\|a-b\\| = \\S+ \\(tolerance 1\\.0e-05 \\+ 1\\.0e-04·\\|b\\|\\) ok");
    r =
        CliRunner.run(
            "tflite_convert",
            "--saved_model_dir",
            sm.toString(),
            "--output_file",
            tmp.resolve("m.tflite").toString(),
            "--quantize_float16",
            "--verify");
    assertThat(r.code()).as(r.err() + r.out()).isZero();
    assertThat(r.out())
        .contains("verify: y max|a-b| = ")
        .contains("(tolerance 1.0e-03 + 1.0e-02·|b|) ok");
    r =
        CliRunner.run(
            "convert",
            "--output_format=tflite",
            "--verify=true",
            tmp.resolve("tfjs/model.json").toString(),
            tmp.resolve("g.tflite").toString());
    assertThat(r.code()).as(r.err() + r.out()).isZero();
    assertThat(r.out()).contains("verify: y max|a-b| = ").contains(" ok");
  }

  @Test
  void damagedOutputExitsOneNamingTheOutput() throws Exception {
    Path sm = Corpus.require("savedmodel/serving_saved_model_half_plus_two_tf2_cpu");
    Path out = tmp.resolve("tfjs");
    assertThat(CliRunner.run("convert", sm.toString(), out.toString()).code()).isZero();
    // y = 0.5 x + 2 with every weight negated is -0.5 x - 2: 3 or more away for x in [-1, 1).
    try (Stream<Path> s = Files.list(out)) {
      for (Path bin : s.filter(p -> p.toString().endsWith(".bin")).toList()) {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(bin)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 4 <= b.capacity(); i += 4) {
          b.putFloat(i, -b.getFloat(i));
        }
        Files.write(bin, b.array());
      }
    }
    StringWriter text = new StringWriter();
    int code =
        Verify.run(
            sm, LoadOptions.defaults(), List.of(), out, Precision.FLOAT32, new PrintWriter(text));
    assertThat(code).isEqualTo(1);
    assertThat(text.toString())
        .startsWith("verify: y max|a-b| = ")
        .contains("BEYOND TOLERANCE")
        .contains(out + " is left written");
  }

  @Test
  void kerasToLayersModelIsComparedInTheRuntime() {
    // The runtime builds the graph of both the .h5 and the written layers model (its folder).
    Path h5 = DemoModel.write(tmp.resolve("m.h5"), "Dense");
    Path out = tmp.resolve("layers");
    CliRunner r = CliRunner.run("convert", "--verify", h5.toString(), out.toString());
    assertThat(r.code()).as(r.err() + r.out()).isZero();
    assertThat(out.resolve("model.json")).exists();
    String[] lines = r.out().split("\n");
    assertThat(lines).anyMatch(l -> l.startsWith("verify: ") && l.endsWith(" ok"));
    assertThat(lines).noneMatch(l -> l.startsWith("verify: note:"));
  }
}
