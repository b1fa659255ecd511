package org.tfport.convert.tflite;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.formats.tflite.BuiltinOptions;
import org.tfport.formats.tflite.TfliteBuffer;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteOperator;
import org.tfport.formats.tflite.TfliteOperatorCode;
import org.tfport.formats.tflite.TfliteOptionsType;
import org.tfport.formats.tflite.TfliteQuantization;
import org.tfport.formats.tflite.TfliteSignatureDef;
import org.tfport.formats.tflite.TfliteSubgraph;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.formats.tflite.TfliteType;

/**
 * A {@code .tflite} model under construction: mutable tensors and operators that the lowering and
 * the quantization passes edit, turned into the immutable {@code formats.tflite} records by {@link
 * #build}. Constant data stays with its tensor until then, so a pass can replace it; buffers are
 * laid out at build time (buffer 0 the empty sentinel, then one buffer per distinct constant
 * content in creation order; tensors holding the same bytes share a buffer).
 */
final class ModelBuilder {
  final List<Sub> subgraphs = new ArrayList<>();
  final List<TfliteSignatureDef> signatures = new ArrayList<>();

  /** A tensor: {@code shape} has 1 for unknown dims, {@code signature} -1 (null when static). */
  static final class T {
    String name;
    TfliteType type;
    int[] shape;
    int[] signature;
    boolean hasRank = true;
    byte[] data;
    TfliteQuantization quantization;

    T(String name, TfliteType type, int[] shape, int[] signature) {
      this.name = name;
      this.type = type;
      this.shape = shape;
      this.signature = signature;
    }

    long elements() {
      long n = 1;
      for (int d : shape) {
        n *= d;
      }
      return n;
    }

    ByteBuffer buf() {
      return ByteBuffer.wrap(data).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }

    float[] floats() {
      float[] f = new float[data.length / 4];
      buf().asFloatBuffer().get(f);
      return f;
    }
  }

  /**
   * An operator: a builtin (or CUSTOM with {@code custom} set), tensor indices (-1 = omitted), and
   * the options table written for it ({@code NONE}: none) with its fields by schema name.
   */
  static final class Op {
    TfliteBuiltin builtin;
    String custom;
    List<Integer> inputs;
    List<Integer> outputs;
    TfliteOptionsType optionsType;
    Map<String, Object> options = new LinkedHashMap<>();
    byte[] customOptions;
    String tfName;

    Op(
        TfliteBuiltin builtin,
        List<Integer> inputs,
        List<Integer> outputs,
        TfliteOptionsType optionsType) {
      this.builtin = builtin;
      this.inputs = new ArrayList<>(inputs);
      this.outputs = new ArrayList<>(outputs);
      this.optionsType = optionsType;
    }

    Op opt(String k, Object v) {
      options.put(k, v);
      return this;
    }

    int i(String k) {
      Object v = options.get(k);
      return v == null ? 0 : ((Number) v).intValue();
    }
  }

  /** One subgraph. */
  static final class Sub {
    final String name;
    final List<T> tensors = new ArrayList<>();
    final List<Op> ops = new ArrayList<>();
    final List<Integer> inputs = new ArrayList<>();
    final List<Integer> outputs = new ArrayList<>();

    Sub(String name) {
      this.name = name;
    }

    int add(T t) {
      tensors.add(t);
      return tensors.size() - 1;
    }

    T t(int i) {
      return tensors.get(i);
    }

    /** A constant tensor holding {@code data} (little-endian, row-major). */
    int constant(String name, TfliteType type, int[] shape, byte[] data) {
      T t = new T(name, type, shape, null);
      t.data = data;
      return add(t);
    }

    int constInts(String name, int... v) {
      ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      for (int x : v) {
        b.putInt(x);
      }
      return constant(name, TfliteType.INT32, new int[] {v.length}, b.array());
    }

    int constFloats(String name, int[] shape, float[] v) {
      ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      for (float x : v) {
        b.putFloat(x);
      }
      return constant(name, TfliteType.FLOAT32, shape, b.array());
    }

