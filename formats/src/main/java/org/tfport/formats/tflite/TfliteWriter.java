package org.tfport.formats.tflite;

import com.google.flatbuffers.FlatBufferBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.tensorflow.lite.schema.Buffer;
import org.tensorflow.lite.schema.CustomQuantization;
import org.tensorflow.lite.schema.DimensionMetadata;
import org.tensorflow.lite.schema.Int32Vector;
import org.tensorflow.lite.schema.Metadata;
import org.tensorflow.lite.schema.Model;
import org.tensorflow.lite.schema.Operator;
import org.tensorflow.lite.schema.OperatorCode;
import org.tensorflow.lite.schema.QuantizationParameters;
import org.tensorflow.lite.schema.SignatureDef;
import org.tensorflow.lite.schema.SparsityParameters;
import org.tensorflow.lite.schema.SubGraph;
import org.tensorflow.lite.schema.Tensor;
import org.tensorflow.lite.schema.TensorMap;
import org.tensorflow.lite.schema.Uint16Vector;
import org.tensorflow.lite.schema.Uint8Vector;
import org.tensorflow.lite.schema.VariantSubType;
import org.tfport.core.TfportException.OutputException;
import org.tfport.core.TfportException.UnsupportedModelException;

/**
 * Serializes a {@link TfliteModel} to a {@code .tflite} FlatBuffer (identifier {@code TFL3}) with
 * the generated schema builders: buffer payloads 16-byte aligned (the schema's {@code force_align},
 * which the Java generator ignores), buffer 0 the empty sentinel, operator codes stored both as the
 * capped byte and the int32 field, and {@code signature_defs} always present, as the reference
 * exporter writes them. It writes exactly what the model holds; add {@code min_runtime_version} or
 * {@code CONVERSION_METADATA} first with {@link TfliteModel#withComputedMinRuntimeVersion()} and
 * {@link TfliteModel#withConversionMetadata}.
 */
public final class TfliteWriter {
  // FlatBufferBuilder is backed by one ByteBuffer, and TFLite FlatBuffers are limited to 2 GiB.
  private static final long MAX_SIZE = Integer.MAX_VALUE - 1024;

  private TfliteWriter() {}

  /**
   * The file's bytes.
   *
   * @throws IllegalArgumentException when the model is inconsistent (an index out of range, buffer
   *     0 not empty, an options value of the wrong type)
   * @throws UnsupportedModelException when it would not fit a 2 GiB FlatBuffer
   */
  public static byte[] write(TfliteModel model) {
    validate(model);
    long data = 0;
    for (TfliteBuffer b : model.buffers()) {
      data += b.size() + 32L;
    }
    if (data > MAX_SIZE) {
      throw new UnsupportedModelException(
          "the model's constants take "
              + data
              + " bytes; tfport writes only"
              + " FlatBuffer .tflite files (< 2 GiB), not the >2 GB buffer-offset layout");
    }
    FlatBufferBuilder b = new FlatBufferBuilder((int) Math.min(MAX_SIZE, data + 64 * 1024));
    try {
      return new Emitter(b).model(model);
    } catch (AssertionError e) {
      // FlatBufferBuilder's way of saying it cannot grow past 2 GiB.
      throw new UnsupportedModelException(
          "the model does not fit a 2 GiB FlatBuffer: " + e.getMessage());
    }
  }

