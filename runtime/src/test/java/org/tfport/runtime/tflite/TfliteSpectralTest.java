package org.tfport.runtime.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.formats.tflite.TfliteBuiltin.COMPLEX_ABS;
import static org.tfport.formats.tflite.TfliteBuiltin.IMAG;
import static org.tfport.formats.tflite.TfliteBuiltin.REAL;
import static org.tfport.formats.tflite.TfliteBuiltin.RFFT2D;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tfport.core.Tensor;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.formats.tflite.TfliteWriter;
import org.tfport.runtime.Model;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * RFFT2D (and the REAL, IMAG and COMPLEX_ABS that read its complex64 result) against TFLite 2.18 on
 * seeded random inputs, for fft lengths that pad the input with zeros, crop it, equal it, and a
 * one-row transform like YAMNet's spectrogram. TFLite transforms in double and rounds to float, as
 * tfport does, so every value agrees to float rounding of the largest bin: within 4 float epsilons
 * of the output's largest magnitude (measured: equal bit for bit on all six).
 */
@OracleTest
class TfliteSpectralTest {
  @TempDir Path tmp;

  @ParameterizedTest
  @CsvSource({
    // batch, height, width, fft rows, fft cols
    "2, 5, 12, 8, 16", // padded in both dimensions
    "1, 16, 40, 8, 32", // cropped in both
    "3, 4, 4, 4, 4", // as given
    "1, 64, 64, 64, 64",
    "2, 1, 400, 1, 512", // one row per frame, padded, as YAMNet's frames
    "1, 3, 8, 16, 2" // padded rows, two columns
  })
  void rfft2dMatchesTflite(int batch, int h, int w, int f0, int f1) throws Exception {
    TinyTflite m = new TinyTflite();
    int x = m.input("x", TfliteType.FLOAT32, new int[] {batch, h, w}, null);
    int len = m.ints("fft_length", f0, f1);
    int[] spectrum = {batch, f0, f1 / 2 + 1};
    int c = m.tensor("spectrum", TfliteType.COMPLEX64, spectrum, null);
    int re = m.output("real", TfliteType.FLOAT32, spectrum, null);
    int im = m.output("imag", TfliteType.FLOAT32, spectrum, null);
    int abs = m.output("abs", TfliteType.FLOAT32, spectrum, null);
    m.op(RFFT2D, 1, null, null, new int[] {x, len}, c);
    m.op(REAL, 1, null, null, new int[] {c}, re);
    m.op(IMAG, 1, null, null, new int[] {c}, im);
    m.op(COMPLEX_ABS, 1, null, null, new int[] {c}, abs);
    Path p = tmp.resolve("rfft2d.tflite");
    TfliteWriter.write(m.model(), p);

    TfliteOracle.Load load = TfliteOracle.load(p);
    assertThat(load.accepted()).as(load.error()).isTrue();
    List<TfliteOracle.Tensor> ins = TfliteOracle.randomInputs(load, 11L * f0 + f1);
    List<TfliteOracle.Tensor> expected = TfliteOracle.run(p, ins);

    var model = TfliteReader.read(p);
    TfliteImporter.ImportedModel imported = TfliteImporter.importModel(model, p.toString());
    List<Tensor> actual;
    try (Model rt = imported.toModel()) {
      actual = TfliteRuns.run(rt, TfliteRuns.binding(model, imported), ins);
    }
    double largest = 0;
    for (float v : expected.get(2).floats()) {
      largest = Math.max(largest, Math.abs(v));
    }
    assertThat(largest).isGreaterThan(0);
    double bound = 4 * Math.ulp(1f) * largest;
    StringBuilder line = new StringBuilder();
    for (int k = 0; k < 3; k++) {
      var cmp = TfliteRuns.compare("output " + k, expected.get(k), actual.get(k), bound, 0);
      line.append(String.format(Locale.ROOT, " %.3g eps", cmp.maxAbs() / Math.ulp(1f) / largest));
      assertThat(cmp.ok()).as("RFFT2D %s output %d: %s", List.of(h, w, f0, f1), k, cmp).isTrue();
    }
    System.out.printf(
        "RFFT2D [%d,%d,%d] fft [%d,%d]: largest bin %.4g; real, imag, abs worst%s%n",
        batch, h, w, f0, f1, largest, line);
  }
}
