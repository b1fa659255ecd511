package org.tfport.formats.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.flatbuffers.FlatBufferBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.tensorflow.lite.schema.Buffer;
import org.tensorflow.lite.schema.Model;
import org.tensorflow.lite.schema.Operator;
import org.tensorflow.lite.schema.OperatorCode;
import org.tensorflow.lite.schema.SubGraph;
import org.tensorflow.lite.schema.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.testkit.Corpus;

/** Damaged and hostile files fail with one clear line, never a raw exception. */
class TfliteHostileInputTest {

  /** A one-op model (ADD of a constant) written by tfport. */
  private static TfliteModel tiny() {
    TfliteTensor x = new TfliteTensor("x", TfliteType.FLOAT32, List.of(1, 4), 0, null);
    TfliteTensor c = new TfliteTensor("c", TfliteType.FLOAT32, List.of(4), 1, null);
    TfliteTensor y = new TfliteTensor("y", TfliteType.FLOAT32, List.of(1, 4), 0, null);
    TfliteOperator add =
        new TfliteOperator(
            0,
            List.of(0, 1),
            List.of(2),
            new BuiltinOptions.Add(BuiltinOptions.Activation.NONE, true));
    ByteBuffer four = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    four.putFloat(1).putFloat(2).putFloat(3).putFloat(4).flip();
    return new TfliteModel(
        3,
        "tfport test",
        List.of(TfliteOperatorCode.of(TfliteBuiltin.ADD, 1)),
        List.of(new TfliteSubgraph("main", List.of(x, c, y), List.of(0), List.of(2), List.of(add))),
        List.of(TfliteBuffer.EMPTY, new TfliteBuffer(four)),
        List.of(),
        List.of(),
        List.of());
  }

  private static void oneLine(Throwable e, Class<?> type, String... contains) {
    assertThat(e).isInstanceOf(type);
    assertThat(e.getMessage()).doesNotContain("\n").startsWith("hostile.tflite");
    for (String s : contains) {
      assertThat(e.getMessage()).contains(s);
    }
  }

  private static Throwable readBytes(byte[] b) {
    try {
      TfliteReader.read(b, "hostile.tflite");
      return null;
    } catch (RuntimeException e) {
      return e;
    }
  }

  @Test
  void tinyModelRoundTrips() {
    TfliteModel m = tiny();
    assertThat(TfliteReader.read(TfliteWriter.write(m), "tiny")).isEqualTo(m);
  }

  @Test
  void truncatedFile() {
    byte[] b = TfliteWriter.write(tiny());
    for (int n = 0; n < b.length; n++) {
      byte[] cut = java.util.Arrays.copyOf(b, n);
      Throwable e = readBytes(cut);
      if (e != null) {
        oneLine(e, CorruptModelException.class);
      }
    }
    oneLine(
        readBytes(java.util.Arrays.copyOf(b, 5)),
        CorruptModelException.class,
        "5 bytes, too small");
    Throwable half = readBytes(java.util.Arrays.copyOf(b, b.length / 2));
    oneLine(half, CorruptModelException.class, "past the end of the file");
    System.out.println("truncated: " + half.getMessage());
  }

  @Test
  void wrongIdentifier() {
    byte[] b = TfliteWriter.write(tiny());
    b[4] = 'T';
    b[5] = 'F';
    b[6] = 'L';
    b[7] = '2';
    oneLine(
        readBytes(b),
        CorruptModelException.class,
        "at byte 0x4",
        "file identifier is 'TFL2', expected 'TFL3'");
    byte[] prefixed = new byte[b.length + 4];
    System.arraycopy(TfliteWriter.write(tiny()), 0, prefixed, 4, b.length);
    oneLine(readBytes(prefixed), CorruptModelException.class, "size-prefixed");
    oneLine(
        readBytes("This is an invalid model.".getBytes()),
        CorruptModelException.class,
        "not a TFLite model");
  }

