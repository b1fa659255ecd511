package org.tfport.runtime.tflite;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tfport.formats.tflite.BuiltinOptions;
import org.tfport.formats.tflite.TfliteBuffer;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteOperator;
import org.tfport.formats.tflite.TfliteOperatorCode;
import org.tfport.formats.tflite.TfliteOptionsType;
import org.tfport.formats.tflite.TfliteQuantization;
import org.tfport.formats.tflite.TfliteSubgraph;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.formats.tflite.TfliteType;

/** A one-subgraph {@code .tflite} built in a test: tensors, constants and operators. */
final class TinyTflite {
  private final List<TfliteTensor> tensors = new ArrayList<>();
  private final List<TfliteBuffer> buffers = new ArrayList<>(List.of(TfliteBuffer.EMPTY));
  private final List<TfliteOperatorCode> codes = new ArrayList<>();
  private final List<TfliteOperator> ops = new ArrayList<>();
  private final List<Integer> inputs = new ArrayList<>();
  private final List<Integer> outputs = new ArrayList<>();
  final Random random = new Random(7);

  private static List<Integer> list(int... v) {
    return Arrays.stream(v).boxed().toList();
  }

  private int add(
      String name, TfliteType t, int[] shape, int buffer, TfliteQuantization q, boolean variable) {
    tensors.add(
        new TfliteTensor(name, t, list(shape), null, buffer, q, variable, true, null, List.of()));
    return tensors.size() - 1;
  }

  /** A model input. */
  int input(String name, TfliteType t, int[] shape, TfliteQuantization q) {
    int i = add(name, t, shape, 0, q, false);
    inputs.add(i);
    return i;
  }

  /** An intermediate or output tensor. */
  int tensor(String name, TfliteType t, int[] shape, TfliteQuantization q) {
    return add(name, t, shape, 0, q, false);
  }

  /** A state tensor without a value in the file. */
  int variable(String name, TfliteType t, int[] shape, TfliteQuantization q) {
    return add(name, t, shape, 0, q, true);
  }

  int output(String name, TfliteType t, int[] shape, TfliteQuantization q) {
    int i = tensor(name, t, shape, q);
    outputs.add(i);
    return i;
  }

  int constant(String name, TfliteType t, int[] shape, TfliteQuantization q, ByteBuffer data) {
    byte[] b = new byte[data.remaining()];
    data.get(b);
    buffers.add(TfliteBuffer.of(b));
    return add(name, t, shape, buffers.size() - 1, q, false);
  }

  /** A float32 constant of random values in [-scale, scale). */
  int floats(String name, float scale, int... shape) {
    int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int k = 0; k < n; k++) {
      b.putFloat((random.nextFloat() * 2 - 1) * scale);
    }
    return constant(name, TfliteType.FLOAT32, shape, null, b.flip());
  }

  /** An int8 constant of random codes, symmetric with {@code scale}. */
  int int8(String name, float scale, int... shape) {
    int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    ByteBuffer b = ByteBuffer.allocate(n);
    for (int k = 0; k < n; k++) {
      b.put((byte) (random.nextInt(255) - 127));
    }
    return constant(name, TfliteType.INT8, shape, TfliteQuantization.perTensor(scale, 0), b.flip());
  }

  int ints(String name, int... values) {
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      b.putInt(v);
    }
    return constant(name, TfliteType.INT32, new int[] {values.length}, null, b.flip());
  }

  /** Adds an operator; -1 in {@code ins} is an omitted optional input. */
  void op(
      TfliteBuiltin builtin,
      int version,
      TfliteOptionsType options,
      Map<String, Object> fields,
      int[] ins,
      int... outs) {
    TfliteOperatorCode code = TfliteOperatorCode.of(builtin, version);
    int index = codes.indexOf(code);
    if (index < 0) {
      codes.add(code);
      index = codes.size() - 1;
    }
    BuiltinOptions o = options == null ? null : BuiltinOptions.of(options, fields);
    ops.add(new TfliteOperator(index, list(ins), list(outs), o));
  }

  /** Adds an operator with intermediate tensors (the integer LSTM's gate and hidden scales). */
  void opWithIntermediates(
      TfliteBuiltin builtin,
      int version,
      TfliteOptionsType options,
      Map<String, Object> fields,
      int[] ins,
      int[] intermediates,
      int... outs) {
    op(builtin, version, options, fields, ins, outs);
    TfliteOperator o = ops.remove(ops.size() - 1);
    ops.add(
        new TfliteOperator(
            o.opcodeIndex(),
            o.inputs(),
            o.outputs(),
            o.builtinOptions(),
            null,
            0,
            List.of(),
            list(intermediates)));
  }

  /** A constant of {@code type} holding {@code values} (int16 or int32), quantized as {@code q}. */
  int integers(String name, TfliteType type, TfliteQuantization q, int[] shape, int... values) {
    int size = type == TfliteType.INT16 ? 2 : 4;
    ByteBuffer b = ByteBuffer.allocate(size * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      if (size == 2) {
        b.putShort((short) v);
      } else {
        b.putInt(v);
      }
    }
    return constant(name, type, shape, q, b.flip());
  }

  TfliteModel model() {
    return new TfliteModel(
        TfliteModel.SCHEMA_VERSION,
        "tfport test",
        codes,
        List.of(new TfliteSubgraph("main", tensors, inputs, outputs, ops)),
        buffers,
        List.of(),
        List.of(),
        List.of());
  }
}
