package org.tfport.formats.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.lite.support.metadata.MetadataExtractor;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.tflite.TfliteModelMetadata.ColorSpace;
import org.tfport.formats.tflite.TfliteModelMetadata.TensorInfo;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * Metadata written by tfport is read back by tfport and by the upstream Java MetadataExtractor
 * (tensorflow-lite-metadata 0.4.4), the labels file comes out of the appended zip, and the model
 * still runs in TFLite with unchanged outputs; metadata in the corpus models is read as upstream
 * reads it.
 */
class TfliteMetadataTest {
  @TempDir Path tmp;

  private static final String MOBILENET =
      "tflite/tflite-support/mobilenet_v1_0.25_224_1_default_1.tflite";

  private static TfliteModelMetadata classifierMetadata(int classes) {
    return TfliteModelMetadata.of(
        "MobileNetV1 0.25 (tfport test)",
        "Identifies 1001 kinds of things.",
        "v1.2",
        "tfport",
        "Apache License. Version 2.0",
        List.of(
            TensorInfo.image(
                "image",
                "Input image to be classified.",
                ColorSpace.RGB,
                List.of(127.5f),
                List.of(127.5f))),
        List.of(
            TensorInfo.scores(
                "probability", "Probabilities of the " + classes + " labels.", "labels.txt")));
  }