    Op op(
        TfliteBuiltin builtin, TfliteOptionsType optionsType, List<Integer> in, List<Integer> out) {
      Op o = new Op(builtin, in, out, optionsType);
      ops.add(o);
      return o;
    }

    /** How many operators read tensor {@code t}, plus one if it is a subgraph output. */
    int uses(int t) {
      int n = outputs.contains(t) ? 1 : 0;
      for (Op o : ops) {
        for (int i : o.inputs) {
          n += i == t ? 1 : 0;
        }
      }
      return n;
    }
  }

  /** The records; operator versions from {@link OpVersions}, opcodes in order of first use. */
  Built build(String description) {
    List<TfliteBuffer> buffers = new ArrayList<>();
    buffers.add(TfliteBuffer.EMPTY);
    Map<String, Integer> codeIndex = new LinkedHashMap<>();
    List<int[]> codes = new ArrayList<>();
    List<String> customs = new ArrayList<>();
    List<TfliteSubgraph> subs = new ArrayList<>();
    // Constants with the same bytes share one buffer (an unrolled RNN re-lays out the same weights
    // once per step); tensors only read buffers, so sharing one is safe.
    Map<ByteBuffer, Integer> bufferByContent = new HashMap<>();
    for (Sub s : subgraphs) {
      List<TfliteTensor> tensors = new ArrayList<>();
      for (T t : s.tensors) {
        int buffer = 0;
        if (t.data != null) {
          ByteBuffer content = ByteBuffer.wrap(t.data);
          Integer known = bufferByContent.get(content);
          if (known == null) {
            buffers.add(new TfliteBuffer(content));
            known = buffers.size() - 1;
            bufferByContent.put(content, known);
          }
          buffer = known;
        }
        List<Integer> shape = Arrays.stream(t.shape).boxed().toList();
        List<Integer> sig =
            t.signature == null ? null : Arrays.stream(t.signature).boxed().toList();
        TfliteQuantization q = t.quantization != null ? t.quantization : TfliteQuantization.empty();
        tensors.add(
            new TfliteTensor(
                t.name, t.type, shape, sig, buffer, q, false, t.hasRank, null, List.of()));
      }
      List<TfliteOperator> ops = new ArrayList<>();
      for (Op o : s.ops) {
        boolean custom = o.builtin == TfliteBuiltin.CUSTOM;
        String key = custom ? "c:" + o.custom : "b:" + o.builtin.code();
        int v = custom ? 1 : OpVersions.version(s, o);
        Integer idx = codeIndex.get(key);
        if (idx == null) {
          idx = codes.size();
          codeIndex.put(key, idx);
          codes.add(new int[] {o.builtin.code(), v});
          customs.add(o.custom);
        } else {
          codes.get(idx)[1] = Math.max(codes.get(idx)[1], v);
        }
        BuiltinOptions opts =
            o.optionsType == TfliteOptionsType.NONE
                ? null
                : BuiltinOptions.of(o.optionsType, o.options);
        ops.add(
            new TfliteOperator(
                idx,
                o.inputs,
                o.outputs,
                opts,
                o.customOptions == null ? null : ByteBuffer.wrap(o.customOptions),
                0,
                List.of(),
                List.of()));
      }
      subs.add(new TfliteSubgraph(s.name, tensors, s.inputs, s.outputs, ops));
    }
    List<TfliteOperatorCode> opcodes = new ArrayList<>();
    for (int i = 0; i < codes.size(); i++) {
      opcodes.add(new TfliteOperatorCode(codes.get(i)[0], customs.get(i), codes.get(i)[1]));
    }
    return new Built(opcodes, subs, buffers, description);
  }

  record Built(
      List<TfliteOperatorCode> opcodes,
      List<TfliteSubgraph> subgraphs,
      List<TfliteBuffer> buffers,
      String description) {}
}
