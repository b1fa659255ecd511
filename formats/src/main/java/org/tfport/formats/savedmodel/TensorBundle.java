package org.tfport.formats.savedmodel;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.BundleHeaderProto;
import org.tensorflow.proto.TensorSliceProto;
import org.tfport.core.DType;
import org.tfport.core.Limits;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.DataTypes;

/**
 * A TensorFlow checkpoint ({@code TensorBundle}): {@code PREFIX.index}, a table whose entry {@code
 * ""} is the header and every other entry says where a tensor's bytes are, and the data shards
 * {@code PREFIX.data-NNNNN-of-NNNNN}. Opening reads and checks the index and every entry's position
 * against its shard's size; {@link #read} checks each tensor's CRC-32C.
 */
public final class TensorBundle {
  /**
   * An index file is small (a few hundred bytes per variable); a bigger one is not a checkpoint
   * index.
   */
  static final long MAX_INDEX_BYTES = 1L << 30;

  static final int MAX_SHARDS = 100_000;

  private final Path prefix;
  private final int numShards;
  private final Map<String, BundleEntry> entries;

  /**
   * A partitioned variable's stored slices, as its entry lists them: per slice {start[], length[]}.
   */
  private final Map<String, List<long[][]>> slicesOf;

  /** The entries holding slices' bytes, in index (key) order, by their binary keys. */
  private final List<SliceEntry> sliceEntries;

  record SliceEntry(byte[] key, BundleEntry entry) {}

  private TensorBundle(
      Path prefix,
      int numShards,
      Map<String, BundleEntry> entries,
      Map<String, List<long[][]>> slicesOf,
      List<SliceEntry> sliceEntries) {
    this.prefix = prefix;
    this.numShards = numShards;
    this.entries = entries;
    this.slicesOf = slicesOf;
    this.sliceEntries = sliceEntries;
  }

  /**
   * The index of a checkpoint prefix ({@code dir/variables/variables} gives {@code
   * .../variables.index}).
   */
  public static Path indexFile(Path prefix) {
    return prefix.resolveSibling(prefix.getFileName() + ".index");
  }

  /** Shard {@code shard} of {@code numShards}: {@code PREFIX.data-00000-of-00001}. */
  public static Path shardFile(Path prefix, int shard, int numShards) {
    return prefix.resolveSibling(
        String.format("%s.data-%05d-of-%05d", prefix.getFileName(), shard, numShards));
  }

