package org.tfport.formats.tflite;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;

/**
 * Reads {@code .tflite} files (FlatBuffer, identifier {@code TFL3}, schema version 3) into a {@link
 * TfliteModel}. Every offset, vector length, index (buffer, tensor, operator code, subgraph) and
 * constant size is checked before it is used; the first problem is reported as a one-line {@link
 * TfportException.CorruptModelException} naming the file, the byte offset in hex and the subgraph /
 * operator / tensor, and features this code cannot represent (StableHLO {@code builtin_options_2},
 * external buffer files, blockwise quantization) as an {@link UnsupportedModelException}. Bytes
 * after the FlatBuffer (the zip of associated files that model metadata appends) are ignored.
 */
public final class TfliteReader {
  /** The FlatBuffer file identifier, bytes 4–7. */
  public static final String IDENTIFIER = "TFL3";

  private TfliteReader() {}

  public static TfliteModel read(Path file) {
    if (Files.isDirectory(file)) {
      throw new UsageException(file + " is a folder; pass a .tflite file");
    }
    if (!Files.isRegularFile(file)) {
      throw new UsageException(file + " does not exist; pass the path of a .tflite file");
    }
    byte[] bytes;
    try {
      if (Files.size(file) > Integer.MAX_VALUE - 8) {
        throw new UnsupportedModelException(
            file
                + " is "
                + Files.size(file)
                + " bytes; models over 2 GB are not"
                + " supported yet");
      }
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new TfportException(file + ": cannot read: " + e.getMessage(), e);
    }
    return read(ByteBuffer.wrap(bytes), file.toString());
  }

  public static TfliteModel read(byte[] bytes, String name) {
    return read(ByteBuffer.wrap(bytes), name);
  }

  /**
   * Reads from {@code data}'s position to its limit. Buffer contents in the result are views of
   * {@code data} (no copy), so it must not be changed afterwards.
   *
   * @param name how errors name the input, usually the file path
   */
  public static TfliteModel read(ByteBuffer data, String name) {
    return new Parser(new FbReader(data.slice(), name)).model();
  }

  /** Whether {@code data} starts like a TFLite FlatBuffer (identifier TFL3 at bytes 4–7). */
  public static boolean looksLikeTflite(ByteBuffer data) {
    ByteBuffer b = data.slice();
    if (b.limit() < 8) {
      return false;
    }
    byte[] id = new byte[4];
    b.get(4, id);
    return IDENTIFIER.equals(new String(id, StandardCharsets.ISO_8859_1));
  }

  private static final class Parser {
    private final FbReader r;
    private List<TfliteOperatorCode> codes;
    private List<TfliteBuffer> buffers;
    private List<Integer> bufferPos;
    private TfliteTensorReader tensorReader;

    Parser(FbReader r) {
      this.r = r;
    }

