package org.tfport.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a test class or method that runs a real runtime as its oracle (TensorFlow through TF Java,
 * the TFLite interpreter, TensorFlow.js in Node, Chromium). These start native libraries or
 * processes and take most of the suite's time, so the {@code fast} Maven profile leaves them out
 * ({@code ./mvnw -B -o test -Pfast}); a plain {@code ./mvnw -B verify} runs them.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@Tag(OracleTest.TAG)
public @interface OracleTest {
  /** The JUnit tag the {@code fast} profile excludes. */
  String TAG = "oracle";
}
