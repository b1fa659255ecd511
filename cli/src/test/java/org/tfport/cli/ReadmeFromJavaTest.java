package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.formats.tfjs.TfjsModel;
import org.tfport.formats.tfjs.TfjsModelJson;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfjsOracle.Input;
import org.tfport.testkit.TfjsOracle.Job;
import org.tfport.testkit.TfjsOracle.Result;

/**
 * The README's "From Java" program, compiled as written against the library and run on a Keras
 * model and a SavedModel (the demo's): each converts to the TF.js format that fits it, and TF.js
 * loads and runs the result.
 */
class ReadmeFromJavaTest {
  @TempDir Path tmp;

  @Test
  void readmeProgramConvertsKerasAndSavedModel() throws Exception {
    String readme = Files.readString(Path.of(System.getProperty("tfport.root"), "README.md"));
    String section = section(readme, "## From Java");
    assertThat(block(section, "xml"))
        .contains(
            "<groupId>org.tfport</groupId>",
            "<artifactId>tfport-convert</artifactId>",
            "<version>0.1.0-SNAPSHOT</version>");
    String program = block(section, "java");
    Matcher cls = Pattern.compile("public class (\\w+)").matcher(program);
    assertThat(cls.find()).as("the program declares a public class").isTrue();
    Path src = tmp.resolve("src").resolve(cls.group(1) + ".java");
    Files.createDirectories(src.getParent());
    Files.writeString(src, program);
    Path classes = Files.createDirectories(tmp.resolve("classes"));
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
    int rc =
        javac.run(
            null,
            diagnostics,
            diagnostics,
            "--release",
            "21",
            "-Xlint:all,-path",
            "-Werror",
            "-cp",
            classpath,
            "-d",
            classes.toString(),
            src.toString());
    assertThat(rc).as(diagnostics.toString(StandardCharsets.UTF_8)).isZero();

    CliRunner demo = CliRunner.run("demo", tmp.resolve("demo").toString());
    assertThat(demo.code()).as(demo.err()).isZero();
    try (URLClassLoader loader =
        new URLClassLoader(
            new URL[] {classes.toUri().toURL()}, ReadmeFromJavaTest.class.getClassLoader())) {
      Method main = loader.loadClass(cls.group(1)).getMethod("main", String[].class);
      String keras = run(main, tmp.resolve("demo/model.h5"), tmp.resolve("layers"));
      assertThat(keras).startsWith("KERAS -> TFJS_LAYERS_MODEL: wrote " + tmp.resolve("layers"));
      String saved = run(main, tmp.resolve("demo/saved_model"), tmp.resolve("graph"));
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

  /** Runs the program's main on two paths, with what it prints as the result. */
  private static String run(Method main, Path in, Path out) throws Exception {
    PrintStream stdout = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      main.invoke(null, (Object) new String[] {in.toString(), out.toString()});
    } finally {
      System.setOut(stdout);
    }
    return printed.toString(StandardCharsets.UTF_8).strip();
  }

  /** From {@code heading} to the next heading of the same level. */
  static String section(String markdown, String heading) {
    int start = markdown.indexOf("\n" + heading + "\n");
    assertThat(start).as("README has a section " + heading).isNotNegative();
    int end = markdown.indexOf("\n## ", start + heading.length() + 2);
    return markdown.substring(start, end < 0 ? markdown.length() : end);
  }

  /** The one fenced block of {@code language} in {@code text}. */
  static String block(String text, String language) {
    Matcher m = Pattern.compile("```" + language + "\\n(.*?)```", Pattern.DOTALL).matcher(text);
    assertThat(m.find()).as("a ```" + language + " block").isTrue();
    String body = m.group(1);
    assertThat(m.find()).as("only one ```" + language + " block").isFalse();
    return body;
  }
}
