package org.tfport.formats.tflite;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code Tensor} tables of a {@code .tflite} file: type, shape, buffer, quantization, sparsity
 * and variant sub-types, each checked before use, and a constant's bytes checked against its shape
 * and type (strings against their offsets), so no kernel reads past a buffer.
 */
final class TfliteTensorReader {
  private final FbReader r;
  private final List<TfliteBuffer> buffers;

  /** Where each buffer's data starts in the file, for messages. */
  private final List<Integer> bufferPos;

  TfliteTensorReader(FbReader r, List<TfliteBuffer> buffers, List<Integer> bufferPos) {
    this.r = r;
    this.buffers = buffers;
    this.bufferPos = bufferPos;
  }

  /** Tensor {@code index} of subgraph {@code sg}, every field and constant size checked. */
  TfliteTensor tensor(FbReader.Table t, int sg, int index) {
    String name = t.string(3, "name");
    String where = "subgraph " + sg + ", tensor " + index + (name == null ? "" : " '" + name + "'");
    int[] shapeArr = t.ints(0, "shape");
    int typeId = t.i8(1, 0, "type");
    TfliteType type = TfliteType.fromId(typeId);
    if (type == null) {
      throw r.unsupported(
          t.pos,
          where,
          "tensor type "
              + typeId
              + " is not in the TFLite schema tfport knows (0.."
              + (TfliteType.values().length - 1)
              + ")");
    }
    long buffer = t.u32(2, 0, "buffer");
    if (buffer >= buffers.size()) {
      throw r.corrupt(
          t.pos,
          where,
          "buffer index " + buffer + " is out of range (" + buffers.size() + " buffers)");
    }
    TfliteQuantization q =
        quantization(t.table(4, "quantization", where + ", quantization"), where);
    boolean isVariable = t.bool(5, false, "is_variable");
    TfliteSparsity sparsity = sparsity(t.table(6, "sparsity", where + ", sparsity"));
    int[] sig = t.ints(7, "shape_signature");
    boolean hasRank = t.bool(8, false, "has_rank");
    List<TfliteTensor.VariantType> variants = new ArrayList<>();
    FbReader.Vec vv = t.tables(9, "variant_tensors");
    for (int i = 0; vv != null && i < vv.length(); i++) {
      FbReader.Table v =
          t.tableAt(vv, i, "variant_tensors", where + ", variant_tensors[" + i + "]");
      int vt = v.i8(1, 0, "type");
      TfliteType vtype = TfliteType.fromId(vt);
      if (vtype == null) {
        throw r.unsupported(v.pos, where, "variant sub-type " + vt + " is not a known tensor type");
      }
      variants.add(
          new TfliteTensor.VariantType(
              boxed(v.ints(0, "shape")), vtype, v.bool(2, false, "has_rank")));
    }
    if (t.u32(10, 0, "external_buffer") != 0) {
      throw r.unsupported(
          t.pos,
          where,
          "the tensor refers to an external buffer file (schema 3d); tfport reads"
              + " only self-contained .tflite files");
    }
    List<Integer> shape = boxed(shapeArr);
    TfliteTensor tensor =
        new TfliteTensor(
            name,
            type,
            shape,
            sig == null ? null : boxed(sig),
            (int) buffer,
            q,
            isVariable,
            hasRank,
            sparsity,
            variants);
    checkSize(tensor, where);
    return tensor;
  }

  /** A constant's bytes must match its shape and type, or kernels read past the buffer. */
  private void checkSize(TfliteTensor t, String where) {
    TfliteBuffer b = buffers.get(t.buffer());
    if (b.isEmpty() || t.sparsity() != null) {
      return;
    }
    long n = t.elementCount();
    int pos = bufferPos.get(t.buffer());
    if (n < 0) {
      throw r.corrupt(pos, where, "constant tensor has a negative dimension in shape " + t.shape());
    }
    if (n == Long.MAX_VALUE) {
      throw r.corrupt(
          pos,
          where,
          "constant tensor's shape " + t.shape() + " has more elements than a file can hold");
    }
    if (t.type() == TfliteType.STRING) {
      checkStrings(b.data(), n, pos, where);
      return;
    }
    long expected = t.type().byteSize(n);
    if (expected >= 0 && expected != b.size()) {
      throw r.corrupt(
          pos,
          where,
          "constant of shape "
              + t.shape()
              + " and type "
              + t.type()
              + " needs "
              + expected
              + " bytes but buffer "
              + t.buffer()
              + " holds "
              + b.size());
    }
  }

