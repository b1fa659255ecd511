package org.tfport.runtime.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.tflite.BuiltinOptions;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteOperator;
import org.tfport.formats.tflite.TfliteOptionsType;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.formats.tflite.TfliteSignatureDef;
import org.tfport.formats.tflite.TfliteSubgraph;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.formats.tflite.TfliteType;
import org.tfport.formats.tflite.TfliteWriter;
import org.tfport.runtime.Model;
import org.tfport.testkit.Corpus;

/**
 * Damaged and hostile {@code .tflite} files: each ends in one {@link TfportException} with a
 * one-line message (or, for a mutation that leaves a valid model, an import that works), never
 * another exception or a crash.
 */
class HostileTfliteTest {
  @TempDir Path tmp;

  /**
   * Imports and compiles; a refusal must be one clear line. Returns the message, or null when it
   * worked.
   */
  private static String attempt(Path file) {
    try (Model m = TfliteImporter.load(file)) {
      return null;
    } catch (TfportException e) {
      assertThat(e.getMessage())
          .as("message of " + e.getClass().getSimpleName())
          .doesNotContain("\n")
          .isNotBlank();
      return e.getMessage();
    }
  }

  @Test
  void corpusFilesBrokenOnPurposeAreOneLine() {
    for (String f :
        List.of(
            "tflite/litert/negative/tflite__test_model_broken.bin",
            "tflite/litert/negative/tflite_java_src__invalid_model.bin")) {
      Path p = Corpus.require(f);
      assertThatThrownBy(() -> TfliteImporter.load(p))
          .isInstanceOf(CorruptModelException.class)
          .hasMessageContaining("expected 'TFL3'");
    }
  }

  @Test
  void truncatedFilesAreRefused() throws Exception {
    Path src = Corpus.require("tflite/litert/tflite__multi_subgraphs_while.bin");
    byte[] whole = Files.readAllBytes(src);
    assertThat(attempt(src)).isNull();
    Path p = tmp.resolve("cut.tflite");
    int refused = 0;
    for (int n = 0; n < whole.length; n += 13) {
      Files.write(p, java.util.Arrays.copyOf(whole, n));
      if (attempt(p) != null) {
        refused++;
      }
    }
    // Nearly every prefix loses something the model needs; only cuts inside trailing padding may
    // still load.
    assertThat(refused).isGreaterThan(whole.length / 13 - 3);
  }

  @Test
  void corruptedBytesNeverEscapeAsOtherExceptions() throws Exception {
    Random rnd = new Random(11);
    List<String> messages = new ArrayList<>();
    for (String f :
        List.of(
            "tflite/litert/tflite__multi_subgraphs_while.bin",
            "tflite/serving/half_plus_two.tflite",
            "tflite/tflite-micro/hello_world_float.tflite")) {
      byte[] whole = Files.readAllBytes(Corpus.require(f));
      Path p = tmp.resolve("bad.tflite");
      for (int k = 0; k < 150; k++) {
        byte[] b = whole.clone();
        int flips = 1 + rnd.nextInt(4);
        for (int j = 0; j < flips; j++) {
          // Offsets and lengths live in the FlatBuffer tables near the front; hit them more often.
          int at = rnd.nextInt(rnd.nextBoolean() ? Math.min(b.length, 400) : b.length);
          b[at] = (byte) rnd.nextInt(256);
        }
        Files.write(p, b);
        String m = attempt(p);
        if (m != null) {
          messages.add(m);
        }
      }
    }
    assertThat(messages).isNotEmpty();
  }

  /** A model input of a type tfport cannot compute with is named, not an internal error. */
  @Test
  void anInputOfAnUncomputableTypeIsNamed() throws Exception {
    // Found by fuzzing: the refusal escaped the import as an internal exception.
    TfliteModel m =
        TfliteReader.read(
            Corpus.require("tflite/tflite-support/mobilenet_v1_0.25_224_quant.tflite"));
    TfliteSubgraph main = m.mainSubgraph();
    int in = main.inputs().get(0);
    TfliteTensor x = main.tensors().get(in);
    TfliteModel bad = withTensor(m, in, TfliteType.UINT32, x.shape());
    Path p = tmp.resolve("uint32-input.tflite");
    Files.write(p, TfliteWriter.write(bad));
    assertThatThrownBy(() -> TfliteImporter.load(p))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("input tensor " + in)
        .hasMessageContaining("UINT32, a type tfport cannot compute with");
  }

