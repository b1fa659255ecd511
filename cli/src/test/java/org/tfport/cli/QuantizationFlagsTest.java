package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code --quantize_*} pattern that matches no weight is a mistake the user wants to hear about:
 * the conversion stops naming the pattern and how the weights are named, and nothing is written.
 */
class QuantizationFlagsTest {
  @TempDir Path tmp;

  @Test
  void aPatternMatchingNoWeightIsAnErrorNamingIt() {
    Path h5 = DemoModel.write(tmp.resolve("m.h5"), "Dense");
    Path out = tmp.resolve("out");
    CliRunner r =
        CliRunner.run(
            "convert", "--quantize_float16=*/kernel,*/gamma", h5.toString(), out.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err())
        .contains("--quantize_float16 '*/gamma' matches no weight")
        .doesNotContain("'*/kernel'")
        .contains("dense/kernel");
    assertThat(out).doesNotExist();

    CliRunner ok =
        CliRunner.run("convert", "--quantize_float16=*/kernel", h5.toString(), out.toString());
    assertThat(ok.code()).as(ok.err()).isEqualTo(0);
  }
}
