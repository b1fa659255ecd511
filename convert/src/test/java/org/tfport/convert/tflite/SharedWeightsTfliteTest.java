package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tfport.core.DType;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.graphdef.GraphDefReader;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteOperator;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * Unrolled RNNs from frozen graphs (DL4J's TF-import corpus: a 28-step LSTM on MNIST, 6-step
 * primitive LSTM and GRU cells, all computing in float64): every step's MatMul reads the same
 * kernel, and the {@code .tflite} stores it once (the steps' FULLY_CONNECTED weight tensors share
 * one buffer), so the constants come to no more than 1.1x the graph's parameter bytes. The graphs
 * are float64, which TFLite's builtins do not run: the error says so and names the option, and with
 * the cast the outputs match TensorFlow's reference outputs.
 */
@OracleTest
class SharedWeightsTfliteTest {
  private static final String ROOT = "frozen_pb/dl4j-tf_graphs/";

  @TempDir Path tmp;

  @Test
  void float64GraphIsRefusedNamingTheCastOption() {
    Path pb = Corpus.require(ROOT + "primitive_gru/frozen_model.pb");
    GraphOptions go = GraphOptions.defaults().withOutputNodeNames(List.of("output"));
    assertThatThrownBy(
            () ->
                TfliteConverter.convertFrozen(
                    pb, tmp.resolve("g.tflite"), go, List.of(), Map.of(), TfliteOptions.defaults()))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("computes in float64")
        .hasMessageContaining("MatMul (rnn/rnn/gru_cell/gates/gates/MatMul)")
        .hasMessageContaining("TfliteOutputOptions.castFloat64ToFloat32");
    assertThat(tmp.resolve("g.tflite")).doesNotExist();
  }

  @ParameterizedTest
  @ValueSource(strings = {"lstm_mnist", "primitive_lstm", "primitive_gru"})
  void unrolledRnnStoresEachWeightOnce(String model) throws Exception {
    Path pb = Corpus.require(ROOT + model + "/frozen_model.pb");
    long paramBytes = floatParameterBytes(GraphDefReader.read(pb));
    Path out = tmp.resolve(model + ".tflite");
    TfliteConverter.convertFrozen(
        pb,
        out,
        GraphOptions.defaults().withOutputNodeNames(List.of("output")),
        List.of(),
        Map.of(),
        TfliteOptions.defaults().withCastFloat64(true));

    if (out.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      // Written through an owner-only temporary file, the model still follows the umask.
      Path plain = Files.createFile(tmp.resolve(model + ".plain"));
      assertThat(Files.getPosixFilePermissions(out))
          .isEqualTo(Files.getPosixFilePermissions(plain));
    }
    TfliteModel m = TfliteReader.read(out);
    Set<Integer> used = new HashSet<>();
    m.mainSubgraph().tensors().forEach(t -> used.add(t.buffer()));
    long bufferBytes = 0;
    for (int b : used) {
      bufferBytes += b == 0 ? 0 : m.buffers().get(b).data().remaining();
    }
    int fc = 0;
    Set<Integer> fcWeights = new HashSet<>();
    for (TfliteOperator op : m.mainSubgraph().operators()) {
      if (m.opcode(op).builtin().orElse(null) == TfliteBuiltin.FULLY_CONNECTED) {
        fc++;
        fcWeights.add(m.mainSubgraph().tensors().get(op.inputs().get(1)).buffer());
      }
    }
    System.out.printf(
        "%s: %,d parameter bytes in the graph; .tflite %,d bytes, constants %,d bytes (%.3fx),"
            + " %d FULLY_CONNECTED reading %d weight buffers%n",
        model,
        paramBytes,
        Files.size(out),
        bufferBytes,
        bufferBytes / (double) paramBytes,
        fc,
        fcWeights.size());
    assertThat(bufferBytes).isLessThanOrEqualTo((long) (paramBytes * 1.1));
    // One kernel per cell matrix (GRU: gates and candidate) plus the final dense layer.
    assertThat(fc).isGreaterThanOrEqualTo(7);
    assertThat(fcWeights.size()).isLessThanOrEqualTo(3);

    Path csv = pb.resolveSibling("input.placeholder.csv");
    float[] x = Corpus.dl4jCsv(csv);
    long[] shape = Corpus.dl4jShape(csv, x.length);
    int[] ishape = java.util.Arrays.stream(shape).mapToInt(d -> (int) d).toArray();
    float[] lite =
        TfliteOracle.run(out, List.of(TfliteOracle.Tensor.f32(ishape, x))).get(0).floats();
    float[] expected = Corpus.dl4jCsv(pb.resolveSibling("output.prediction.csv"));
    Comparison c = Comparison.of(expected, lite, 1e-4, 1e-3);
    System.out.println(model + " vs TensorFlow's float64 outputs: " + c);
    assertThat(c.ok()).as(c.toString()).isTrue();
  }

  /** Bytes of the graph's float constants, at 4 bytes a value (what float32 storage needs). */
  private static long floatParameterBytes(Graph g) {
    long bytes = 0;
    for (Node n : g.nodes()) {
      TensorValue v = n.op().equals("Const") ? n.tensorAttr("value") : null;
      if (v != null && v.value() != null && DType.fromTfEnum(v.dtype()).isFloating()) {
        bytes += 4 * v.value().size();
      }
    }
    return bytes;
  }
}
