package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.formats.tfjs.TfjsModel;
import org.tfport.formats.tfjs.TfjsModelJson;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.testkit.IntegrationTest;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfjsOracle.Input;
import org.tfport.testkit.TfjsOracle.Job;
import org.tfport.testkit.TfjsOracle.Result;

/**
 * The README's "From Java" program, compiled as written against the library and run on a Keras
 * model and a SavedModel (the demo's): each converts to the TF.js format that fits it, and TF.js
 * loads and runs the result.
 */
@IntegrationTest
class ReadmeFromJavaTest {
  @TempDir Path tmp;

  @Test
  void readmeProgramConvertsKerasAndSavedModel() throws Exception {
    String section = ReadmeProgram.section(ReadmeProgram.readme(), "## From Java");
    assertThat(ReadmeProgram.block(section, "xml"))
        .contains(
            "<groupId>org.tfport</groupId>",
            "<artifactId>tfport-convert</artifactId>",
            "<version>0.1.0-SNAPSHOT</version>");
    CliRunner demo = CliRunner.run("demo", tmp.resolve("demo").toString());
    assertThat(demo.code()).as(demo.err()).isZero();
    try (ReadmeProgram program = ReadmeProgram.compile(ReadmeProgram.block(section, "java"), tmp)) {
      String keras =
          program.run(tmp.resolve("demo/model.h5").toString(), tmp.resolve("layers").toString());
      assertThat(keras).startsWith("KERAS -> TFJS_LAYERS_MODEL: wrote " + tmp.resolve("layers"));
      String saved =
          program.run(tmp.resolve("demo/saved_model").toString(), tmp.resolve("graph").toString());
      assertThat(saved)
          .startsWith("TF_SAVED_MODEL -> TFJS_GRAPH_MODEL: wrote " + tmp.resolve("graph"));
    }
    TfjsModel layers = TfjsReader.read(tmp.resolve("layers/model.json"));
    assertThat(layers.modelJson().format()).isEqualTo(TfjsModelJson.LAYERS_MODEL);
    assertThat(TfjsReader.read(tmp.resolve("graph/model.json")).modelJson().format())
        .isEqualTo(TfjsModelJson.GRAPH_MODEL);
    // TF.js loads both, and they compute what the demo's own conversions compute.
    float[] x = {0.5f, -1f, 2f, 0.25f};
    Result fromLayers =
        TfjsOracle.run(
                Job.layers(
                    tmp.resolve("layers/model.json"), new Input("input", new long[] {1, 4}, x)))
            .orThrow();
    Result fromGraph =
        TfjsOracle.run(
                List.of(
                    Job.graph(
                        tmp.resolve("graph/model.json"),
                        List.of(Input.f32("x", new long[] {1, 4}, x)),
                        List.of("probabilities"))))
            .get(0)
            .orThrow();
    Result demoLayers =
        TfjsOracle.run(
                Job.layers(
                    tmp.resolve("demo/tfjs_model/model.json"),
                    new Input("input", new long[] {1, 4}, x)))
            .orThrow();
    assertThat(fromLayers.output(0).data()).containsExactly(demoLayers.output(0).data());
    assertThat(fromGraph.output(0).data())
        .containsExactly(demoLayers.output(0).data(), org.assertj.core.data.Offset.offset(1e-6f));
  }
}
