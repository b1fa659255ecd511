package org.tfport.formats.keras;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;

/**
 * Regression for a fuzzing finding (issue 16): jhdf reports a damaged file with whatever runtime
 * exception it meets (an unknown symbol-table cache type was an IllegalStateException), which
 * escaped the reader. Every single-byte damage to the structural part of a small Keras file made by
 * the project must now give a model or a tfport refusal naming the file.
 */
class KerasH5DamageTest {
  @Test
  void everyDamagedByteIsRefusedOrRead(@TempDir Path dir) throws Exception {
    Path good = dir.resolve("good.h5");
    Tensor kernel = Tensor.ofFloats(Shape.of(2, 2), new float[] {1, 2, 3, 4});
    Tensor bias = Tensor.ofFloats(Shape.of(2), new float[] {5, 6});
    KerasH5Writer.write(
        good,
        "2.15.0",
        "tensorflow",
        Json.MAPPER.readTree(
            "{\"class_name\":\"Sequential\",\"config\":{\"name\":\"s\",\"layers\":[{\"class_name\":"
                + "\"Dense\",\"config\":{\"name\":\"d\",\"units\":2}}]}}"),
        null,
        List.of(
            new KerasLayerWeights(
                "d",
                List.of(
                    new KerasWeight("d/kernel:0", DType.FLOAT32, kernel.shape(), () -> kernel),
                    new KerasWeight("d/bias:0", DType.FLOAT32, bias.shape(), () -> bias)))));
    byte[] bytes = Files.readAllBytes(good);
    assertThat(readAll(good)).isEqualTo(2);

    Path bad = dir.resolve("bad.h5");
    List<String> escaped = new ArrayList<>();
    int refused = 0;
    // The superblock, root group and first object headers sit in the first bytes; 0x60 is the
    // cache type the fuzzer used, 0xff a length or offset far past the end (one of them made jhdf
    // allocate the 4 GB an object header claimed).
    for (int i = 8; i < Math.min(bytes.length, 640); i++) {
      for (byte value : new byte[] {0x60, (byte) 0xff}) {
        byte[] damaged = bytes.clone();
        if (damaged[i] == value || (value == 0x60 && i % 2 == 1)) {
          continue;
        }
        damaged[i] = value;
        Files.write(bad, damaged);
        try {
          readAll(bad);
        } catch (TfportException expected) {
          assertThat(expected.getMessage()).contains(bad.toString());
          refused++;
        } catch (RuntimeException e) {
          escaped.add("byte " + i + " = " + value + ": " + e);
        }
      }
    }
    assertThat(escaped).isEmpty();
    assertThat(refused).isPositive();
  }

  private static int readAll(Path file) throws Exception {
    int weights = 0;
    try (KerasModel m = KerasModel.open(file)) {
      for (KerasLayerWeights layer : m.layers()) {
        for (KerasWeight w : layer.weights()) {
          w.data().get();
          weights++;
        }
      }
    }
    return weights;
  }
}