    TfliteModel model() {
      int size = r.size();
      if (size < 8) {
        throw r.corrupt(0, "", "file is " + size + " bytes, too small for a TFLite model");
      }
      if (!looksLikeTflite(r.buffer())) {
        byte[] id = new byte[4];
        r.buffer().get(4, id);
        String hint =
            size >= 12 && "TFL3".equals(new String(bytesAt(8, 4), StandardCharsets.ISO_8859_1))
                ? "; it looks size-prefixed, strip the first 4 bytes"
                : "; not a TFLite model";
        throw r.corrupt(
            4, "", "file identifier is '" + printable(id) + "', expected 'TFL3'" + hint);
      }
      FbReader.Table m = r.root("model");
      long version = m.u32(0, 0, "version");
      if (version != TfliteModel.SCHEMA_VERSION) {
        throw r.unsupported(
            m.pos, "model", "schema version " + version + "; only version 3 is supported");
      }
      FbReader.Vec groups = m.tables(8, "external_buffer_groups");
      FbReader.Vec ext = m.tables(9, "external_buffers");
      if ((groups != null && groups.length() > 0) || (ext != null && ext.length() > 0)) {
        throw r.unsupported(
            m.pos,
            "model",
            "the model keeps weights in external files (external_buffers,"
                + " schema 3d); tfport reads only self-contained .tflite files");
      }
      codes = operatorCodes(m);
      buffers = buffers(m);
      tensorReader = new TfliteTensorReader(r, buffers, bufferPos);
      String description = m.string(3, "description");
      List<TfliteSubgraph> subgraphs = new ArrayList<>();
      FbReader.Vec sv = m.tables(2, "subgraphs");
      for (int i = 0; sv != null && i < sv.length(); i++) {
        subgraphs.add(subgraph(m.tableAt(sv, i, "subgraphs", "subgraph " + i), i));
      }
      int[] mb = m.ints(5, "metadata_buffer");
      List<Integer> metadataBuffer = new ArrayList<>();
      for (int i = 0; mb != null && i < mb.length; i++) {
        if (mb[i] < 0 || mb[i] >= buffers.size()) {
          throw r.corrupt(
              m.pos,
              "metadata_buffer[" + i + "]",
              "buffer index " + mb[i] + " is out of range (" + buffers.size() + " buffers)");
        }
        metadataBuffer.add(mb[i]);
      }
      List<TfliteMetadataEntry> metadata = new ArrayList<>();
      FbReader.Vec mv = m.tables(6, "metadata");
      for (int i = 0; mv != null && i < mv.length(); i++) {
        FbReader.Table t = m.tableAt(mv, i, "metadata", "metadata[" + i + "]");
        String name = t.string(0, "name");
        long b = t.u32(1, 0, "buffer");
        String where = "metadata[" + i + "]" + (name == null ? "" : " '" + name + "'");
        if (name == null) {
          throw r.corrupt(t.pos, where, "metadata entry has no name");
        }
        checkBuffer(b, t.pos, where);
        metadata.add(new TfliteMetadataEntry(name, (int) b));
      }
      List<TfliteSignatureDef> sigs = new ArrayList<>();
      FbReader.Vec sg = m.tables(7, "signature_defs");
      for (int i = 0; sg != null && i < sg.length(); i++) {
        sigs.add(
            signature(
                m.tableAt(sg, i, "signature_defs", "signature_defs[" + i + "]"), i, subgraphs));
      }
      return new TfliteModel(
          version, description, codes, subgraphs, buffers, metadataBuffer, metadata, sigs);
    }

    private byte[] bytesAt(int pos, int n) {
      byte[] b = new byte[n];
      r.buffer().get(pos, b);
      return b;
    }

    private static String printable(byte[] id) {
      StringBuilder sb = new StringBuilder();
      for (byte c : id) {
        sb.append(
            c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("\\x%02x", c & 0xff));
      }
      return sb.toString();
    }

    private List<TfliteOperatorCode> operatorCodes(FbReader.Table m) {
      List<TfliteOperatorCode> out = new ArrayList<>();
      FbReader.Vec v = m.tables(1, "operator_codes");
      for (int i = 0; v != null && i < v.length(); i++) {
        String where = "operator_codes[" + i + "]";
        FbReader.Table t = m.tableAt(v, i, "operator_codes", where);
        int deprecated = t.i8(0, 0, "deprecated_builtin_code");
        String custom = t.string(1, "custom_code");
        int version = t.i32(2, 1, "version");
        int builtin = t.i32(3, 0, "builtin_code");
        // Old files only have the byte; newer ones put 127 there for codes >= 127 (spec 1.3).
        int code = Math.max(deprecated, builtin);
        if (code < 0) {
          throw r.corrupt(t.pos, where, "builtin code " + code + " is negative");
        }
        out.add(new TfliteOperatorCode(code, custom, version));
      }
      return out;
    }

