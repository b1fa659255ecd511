package org.tfport.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a test class or method that checks the whole system rather than a unit: a sweep over every
 * model of a kind in the corpus, hundreds of concurrent clients, a server killed in a child JVM, a
 * README program compiled and run. Each takes seconds, so the {@code fast} Maven profile leaves
 * them out with the {@link OracleTest}s ({@code ./mvnw -B -o test -Pfast}); a plain {@code ./mvnw
 * -B verify} runs them.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@Tag(IntegrationTest.TAG)
public @interface IntegrationTest {
  /** The JUnit tag the {@code fast} profile excludes. */
  String TAG = "integration";
}
