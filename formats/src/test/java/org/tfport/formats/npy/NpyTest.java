package org.tfport.formats.npy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UsageException;

/** The .npy reader on files laid out as numpy writes them, and on hostile ones. */
class NpyTest {
  @TempDir Path tmp;

  /**
   * A .npy file: magic, version, header length (2 or 4 bytes), the header padded to 64 bytes, then
   * data.
   */
  Path file(String name, int major, String header, byte[] data) throws Exception {
    int lenBytes = major == 1 ? 2 : 4;
    int total = 8 + lenBytes + header.length() + 1;
    String h = header + " ".repeat((64 - total % 64) % 64) + "\n";
    byte[] hb = h.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b =
        ByteBuffer.allocate(8 + lenBytes + hb.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93)
        .put("NUMPY".getBytes(StandardCharsets.ISO_8859_1))
        .put((byte) major)
        .put((byte) 0);
    if (major == 1) {
      b.putShort((short) hb.length);
    } else {
      b.putInt(hb.length);
    }
    b.put(hb).put(data);
    Path p = tmp.resolve(name);
    Files.write(p, b.array());
    return p;
  }

  static String header(String descr, String shape) {
    return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  }

  static byte[] le(int width, long... v) {
    ByteBuffer b = ByteBuffer.allocate(width * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      switch (width) {
        case 1 -> b.put((byte) x);
        case 4 -> b.putInt((int) x);
        default -> b.putLong(x);
      }
    }
    return b.array();
  }

  @Test
  void readsEachDtypeAndVersion() throws Exception {
    ByteBuffer f4 = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : new float[] {1.5f, -2f, 0f, 3.25f, 7f, -0.5f}) {
      f4.putFloat(x);
    }
    Npy a = Npy.read(file("f4.npy", 1, header("<f4", "(2, 3)"), f4.array()));
    assertThat(a.shape()).containsExactly(2, 3);
    assertThat(a.values()).containsExactly(1.5f, -2f, 0f, 3.25f, 7f, -0.5f);
    assertThat(a.isFloat()).isTrue();

