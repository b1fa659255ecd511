package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;

/**
 * The README's "Running models" program, compiled as written against the library (-Werror) and run
 * on the demo's SavedModel, by path and by file:// URL: it prints what a session run of the same
 * input gives.
 */
class ReadmeRuntimeProgramTest {
  @TempDir Path tmp;

  @Test
  void readmeProgramCompilesAndRunsTheDemoSavedModel() throws Exception {
    String program =
        ReadmeProgram.block(
            ReadmeProgram.section(ReadmeProgram.readme(), "## Running models"), "java");
    assertThat(program).contains("import ", "public static void main", "try (Model model");
    CliRunner demo = CliRunner.run("demo", tmp.resolve("demo").toString());
    assertThat(demo.code()).as(demo.err()).isZero();
    Path saved = tmp.resolve("demo/saved_model");
    StringBuilder expected = new StringBuilder();
    try (Model m = Model.load(saved);
        Session s = m.newSession()) {
      var sig = m.defaultSignature();
      expected.append("inputs " + sig.inputNames() + ", outputs " + sig.outputNames()).append('\n');
      Tensor x = Tensor.ofFloats(Shape.of(1, 4), 0.5f, -1f, 2f, 0.25f);
      Map<String, Tensor> out = s.run(Map.of(sig.inputNames().get(0), x));
      out.forEach(
          (name, t) ->
              expected
                  .append(name + " " + t.dtype() + Arrays.toString(t.shape().dims()) + " ")
                  .append(Arrays.toString(t.toFloatArray()))
                  .append('\n'));
    }
    try (ReadmeProgram compiled = ReadmeProgram.compile(program, tmp)) {
      assertThat(compiled.run(saved.toString())).isEqualTo(expected.toString().strip());
      assertThat(compiled.run("file://" + saved.toAbsolutePath()))
          .isEqualTo(expected.toString().strip());
    }
    assertThat(expected.toString()).contains("FLOAT32[1, ");
  }
}
