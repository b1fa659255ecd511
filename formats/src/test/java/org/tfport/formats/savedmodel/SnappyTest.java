package org.tfport.formats.savedmodel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The raw Snappy decoder on hand-made blocks: every tag kind, overlapping copies, and bad input.
 */
class SnappyTest {
  static byte[] bytes(int... v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) v[i];
    }
    return b;
  }

  static String decode(byte[] in) throws Snappy.SnappyException {
    return new String(Snappy.decompress(in, 0, in.length), StandardCharsets.ISO_8859_1);
  }

  @Test
  void literalOnly() throws Exception {
    // length 5, literal tag (5-1)<<2, "hello"
    assertThat(decode(bytes(5, 4 << 2, 'h', 'e', 'l', 'l', 'o'))).isEqualTo("hello");
  }

  @Test
  void emptyBlock() throws Exception {
    assertThat(decode(bytes(0))).isEmpty();
  }

  @Test
  void copyWithOneByteOffsetRepeatsAnOverlappingPattern() throws Exception {
    // "ab" then copy-1 of length 6 from offset 2: "abababab"
    int copy1 = 1 | ((6 - 4) << 2) | (0 << 5);
    assertThat(decode(bytes(8, 1 << 2, 'a', 'b', copy1, 2))).isEqualTo("abababab");
  }

  @Test
  void copyWithTwoAndFourByteOffsets() throws Exception {
    int copy2 = 2 | ((3 - 1) << 2);
    assertThat(decode(bytes(6, 2 << 2, 'x', 'y', 'z', copy2, 3, 0))).isEqualTo("xyzxyz");
    int copy4 = 3 | ((2 - 1) << 2);
    assertThat(decode(bytes(5, 2 << 2, 'x', 'y', 'z', copy4, 3, 0, 0, 0))).isEqualTo("xyzxy");
  }

  @Test
  void longLiteralLengthInExtraBytes() throws Exception {
    byte[] in = new byte[3 + 100];
    in[0] = 100;
    in[1] = (byte) (60 << 2);
    in[2] = 99;
    for (int i = 0; i < 100; i++) {
      in[3 + i] = (byte) ('a' + i % 26);
    }
    assertThat(decode(in)).hasSize(100).startsWith("abc");
  }

  @Test
  void badInputsAreRefusedWithAReason() {
    assertThatThrownBy(() -> decode(bytes(4, 1 | (0 << 2), 0))).hasMessageContaining("offset 0");
    assertThatThrownBy(() -> decode(bytes(8, 0, 'a', 1, 5))).hasMessageContaining("offset 5");
    assertThatThrownBy(() -> decode(bytes(9, 4 << 2, 'h', 'e', 'l', 'l', 'o')))
        .hasMessageContaining("declared");
    assertThatThrownBy(() -> decode(bytes(5, 4 << 2, 'h', 'e'))).hasMessageContaining("literal");
    assertThatThrownBy(() -> decode(bytes(0xff, 0xff, 0xff, 0xff, 0x7f)))
        .hasMessageContaining("claims");
    assertThatThrownBy(() -> decode(bytes(0x80))).hasMessageContaining("truncated");
    assertThatThrownBy(() -> decode(bytes(2, 0, 'a', 2 | (8 << 2))))
        .hasMessageContaining("truncated copy");
  }
}
