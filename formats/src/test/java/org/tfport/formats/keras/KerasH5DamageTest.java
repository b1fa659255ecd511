package org.tfport.formats.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jhdf.checksum.ChecksumUtils;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.CorruptModelException;

/**
 * Regression for a fuzzing finding (issue 16): jhdf reports a damaged file with whatever runtime
 * exception it meets (an unknown symbol-table cache type was an IllegalStateException), which
 * escaped the reader. Every single-byte damage to the structural part of a small Keras file made by
 * the project must now give a model or a tfport refusal naming the file.
 */
class KerasH5DamageTest {
  @Test
  void everyDamagedByteIsRefusedOrRead(@TempDir Path dir) throws Exception {
    Path good = writeSmallModel(dir);
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

  /**
   * Regression for a fuzzing finding (issue 16): jhdf follows an object header's continuation
   * messages by recursion, so a continuation block that continues into itself overflowed the stack.
   * The root group's {@code backend} attribute message is turned into a continuation to a block
   * appended at the end of the file, whose only message continues to that block again; the
   * checksums are made right so that only the loop is wrong.
   */
  @Test
  void objectHeaderContinuingIntoItselfIsRefusedAsDamaged(@TempDir Path dir) throws Exception {
    byte[] b = Files.readAllBytes(writeSmallModel(dir));
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    // Superblock version 2 (what jhdf writes): the root group's object header address is at 36;
    // that header (version 2, flags 0x02: a 4-byte chunk size, no times) has its chunk size at 6.
    assertThat(b[8]).isEqualTo((byte) 2);
    int root = Math.toIntExact(bb.getLong(36));
    assertThat(new String(b, root, 4, StandardCharsets.ISO_8859_1)).isEqualTo("OHDR");
    assertThat(b[root + 5]).isEqualTo((byte) 0x02);
    int chunk = bb.getInt(root + 6);
    // An attribute message's body: version, flags, name size (2), datatype size (2), dataspace
    // size (2), encoding, then the name; its 4-byte message header comes before.
    int message = new String(b, StandardCharsets.ISO_8859_1).indexOf("backend\0", root) - 9 - 4;
    assertThat(message).isBetween(root + 10, root + 10 + chunk - 20);
    assertThat(b[message]).isEqualTo((byte) 0x0c);

    int block = b.length;
    int blockLength = 4 + 4 + 16 + 4;
    b[message] = 0x10;
    bb.putLong(message + 4, block).putLong(message + 12, blockLength);
    bb.putInt(
        root + 10 + chunk, ChecksumUtils.checksum(Arrays.copyOfRange(b, root, root + 10 + chunk)));
    ByteBuffer loop = ByteBuffer.allocate(blockLength).order(ByteOrder.LITTLE_ENDIAN);
    loop.put("OCHK".getBytes(StandardCharsets.US_ASCII))
        .put((byte) 0x10)
        .putShort((short) 16)
        .put((byte) 0)
        .putLong(block)
        .putLong(blockLength);
    loop.putInt(ChecksumUtils.checksum(Arrays.copyOf(loop.array(), blockLength - 4)));
    Path bad = dir.resolve("loop.h5");
    Files.write(bad, b);
    Files.write(bad, loop.array(), StandardOpenOption.APPEND);

    assertThatThrownBy(() -> readAll(bad))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining(bad.toString())
        .hasMessageContaining("refer to each other in a loop")
        .hasMessageContaining("the file is damaged");
  }

  /** A one-Dense-layer model written by the project, with its config and Keras attributes. */
  private static Path writeSmallModel(Path dir) throws Exception {
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
    return good;
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
