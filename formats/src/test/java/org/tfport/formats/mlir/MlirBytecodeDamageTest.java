package org.tfport.formats.mlir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.testkit.Corpus;

/**
 * Damaged bytecode: every truncation and every single-byte change of real files either still
 * decodes or fails with one {@link CorruptModelException} naming the file, never another exception;
 * hand-made headers check the individual messages.
 */
class MlirBytecodeDamageTest {
  private static byte[] file(String relative) throws Exception {
    return Files.readAllBytes(Corpus.require(relative));
  }

  private static void decodeOrRefuse(byte[] b, String name) {
    try {
      MlirBytecode.toGenericText(b, name);
    } catch (CorruptModelException e) {
      assertThat(e.getMessage()).startsWith(name + ": ");
    }
  }

  @Test
  void everyTruncationIsRefusedCleanly() throws Exception {
    for (String f :
        new String[] {
          "jax/jax_export_sin_dummy/module.mlirbc", "jax/jax_export_add_sdy_v1_13/module.mlirbc"
        }) {
      byte[] b = file(f);
      for (int n = 0; n < b.length; n++) {
        byte[] cut = Arrays.copyOf(b, n);
        assertThatThrownBy(() -> MlirBytecode.read(cut, "cut.mlirbc"))
            .as("%s cut to %d bytes", f, n)
            .isInstanceOf(CorruptModelException.class)
            .hasMessageStartingWith("cut.mlirbc: ");
      }
    }
  }

  @Test
  void everyByteChangeDecodesOrIsRefusedCleanly() throws Exception {
    for (String f :
        new String[] {
          "jax/jax_export_sin_dummy/module.mlirbc", "jax/jax_export_add_sdy_v1_13/module.mlirbc"
        }) {
      byte[] b = file(f);
      for (int i = 4; i < b.length; i++) {
        for (int v : new int[] {0xFF, b[i] ^ 0x01}) {
          byte[] bad = b.clone();
          bad[i] = (byte) v;
          decodeOrRefuse(bad, "bad.mlirbc");
        }
      }
    }
  }

  @Test
  void headerErrorsSayWhatIsWrong() {
    assertThatThrownBy(() -> MlirBytecode.read("MLIR".getBytes(), "x.mlirbc"))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("x.mlirbc")
        .hasMessageContaining("magic number");
    byte[] future = {'M', 'L', (byte) 0xEF, 'R', (byte) (9 << 1 | 1), 'p', 0};
    assertThatThrownBy(() -> MlirBytecode.read(future, "x.mlirbc"))
        .hasMessageContaining("bytecode version 9 is not supported");
    byte[] noSections = {'M', 'L', (byte) 0xEF, 'R', 1, 'p', 0};
    assertThatThrownBy(() -> MlirBytecode.read(noSections, "x.mlirbc"))
        .hasMessageContaining("no string section");
    // Section 0 claiming 100 bytes when 1 is left.
    byte[] longSection = {'M', 'L', (byte) 0xEF, 'R', 1, 'p', 0, 0, (byte) (100 << 1 | 1), 1};
    assertThatThrownBy(() -> MlirBytecode.read(longSection, "x.mlirbc"))
        .hasMessageContaining("string section length 100 exceeds the 1 bytes left")
        .hasMessageContaining("byte offset");
  }

  @Test
  void varIntEncodings() {
    // One byte: 7 bits; two bytes: 14 bits; nine bytes: a full 64-bit value.
    assertThat(cursor(0x07).varInt()).isEqualTo(3);
    assertThat(cursor(0x02, 0x02).varInt()).isEqualTo(128);
    assertThat(cursor(0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF).varInt())
        .isEqualTo(-1L);
    assertThat(cursor(0x04, 0x00, 0x80).varInt()).isEqualTo(1L << 20);
    // Zigzag: 1 is -1, 2 is 1.
    assertThat(cursor(0x03).signedVarInt()).isEqualTo(-1);
    assertThat(cursor(0x05).signedVarInt()).isEqualTo(1);
  }

  private static ByteCursor cursor(int... bytes) {
    byte[] b = new byte[bytes.length];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) bytes[i];
    }
    return new ByteCursor(b, 0, b.length, "t", "test");
  }

  @Test
  void denseConstantsPrintTheirValues() {
    MlirType f32 = new MlirType.Scalar("f32");
    MlirType.Tensor t = new MlirType.Tensor(java.util.List.of(2L, 2L), f32, null);
    byte[] raw = new byte[16];
    java.nio.ByteBuffer.wrap(raw)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .putFloat(1f)
        .putFloat(-2.5f)
        .putFloat(0.1f)
        .putFloat(3e-8f);
    assertThat(new MlirAttr.Dense(t, raw))
        .hasToString("dense<[[1.0, -2.5], [0.1, 3.0e-8]]> : tensor<2x2xf32>");
    MlirType.Tensor b =
        new MlirType.Tensor(java.util.List.of(10L), new MlirType.Scalar("i1"), null);
    // VHLO packs booleans one bit each.
    DenseElements packed = DenseElements.of(b, new byte[] {0b0000_0101, 0b10});
    assertThat(packed.getLong(0)).isEqualTo(1);
    assertThat(packed.getLong(1)).isZero();
    assertThat(packed.getLong(2)).isEqualTo(1);
    assertThat(packed.getLong(9)).isEqualTo(1);
    assertThat(DenseElements.of(b, new byte[] {(byte) 0xFF}).toText()).isEqualTo("dense<true>");
    byte[] nan = new byte[4];
    java.nio.ByteBuffer.wrap(nan).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN);
    assertThat(DenseElements.of(new MlirType.Tensor(java.util.List.of(), f32, null), nan).toText())
        .isEqualTo("dense<\"0x0000C07F\">");
    assertThatThrownBy(() -> DenseElements.of(t, new byte[5]))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("5 bytes");
  }
}