  @OracleTest
  @Test
  void attachedMetadataIsReadBackAndTheModelStillRuns() throws Exception {
    Path src = Corpus.require(MOBILENET);
    TfliteModel model = TfliteReader.read(src);
    int classes =
        model.mainSubgraph().tensors().get(model.mainSubgraph().outputs().get(0)).shape().get(1);
    String labels =
        IntStream.range(0, classes).mapToObj(i -> "label_" + i).collect(Collectors.joining("\n"))
            + "\n";
    Map<String, byte[]> files = Map.of("labels.txt", labels.getBytes(StandardCharsets.UTF_8));

    byte[] out = TfliteMetadata.attach(model, classifierMetadata(classes), files);
    Path file = tmp.resolve("mobilenet_with_metadata.tflite");
    Files.write(file, out);

    // tfport reads it back.
    TfliteModel back = TfliteReader.read(file);
    TfliteModelMetadata md = TfliteMetadata.read(back).orElseThrow();
    assertThat(md.name()).isEqualTo("MobileNetV1 0.25 (tfport test)");
    assertThat(md.description()).isEqualTo("Identifies 1001 kinds of things.");
    assertThat(md.version()).isEqualTo("v1.2");
    assertThat(md.author()).isEqualTo("tfport");
    assertThat(md.license()).isEqualTo("Apache License. Version 2.0");
    assertThat(md.minParserVersion()).isEqualTo("1.0.0");
    TensorInfo in = md.subgraphs().get(0).inputs().get(0);
    assertThat(in.content()).isEqualTo(TfliteModelMetadata.Content.IMAGE);
    assertThat(in.colorSpace()).isEqualTo(ColorSpace.RGB);
    assertThat(in.mean()).containsExactly(127.5f);
    assertThat(in.std()).containsExactly(127.5f);
    assertThat(in.statsMin()).containsExactly(-1f);
    assertThat(in.statsMax()).containsExactly(1f);
    TensorInfo outInfo = md.subgraphs().get(0).outputs().get(0);
    assertThat(outInfo.associatedFiles())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.name()).isEqualTo("labels.txt");
              assertThat(f.type()).isEqualTo(TfliteModelMetadata.FileType.TENSOR_AXIS_LABELS);
            });
    assertThat(TfliteMetadata.associatedFiles(out, file.toString()).get("labels.txt"))
        .isEqualTo(files.get("labels.txt"));
    // Everything but the new buffer and entry is unchanged.
    assertThat(back.subgraphs()).isEqualTo(model.subgraphs());
    assertThat(back.buffers().subList(0, model.buffers().size())).isEqualTo(model.buffers());

    // The file is a zip too.
    try (ZipFile zip = new ZipFile(file.toFile())) {
      assertThat(
              new String(
                  zip.getInputStream(zip.getEntry("labels.txt")).readAllBytes(),
                  StandardCharsets.UTF_8))
          .isEqualTo(labels);
    }

    // The upstream Java reader agrees.
    MetadataExtractor ex = new MetadataExtractor(ByteBuffer.wrap(out));
    assertThat(ex.hasMetadata()).isTrue();
    assertThat(ex.isMinimumParserVersionSatisfied()).isTrue();
    assertThat(ex.getModelMetadata().name()).isEqualTo(md.name());
    assertThat(ex.getModelMetadata().author()).isEqualTo("tfport");
    assertThat(ex.getInputTensorMetadata(0).processUnits(0).optionsType())
        .isEqualTo(
            org.tensorflow.lite.support.metadata.schema.ProcessUnitOptions.NormalizationOptions);
    assertThat(ex.getAssociatedFileNames()).containsExactly("labels.txt");
    assertThat(ex.getAssociatedFile("labels.txt").readAllBytes())
        .isEqualTo(files.get("labels.txt"));

    // TFLite still loads it and computes the same outputs.
    TfliteOracle.Load load = TfliteOracle.load(file);
    assertThat(load.accepted()).as(load.error()).isTrue();
    List<TfliteOracle.Tensor> x = TfliteOracle.randomInputs(load, 7);
    assertThat(TfliteOracle.run(file, x)).isEqualTo(TfliteOracle.run(src, x));

    // Attaching again replaces the metadata and the files.
    byte[] again = TfliteMetadata.attach(out, classifierMetadata(classes), files);
    TfliteModel twice = TfliteReader.read(again, "again");
    assertThat(twice.buffers()).hasSameSizeAs(back.buffers());
    assertThat(TfliteMetadata.associatedFiles(again, "again").keySet())
        .containsExactly("labels.txt");
  }

  @Test
  void metadataThatDoesNotFitTheModelIsRefused() {
    TfliteModel model = TfliteReader.read(Corpus.require(MOBILENET));
    TfliteModelMetadata twoOutputs =
        TfliteModelMetadata.of(
            "m",
            null,
            null,
            null,
            null,
            List.of(),
            List.of(TensorInfo.feature("a", null), TensorInfo.feature("b", null)));
    assertThatThrownBy(() -> TfliteMetadata.attach(model, twoOutputs, Map.of()))
        .isInstanceOf(UsageException.class)
        .hasMessage(
            "metadata describes 2 outputs but the model has 1;"
                + " give one entry per output, in order");
    assertThatThrownBy(() -> TfliteMetadata.attach(model, classifierMetadata(1001), Map.of()))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("'labels.txt' is named in the metadata");
    Map<String, byte[]> extra = new LinkedHashMap<>();
    extra.put("labels.txt", new byte[1]);
    extra.put("vocab.txt", new byte[1]);
    assertThatThrownBy(() -> TfliteMetadata.attach(model, classifierMetadata(1001), extra))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("'vocab.txt' is not named");
  }

  /** Corpus models that carry metadata: tfport's reading matches MetadataExtractor's. */
  @TestFactory
  Stream<DynamicTest> corpusMetadataMatchesTheUpstreamReader() {
    return TfliteFiles.readable().stream()
        .filter(p -> TfliteReader.read(p).metadata(TfliteMetadataEntry.TFLITE_METADATA).isPresent())
        .map(
            p ->
                DynamicTest.dynamicTest(
                    TfliteFiles.rel(p),
                    () -> {
                      byte[] bytes = Files.readAllBytes(p);
                      TfliteModelMetadata md =
                          TfliteMetadata.read(TfliteReader.read(p)).orElseThrow();
                      if (md.subgraphs().isEmpty()) {
                        // The upstream reader refuses such files; tfport reads what is there.
                        assertThatThrownBy(() -> new MetadataExtractor(ByteBuffer.wrap(bytes)))
                            .hasMessageContaining("does not contain any subgraph metadata");
                        assertThat(md.name()).isNotNull();
                        return;
                      }
                      MetadataExtractor ex = new MetadataExtractor(ByteBuffer.wrap(bytes));
                      var up = ex.getModelMetadata();
                      assertThat(md.name()).isEqualTo(up.name());
                      assertThat(md.description()).isEqualTo(up.description());
                      assertThat(md.version()).isEqualTo(up.version());
                      assertThat(md.minParserVersion()).isEqualTo(up.minParserVersion());
                      assertThat(md.subgraphs()).hasSize(up.subgraphMetadataLength());
                      if (!md.subgraphs().isEmpty()) {
                        assertThat(md.subgraphs().get(0).inputs())
                            .hasSize(up.subgraphMetadata(0).inputTensorMetadataLength());
                        assertThat(md.subgraphs().get(0).outputs())
                            .hasSize(up.subgraphMetadata(0).outputTensorMetadataLength());
                      }
                      Map<String, byte[]> files =
                          TfliteMetadata.associatedFiles(bytes, p.toString());
                      assertThat(files.keySet())
                          .containsExactlyInAnyOrderElementsOf(ex.getAssociatedFileNames());
                      for (String n : files.keySet()) {
                        assertThat(files.get(n))
                            .as(n)
                            .isEqualTo(ex.getAssociatedFile(n).readAllBytes());
                      }
                      System.out.println(
                          "  "
                              + TfliteFiles.rel(p)
                              + ": '"
                              + md.name()
                              + "', files "
                              + files.keySet());
                    }));
  }
}