  @Test
  void bufferIndexOutOfRange() {
    byte[] b = handBuilt(t -> Tensor.addBuffer(t, 99), 0, List.of(0));
    Throwable e = readBytes(b);
    oneLine(
        e,
        CorruptModelException.class,
        "subgraph 0, tensor 0 'x'",
        "buffer index 99 is out of range (1 buffers)");
    System.out.println("buffer index: " + e.getMessage());
  }

  @Test
  void tensorAndOpcodeIndicesOutOfRange() {
    oneLine(
        readBytes(handBuilt(t -> {}, 5, List.of(0))),
        CorruptModelException.class,
        "subgraph 0, operator 0",
        "opcode index 5 is out of range (1 operator codes)");
    oneLine(
        readBytes(handBuilt(t -> {}, 0, List.of(0, 7))),
        CorruptModelException.class,
        "subgraph 0, operator 0 (ADD), inputs[1]",
        "tensor index 7 is out of range (1 tensors)");
  }

  @Test
  void vectorLengthPastTheEnd() {
    byte[] b = TfliteWriter.write(tiny());
    Model g = Model.getRootAsModel(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN));
    int lenPos = g.subgraphs(0).tensors(0).shapeAsByteBuffer().position() - 4;
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(lenPos, 0x3fffffff);
    Throwable e = readBytes(b);
    oneLine(
        e,
        CorruptModelException.class,
        "subgraph 0, tensor 0",
        "vector 'shape' of 1073741823 elements",
        "runs past the end of the file",
        "0x" + Integer.toHexString(lenPos));
    System.out.println("vector: " + e.getMessage());

