package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.formats.npy.Npy;
import org.tfport.formats.tflite.TfliteType;

/** Representative samples checked against the model input they feed. */
class RepresentativeDataTest {
  @TempDir Path tmp;

  /** A version 1 .npy file of zero bytes with the given header fields. */
  Path npy(String name, String descr, String shape, int dataBytes) throws Exception {
    String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int total = 10 + header.length() + 1;
    byte[] hb =
        (header + " ".repeat((64 - total % 64) % 64) + "\n").getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(10 + hb.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93)
        .put("NUMPY".getBytes(StandardCharsets.ISO_8859_1))
        .put((byte) 1)
        .put((byte) 0);
    b.putShort((short) hb.length).put(hb);
    return Files.write(tmp.resolve(name), b.array());
  }

  @Test
  void samplesMatchTheInputOrNameTheFile() throws Exception {
    RepresentativeData.Input in =
        new RepresentativeData.Input("x", TfliteType.FLOAT32, new int[] {-1, 2});
    Path batch = npy("batch.npy", "<f4", "(3, 2)", 24);
    assertThat(RepresentativeData.value(Npy.read(batch), in).shape().dims()).containsExactly(3, 2);
    Path single = npy("single.npy", "<f4", "(2,)", 8);
    assertThat(RepresentativeData.value(Npy.read(single), in).shape().dims()).containsExactly(1, 2);
    Path wrong = npy("wrong.npy", "<f4", "(3, 5)", 60);
    assertThatThrownBy(() -> RepresentativeData.value(Npy.read(wrong), in))
        .hasMessageContaining("wrong.npy")
        .hasMessageContaining("[3, 5]")
        .hasMessageContaining("[-1, 2]");
    Path ints = npy("ints.npy", "<i4", "(1, 2)", 8);
    assertThatThrownBy(() -> RepresentativeData.value(Npy.read(ints), in))
        .hasMessageContaining("ints.npy")
        .hasMessageContaining("<i4")
        .hasMessageContaining("float32");
  }
}