  /**
   * Reads and checks the index of the checkpoint at {@code prefix}.
   *
   * @throws CorruptModelException naming the file for a damaged index, a missing shard or an entry
   *     that points outside its shard
   */
  public static TensorBundle open(Path prefix) {
    Path index = indexFile(prefix);
    String where = index.toString();
    byte[] file;
    try {
      long size = Files.size(index);
      if (size > MAX_INDEX_BYTES) {
        throw new CorruptModelException(
            where
                + ": "
                + size
                + " bytes is far too big for a checkpoint index;"
                + " the file is not one");
      }
      file = Files.readAllBytes(index);
    } catch (IOException e) {
      throw new CorruptModelException(
          where
              + ": cannot read the checkpoint index ("
              + e
              + "); the SavedModel's"
              + " variables folder is incomplete",
          e);
    }
    BundleHeaderProto header = null;
    Map<String, BundleEntry> entries = new LinkedHashMap<>();
    Map<String, List<long[][]>> slicesOf = new HashMap<>();
    List<SliceEntry> sliceEntries = new ArrayList<>();
    for (TableBlock.Entry e : SsTable.entries(file, where)) {
      // Slice keys are binary (an OrderedCode encoding starting with a 0 byte), never a variable's
      // name.
      boolean sliceKey = e.key().length > 0 && e.key()[0] == 0;
      String key =
          sliceKey ? "slice #" + sliceEntries.size() : new String(e.key(), StandardCharsets.UTF_8);
      try {
        if (key.isEmpty()) {
          header = BundleHeaderProto.parseFrom(e.value());
          continue;
        }
        BundleEntryProto p = BundleEntryProto.parseFrom(e.value());
        long[] dims = new long[p.getShape().getDimCount()];
        for (int i = 0; i < dims.length; i++) {
          dims[i] = p.getShape().getDim(i).getSize();
          if (dims[i] < 0) {
            throw new CorruptModelException(
                where + ": entry '" + key + "' has a negative dimension; the file is" + " damaged");
          }
        }
        BundleEntry be =
            new BundleEntry(
                key,
                p.getDtypeValue(),
                Shape.of(dims),
                p.getShardId(),
                p.getOffset(),
                p.getSize(),
                p.getCrc32C(),
                p.getSlicesCount() > 0);
        if (sliceKey) {
          sliceEntries.add(new SliceEntry(e.key(), be));
        } else {
          entries.put(key, be);
          if (p.getSlicesCount() > 0) {
            slicesOf.put(key, slices(p, dims, where, key));
          }
        }
      } catch (InvalidProtocolBufferException ex) {
        throw new CorruptModelException(
            where
                + ": the entry for '"
                + key
                + "' is not a valid "
                + (key.isEmpty() ? "BundleHeaderProto" : "BundleEntryProto")
                + "; the file is damaged",
            ex);
      }
    }
    if (header == null) {
      throw new CorruptModelException(
          where
              + ": the checkpoint index has no header entry; the file is damaged"
              + " or not a TensorFlow checkpoint index");
    }
    if (header.getEndianness() != BundleHeaderProto.Endianness.LITTLE) {
      throw new UnsupportedModelException(
          where
              + ": the checkpoint was written big-endian; re-save it on a"
              + " little-endian machine");
    }
    int numShards = header.getNumShards();
    if (numShards < 1 || numShards > MAX_SHARDS) {
      throw new CorruptModelException(
          where + ": the header claims " + numShards + " data shards; the file is" + " damaged");
    }
    long[] shardSizes = new long[numShards];
    List<BundleEntry> all = new ArrayList<>(entries.values());
    sliceEntries.forEach(se -> all.add(se.entry()));
    for (BundleEntry e : all) {
      if (e.shard() < 0 || e.shard() >= numShards) {
        throw new CorruptModelException(
            where
                + ": entry '"
                + e.key()
                + "' is in shard "
                + e.shard()
                + " of "
                + numShards
                + "; the file is damaged");
      }
      if (e.sliced() && e.size() == 0) {
        continue;
      }
      if (shardSizes[e.shard()] == 0) {
        Path shard = shardFile(prefix, e.shard(), numShards);
        try {
          shardSizes[e.shard()] = Files.size(shard) + 1;
        } catch (IOException ex) {
          throw new CorruptModelException(
              shard
                  + ": the checkpoint data shard is missing or unreadable ("
                  + ex
                  + "), but "
                  + index.getFileName()
                  + " lists tensors in it; copy the whole variables folder",
              ex);
        }
      }
      long shardSize = shardSizes[e.shard()] - 1;
      if (e.offset() < 0
          || e.size() < 0
          || e.offset() > shardSize
          || e.size() > shardSize - e.offset()) {
        throw new CorruptModelException(
            shardFile(prefix, e.shard(), numShards)
                + ": entry '"
                + e.key()
                + "' claims bytes "
                + e.offset()
                + ".."
                + (e.offset() + e.size())
                + " of a "
                + shardSize
                + "-byte shard; the checkpoint is truncated or damaged");
      }
    }
    return new TensorBundle(
        prefix, numShards, Collections.unmodifiableMap(entries), slicesOf, sliceEntries);
  }

  /** The slices an entry lists, checked against its shape; a full extent has length -1. */
  private static List<long[][]> slices(BundleEntryProto p, long[] dims, String where, String key) {
    List<long[][]> out = new ArrayList<>();
    for (TensorSliceProto sp : p.getSlicesList()) {
      long[] start = new long[dims.length];
      long[] length = new long[dims.length];
      java.util.Arrays.fill(length, -1);
      if (sp.getExtentCount() != 0 && sp.getExtentCount() != dims.length) {
        throw new CorruptModelException(
            where
                + ": a slice of '"
                + key
                + "' has "
                + sp.getExtentCount()
                + " dimensions, the tensor "
                + dims.length
                + "; the file is damaged");
      }
      for (int d = 0; d < sp.getExtentCount(); d++) {
        TensorSliceProto.Extent x = sp.getExtent(d);
        start[d] = x.getStart();
        length[d] = x.hasLength() ? x.getLength() : -1;
        if (start[d] < 0 || length[d] < -1 || start[d] + Math.max(length[d], 0) > dims[d]) {
          throw new CorruptModelException(
              where
                  + ": a slice of '"
                  + key
                  + "' lies outside its shape "
                  + Shape.of(dims)
                  + "; the file is damaged");
        }
      }
      out.add(new long[][] {start, length});
    }
    return out;
  }

  public Path prefix() {
    return prefix;
  }

  public Set<String> keys() {
    return entries.keySet();
  }

  public boolean has(String key) {
    return entries.containsKey(key);
  }