    byte[] d = TfliteWriter.write(tiny());
    Model h = Model.getRootAsModel(ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN));
    int dataLen = h.buffers(1).dataAsByteBuffer().position() - 4;
    ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).putInt(dataLen, d.length);
    oneLine(readBytes(d), CorruptModelException.class, "buffer 1", "vector 'data'");
  }

  @Test
  void constantSizeMustMatchItsShape() {
    TfliteModel m = tiny();
    TfliteSubgraph g = m.mainSubgraph();
    TfliteTensor c = g.tensors().get(1);
    TfliteTensor wrong = new TfliteTensor(c.name(), c.type(), List.of(5), c.buffer(), null);
    TfliteModel bad =
        new TfliteModel(
            3,
            null,
            m.operatorCodes(),
            List.of(
                new TfliteSubgraph(
                    "main",
                    List.of(g.tensors().get(0), wrong, g.tensors().get(2)),
                    g.inputs(),
                    g.outputs(),
                    g.operators())),
            m.buffers(),
            List.of(),
            List.of(),
            List.of());
    oneLine(
        readBytes(TfliteWriter.write(bad)),
        CorruptModelException.class,
        "tensor 1 'c'",
        "shape [5] and type FLOAT32 needs 20 bytes but buffer 1 holds 16");
  }

  @Test
  void unknownOptionsAndTypesAreUnsupported() {
    byte[] b = TfliteWriter.write(tiny());
    Model g = Model.getRootAsModel(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN));
    Operator op = g.subgraphs(0).operators(0);
    // The union type byte: find it through the vtable (field id 3 -> slot 10).
    int typePos = fieldPos(b, op, 3);
    b[typePos] = (byte) 200;
    oneLine(
        readBytes(b),
        UnsupportedModelException.class,
        "builtin options type 200 is not in the BuiltinOptions" + " union (1..126)");
    oneLine(
        readBytes(handBuilt(t -> Tensor.addType(t, (byte) 40), 0, List.of(0))),
        UnsupportedModelException.class,
        "subgraph 0, tensor 0 'x'",
        "tensor type 40 is not in the TFLite schema");
  }

  @Test
  void versionOtherThanThreeIsUnsupported() {
    byte[] b = TfliteWriter.write(tiny());
    Model g = Model.getRootAsModel(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN));
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(fieldPos(b, g, 0), 2);
    oneLine(readBytes(b), UnsupportedModelException.class, "schema version 2");
  }

  /**
   * Random corruption of real files: only tfport's own exceptions (or a successful read) come out.
   */
  @Test
  void randomCorruptionNeverEscapesAsARawException() throws Exception {
    Random rnd = new Random(1);
    int failures = 0;
    int runs = 0;
    for (String f :
        List.of(
            "tflite/tfjs-tflite/add4.tflite",
            "tflite/litert/tflite__multi_signatures.bin",
            "tflite/tflite-micro/hello_world_int8.tflite",
            "tflite/litert/tflite__dynamic_shapes.bin")) {
      byte[] orig = Files.readAllBytes(Corpus.require(f));
      for (int k = 0; k < 1500; k++) {
        byte[] b = orig.clone();
        int flips = 1 + rnd.nextInt(4);
        for (int i = 0; i < flips; i++) {
          int pos = rnd.nextInt(Math.min(b.length, 512));
          b[pos] = (byte) rnd.nextInt(256);
        }
        runs++;
        try {
          TfliteModel m = TfliteReader.read(b, "hostile.tflite");
          // Whatever was read must also be writable or refused cleanly.
          try {
            TfliteWriter.write(m);
          } catch (IllegalArgumentException | TfportException e) {
            assertThat(e.getMessage()).doesNotContain("\n");
          }
        } catch (TfportException e) {
          failures++;
          assertThat(e.getMessage()).doesNotContain("\n").startsWith("hostile.tflite");
        }
      }
    }
    System.out.println(
        "random corruption: " + runs + " files, " + failures + " rejected with one line");
    assertThat(failures).isGreaterThan(runs / 10);
  }

  // -------------------------------------------------------------------------------------- helpers

  /** The absolute position of scalar field {@code id} of a generated table. */
  private static int fieldPos(byte[] b, com.google.flatbuffers.Table t, int id) {
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    int pos = tablePos(t);
    int vt = pos - bb.getInt(pos);
    int off = Short.toUnsignedInt(bb.getShort(vt + 4 + 2 * id));
    assertThat(off).as("field %d present", id).isNotZero();
    return pos + off;
  }

  private static int tablePos(com.google.flatbuffers.Table t) {
    try {
      var f = com.google.flatbuffers.Table.class.getDeclaredField("bb_pos");
      f.setAccessible(true);
      return f.getInt(t);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * A model built with the generated builders directly, so that it can hold what tfport's writer
   * refuses: one tensor {@code x}, one ADD operator with the given opcode index and inputs.
   */
  private static byte[] handBuilt(
      Consumer<FlatBufferBuilder> tensorExtra, int opcodeIndex, List<Integer> inputs) {
    FlatBufferBuilder b = new FlatBufferBuilder(256);
    Buffer.startBuffer(b);
    int buf0 = Buffer.endBuffer(b);
    int buffers = Model.createBuffersVector(b, new int[] {buf0});
    int code = OperatorCode.createOperatorCode(b, (byte) 0, 0, 1, 0);
    int codes = Model.createOperatorCodesVector(b, new int[] {code});
    int shape = Tensor.createShapeVector(b, new int[] {1});
    int name = b.createString("x");
    Tensor.startTensor(b);
    Tensor.addShape(b, shape);
    Tensor.addName(b, name);
    tensorExtra.accept(b);
    int tensor = Tensor.endTensor(b);
    int tensors = SubGraph.createTensorsVector(b, new int[] {tensor});
    int opInputs =
        Operator.createInputsVector(b, inputs.stream().mapToInt(Integer::intValue).toArray());
    int opOutputs = Operator.createOutputsVector(b, new int[] {0});
    int op =
        Operator.createOperator(
            b, opcodeIndex, opInputs, opOutputs, (byte) 0, 0, 0, (byte) 0, 0, 0);
    int ops = SubGraph.createOperatorsVector(b, new int[] {op});
    int io = SubGraph.createInputsVector(b, new int[] {0});
    int sg =
        SubGraph.createSubGraph(
            b, tensors, io, SubGraph.createOutputsVector(b, new int[] {0}), ops, 0);
    int subgraphs = Model.createSubgraphsVector(b, new int[] {sg});
    int model = Model.createModel(b, 3, codes, subgraphs, 0, buffers, 0, 0, 0);
    b.finish(model, "TFL3");
    return b.sizedByteArray();
  }
}