    ByteBuffer f8 =
        ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.25).putDouble(-1e3);
    Npy b = Npy.read(file("f8.npy", 2, header("<f8", "(2,)"), f8.array()));
    assertThat(b.values()).containsExactly(0.25f, -1000f);

    assertThat(Npy.read(file("i4.npy", 3, header("<i4", "(3,)"), le(4, 1, -2, 300))).values())
        .containsExactly(1f, -2f, 300f);
    assertThat(Npy.read(file("i8.npy", 1, header("<i8", "()"), le(8, 5))).values())
        .containsExactly(5f);
    Npy u1 = Npy.read(file("u1.npy", 1, header("|u1", "(1, 3)"), le(1, 0, 200, 255)));
    assertThat(u1.values()).containsExactly(0f, 200f, 255f);
    assertThat(u1.isFloat()).isFalse();
    assertThat(Npy.read(file("i1.npy", 1, header("|i1", "(2,)"), le(1, -128, 127))).values())
        .containsExactly(-128f, 127f);
    // Zero-size arrays are valid files.
    assertThat(Npy.read(file("empty.npy", 1, header("<f4", "(0, 4)"), new byte[0])).elements())
        .isZero();
  }

  @Test
  void writerOutputReadsBack() throws Exception {
    Path p = tmp.resolve("w.npy");
    Npy.writeFloat32(p, new int[] {2, 1, 2}, new float[] {1, 2, 3, 4});
    Npy n = Npy.read(p);
    assertThat(n.shape()).containsExactly(2, 1, 2);
    assertThat(n.values()).containsExactly(1f, 2f, 3f, 4f);
    // numpy aligns the data to 64 bytes
    assertThat((Files.size(p) - 16) % 64).isZero();
  }

  /** numpy 2.4's np.save of each array, as header text plus data bytes (hex), checked by hand. */
  static byte[] hex(String h) {
    byte[] b = new byte[h.length() / 2];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
    }
    return b;
  }

  @Test
  void readsEveryDtypeExactly() throws Exception {
    Tensor i2 = Npy.readTensor(file("i2.npy", 1, header("<i2", "(1, 3)"), hex("0100ffff0300")));
    assertThat(i2.dtype()).isEqualTo(DType.INT16);
    assertThat(i2.shape().dims()).containsExactly(1, 3);
    assertThat(i2.toFloatArray()).containsExactly(1f, -1f, 3f);
    assertThat(
            Npy.readTensor(file("u2.npy", 1, header("<u2", "(2,)"), hex("ffff0100")))
                .toFloatArray())
        .containsExactly(65535f, 1f);
    Tensor b1 = Npy.readTensor(file("b1.npy", 1, header("|b1", "(2,)"), hex("0100")));
    assertThat(b1.dtype()).isEqualTo(DType.BOOL);
    assertThat(b1.toFloatArray()).containsExactly(1f, 0f);
    // float16 1.0 and -2.0
    Tensor f2 = Npy.readTensor(file("f2.npy", 1, header("<f2", "(2,)"), hex("003c00c0")));
    assertThat(f2.dtype()).isEqualTo(DType.FLOAT16);
    assertThat(f2.toFloatArray()).containsExactly(1f, -2f);
    // int64 beyond float precision stays exact
    Tensor i8 = Npy.readTensor(file("big.npy", 1, header("<i8", "(1,)"), le(8, (1L << 53) + 1)));
    assertThat(i8.dtype()).isEqualTo(DType.INT64);
    assertThat(i8.bytes().getLong(0)).isEqualTo((1L << 53) + 1);
    Tensor s = Npy.readTensor(file("s.npy", 1, header("|S2", "(2,)"), hex("61626300")));
    assertThat(s.dtype()).isEqualTo(DType.STRING);
    assertThat(s.toByteStrings())
        .containsExactly(
            "ab".getBytes(StandardCharsets.UTF_8), "c".getBytes(StandardCharsets.UTF_8));
    Tensor u =
        Npy.readTensor(
            file("u.npy", 1, header("<U2", "(2,)"), hex("61000000e900000063000000" + "00000000")));
    assertThat(u.toByteStrings())
        .containsExactly(
            "a\u00e9".getBytes(StandardCharsets.UTF_8), "c".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> Npy.read(file("s2.npy", 1, header("|S2", "(2,)"), hex("61626300"))))
        .hasMessageContaining("s2.npy")
        .hasMessageContaining("strings");
  }

  @Test
  void writesWhatNumpyWrites() throws Exception {
    // The files np.save writes for np.array([[1, 2, 3]], dtype='<i2'), np.float32(3) and
    // np.array([b'ab', b'c']).
    byte[] i2 =
        Npy.bytes(new Tensor(DType.INT16, Shape.of(1, 3), ByteBuffer.wrap(hex("010002000300"))));
    assertThat(i2).hasSize(134);
    assertThat(new String(i2, 10, 118, StandardCharsets.ISO_8859_1))
        .isEqualTo(
            String.format(
                "%-117s\n", "{'descr': '<i2', 'fortran_order': False, 'shape': (1, 3), }"));
    byte[] scalar = Npy.bytes(Tensor.ofFloats(Shape.SCALAR, 3f));
    assertThat(scalar).hasSize(132);
    assertThat(new String(scalar, 10, 118, StandardCharsets.ISO_8859_1))
        .startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (), }");
    byte[] str = Npy.bytes(Tensor.ofStrings(Shape.of(2), java.util.List.of("ab", "c")));
    assertThat(new String(str, 10, 118, StandardCharsets.ISO_8859_1))
        .startsWith("{'descr': '|S2', 'fortran_order': False, 'shape': (2,), }");
    assertThat(java.util.Arrays.copyOfRange(str, 128, str.length)).isEqualTo(hex("61626300"));

    // Every writable type reads back as it was.
    java.util.Random rnd = new java.util.Random(3);
    for (DType t :
        new DType[] {
          DType.FLOAT32,
          DType.FLOAT64,
          DType.FLOAT16,
          DType.INT32,
          DType.INT64,
          DType.INT16,
          DType.UINT16,
          DType.UINT8,
          DType.INT8,
          DType.BOOL
        }) {
      byte[] data = new byte[6 * t.byteSize()];
      rnd.nextBytes(data);
      if (t == DType.BOOL) {
        for (int i = 0; i < data.length; i++) {
          data[i] &= 1;
        }
      }
      Tensor in = new Tensor(t, Shape.of(2, 3), ByteBuffer.wrap(data));
      Path p = tmp.resolve(t.jsName() + ".npy");
      Npy.write(p, in);
      Tensor back = Npy.readTensor(p);
      assertThat(back.dtype()).as(t.jsName()).isEqualTo(t);
      assertThat(back.shape().dims()).containsExactly(2, 3);
      byte[] got = new byte[back.byteLength()];
      back.bytes().get(got);
      assertThat(got).as(t.jsName()).isEqualTo(data);
    }
    assertThatThrownBy(
            () -> Npy.bytes(new Tensor(DType.BFLOAT16, Shape.of(1), ByteBuffer.allocate(2))))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("bfloat16");
  }

  @Test
  void hostileFilesFailWithTheFileName() throws Exception {
    Path badMagic = tmp.resolve("magic.npy");
    Files.write(badMagic, "PK\u0003\u0004 not numpy at all".getBytes(StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> Npy.read(badMagic))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("magic.npy")
        .hasMessageContaining("magic");

    // The header claims 1000x1000 floats but 8 bytes follow: refused before allocating.
    Path lying = file("lying.npy", 1, header("<f4", "(1000, 1000)"), new byte[8]);
    assertThatThrownBy(() -> Npy.read(lying))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("lying.npy")
        .hasMessageContaining("4000000");

    Path huge = file("huge.npy", 1, header("<f8", "(4294967296, 4294967296, 16)"), new byte[8]);
    assertThatThrownBy(() -> Npy.read(huge))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("huge.npy");

    Path fortran =
        file(
            "fortran.npy",
            1,
            "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
            new byte[16]);
    assertThatThrownBy(() -> Npy.read(fortran))
        .hasMessageContaining("fortran.npy")
        .hasMessageContaining("Fortran");

    Path big = file("bigendian.npy", 1, header(">f4", "(1,)"), new byte[4]);
    assertThatThrownBy(() -> Npy.read(big))
        .hasMessageContaining("bigendian.npy")
        .hasMessageContaining(">f4");

    Path object =
        file("obj.npy", 1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new byte[8]);
    assertThatThrownBy(() -> Npy.read(object))
        .hasMessageContaining("obj.npy")
        .hasMessageContaining("|O");

    Path code =
        file(
            "code.npy",
            1,
            "{'descr': __import__('os').system('true'), 'shape': (1,)}",
            new byte[4]);
    assertThatThrownBy(() -> Npy.read(code))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("code.npy");

    Path negative = file("neg.npy", 1, header("<f4", "(-1,)"), new byte[4]);
    assertThatThrownBy(() -> Npy.read(negative))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("neg.npy");

    // Header length beyond the end of the file.
    Path cut = tmp.resolve("cut.npy");
    byte[] whole = Files.readAllBytes(file("whole.npy", 1, header("<f4", "(1,)"), new byte[4]));
    Files.write(cut, java.util.Arrays.copyOf(whole, 30));
    assertThatThrownBy(() -> Npy.read(cut))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("cut.npy");

    Path tiny = tmp.resolve("tiny.npy");
    Files.write(tiny, new byte[] {(byte) 0x93, 'N'});
    assertThatThrownBy(() -> Npy.read(tiny))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("tiny.npy");
  }
}
