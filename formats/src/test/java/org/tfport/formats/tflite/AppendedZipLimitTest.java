package org.tfport.formats.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.tfport.core.Limits;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;

/**
 * The associated-files zip appended to a {@code .tflite}: the sizes its central directory claims
 * are checked before the entry is allocated (issue 16), against what deflate can expand the stored
 * bytes to and against tfport's allocation ceiling.
 */
class AppendedZipLimitTest {
  private static final byte[] LABELS = "cat\ndog\n".getBytes(StandardCharsets.US_ASCII);

  @AfterEach
  void clear() {
    System.clearProperty(Limits.PROPERTY);
  }

  /**
   * 100 bytes of model, then a zip of one stored 8-byte entry, its central entry at {@code cen}.
   */
  private static byte[] file() {
    byte[] zip = AppendedZip.write(100, Map.of("labels.txt", LABELS));
    byte[] f = new byte[100 + zip.length];
    System.arraycopy(zip, 0, f, 100, zip.length);
    return f;
  }

  private static int centralEntry(byte[] f) {
    ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
    for (int p = 100; p + 4 <= f.length; p++) {
      if (b.getInt(p) == 0x02014b50) {
        return p;
      }
    }
    throw new AssertionError("no central directory entry");
  }

  @Test
  void storedEntryReadsBack() {
    assertThat(AppendedZip.read(ByteBuffer.wrap(file()), "m.tflite").get("labels.txt"))
        .isEqualTo(LABELS);
  }

  @Test
  void deflatedEntryClaimingTwoGigabytesIsRefusedBeforeAllocating() {
    byte[] f = file();
    ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
    int cen = centralEntry(f);
    b.putShort(cen + 10, (short) 8); // deflated
    b.putInt(cen + 24, 0x7fff_0000); // uncompressed size: 2 GiB from 8 bytes
    assertThatThrownBy(() -> AppendedZip.read(ByteBuffer.wrap(f), "m.tflite"))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageStartingWith("m.tflite at byte 0x")
        .hasMessageContaining("zip entry 'labels.txt' claims 2147418112 bytes from 8 compressed");
  }

  @Test
  void entriesOverTheAllocationCeilingAreRefused() {
    System.setProperty(Limits.PROPERTY, "4");
    assertThatThrownBy(() -> AppendedZip.read(ByteBuffer.wrap(file()), "m.tflite"))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("m.tflite: the associated files (zip entry 'labels.txt')")
        .hasMessageContaining(Limits.PROPERTY);
  }
}