    private List<TfliteBuffer> buffers(FbReader.Table m) {
      List<TfliteBuffer> out = new ArrayList<>();
      bufferPos = new ArrayList<>();
      FbReader.Vec v = m.tables(4, "buffers");
      for (int i = 0; v != null && i < v.length(); i++) {
        String where = "buffer " + i;
        FbReader.Table t = m.tableAt(v, i, "buffers", where);
        FbReader.Vec data = t.vector(0, 1, "data");
        long offset = t.i64(1, 0, "offset");
        long size = t.i64(2, 0, "size");
        if (offset > 1) {
          // >2 GB layout: the bytes follow the FlatBuffer at an absolute file offset.
          if (data != null && data.length() > 0) {
            throw r.corrupt(t.pos, where, "buffer has both inline data and an external offset");
          }
          if (size < 0 || offset + size > r.size() || offset + size < 0) {
            throw r.corrupt(
                t.pos,
                where,
                "buffer at offset 0x"
                    + Long.toHexString(offset)
                    + " of "
                    + size
                    + " bytes runs past the end of the file ("
                    + r.size()
                    + " bytes)");
          }
          out.add(new TfliteBuffer(r.slice((int) offset, (int) size)));
          bufferPos.add((int) offset);
        } else if (data != null) {
          out.add(new TfliteBuffer(r.slice(data.pos(), data.length())));
          bufferPos.add(data.pos());
        } else {
          out.add(TfliteBuffer.EMPTY);
          bufferPos.add(t.pos);
        }
      }
      return out;
    }

    private void checkBuffer(long b, int pos, String where) {
      if (b >= buffers.size()) {
        throw r.corrupt(
            pos, where, "buffer index " + b + " is out of range (" + buffers.size() + " buffers)");
      }
    }

    private TfliteSubgraph subgraph(FbReader.Table g, int index) {
      String sgWhere = "subgraph " + index;
      List<TfliteTensor> tensors = new ArrayList<>();
      FbReader.Vec tv = g.tables(0, "tensors");
      for (int i = 0; tv != null && i < tv.length(); i++) {
        tensors.add(
            tensorReader.tensor(g.tableAt(tv, i, "tensors", sgWhere + ", tensor " + i), index, i));
      }
      int n = tensors.size();
      List<Integer> inputs = indices(g.ints(1, "inputs"), n, false, g.pos, sgWhere + ", inputs");
      List<Integer> outputs = indices(g.ints(2, "outputs"), n, false, g.pos, sgWhere + ", outputs");
      List<TfliteOperator> ops = new ArrayList<>();
      FbReader.Vec ov = g.tables(3, "operators");
      for (int i = 0; ov != null && i < ov.length(); i++) {
        ops.add(operator(g, ov, i, sgWhere, n));
      }
      String name = g.string(4, "name");
      return new TfliteSubgraph(name, tensors, inputs, outputs, ops);
    }

    private List<Integer> indices(
        int[] a, int count, boolean allowMinusOne, int pos, String where) {
      if (a == null) {
        return List.of();
      }
      List<Integer> out = new ArrayList<>(a.length);
      for (int i = 0; i < a.length; i++) {
        int x = a[i];
        if (x >= count || x < (allowMinusOne ? -1 : 0)) {
          throw r.corrupt(
              pos,
              where + "[" + i + "]",
              "tensor index " + x + " is out of range (" + count + " tensors)");
        }
        out.add(x);
      }
      return out;
    }

