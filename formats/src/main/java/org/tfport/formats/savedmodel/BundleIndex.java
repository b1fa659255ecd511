package org.tfport.formats.savedmodel;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.BundleEntryProto;
import org.tensorflow.proto.BundleHeaderProto;
import org.tensorflow.proto.TensorSliceProto;
import org.tfport.core.Shape;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;

/**
 * A checkpoint's {@code PREFIX.index}: the SSTable's header entry ({@code ""}), an entry per tensor
 * saying where its bytes lie, and for a partitioned variable the slices it lists and the entries
 * (under binary OrderedCode keys) holding each slice's bytes. Reading checks every entry's position
 * against its shard's size.
 *
 * @param numShards how many data shards the header says there are
 * @param entries the tensors by name, in index order
 * @param slicesOf a partitioned variable's stored slices, as its entry lists them: per slice
 *     {start[], length[]}
 * @param sliceEntries the entries holding slices' bytes, in index (key) order, by their binary keys
 */
record BundleIndex(
    int numShards,
    Map<String, BundleEntry> entries,
    Map<String, List<long[][]>> slicesOf,
    List<SliceEntry> sliceEntries) {
  /**
   * An index file is small (a few hundred bytes per variable); a bigger one is not a checkpoint
   * index.
   */
  static final long MAX_INDEX_BYTES = 1L << 30;

  static final int MAX_SHARDS = 100_000;

  /** One slice's data entry under its binary key. */
  record SliceEntry(byte[] key, BundleEntry entry) {}

  /**
   * Reads and checks the index of the checkpoint at {@code prefix}.
   *
   * @throws CorruptModelException naming the file for a damaged index, a missing shard or an entry
   *     that points outside its shard
   */
  static BundleIndex read(Path prefix) {
    Path index = TensorBundle.indexFile(prefix);
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
        Path shard = TensorBundle.shardFile(prefix, e.shard(), numShards);
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
            TensorBundle.shardFile(prefix, e.shard(), numShards)
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
    return new BundleIndex(
        numShards, Collections.unmodifiableMap(entries), slicesOf, List.copyOf(sliceEntries));
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

  /**
   * The slice entries of {@code name}, in key order. Their keys start with OrderedCode's encoding
   * of 0 (one 0 byte) and of the name (bytes 0x00 and 0xff escaped as 0x00 0xff and 0xff 0x00, then
   * 0x00 0x01).
   */
  List<SliceEntry> sliceEntriesOf(String name) {
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
}