  /** The entry for {@code key}, or null. */
  public BundleEntry entry(String key) {
    return entries.get(key);
  }

  /** Tensors at least this large are memory-mapped rather than read. */
  static final long MAP_AT_LEAST = 1 << 20;

  /**
   * Reads one tensor and checks its CRC-32C.
   *
   * @throws CorruptModelException naming the shard when the bytes do not match their checksum
   * @throws UnsupportedModelException for sliced (partitioned) tensors and types tfport cannot hold
   */
  public Tensor read(String key) {
    BundleEntry e = entries.get(key);
    if (e == null) {
      throw new UsageException(indexFile(prefix) + ": no tensor '" + key + "' in the checkpoint");
    }
    if (e.sliced()) {
      return read(key, "");
    }
    return readEntry(e, key, e.shape());
  }

  /**
   * Reads the part of tensor {@code key} a restore op asks for with a {@code shape_and_slices}
   * string ({@code "10 5 0,5:-"}: the full shape, then per dimension {@code start,length} or {@code
   * -} for all; empty for the whole tensor). A partitioned variable is stored as slices; the part
   * asked for is assembled from those it overlaps.
   */
  public Tensor read(String key, String shapeAndSlice) {
    BundleEntry e = entries.get(key);
    if (e == null) {
      throw new UsageException(indexFile(prefix) + ": no tensor '" + key + "' in the checkpoint");
    }
    long[] dims = e.shape().dims();
    long[][] want = parseSlice(shapeAndSlice, dims, key);
    DType wantType = DataTypes.toDType(e.dtype());
    if (wantType != null
        && wantType.byteSize() > 0
        && Shape.of(want[1]).size() > (Integer.MAX_VALUE - 8) / wantType.byteSize()) {
      throw new UnsupportedModelException(
          indexFile(prefix)
              + ": '"
              + key
              + "' asks for more than 2 GiB in one"
              + " tensor, which tfport cannot hold");
    }
    if (!e.sliced()) {
      Tensor whole = readEntry(e, key, e.shape());
      return isWhole(want, dims) ? whole : SliceCopy.extract(whole, want);
    }
    DType dt = DataTypes.toDType(e.dtype());
    if (dt == null || dt == DType.STRING) {
      throw new UnsupportedModelException(
          indexFile(prefix)
              + ": '"
              + key
              + "' is a partitioned variable of type "
              + DataTypes.name(e.dtype())
              + ", which tfport cannot assemble; re-save the model without partitioning");
    }
    List<long[][]> stored = new ArrayList<>(slicesOf.getOrDefault(key, List.of()));
    List<SliceEntry> data = sliceEntriesOf(key);
    if (stored.size() != data.size()) {
      throw new CorruptModelException(
          indexFile(prefix)
              + ": '"
              + key
              + "' lists "
              + stored.size()
              + " slices but"
              + " the checkpoint holds "
              + data.size()
              + "; the file is damaged");
    }
    // Slice keys sort as their (start, length) pairs do, signed, dimension by dimension.
    stored.sort(
        (a, b) -> {
          for (int d = 0; d < a[0].length; d++) {
            int c =
                a[0][d] != b[0][d]
                    ? Long.compare(a[0][d], b[0][d])
                    : Long.compare(a[1][d], b[1][d]);
            if (c != 0) {
              return c;
            }
          }
          return 0;
        });
    List<Tensor> parts = new ArrayList<>();
    List<long[][]> where = new ArrayList<>();
    for (int i = 0; i < stored.size(); i++) {
      long[][] s = concrete(stored.get(i), dims);
      parts.add(
          readEntry(
              data.get(i).entry(),
              key
                  + " (slice "
                  + java.util.Arrays.toString(s[0])
                  + "+"
                  + java.util.Arrays.toString(s[1])
                  + ")",
              Shape.of(s[1])));
      where.add(s);
      if (java.util.Arrays.equals(s[0], want[0]) && java.util.Arrays.equals(s[1], want[1])) {
        return parts.get(parts.size() - 1);
      }
    }
    Tensor out = SliceCopy.assemble(dt, want, parts, where);
    if (out == null) {
      throw new CorruptModelException(
          indexFile(prefix)
              + ": the stored slices of '"
              + key
              + "' do not cover "
              + (shapeAndSlice.isBlank() ? "the whole tensor" : "'" + shapeAndSlice + "'")
              + "; the checkpoint is"
              + " incomplete");
    }
    return out;
  }

  private static boolean isWhole(long[][] slice, long[] dims) {
    for (int d = 0; d < dims.length; d++) {
      if (slice[0][d] != 0 || slice[1][d] != dims[d]) {
        return false;
      }
    }
    return true;
  }

