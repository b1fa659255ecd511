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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * A Java program from a README section, compiled as written (-Werror, Java 21) against the library,
 * and its {@code main} run with what it prints captured: the README's examples are tested as a user
 * would copy them.
 */
final class ReadmeProgram implements AutoCloseable {
  private final URLClassLoader loader;
  private final Method main;

  private ReadmeProgram(URLClassLoader loader, Method main) {
    this.loader = loader;
    this.main = main;
  }

  /** The README at the repository's root. */
  static String readme() throws java.io.IOException {
    return Files.readString(Path.of(System.getProperty("tfport.root"), "README.md"));
  }

  /** Compiles {@code program} (one public class with main) in {@code work}, or fails the test. */
  static ReadmeProgram compile(String program, Path work) throws Exception {
    Matcher cls = Pattern.compile("public class (\\w+)").matcher(program);
    assertThat(cls.find()).as("the program declares a public class").isTrue();
    Path src = work.resolve("src").resolve(cls.group(1) + ".java");
    Files.createDirectories(src.getParent());
    Files.writeString(src, program);
    Path classes = Files.createDirectories(work.resolve("classes"));
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
    URLClassLoader loader =
        new URLClassLoader(
            new URL[] {classes.toUri().toURL()}, ReadmeProgram.class.getClassLoader());
    return new ReadmeProgram(
        loader, loader.loadClass(cls.group(1)).getMethod("main", String[].class));
  }

  /** Runs main with {@code args}; returns what it printed, stripped. */
  String run(String... args) throws Exception {
    PrintStream stdout = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      main.invoke(null, (Object) args);
    } finally {
      System.setOut(stdout);
    }
    return printed.toString(StandardCharsets.UTF_8).strip();
  }

  @Override
  public void close() throws java.io.IOException {
    loader.close();
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
