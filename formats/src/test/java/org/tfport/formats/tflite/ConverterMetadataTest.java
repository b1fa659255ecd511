package org.tfport.formats.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * min_runtime_version and CONVERSION_METADATA: computed and encoded the way the reference converter
 * does.
 */
class ConverterMetadataTest {
  @TempDir Path tmp;

  @Test
  void minRuntimeVersionMatchesWhatTheConverterStored() {
    int compared = 0;
    List<String> differ = new ArrayList<>();
    for (Path p : TfliteFiles.readable()) {
      TfliteModel m = TfliteReader.read(p);
      String stored = m.minRuntimeVersion().orElse(null);
      if (stored == null || "TOCO Converted.".equals(m.description())) {
        continue;
      }
      compared++;
      String computed = MinRuntimeVersion.of(m);
      if (!computed.equals(stored)) {
        differ.add(TfliteFiles.rel(p) + " stored " + stored + " computed " + computed);
      }
    }
    System.out.println(
        "min_runtime_version: "
            + compared
            + " MLIR-converted files compared; differing: "
            + differ);
    assertThat(compared).isGreaterThan(30);
    // Files from older converters (or edited by hand for LiteRT's tests) can differ: 39 of 44
    // matched when this
    // was written.
    assertThat(compared - differ.size()).isGreaterThanOrEqualTo(38);
  }

  @Test
  void versionComparisonIsNumeric() {
    assertThat(MinRuntimeVersion.compare("1.14.0", "1.5.0")).isPositive();
    assertThat(MinRuntimeVersion.compare("2.3.0", "2.3.0")).isZero();
    assertThat(MinRuntimeVersion.compare("", "1.5.0")).isNegative();
    assertThat(MinRuntimeVersion.forOp(TfliteBuiltin.CONV_2D, 3)).isEqualTo("1.14.0");
    assertThat(MinRuntimeVersion.forOp(TfliteBuiltin.BROADCAST_TO, 1)).isNull();
    assertThat(MinRuntimeVersion.forOp(TfliteBuiltin.FULLY_CONNECTED, 12)).isEqualTo("2.17.0");
  }

  @Test
  void conversionMetadataOfCorpusModelsDecodes() {
    int n = 0;
    for (Path p : TfliteFiles.readable()) {
      TfliteModel m = TfliteReader.read(p);
      if (m.conversionMetadata().isPresent()) {
        ConversionMetadata cm = m.conversionMetadata().get();
        assertThat(cm.tensorflowVersion()).as(p.toString()).matches("\\d+\\.\\d+.*");
        assertThat(cm.apiVersion()).isBetween(1L, 2L);
        // Re-encoding what was read gives the same fields.
        assertThat(ConversionMetadata.decode(java.nio.ByteBuffer.wrap(cm.encode()), "re-encoded"))
            .isEqualTo(cm);
        System.out.println("  " + TfliteFiles.rel(p) + ": " + cm);
        n++;
      }
    }
    assertThat(n).isGreaterThanOrEqualTo(8);
  }

  @OracleTest
  @Test
  void writtenEntriesAreReadBackAndTheModelStillLoads() throws Exception {
    Path src = Corpus.require("tflite/tflite-support/mobilenet_v1_0.25_224_1_default_1.tflite");
    TfliteModel m = TfliteReader.read(src);
    assertThat(m.metadata()).isEmpty();
    ConversionMetadata cm =
        new ConversionMetadata(
            "tfport-0.1.0",
            2,
            ConversionMetadata.MODEL_TYPE_TF_SAVED_MODEL,
            0x1234_5678_9abcL,
            List.of(ConversionMetadata.PTQ_FLOAT16),
            true,
            false,
            false,
            List.of(List.of(4L, 1L)));
    TfliteModel withMd = m.withComputedMinRuntimeVersion().withConversionMetadata(cm);
    assertThat(withMd.metadata())
        .extracting(TfliteMetadataEntry::name)
        .containsExactly(
            TfliteMetadataEntry.MIN_RUNTIME_VERSION, TfliteMetadataEntry.CONVERSION_METADATA);
    Path out = tmp.resolve("with_entries.tflite");
    TfliteWriter.write(withMd, out);
    TfliteModel back = TfliteReader.read(out);
    assertThat(back).isEqualTo(withMd);
    // CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, SOFTMAX v1 need 1.5.0; SQUEEZE v1 needs 1.6.0.
    assertThat(back.minRuntimeVersion()).contains("1.6.0");
    assertThat(back.metadata(TfliteMetadataEntry.MIN_RUNTIME_VERSION).orElseThrow().remaining())
        .isEqualTo(16);
    assertThat(back.conversionMetadata()).contains(cm);
    // Replacing keeps one entry per name.
    TfliteModel again = back.withMinRuntimeVersion("2.3.0");
    assertThat(again.metadata()).hasSize(2);
    assertThat(again.buffers()).hasSameSizeAs(back.buffers());
    assertThat(again.minRuntimeVersion()).contains("2.3.0");
    TfliteOracle.Load load = TfliteOracle.load(out);
    assertThat(load.accepted()).as(load.error()).isTrue();
    assertThat(Files.size(out)).isGreaterThan(Files.size(src));
  }
}
