package org.tfport.formats.savedmodel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.tfport.core.DType;
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
  private final Path prefix;
  private final BundleIndex index;

  private TensorBundle(Path prefix, BundleIndex index) {
    this.prefix = prefix;
    this.index = index;
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
    return new TensorBundle(prefix, BundleIndex.read(prefix));
  }

  public Path prefix() {
    return prefix;
  }

  public Set<String> keys() {
    return index.entries().keySet();
  }

  public boolean has(String key) {
    return index.entries().containsKey(key);
  }

  /** The entry for {@code key}, or null. */
  public BundleEntry entry(String key) {
    return index.entries().get(key);
  }

  /**
   * Reads one tensor and checks its CRC-32C.
   *
   * @throws CorruptModelException naming the shard when the bytes do not match their checksum
   * @throws UnsupportedModelException for sliced (partitioned) tensors and types tfport cannot hold
   */
  public Tensor read(String key) {
    BundleEntry e = index.entries().get(key);
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
    BundleEntry e = index.entries().get(key);
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
    List<long[][]> stored = new ArrayList<>(index.slicesOf().getOrDefault(key, List.of()));
    List<BundleIndex.SliceEntry> data = index.sliceEntriesOf(key);
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

  private Tensor readEntry(BundleEntry e, String key, Shape shape) {
    return BundleShard.read(
        indexFile(prefix), shardFile(prefix, e.shard(), index.numShards()), e, key, shape);
  }
}
