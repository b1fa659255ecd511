package org.tfport.formats.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;

/** Every corpus model is read; the deliberately broken ones fail with one clear line. */
class TfliteCorpusTest {

  @Test
  void readsAllButTheDeliberatelyBrokenFiles() {
    List<Path> all = TfliteFiles.all();
    List<String> failures = new ArrayList<>();
    int read = 0;
    for (Path p : all) {
      if (TfliteFiles.isNegative(p)) {
        continue;
      }
      try {
        TfliteReader.read(p);
        read++;
      } catch (TfportException e) {
        failures.add(TfliteFiles.rel(p) + ": " + e.getMessage());
      }
    }
    System.out.printf(
        "tflite corpus: %d model files, %d read, %d negative%n",
        all.size(), read, all.stream().filter(TfliteFiles::isNegative).count());
    assertThat(failures).isEmpty();
    // 78 model files in the corpus (the other 21 of its 99 tflite files are SEANet CSVs), 2 broken
    // on purpose.
    assertThat(read).isGreaterThanOrEqualTo(76);
  }

  @TestFactory
  Stream<DynamicTest> negativeFilesFailWithOneLine() {
    return TfliteFiles.all().stream()
        .filter(TfliteFiles::isNegative)
        .map(
            p ->
                DynamicTest.dynamicTest(
                    TfliteFiles.rel(p),
                    () ->
                        assertThatThrownBy(() -> TfliteReader.read(p))
                            .isInstanceOfAny(
                                CorruptModelException.class, UnsupportedModelException.class)
                            .satisfies(
                                e -> {
                                  assertThat(e.getMessage())
                                      .doesNotContain("\n")
                                      .contains(p.getFileName().toString());
                                  System.out.println(
                                      "  " + TfliteFiles.rel(p) + " -> " + e.getMessage());
                                })));
  }
}