  private void checkStrings(ByteBuffer d, long n, int pos, String where) {
    int len = d.limit();
    if (len < 4) {
      throw r.corrupt(
          pos, where, "string constant of " + len + " bytes is shorter than its 4-byte count");
    }
    long count = Integer.toUnsignedLong(d.getInt(0));
    if (count != n) {
      throw r.corrupt(
          pos, where, "string constant holds " + count + " strings but its shape needs " + n);
    }
    if (4L * (count + 2) > len) {
      throw r.corrupt(
          pos,
          where,
          "string constant's offset table ("
              + (count + 1)
              + " offsets) runs past its "
              + len
              + " bytes");
    }
    long prev = 4L * (count + 2);
    for (int i = 0; i <= count; i++) {
      long off = Integer.toUnsignedLong(d.getInt(4 + 4 * i));
      if (off < prev || off > len || (i == count && off != len)) {
        throw r.corrupt(
            pos,
            where,
            "string constant's offset "
                + i
                + " = "
                + off
                + " is out of order or past its "
                + len
                + " bytes");
      }
      prev = off;
    }
  }

  private static List<Integer> boxed(int[] a) {
    return a == null ? List.of() : Arrays.stream(a).boxed().toList();
  }

  private TfliteQuantization quantization(FbReader.Table q, String where) {
    if (q == null) {
      return null;
    }
    List<Float> min = floats(q.floats(0, "min"));
    List<Float> max = floats(q.floats(1, "max"));
    List<Float> scale = floats(q.floats(2, "scale"));
    long[] zp = q.longs(3, "zero_point");
    List<Long> zeroPoint = zp == null ? List.of() : Arrays.stream(zp).boxed().toList();
    int detailsType = q.u8(4, 0, "details_type");
    ByteBuffer custom = null;
    if (detailsType == 1) {
      FbReader.Table c = q.union(5, "details", where + ", CustomQuantization");
      if (c == null) {
        throw r.corrupt(
            q.pos,
            where,
            "quantization details type is CustomQuantization but the table is missing");
      }
      custom = c.bytes(0, "custom");
      if (custom == null) {
        custom = ByteBuffer.allocate(0);
      }
    } else if (detailsType != 0) {
      throw r.unsupported(
          q.pos,
          where,
          "quantization details type "
              + detailsType
              + (detailsType == 2
                  ? " (BlockwiseQuantization)"
                  : detailsType == 3 ? " (MultiAxisQuantization)" : "")
              + " is not supported");
    }
    int dim = q.i32(6, 0, "quantized_dimension");
    if (!scale.isEmpty() && !zeroPoint.isEmpty() && scale.size() != zeroPoint.size()) {
      throw r.corrupt(
          q.pos,
          where,
          scale.size() + " quantization scales but " + zeroPoint.size() + " zero points");
    }
    return new TfliteQuantization(min, max, scale, zeroPoint, dim, custom);
  }

  private static List<Float> floats(float[] a) {
    if (a == null) {
      return List.of();
    }
    List<Float> l = new ArrayList<>(a.length);
    for (float f : a) {
      l.add(f);
    }
    return l;
  }

  private TfliteSparsity sparsity(FbReader.Table s) {
    if (s == null) {
      return null;
    }
    List<TfliteSparsity.Dimension> dims = new ArrayList<>();
    FbReader.Vec dv = s.tables(2, "dim_metadata");
    for (int i = 0; dv != null && i < dv.length(); i++) {
      FbReader.Table d = s.tableAt(dv, i, "dim_metadata", s.where + ", dim_metadata[" + i + "]");
      dims.add(
          new TfliteSparsity.Dimension(
              d.i8(0, 0, "format"),
              d.i32(1, 0, "dense_size"),
              indexVector(d, 2, "array_segments"),
              indexVector(d, 4, "array_indices")));
    }
    return new TfliteSparsity(
        boxed(s.ints(0, "traversal_order")), boxed(s.ints(1, "block_map")), dims);
  }

  private TfliteSparsity.IndexVector indexVector(FbReader.Table d, int typeField, String name) {
    int type = d.u8(typeField, 0, name + "_type");
    if (type == 0) {
      return null;
    }
    FbReader.Table v = d.union(typeField + 1, name, d.where + ", " + name);
    if (v == null) {
      throw r.corrupt(d.pos, d.where, name + " has type " + type + " but no table");
    }
    int[] values =
        switch (type) {
          case 1 -> v.ints(0, "values");
          case 2 -> v.ushorts(0, "values");
          case 3 -> v.ubytes(0, "values");
          default ->
              throw r.corrupt(d.pos, d.where, name + " has unknown SparseIndexVector type " + type);
        };
    return new TfliteSparsity.IndexVector(type, boxed(values));
  }
}