  /** Full extents (length -1) made explicit. */
  private static long[][] concrete(long[][] s, long[] dims) {
    long[] length = s[1].clone();
    for (int d = 0; d < dims.length; d++) {
      if (length[d] < 0) {
        length[d] = dims[d] - s[0][d];
      }
    }
    return new long[][] {s[0].clone(), length};
  }

  /** A {@code shape_and_slices} string as {start[], length[]}, checked against the stored shape. */
  private long[][] parseSlice(String spec, long[] dims, String key) {
    long[] start = new long[dims.length];
    long[] length = dims.clone();
    if (spec == null || spec.isBlank()) {
      return new long[][] {start, length};
    }
    String[] parts = spec.trim().split(" ");
    String bad =
        indexFile(prefix)
            + ": the restore op asks for '"
            + key
            + "' as '"
            + spec
            + "', which does not"
            + " fit its stored shape "
            + Shape.of(dims)
            + "; the graph and checkpoint do not belong together";
    if (parts.length != dims.length + 1) {
      throw new CorruptModelException(bad);
    }
    try {
      for (int d = 0; d < dims.length; d++) {
        if (Long.parseLong(parts[d]) != dims[d]) {
          throw new CorruptModelException(bad);
        }
      }
      String[] ext = parts[dims.length].split(":");
      if (ext.length != dims.length) {
        throw new CorruptModelException(bad);
      }
      for (int d = 0; d < dims.length; d++) {
        if (ext[d].equals("-")) {
          continue;
        }
        String[] sl = ext[d].split(",");
        start[d] = Long.parseLong(sl[0]);
        length[d] = Long.parseLong(sl[1]);
        if (start[d] < 0 || length[d] < 0 || start[d] + length[d] > dims[d]) {
          throw new CorruptModelException(bad);
        }
      }
    } catch (NumberFormatException | ArrayIndexOutOfBoundsException ex) {
      throw new CorruptModelException(bad);
    }
    return new long[][] {start, length};
  }