  /** Writes the file through a temporary sibling, so a failure leaves no half-written model. */
  public static void write(TfliteModel model, Path file) {
    byte[] bytes = write(model);
    Path dir = file.toAbsolutePath().getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
      Files.write(tmp, bytes);
      // A temporary file is owner-only; the model is as readable as any file the user creates.
      org.tfport.core.AtomicOutput.followUmask(tmp);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      try {
        if (tmp != null) {
          Files.deleteIfExists(tmp);
        }
      } catch (IOException ignored) {
        // The original failure is the one to report.
      }
      throw new OutputException(file + ": cannot write: " + e, e);
    }
  }

  // -------------------------------------------------------------------------------------
  // validation

  static void validate(TfliteModel m) {
    if (m.version() != TfliteModel.SCHEMA_VERSION) {
      throw new IllegalArgumentException("schema version must be 3, got " + m.version());
    }
    if (m.buffers().isEmpty() || !m.buffers().get(0).isEmpty()) {
      throw new IllegalArgumentException(
          "buffers[0] must exist and be empty (the sentinel tensors without data use)");
    }
    int nb = m.buffers().size();
    int nc = m.operatorCodes().size();
    for (int s = 0; s < m.subgraphs().size(); s++) {
      TfliteSubgraph g = m.subgraphs().get(s);
      int nt = g.tensors().size();
      for (int t = 0; t < nt; t++) {
        int bi = g.tensors().get(t).buffer();
        check(bi < nb, "subgraph %d, tensor %d: buffer %d out of range (%d buffers)", s, t, bi, nb);
      }
      checkIndices(g.inputs(), nt, false, "subgraph " + s + " inputs");
      checkIndices(g.outputs(), nt, false, "subgraph " + s + " outputs");
      for (int o = 0; o < g.operators().size(); o++) {
        TfliteOperator op = g.operators().get(o);
        check(
            op.opcodeIndex() < nc,
            "subgraph %d, operator %d: opcode index %d out of range (%d codes)",
            s,
            o,
            op.opcodeIndex(),
            nc);
        checkIndices(op.inputs(), nt, true, "subgraph " + s + ", operator " + o + " inputs");
        checkIndices(op.outputs(), nt, true, "subgraph " + s + ", operator " + o + " outputs");
        checkIndices(
            op.intermediates(), nt, false, "subgraph " + s + ", operator " + o + " intermediates");
      }
    }
    for (TfliteMetadataEntry e : m.metadata()) {
      check(
          e.buffer() < nb,
          "metadata '%s': buffer %d out of range (%d buffers)",
          e.name(),
          e.buffer(),
          nb);
    }
    for (int i : m.metadataBuffer()) {
      check(i >= 0 && i < nb, "metadata_buffer: buffer %d out of range (%d buffers)", i, nb);
    }
    for (TfliteSignatureDef sig : m.signatureDefs()) {
      check(
          sig.subgraphIndex() < m.subgraphs().size(),
          "signature '%s': subgraph %d out of range",
          sig.key(),
          sig.subgraphIndex());
      int nt = m.subgraphs().get(sig.subgraphIndex()).tensors().size();
      for (TfliteSignatureDef.TensorMap t : sig.inputs()) {
        check(
            t.tensorIndex() < nt,
            "signature '%s' input '%s': tensor %d out of range",
            sig.key(),
            t.name(),
            t.tensorIndex());
      }
      for (TfliteSignatureDef.TensorMap t : sig.outputs()) {
        check(
            t.tensorIndex() < nt,
            "signature '%s' output '%s': tensor %d out of range",
            sig.key(),
            t.name(),
            t.tensorIndex());
      }
    }
  }

  private static void checkIndices(List<Integer> idx, int n, boolean allowMinusOne, String where) {
    for (int i : idx) {
      check(
          i < n && i >= (allowMinusOne ? -1 : 0),
          "%s: tensor %d out of range (%d tensors)",
          where,
          i,
          n);
    }
  }

  private static void check(boolean ok, String format, Object... args) {
    if (!ok) {
      throw new IllegalArgumentException("cannot write the model: " + String.format(format, args));
    }
  }

  // ----------------------------------------------------------------------------------------
  // emitting

  private static final class Emitter {
    private final FlatBufferBuilder b;

    Emitter(FlatBufferBuilder b) {
      this.b = b;
    }

    byte[] model(TfliteModel m) {
      // Created first so that the bulk data ends up at the end of the file, as the reference lays
      // it out.
      int[] buffers = new int[m.buffers().size()];
      for (int i = 0; i < buffers.length; i++) {
        buffers[i] = buffer(m.buffers().get(i));
      }
      int buffersVec = Model.createBuffersVector(b, buffers);
      int[] codes = new int[m.operatorCodes().size()];
      for (int i = 0; i < codes.length; i++) {
        codes[i] = opcode(m.operatorCodes().get(i));
      }
      int codesVec = Model.createOperatorCodesVector(b, codes);
      int[] subgraphs = new int[m.subgraphs().size()];
      for (int i = 0; i < subgraphs.length; i++) {
        subgraphs[i] = subgraph(m.subgraphs().get(i));
      }
      int subgraphsVec = Model.createSubgraphsVector(b, subgraphs);
      int description = m.description() == null ? 0 : b.createString(m.description());
      int metadataBufferVec =
          m.metadataBuffer().isEmpty()
              ? 0
              : Model.createMetadataBufferVector(b, ints(m.metadataBuffer()));
      int metadataVec = 0;
      if (!m.metadata().isEmpty()) {
        int[] md = new int[m.metadata().size()];
        for (int i = 0; i < md.length; i++) {
          TfliteMetadataEntry e = m.metadata().get(i);
          md[i] = Metadata.createMetadata(b, b.createString(e.name()), e.buffer());
        }
        metadataVec = Model.createMetadataVector(b, md);
      }
      int[] sigs = new int[m.signatureDefs().size()];
      for (int i = 0; i < sigs.length; i++) {
        sigs[i] = signature(m.signatureDefs().get(i));
      }
      int sigsVec = Model.createSignatureDefsVector(b, sigs);

      Model.startModel(b);
      Model.addVersion(b, m.version());
      Model.addOperatorCodes(b, codesVec);
      Model.addSubgraphs(b, subgraphsVec);
      if (description != 0) {
        Model.addDescription(b, description);
      }
      Model.addBuffers(b, buffersVec);
      if (metadataBufferVec != 0) {
        Model.addMetadataBuffer(b, metadataBufferVec);
      }
      if (metadataVec != 0) {
        Model.addMetadata(b, metadataVec);
      }
      Model.addSignatureDefs(b, sigsVec);
      int root = Model.endModel(b);
      b.finish(root, TfliteReader.IDENTIFIER);
      return b.sizedByteArray();
    }

    private int buffer(TfliteBuffer buf) {
      int data = 0;
      if (!buf.isEmpty()) {
        data = alignedBytes(buf.data(), 16);
      }
      Buffer.startBuffer(b);
      if (data != 0) {
        Buffer.addData(b, data);
      }
      return Buffer.endBuffer(b);
    }

    private int alignedBytes(ByteBuffer src, int alignment) {
      ByteBuffer dst = b.createUnintializedVector(1, src.remaining(), alignment);
      dst.put(src.duplicate());
      return b.endVector();
    }

    private int opcode(TfliteOperatorCode c) {
      int custom = c.customCode() == null ? 0 : b.createString(c.customCode());
      // Runtimes older than the int32 field read only this byte; 127 tells them to look further.
      byte deprecated =
          (byte) Math.min(c.builtinCode(), TfliteBuiltin.PLACEHOLDER_FOR_GREATER_OP_CODES.code());
      return OperatorCode.createOperatorCode(b, deprecated, custom, c.version(), c.builtinCode());
    }

    private int subgraph(TfliteSubgraph g) {
      int[] tensors = new int[g.tensors().size()];
      for (int i = 0; i < tensors.length; i++) {
        tensors[i] = tensor(g.tensors().get(i));
      }
      int tensorsVec = SubGraph.createTensorsVector(b, tensors);
      int inputs = SubGraph.createInputsVector(b, ints(g.inputs()));
      int outputs = SubGraph.createOutputsVector(b, ints(g.outputs()));
      int[] ops = new int[g.operators().size()];
      for (int i = 0; i < ops.length; i++) {
        ops[i] = operator(g.operators().get(i));
      }
      int opsVec = SubGraph.createOperatorsVector(b, ops);
      int name = g.name() == null ? 0 : b.createString(g.name());
      SubGraph.startSubGraph(b);
      SubGraph.addTensors(b, tensorsVec);
      SubGraph.addInputs(b, inputs);
      SubGraph.addOutputs(b, outputs);
      SubGraph.addOperators(b, opsVec);
      if (name != 0) {
        SubGraph.addName(b, name);
      }
      return SubGraph.endSubGraph(b);
    }

    private int tensor(TfliteTensor t) {
      int shape = Tensor.createShapeVector(b, ints(t.shape()));
      int name = t.name() == null ? 0 : b.createString(t.name());
      int quant = t.quantization() == null ? 0 : quantization(t.quantization());
      int sparsity = t.sparsity() == null ? 0 : sparsity(t.sparsity());
      int sig =
          t.shapeSignature() == null
              ? 0
              : Tensor.createShapeSignatureVector(b, ints(t.shapeSignature()));
      int variants = 0;
      if (!t.variantTensors().isEmpty()) {
        int[] v = new int[t.variantTensors().size()];
        for (int i = 0; i < v.length; i++) {
          TfliteTensor.VariantType vt = t.variantTensors().get(i);
          v[i] =
              VariantSubType.createVariantSubType(
                  b,
                  VariantSubType.createShapeVector(b, ints(vt.shape())),
                  (byte) vt.type().id(),
                  vt.hasRank());
        }
        variants = Tensor.createVariantTensorsVector(b, v);
      }
      Tensor.startTensor(b);
      Tensor.addShape(b, shape);
      Tensor.addType(b, (byte) t.type().id());
      Tensor.addBuffer(b, t.buffer());
      if (name != 0) {
        Tensor.addName(b, name);
      }
      if (quant != 0) {
        Tensor.addQuantization(b, quant);
      }
      Tensor.addIsVariable(b, t.isVariable());
      if (sparsity != 0) {
        Tensor.addSparsity(b, sparsity);
      }
      if (sig != 0) {
        Tensor.addShapeSignature(b, sig);
      }
      Tensor.addHasRank(b, t.hasRank());
      if (variants != 0) {
        Tensor.addVariantTensors(b, variants);
      }
      return Tensor.endTensor(b);
    }

    private int quantization(TfliteQuantization q) {
      int min = q.min().isEmpty() ? 0 : QuantizationParameters.createMinVector(b, floats(q.min()));
      int max = q.max().isEmpty() ? 0 : QuantizationParameters.createMaxVector(b, floats(q.max()));
      int scale =
          q.scale().isEmpty() ? 0 : QuantizationParameters.createScaleVector(b, floats(q.scale()));
      int zp =
          q.zeroPoint().isEmpty()
              ? 0
              : QuantizationParameters.createZeroPointVector(
                  b, q.zeroPoint().stream().mapToLong(Long::longValue).toArray());
      int details = 0;
      if (q.customDetails() != null) {
        int custom = alignedBytes(q.customDetails(), 16);
        details = CustomQuantization.createCustomQuantization(b, custom);
      }
      QuantizationParameters.startQuantizationParameters(b);
      if (min != 0) {
        QuantizationParameters.addMin(b, min);
      }
      if (max != 0) {
        QuantizationParameters.addMax(b, max);
      }
      if (scale != 0) {
        QuantizationParameters.addScale(b, scale);
      }
      if (zp != 0) {
        QuantizationParameters.addZeroPoint(b, zp);
      }
      if (details != 0) {
        QuantizationParameters.addDetailsType(b, (byte) 1);
        QuantizationParameters.addDetails(b, details);
      }
      QuantizationParameters.addQuantizedDimension(b, q.quantizedDimension());
      return QuantizationParameters.endQuantizationParameters(b);
    }

    private int sparsity(TfliteSparsity s) {
      int order = SparsityParameters.createTraversalOrderVector(b, ints(s.traversalOrder()));
      int blockMap =
          s.blockMap().isEmpty()
              ? 0
              : SparsityParameters.createBlockMapVector(b, ints(s.blockMap()));
      int[] dims = new int[s.dimMetadata().size()];
      for (int i = 0; i < dims.length; i++) {
        TfliteSparsity.Dimension d = s.dimMetadata().get(i);
        int seg = indexVector(d.arraySegments());
        int idx = indexVector(d.arrayIndices());
        DimensionMetadata.startDimensionMetadata(b);
        DimensionMetadata.addFormat(b, (byte) d.format());
        DimensionMetadata.addDenseSize(b, d.denseSize());
        if (seg != 0) {
          DimensionMetadata.addArraySegmentsType(b, (byte) d.arraySegments().type());
          DimensionMetadata.addArraySegments(b, seg);
        }
        if (idx != 0) {
          DimensionMetadata.addArrayIndicesType(b, (byte) d.arrayIndices().type());
          DimensionMetadata.addArrayIndices(b, idx);
        }
        dims[i] = DimensionMetadata.endDimensionMetadata(b);
      }
      int dimsVec = SparsityParameters.createDimMetadataVector(b, dims);
      SparsityParameters.startSparsityParameters(b);
      SparsityParameters.addTraversalOrder(b, order);
      if (blockMap != 0) {
        SparsityParameters.addBlockMap(b, blockMap);
      }
      SparsityParameters.addDimMetadata(b, dimsVec);
      return SparsityParameters.endSparsityParameters(b);
    }

    private int indexVector(TfliteSparsity.IndexVector v) {
      if (v == null) {
        return 0;
      }
      int[] values = ints(v.values());
      return switch (v.type()) {
        case 1 -> Int32Vector.createInt32Vector(b, Int32Vector.createValuesVector(b, values));
        case 2 -> {
          b.startVector(2, values.length, 4);
          for (int i = values.length - 1; i >= 0; i--) {
            b.addShort((short) values[i]);
          }
          yield Uint16Vector.createUint16Vector(b, b.endVector());
        }
        default -> {
          b.startVector(1, values.length, 4);
          for (int i = values.length - 1; i >= 0; i--) {
            b.addByte((byte) values[i]);
          }
          yield Uint8Vector.createUint8Vector(b, b.endVector());
        }
      };
    }

    private int operator(TfliteOperator op) {
      int inputs = Operator.createInputsVector(b, ints(op.inputs()));
      int outputs = Operator.createOutputsVector(b, ints(op.outputs()));
      int options =
          op.builtinOptions() == null
              ? 0
              : OptionsSchema.write(b, op.builtinOptions().type(), op.builtinOptions().fields());
      int custom = op.customOptions() == null ? 0 : b.createByteVector(op.customOptions());
      int mutating = 0;
      if (!op.mutatingVariableInputs().isEmpty()) {
        boolean[] m = new boolean[op.mutatingVariableInputs().size()];
        for (int i = 0; i < m.length; i++) {
          m[i] = op.mutatingVariableInputs().get(i);
        }
        mutating = Operator.createMutatingVariableInputsVector(b, m);
      }
      int intermediates =
          op.intermediates().isEmpty()
              ? 0
              : Operator.createIntermediatesVector(b, ints(op.intermediates()));
      Operator.startOperator(b);
      Operator.addOpcodeIndex(b, op.opcodeIndex());
      Operator.addInputs(b, inputs);
      Operator.addOutputs(b, outputs);
      if (options != 0) {
        Operator.addBuiltinOptionsType(b, (byte) op.builtinOptions().type().id());
        Operator.addBuiltinOptions(b, options);
      }
      if (custom != 0) {
        Operator.addCustomOptions(b, custom);
      }
      Operator.addCustomOptionsFormat(b, (byte) op.customOptionsFormat());
      if (mutating != 0) {
        Operator.addMutatingVariableInputs(b, mutating);
      }
      if (intermediates != 0) {
        Operator.addIntermediates(b, intermediates);
      }
      return Operator.endOperator(b);
    }

    private int signature(TfliteSignatureDef s) {
      int inputs = SignatureDef.createInputsVector(b, tensorMaps(s.inputs()));
      int outputs = SignatureDef.createOutputsVector(b, tensorMaps(s.outputs()));
      int key = s.key() == null ? 0 : b.createString(s.key());
      return SignatureDef.createSignatureDef(b, inputs, outputs, key, s.subgraphIndex());
    }

    private int[] tensorMaps(List<TfliteSignatureDef.TensorMap> maps) {
      int[] out = new int[maps.size()];
      for (int i = 0; i < out.length; i++) {
        TfliteSignatureDef.TensorMap t = maps.get(i);
        out[i] =
            TensorMap.createTensorMap(
                b, t.name() == null ? 0 : b.createString(t.name()), t.tensorIndex());
      }
      return out;
    }
  }

  private static int[] ints(List<Integer> l) {
    int[] a = new int[l.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = l.get(i);
    }
    return a;
  }

  private static float[] floats(List<Float> l) {
    float[] a = new float[l.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = l.get(i);
    }
    return a;
  }
}
