package org.tfport.formats.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** read(write(m)) == m for every readable corpus model, and writing is deterministic. */
class TfliteRoundTripTest {

  @TestFactory
  Stream<DynamicTest> writeThenReadGivesTheSameModel() {
    return TfliteFiles.readable().stream()
        .map(p -> DynamicTest.dynamicTest(TfliteFiles.rel(p), () -> check(p)));
  }

  private static void check(Path p) {
    TfliteModel m = TfliteReader.read(p);
    byte[] once = TfliteWriter.write(m);
    TfliteModel back = TfliteReader.read(once, "rewritten " + p.getFileName());
    assertThat(back).isEqualTo(m);
    assertThat(TfliteWriter.write(back)).isEqualTo(once);
  }
}
