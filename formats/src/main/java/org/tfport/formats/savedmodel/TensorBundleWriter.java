package org.tfport.formats.savedmodel;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.BundleHeaderProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.proto.VersionDef;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.OutputException;

/**
 * Writes a single-shard TensorFlow checkpoint ({@link TensorBundle}) as TensorFlow's {@code
 * BundleWriter} does: the tensors' little-endian bytes one after another in {@code
 * PREFIX.data-00000-of-00001}, and {@code PREFIX.index}, a table whose entry {@code ""} is the
 * {@code BundleHeaderProto} and whose other entries, in key order, are {@code BundleEntryProto}s
 * with each tensor's type, shape, offset, size and masked CRC-32C.
 */
public final class TensorBundleWriter {
  private TensorBundleWriter() {}

  /**
   * Writes {@code tensors} (by checkpoint key) at {@code prefix}; returns the index and data files.
   *
   * <p>String tensors (the object graph a TF2 checkpoint carries) are stored as TensorFlow's writer
   * stores them: every element's length as a varint64, a masked CRC-32C of the lengths, then the
   * bytes.
   */
  public static List<Path> write(Path prefix, Map<String, Tensor> tensors) {
    List<String> keys = new ArrayList<>(tensors.keySet());
    keys.sort((a, b) -> Arrays.compareUnsigned(utf8(a), utf8(b)));
    Path data = TensorBundle.shardFile(prefix, 0, 1);
    Path index = TensorBundle.indexFile(prefix);
    List<TableBlock.Entry> entries = new ArrayList<>();
    BundleHeaderProto header =
        BundleHeaderProto.newBuilder()
            .setNumShards(1)
            .setEndianness(BundleHeaderProto.Endianness.LITTLE)
            .setVersion(VersionDef.newBuilder().setProducer(1))
            .build();
    entries.add(new TableBlock.Entry(new byte[0], header.toByteArray()));
    try (OutputStream out = Files.newOutputStream(data);
        WritableByteChannel ch = Channels.newChannel(out)) {
      long offset = 0;
      for (String key : keys) {
        if (key.isEmpty()) {
          throw new IllegalArgumentException("a checkpoint key is never empty (the header's)");
        }
        Tensor t = tensors.get(key);
        ByteBuffer bytes = t.dtype() == DType.STRING ? stringBytes(t) : t.bytes();
        int checksum = t.dtype() == DType.STRING ? stringCrc(t, bytes) : crc(bytes);
        long size = bytes.remaining();
        while (bytes.hasRemaining()) {
          ch.write(bytes);
        }
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : t.shape().dims()) {
          shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
        }
        BundleEntryProto e =
            BundleEntryProto.newBuilder()
                .setDtypeValue(t.dtype().tfEnum())
                .setShape(shape)
                .setShardId(0)
                .setOffset(offset)
                .setSize(size)
                .setCrc32C(Crc32c.mask(checksum))
                .build();
        entries.add(new TableBlock.Entry(utf8(key), e.toByteArray()));
        offset += size;
      }
    } catch (IOException e) {
      throw new OutputException(data + ": cannot write the checkpoint data (" + e + ")", e);
    }
    try {
      Files.write(index, SsTableWriter.write(entries));
    } catch (IOException e) {
      throw new OutputException(index + ": cannot write the checkpoint index (" + e + ")", e);
    }
    return List.of(index, data);
  }

  private static int crc(ByteBuffer bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes.duplicate());
    return (int) crc.getValue();
  }

  private static ByteBuffer stringBytes(Tensor t) {
    List<byte[]> strings = t.toByteStrings();
    ByteBuffer lengths = ByteBuffer.allocate(10 * strings.size());
    long total = 0;
    for (byte[] s : strings) {
      long v = s.length;
      while ((v & ~0x7fL) != 0) {
        lengths.put((byte) ((v & 0x7f) | 0x80));
        v >>>= 7;
      }
      lengths.put((byte) v);
      total += s.length;
    }
    lengths.flip();
    ByteBuffer out =
        ByteBuffer.allocate(
                Math.toIntExact(lengths.remaining() + (strings.isEmpty() ? 0 : 4) + total))
            .order(ByteOrder.LITTLE_ENDIAN);
    out.put(lengths);
    if (!strings.isEmpty()) {
      out.putInt(Crc32c.mask((int) lengthsCrc(strings).getValue()));
    }
    strings.forEach(out::put);
    return out.flip();
  }

  /**
   * TensorFlow's checksum of a string tensor covers each length as a little-endian uint32 (a Java
   * array never reaches the uint64 case), the stored length checksum, then the bytes: not the
   * varints written.
   */
  private static int stringCrc(Tensor t, ByteBuffer stored) {
    List<byte[]> strings = t.toByteStrings();
    CRC32C crc = lengthsCrc(strings);
    if (!strings.isEmpty()) {
      int varints = stored.remaining() - 4 - strings.stream().mapToInt(s -> s.length).sum();
      ByteBuffer rest = stored.duplicate();
      rest.position(rest.position() + varints);
      crc.update(rest);
    }
    return (int) crc.getValue();
  }

  private static CRC32C lengthsCrc(List<byte[]> strings) {
    CRC32C crc = new CRC32C();
    ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] s : strings) {
      len.clear();
      crc.update(len.putInt(s.length).array(), 0, 4);
    }
    return crc;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
