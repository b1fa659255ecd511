package org.tfport.core;

import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;

/**
 * The ceiling on one allocation whose size a file decides (a tensor's shape, a length prefix, a
 * decompressed size). Files from strangers can claim anything: a 20-byte constant may declare a
 * billion elements filled from one value. Readers check such a size against the bytes actually
 * present where the format stores every byte, and against this ceiling always, before allocating.
 *
 * <p>The ceiling is the system property {@value #PROPERTY} (bytes; {@code k}, {@code m}, {@code g}
 * suffixes accepted), by default a quarter of the heap and at most 2 GiB, so a refused file never
 * gets as far as an {@link OutOfMemoryError}.
 */
public final class Limits {
  /** The system property that sets the ceiling. */
  public static final String PROPERTY = "tfport.maxAllocationBytes";

  /** Java arrays and buffers hold at most this many bytes. */
  private static final long ARRAY_MAX = Integer.MAX_VALUE - 8;

  /** The system property that sets the ceiling on bytes unpacked from an archive to disk. */
  public static final String EXTRACT_PROPERTY = "tfport.maxExtractBytes";

  private static final long DEFAULT_EXTRACT_BYTES = 16L << 30;

  private Limits() {}

  /**
   * The ceiling on the bytes one archive (a {@code .keras} zip, a {@code .tar.gz} module) may
   * unpack to disk: the system property {@value #EXTRACT_PROPERTY}, by default 16 GiB. A zip bomb
   * is a few kilobytes that inflate without end; this stops it before the disk fills.
   */
  public static long maxExtractBytes() {
    String p = System.getProperty(EXTRACT_PROPERTY);
    if (p != null && !p.isBlank()) {
      return parseBytes(p.strip(), EXTRACT_PROPERTY);
    }
    return DEFAULT_EXTRACT_BYTES;
  }

  /** The ceiling on one file-driven allocation, in bytes. */
  public static long maxAllocationBytes() {
    String p = System.getProperty(PROPERTY);
    if (p != null && !p.isBlank()) {
      return Math.min(parseBytes(p.strip(), PROPERTY), ARRAY_MAX);
    }
    return Math.min(Runtime.getRuntime().maxMemory() / 4, ARRAY_MAX);
  }

  /**
   * The byte size of {@code count} elements of {@code elementBytes} each, as an int, after checking
   * it against the ceiling.
   *
   * @param where names the file and the thing being read, e.g. {@code "a.pb: node 'w' value"}
   * @throws CorruptModelException when {@code count} is negative
   * @throws UnsupportedModelException when the size is over the ceiling
   */
  public static int allocation(long count, int elementBytes, String where) {
    if (count < 0) {
      throw new CorruptModelException(
          where + " claims " + count + " elements; the file is damaged");
    }
    long max = maxAllocationBytes();
    if (elementBytes > 0 && count > max / elementBytes) {
      throw new UnsupportedModelException(
          where
              + " needs "
              + describe(count, elementBytes)
              + " bytes, over tfport's limit of "
              + max
              + " for one tensor (raise it with -D"
              + PROPERTY
              + "=<bytes> and a larger heap, or check that the file is not damaged)");
    }
    return (int) (count * elementBytes);
  }

  /**
   * Like {@link #allocation}, and also checks that a format which stores every byte has them:
   * {@code present} is what remains of the file for this thing.
   *
   * @throws CorruptModelException when the file holds fewer than the bytes claimed
   */
  public static int allocation(long count, int elementBytes, long present, String where) {
    int bytes = allocation(count, elementBytes, where);
    if (bytes > present) {
      throw new CorruptModelException(
          where
              + " needs "
              + bytes
              + " bytes but only "
              + Math.max(0, present)
              + " follow in the file; the file is truncated or damaged");
    }
    return bytes;
  }

  private static String describe(long count, int elementBytes) {
    return Math.multiplyHigh(count, elementBytes) != 0 || count * elementBytes < 0
        ? count + " x " + elementBytes
        : Long.toString(count * elementBytes);
  }

  private static long parseBytes(String s, String property) {
    char last = Character.toLowerCase(s.charAt(s.length() - 1));
    int shift =
        switch (last) {
          case 'k' -> 10;
          case 'm' -> 20;
          case 'g' -> 30;
          default -> 0;
        };
    String digits = shift == 0 ? s : s.substring(0, s.length() - 1);
    try {
      long v = Long.parseLong(digits.strip());
      if (v <= 0) {
        throw new NumberFormatException("not positive");
      }
      return v > (Long.MAX_VALUE >> shift) ? Long.MAX_VALUE : v << shift;
    } catch (NumberFormatException e) {
      throw new TfportException.UsageException(
          "-D" + property + "=" + s + " is not a byte count (e.g. 268435456, 256m, 1g)");
    }
  }
}