    private TfliteOperator operator(
        FbReader.Table g, FbReader.Vec ov, int i, String sgWhere, int tensorCount) {
      FbReader.Table o = g.tableAt(ov, i, "operators", sgWhere + ", operator " + i);
      long opcode = o.u32(0, 0, "opcode_index");
      String where =
          sgWhere
              + ", operator "
              + i
              + (opcode < codes.size() ? " (" + codes.get((int) opcode).name() + ")" : "");
      if (opcode >= codes.size()) {
        throw r.corrupt(
            o.pos,
            where,
            "opcode index " + opcode + " is out of range (" + codes.size() + " operator codes)");
      }
      List<Integer> inputs =
          indices(o.ints(1, "inputs"), tensorCount, true, o.pos, where + ", inputs");
      List<Integer> outputs =
          indices(o.ints(2, "outputs"), tensorCount, true, o.pos, where + ", outputs");
      int optType = o.u8(3, 0, "builtin_options_type");
      BuiltinOptions options = null;
      if (optType != 0) {
        TfliteOptionsType type = TfliteOptionsType.ofId(optType);
        if (type == null) {
          throw r.unsupported(
              o.pos,
              where,
              "builtin options type "
                  + optType
                  + " is not in the BuiltinOptions union"
                  + " (1.."
                  + (TfliteOptionsType.values().length - 1)
                  + ")");
        }
        OptionsSchema.Desc d = OptionsSchema.desc(type);
        FbReader.Table t = o.union(4, "builtin_options", where + ", " + d.name());
        if (t == null) {
          throw r.corrupt(
              o.pos,
              where,
              "builtin_options_type is " + d.name() + " but the options table is missing");
        }
        options = BuiltinOptions.of(type, OptionsSchema.read(t, d));
      }
      ByteBuffer custom = o.bytes(5, "custom_options");
      int format = o.i8(6, 0, "custom_options_format");
      FbReader.Vec mv = o.vector(7, 1, "mutating_variable_inputs");
      List<Boolean> mutating = new ArrayList<>();
      for (int k = 0; mv != null && k < mv.length(); k++) {
        mutating.add(r.buffer().get(mv.pos() + k) != 0);
      }
      List<Integer> intermediates =
          indices(o.ints(8, "intermediates"), tensorCount, false, o.pos, where + ", intermediates");
      long largeOffset = o.i64(9, 0, "large_custom_options_offset");
      long largeSize = o.i64(10, 0, "large_custom_options_size");
      if (largeOffset > 1) {
        if (largeSize < 0 || largeOffset + largeSize > r.size() || largeOffset + largeSize < 0) {
          throw r.corrupt(
              o.pos,
              where,
              "custom options at offset 0x"
                  + Long.toHexString(largeOffset)
                  + " of "
                  + largeSize
                  + " bytes run past the end of the file ("
                  + r.size()
                  + " bytes)");
        }
        custom = r.slice((int) largeOffset, (int) largeSize);
      }
      int options2 = o.u8(11, 0, "builtin_options_2_type");
      if (options2 != 0) {
        throw r.unsupported(
            o.pos,
            where,
            "builtin_options_2 (type "
                + options2
                + ", StableHLO-era options) is not"
                + " supported");
      }
      return new TfliteOperator(
          (int) opcode, inputs, outputs, options, custom, format, mutating, intermediates);
    }

    private TfliteSignatureDef signature(
        FbReader.Table s, int index, List<TfliteSubgraph> subgraphs) {
      String key = s.string(2, "signature_key");
      String where = "signature_defs[" + index + "]" + (key == null ? "" : " '" + key + "'");
      long sg = s.u32(4, 0, "subgraph_index");
      if (sg >= subgraphs.size()) {
        throw r.corrupt(
            s.pos,
            where,
            "subgraph index " + sg + " is out of range (" + subgraphs.size() + " subgraphs)");
      }
      int tensors = subgraphs.get((int) sg).tensors().size();
      return new TfliteSignatureDef(
          key,
          (int) sg,
          tensorMaps(s, 0, "inputs", where, tensors),
          tensorMaps(s, 1, "outputs", where, tensors));
    }

    private List<TfliteSignatureDef.TensorMap> tensorMaps(
        FbReader.Table s, int field, String name, String where, int tensors) {
      List<TfliteSignatureDef.TensorMap> out = new ArrayList<>();
      FbReader.Vec v = s.tables(field, name);
      for (int i = 0; v != null && i < v.length(); i++) {
        String w = where + ", " + name + "[" + i + "]";
        FbReader.Table t = s.tableAt(v, i, name, w);
        String n = t.string(0, "name");
        long idx = t.u32(1, 0, "tensor_index");
        if (idx >= tensors) {
          throw r.corrupt(
              t.pos, w, "tensor index " + idx + " is out of range (" + tensors + " tensors)");
        }
        out.add(new TfliteSignatureDef.TensorMap(n, (int) idx));
      }
      return out;
    }
  }
}
