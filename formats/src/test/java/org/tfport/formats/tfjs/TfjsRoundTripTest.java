package org.tfport.formats.tfjs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;

/** Write then read, for every quantization mode, checking values against the quantization math. */
class TfjsRoundTripTest {
  @TempDir Path dir;

  static float[] random(int n, long seed) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * 0.3);
    }
    return v;
  }

  static List<List<WeightEntry>> model() {
    return List.of(
        List.of(
            WeightEntry.of("conv1/kernel", Tensor.ofFloats(Shape.of(3, 3, 2, 4), random(72, 1))),
            WeightEntry.of("conv1/bias", Tensor.ofFloats(Shape.of(4), random(4, 2))),
            WeightEntry.of("dense/kernel", Tensor.ofFloats(Shape.of(40, 30), random(1200, 3))),
            WeightEntry.of("dense/bias", Tensor.ofFloats(Shape.of(30), new float[30])),
            WeightEntry.of("steps", Tensor.ofInts(Shape.SCALAR, 42)),
            WeightEntry.of("vocab", Tensor.ofStrings(Shape.of(2), List.of("x", "yz")))),
        List.of(WeightEntry.of("head/kernel", Tensor.ofFloats(Shape.of(30, 2), random(60, 4)))));
  }

  @ParameterizedTest
  @ValueSource(strings = {"none", "float16", "uint8", "uint16", "mixed", "bytes1"})
  void writeThenReadGivesTheDequantizedValues(String mode) {
    QuantizationMap q =
        switch (mode) {
          case "none" -> QuantizationMap.NONE;
          case "float16" -> QuantizationMap.fromFlags("", null, null, null);
          case "uint8" -> QuantizationMap.fromFlags(null, "", null, null);
          case "uint16" -> QuantizationMap.fromFlags(null, null, "", null);
          case "mixed" -> QuantizationMap.fromFlags("", "*/kernel", "conv1/bias", null);
          case "bytes1" -> QuantizationMap.fromFlags(null, null, null, 1);
          default -> throw new IllegalArgumentException(mode);
        };
    List<List<WeightEntry>> groups = model();
    WriteSummary s =
        TfjsWriter.write(dir, TfjsRoundTripTest.layers(), groups, new WriteOptions(500, q), null);
    TfjsModel back = TfjsReader.read(dir.resolve("model.json"));
    assertThat(back.modelJson().format()).isEqualTo(TfjsModelJson.LAYERS_MODEL);
    assertThat(back.weightCount()).isEqualTo(7).isEqualTo(s.weightCount());

    Map<String, Tensor> got = back.weightsByName();
    for (List<WeightEntry> g : groups) {
      for (WeightEntry e : g) {
        Tensor want = e.data().get();
        Tensor have = got.get(e.name());
        assertThat(have.dtype()).isEqualTo(want.dtype());
        assertThat(have.shape()).isEqualTo(want.shape());
        DType qd = want.dtype() == DType.FLOAT32 ? q.resolve(e.name()) : null;
        WeightSpec spec = spec(back, e.name());
        if (qd == null) {
          assertThat(spec.quantization()).isNull();
          assertThat(have.bytes()).as(e.name()).isEqualTo(want.bytes());
          continue;
        }
        assertThat(spec.quantization().dtype()).isEqualTo(qd);
        float[] x = want.toFloatArray();
        float[] y = have.toFloatArray();
        if (qd == DType.FLOAT16) {
          for (int i = 0; i < x.length; i++) {
            assertThat(y[i]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(x[i])));
          }
        } else {
          QuantMath.AffineResult r = QuantMath.quantizeAffine(x, qd);
          assertThat(spec.quantization()).isEqualTo(r.metadata());
          assertThat(y).containsExactly(QuantMath.dequantizeAffine(r.q(), r.metadata()));
          for (int i = 0; i < x.length; i++) {
            assertThat((double) Math.abs(y[i] - x[i]))
                .isLessThanOrEqualTo(r.metadata().scale() / 2 + 1e-7);
          }
        }
      }
    }
  }

  @Test
  void storedFormAndLazyEntriesComeFromTheFiles() throws IOException {
    List<List<WeightEntry>> groups = model();
    TfjsWriter.write(
        dir,
        layers(),
        groups,
        new WriteOptions(100, QuantizationMap.fromFlags(null, "*kernel", null, null)),
        null);
    TfjsModelFiles files = TfjsReader.open(dir.resolve("model.json"));
    assertThat(files.specs()).hasSize(2);
    assertThat(files.paths().get(0))
        .hasSize((int) Math.ceil((72 + 16 + 1200 + 120 + 4 + 4 + 1 + 4 + 2) / 100.0));

    Tensor stored = files.readStored("dense/kernel");
    assertThat(stored.dtype()).isEqualTo(DType.UINT8);
    assertThat(stored.shape()).isEqualTo(Shape.of(40, 30));
    QuantMath.AffineResult r =
        QuantMath.quantizeAffine(groups.get(0).get(2).data().get().toFloatArray(), DType.UINT8);
    int[] q = new int[1200];
    for (int i = 0; i < q.length; i++) {
      q[i] = stored.bytes().get(i) & 0xff;
    }
    assertThat(q).containsExactly(r.q());

    // Re-shard the lazily read model: with no re-quantization the dequantized values are written as
    // float32.
    Path out = Files.createDirectory(dir.resolve("resharded"));
    WriteSummary s =
        TfjsWriter.write(
            out,
            files.modelJson(),
            files.weightEntries(),
            new WriteOptions(WriteOptions.DEFAULT_SHARD_SIZE, null),
            null);
    assertThat(s.groups()).extracting(g -> g.paths().size()).containsExactly(1, 1);
    TfjsModel again = TfjsReader.read(out.resolve("model.json"));
    Map<String, Tensor> a = again.weightsByName();
    files
        .load()
        .weightsByName()
        .forEach((name, t) -> assertThat(a.get(name).bytes()).as(name).isEqualTo(t.bytes()));
    assertThat(spec(again, "dense/kernel").quantization()).isNull();
  }

  @Test
  void reshardingWithoutQuantizationPreservesTheByteStream() throws IOException {
    List<List<WeightEntry>> groups = model();
    TfjsWriter.write(dir, layers(), groups, new WriteOptions(64, null), null);
    Path out = Files.createDirectory(dir.resolve("one"));
    TfjsWriter.write(
        out,
        TfjsReader.read(dir.resolve("model.json")).modelJson(),
        TfjsReader.read(dir.resolve("model.json")).weightEntries(),
        WriteOptions.defaults(),
        null);
    assertThat(concat(out, "group1-shard1of1.bin")).isEqualTo(concatAll(dir, 1));
  }

  static TfjsModelJson layers() {
    return TfjsModelJson.layers(
        "keras v2.15.0",
        "tfport",
        Json.MAPPER.readTree(
            "{\"keras_version\":\"2.15.0\",\"backend\":\"tensorflow\",\"model_config\":{\"class_name\":\"Sequential\"}}"));
  }

  static WeightSpec spec(TfjsModel m, String name) {
    return m.groups().stream()
        .flatMap(g -> g.weights().stream())
        .filter(w -> w.spec().name().equals(name))
        .findFirst()
        .orElseThrow()
        .spec();
  }

  static byte[] concat(Path d, String... names) throws IOException {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    for (String n : names) {
      o.write(Files.readAllBytes(d.resolve(n)));
    }
    return o.toByteArray();
  }

  static byte[] concatAll(Path d, int group) throws IOException {
    List<String> names = TfjsReader.open(d.resolve("model.json")).paths().get(group - 1);
    return concat(d, names.toArray(String[]::new));
  }
}