  /**
   * The slice entries of {@code name}, in key order. Their keys start with OrderedCode's encoding
   * of 0 (one 0 byte) and of the name (bytes 0x00 and 0xff escaped as 0x00 0xff and 0xff 0x00, then
   * 0x00 0x01).
   */
  private List<SliceEntry> sliceEntriesOf(String name) {
    java.io.ByteArrayOutputStream p = new java.io.ByteArrayOutputStream();
    p.write(0);
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      p.write(b);
      if (b == 0) {
        p.write(0xff);
      } else if (b == (byte) 0xff) {
        p.write(0);
      }
    }
    p.write(0);
    p.write(1);
    byte[] prefixBytes = p.toByteArray();
    List<SliceEntry> out = new ArrayList<>();
    for (SliceEntry se : sliceEntries) {
      if (se.key().length >= prefixBytes.length
          && java.util.Arrays.equals(
              se.key(), 0, prefixBytes.length, prefixBytes, 0, prefixBytes.length)) {
        out.add(se);
      }
    }
    return out;
  }

  private Tensor readEntry(BundleEntry e, String key, Shape shape) {
    Path shard = shardFile(prefix, e.shard(), numShards);
    DType dt = DataTypes.toDType(e.dtype());
    if (dt == null) {
      throw new UnsupportedModelException(
          indexFile(prefix)
              + ": '"
              + key
              + "' has type "
              + DataTypes.name(e.dtype())
              + ", which tfport cannot read into a tensor");
    }
    if (e.size() > Integer.MAX_VALUE - 8) {
      throw new UnsupportedModelException(
          shard
              + ": '"
              + key
              + "' is "
              + e.size()
              + " bytes; TF.js holds one"
              + " weight in at most 2 GiB");
    }
    ByteBuffer buf;
    try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.READ)) {
      // Checked before mapping: touching a mapping past the end of the file kills the process
      // (SIGBUS).
      if (e.offset() + e.size() > ch.size()) {
        throw new CorruptModelException(
            shard
                + ": ends before the bytes of '"
                + key
                + "' (needs "
                + (e.offset() + e.size())
                + " bytes, has "
                + ch.size()
                + "); the checkpoint is truncated");
      }
      if (e.size() >= MAP_AT_LEAST && dt != DType.STRING) {
        // Large weights are mapped, not copied onto the heap: the converter streams them to its
        // output, so
        // a 200 MB model costs page cache, not 200 MB of heap plus a copy.
        buf = ch.map(FileChannel.MapMode.READ_ONLY, e.offset(), e.size());
      } else {
        buf = ByteBuffer.allocate(Limits.allocation(e.size(), 1, shard + ": '" + key + "'"));
        long pos = e.offset();
        while (buf.hasRemaining()) {
          int n = ch.read(buf, pos);
          if (n < 0) {
            throw new CorruptModelException(
                shard
                    + ": ends before the bytes of '"
                    + key
                    + "'; the checkpoint is"
                    + " truncated");
          }
          pos += n;
        }
        buf.flip();
      }
    } catch (IOException ex) {
      throw new CorruptModelException(shard + ": cannot read '" + key + "' (" + ex + ")", ex);
    }
    if (dt == DType.STRING) {
      return strings(buf, e, shard);
    }
    int crc = Crc32c.mask(Crc32c.value(buf));
    if (crc != e.crc32c()) {
      throw new CorruptModelException(
          String.format(
              "%s: CRC mismatch for '%s' at offset 0x%x (stored 0x%08x,"
                  + " computed 0x%08x); the checkpoint is damaged",
              shard, key, e.offset(), e.crc32c(), crc));
    }
    buf.order(ByteOrder.LITTLE_ENDIAN);
    long want = shape.size() * dt.byteSize();
    if (want != e.size()) {
      throw new CorruptModelException(
          shard
              + ": '"
              + key
              + "' is "
              + dt.jsName()
              + shape
              + " ("
              + want
              + " bytes) but its entry holds "
              + e.size()
              + " bytes; the checkpoint is damaged");
    }
    return new Tensor(dt, shape, buf);
  }

  /**
   * String tensors are stored as every element's length as a varint64, a masked CRC-32C of the
   * lengths, then the bytes; tfport holds them as uint32 length + bytes. TensorFlow's checksums
   * here cover each length as a little-endian uint32 (not the varints), then the stored length
   * checksum, then the bytes.
   */
  private static Tensor strings(ByteBuffer buf, BundleEntry e, Path shard) {
    byte[] b = new byte[buf.remaining()];
    buf.get(b);
    long n = e.shape().size();
    int[] pos = {0};
    long[] lens = new long[Math.toIntExact(Math.min(n, b.length))];
    if (n > b.length) {
      throw new CorruptModelException(
          shard
              + ": '"
              + e.key()
              + "' claims "
              + n
              + " strings in "
              + b.length
              + " bytes; the checkpoint is damaged");
    }
    long total = 0;
    for (int i = 0; i < n; i++) {
      lens[i] = Varint.read64(b, pos, b.length);
      if (lens[i] < 0) {
        throw new CorruptModelException(
            shard + ": bad string length in '" + e.key() + "'; the checkpoint is" + " damaged");
      }
      total += lens[i];
    }
    int dataStart = pos[0] + (n > 0 ? 4 : 0);
    if (total != b.length - dataStart) {
      throw new CorruptModelException(
          shard
              + ": the string lengths of '"
              + e.key()
              + "' add up to "
              + total
              + " bytes, but "
              + (b.length - dataStart)
              + " follow them; the checkpoint is damaged");
    }
    ByteBuffer out =
        ByteBuffer.allocate(Limits.allocation(total + 4 * n, 1, shard + ": '" + e.key() + "'"))
            .order(ByteOrder.LITTLE_ENDIAN);
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      len.clear();
      if (lens[i] <= 0xffffffffL) {
        len.putInt((int) lens[i]);
      } else {
        len.putLong(lens[i]);
      }
      crc.update(len.array(), 0, len.position());
    }
    if (n > 0) {
      int storedLengthsCrc = ByteBuffer.wrap(b, pos[0], 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
      if (storedLengthsCrc != Crc32c.mask((int) crc.getValue())) {
        throw new CorruptModelException(
            shard
                + ": CRC mismatch in the string lengths of '"
                + e.key()
                + "'; the checkpoint is damaged");
      }
      crc.update(b, pos[0], 4);
    }
    int at = dataStart;
    for (int i = 0; i < n; i++) {
      out.putInt((int) lens[i]).put(b, at, (int) lens[i]);
      at += (int) lens[i];
    }
    crc.update(b, dataStart, b.length - dataStart);
    int actual = Crc32c.mask((int) crc.getValue());
    if (actual != e.crc32c()) {
      throw new CorruptModelException(
          String.format(
              "%s: CRC mismatch for '%s' at offset 0x%x (stored 0x%08x,"
                  + " computed 0x%08x); the checkpoint is damaged",
              shard, e.key(), e.offset(), e.crc32c(), actual));
    }
    return new Tensor(DType.STRING, e.shape(), out.flip());
  }
}
