package org.tfport.runtime.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.tfport.core.Tensor;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;

/**
 * The 16x8 single-op models of tflite-micro's SEANet set (ADD, SUB, CONV_2D, TRANSPOSE_CONV,
 * LEAKY_RELU, PAD, STRIDED_SLICE, QUANTIZE) on the inputs they ship with: tfport's integer kernels
 * must give exactly the golden int16 outputs (computed by TFLite Micro's reference kernels) and
 * exactly what TFLite 2.18's builtin kernels give on those inputs. TRANSPOSE_CONV takes its output
 * shape as an int32 input, which is why the random-input corpus test cannot run it.
 */
@OracleTest
class SeanetGoldenTest {
  @Test
  void int16ModelsGiveTheGoldenOutputs() throws IOException {
    Path root = Corpus.require("tflite").resolve("tflite-micro/seanet");
    List<Path> models;
    try (Stream<Path> s = Files.walk(root)) {
      models = s.filter(p -> p.toString().endsWith(".tflite")).sorted().toList();
    }
    List<String> report = new ArrayList<>();
    for (Path p : models) {
      String stem = p.getFileName().toString().replace(".tflite", "");
      TfliteModel m = TfliteReader.read(p);
      TfliteOracle.Load load = TfliteOracle.load(p);
      assertThat(load.accepted()).as(stem + " " + load.error()).isTrue();
      List<TfliteOracle.Tensor> ins = new ArrayList<>();
      for (int k = 0; k < load.inputs().size(); k++) {
        TfliteOracle.TensorInfo info = load.inputs().get(k);
        long[] v = csv(p.resolveSibling(stem + "_input" + k + "_" + info.dtype() + ".csv"));
        ins.add(tensor(info.dtype(), info.shape(), v));
      }
      long[] golden = csv(p.resolveSibling(stem + "_golden_int16.csv"));
      List<TfliteOracle.Tensor> tflite = TfliteOracle.run(p, ins);
      TfliteImporter.ImportedModel imported = TfliteImporter.importModel(m, stem);
      List<Tensor> ours = TfliteRuns.run(imported.toModel(), TfliteRuns.binding(m, imported), ins);
      long[] got = new long[Math.toIntExact(ours.get(0).size())];
      ByteBuffer b = ours.get(0).bytes();
      for (int i = 0; i < got.length; i++) {
        got[i] = b.getShort(2 * i);
      }
      assertThat(got).as(stem + " against the golden output").containsExactly(golden);
      assertThat(got).as(stem + " against TFLite").containsExactly(tflite.get(0).longs());
      report.add(stem + " " + got.length + " values");
    }
    System.out.println("SEANet 16x8 golden outputs matched exactly: " + report);
    assertThat(report).hasSize(9);
  }

  private static long[] csv(Path file) throws IOException {
    return Arrays.stream(Files.readString(file).split("[,\\s]+"))
        .filter(x -> !x.isEmpty())
        .mapToLong(Long::parseLong)
        .toArray();
  }

  private static TfliteOracle.Tensor tensor(String dtype, int[] shape, long[] v) {
    int width = dtype.equals("int16") ? 2 : 4;
    ByteBuffer b = ByteBuffer.allocate(width * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      if (width == 2) {
        b.putShort((short) x);
      } else {
        b.putInt((int) x);
      }
    }
    int[] s = shape;
    if (Arrays.stream(shape).asLongStream().reduce(1, (x, y) -> x * y) != v.length) {
      s = new int[] {v.length}; // a shape input read as a vector
    }
    return new TfliteOracle.Tensor(dtype, s, b.array());
  }
}
