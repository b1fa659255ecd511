package org.tfport.runtime.stablehlo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.tfport.core.TfportException;
import org.tfport.formats.stablehlo.Func;
import org.tfport.formats.stablehlo.StableHloModule;
import org.tfport.formats.stablehlo.StableHloText;
import org.tfport.testkit.Corpus;

/**
 * Every StableHLO test program of the corpus with embedded expected values: lowered, run in the
 * runtime, its assertions checked. Every function lowers now (complex numbers as pairs of real
 * tensors, 8-bit floats as rounded float32); one that did not would have to be refused by name and
 * location, never run wrong.
 */
class StableHloCorpusTest {

  @Test
  void corpusProgramsGiveTheirExpectedValues() throws Exception {
    List<Path> files = new ArrayList<>();
    for (String dir : List.of("jax/stablehlo_testdata_jax", "jax/stablehlo_interpret_tests")) {
      Path d = Corpus.require(dir);
      try (Stream<Path> s = Files.list(d)) {
        s.filter(p -> p.toString().endsWith(".mlir")).sorted().forEach(files::add);
      }
    }
    int passed = 0;
    List<String> refused = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    for (Path p : files) {
      StableHloModule m = StableHloText.read(p);
      for (Func f : m.funcs()) {
        if (f.visibility().equals("private")) {
          continue;
        }
        try {
          for (StableHloPrograms.Outcome o : StableHloPrograms.run(m, f)) {
            if (o.failure() == null) {
              passed++;
            } else {
              failed.add(o.where() + ": " + o.failure());
            }
          }
        } catch (TfportException e) {
          refused.add(f.name() + ": " + e.getMessage());
        } catch (RuntimeException e) {
          failed.add(p.getFileName() + " " + f.name() + ": " + e);
        }
      }
    }
    System.err.println(
        "StableHLO corpus: "
            + passed
            + " checks passed, "
            + failed.size()
            + " failed, "
            + refused.size()
            + " functions refused");
    refused.forEach(r -> System.err.println("  refused " + r));
    failed.forEach(r -> System.err.println("  FAILED " + r));
    assertThat(failed).isEmpty();
    assertThat(passed).isGreaterThanOrEqualTo(31);
    assertThat(refused).isEmpty();
  }
}