  @Test
  void aConstantWhoseElementCountOverflowsIsRefused() throws Exception {
    // Found by fuzzing: a shape whose product wrapped around to a negative byte size skipped the
    // reader's size check, and Shape.size's ArithmeticException escaped the import.
    TfliteModel m =
        TfliteReader.read(
            Corpus.require("tflite/tflite-support/mobilenet_v1_0.25_224_quant.tflite"));
    TfliteSubgraph main = m.mainSubgraph();
    int filter = main.operators().get(0).inputs().get(1);
    TfliteTensor w = main.tensors().get(filter);
    assertThat(m.buffers().get(w.buffer()).data().remaining()).isPositive();
    // Its element count wraps to a negative long, and so did the byte size it was checked by.
    TfliteModel bad = withTensor(m, filter, w.type(), List.of(1701602643, 844526691, 7, 2));
    Path p = tmp.resolve("overflowing-constant.tflite");
    Files.write(p, TfliteWriter.write(bad));
    assertThatThrownBy(() -> TfliteImporter.load(p))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining(p.toString())
        .hasMessageContaining("'" + w.name() + "'")
        .hasMessageContaining("more elements than a file can hold");
  }

  @Test
  void aSignatureTensorWithoutANameIsRefused() throws Exception {
    // Found by fuzzing: a NullPointerException from the signature's TensorSpec.
    TfliteModel m =
        TfliteReader.read(
            Corpus.require("tflite/tflite-support/mobilenet_v1_0.25_224_quant.tflite"));
    TfliteSubgraph main = m.mainSubgraph();
    int in = main.inputs().get(0);
    int out = main.outputs().get(0);
    TfliteModel bad =
        new TfliteModel(
            m.version(),
            m.description(),
            m.operatorCodes(),
            m.subgraphs(),
            m.buffers(),
            m.metadataBuffer(),
            m.metadata(),
            List.of(
                new TfliteSignatureDef(
                    "serving_default",
                    0,
                    List.of(new TfliteSignatureDef.TensorMap(null, in)),
                    List.of(new TfliteSignatureDef.TensorMap("probabilities", out)))));
    Path p = tmp.resolve("unnamed-signature-input.tflite");
    Files.write(p, TfliteWriter.write(bad));
    assertThatThrownBy(() -> TfliteImporter.load(p))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining(p.toString())
        .hasMessageContaining("signature 'serving_default' maps tensor " + in)
        .hasMessageContaining("without a name");
  }

  /** A WHILE whose body is a subgraph the file does not have, and a CONV_2D missing its filter. */
  @Test
  void badSubgraphIndexAndMissingInputsAreNamed() throws Exception {
    TfliteModel m =
        TfliteReader.read(Corpus.require("tflite/litert/tflite__multi_subgraphs_while.bin"));
    TfliteSubgraph main = m.mainSubgraph();
    List<TfliteOperator> ops = new ArrayList<>();
    for (TfliteOperator op : main.operators()) {
      if (op.builtinOptions() instanceof BuiltinOptions.While) {
        op =
            new TfliteOperator(
                op.opcodeIndex(),
                op.inputs(),
                op.outputs(),
                BuiltinOptions.of(
                    TfliteOptionsType.WHILE_OPTIONS,
                    Map.of("cond_subgraph_index", 1, "body_subgraph_index", 42)));
      }
      ops.add(op);
    }
    List<TfliteSubgraph> subgraphs = new ArrayList<>(m.subgraphs());
    subgraphs.set(
        0, new TfliteSubgraph(main.name(), main.tensors(), main.inputs(), main.outputs(), ops));
    TfliteModel bad =
        new TfliteModel(
            m.version(),
            m.description(),
            m.operatorCodes(),
            subgraphs,
            m.buffers(),
            m.metadataBuffer(),
            m.metadata(),
            m.signatureDefs());
    Path p = tmp.resolve("while.tflite");
    Files.write(p, TfliteWriter.write(bad));
    assertThatThrownBy(() -> TfliteImporter.load(p))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("operator 0 WHILE")
        .hasMessageContaining("names subgraph 42");
  }

  /** {@code m} with tensor {@code t} of its main subgraph given another type and shape. */
  private static TfliteModel withTensor(
      TfliteModel m, int t, TfliteType type, List<Integer> shape) {
    TfliteSubgraph main = m.mainSubgraph();
    List<TfliteTensor> tensors = new ArrayList<>(main.tensors());
    TfliteTensor x = tensors.get(t);
    tensors.set(
        t,
        new TfliteTensor(
            x.name(),
            type,
            shape,
            x.shapeSignature(),
            x.buffer(),
            x.quantization(),
            x.isVariable(),
            x.hasRank(),
            x.sparsity(),
            x.variantTensors()));
    List<TfliteSubgraph> subgraphs = new ArrayList<>(m.subgraphs());
    subgraphs.set(
        m.subgraphs().indexOf(main),
        new TfliteSubgraph(main.name(), tensors, main.inputs(), main.outputs(), main.operators()));
    return new TfliteModel(
        m.version(),
        m.description(),
        m.operatorCodes(),
        subgraphs,
        m.buffers(),
        m.metadataBuffer(),
        m.metadata(),
        m.signatureDefs());
  }
}
