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
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
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
    String readme = Files.readString(Path.of(System.getProperty("tfport.root"), "README.md"));
    String program =
        ReadmeFromJavaTest.block(ReadmeFromJavaTest.section(readme, "## Running models"), "java");
    assertThat(program).contains("import ", "public static void main", "try (Model model");
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
    try (URLClassLoader loader =
        new URLClassLoader(
            new URL[] {classes.toUri().toURL()}, ReadmeRuntimeProgramTest.class.getClassLoader())) {
      Method main = loader.loadClass(cls.group(1)).getMethod("main", String[].class);
      assertThat(run(main, saved.toString())).isEqualTo(expected.toString().strip());
      assertThat(run(main, "file://" + saved.toAbsolutePath()))
          .isEqualTo(expected.toString().strip());
    }
    assertThat(expected.toString()).contains("FLOAT32[1, ");
  }

  private static String run(Method main, String arg) throws Exception {
    PrintStream stdout = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      main.invoke(null, (Object) new String[] {arg});
    } finally {
      System.setOut(stdout);
    }
    return printed.toString(StandardCharsets.UTF_8).strip();
  }
}
