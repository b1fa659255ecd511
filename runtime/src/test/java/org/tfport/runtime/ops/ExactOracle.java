package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;

/**
 * Exact comparison of tfport's shape and array kernels with TensorFlow: these ops move elements (or
 * compute them as TensorFlow does, in the same order), so every output must equal TensorFlow's bit
 * for bit.
 */
final class ExactOracle {
  private ExactOracle() {}

  /** Runs {@code op} both ways and asserts every output identical; returns tfport's outputs. */
  static Value[] check(String op, Map<String, AttrValue> attrs, Value... inputs) {
    Value[] ours = OpOracle.runKernel(op, attrs, inputs);
    List<Value> theirs = OpOracle.runTensorFlow(op, attrs, ours.length, true, inputs);
    for (int i = 0; i < ours.length; i++) {
      assertSame(op + " output " + i + " " + Arrays.toString(inputs), ours[i], theirs.get(i));
    }
    return ours;
  }

  /** Equal dtype, shape and storage (floats compared by bits: a move never changes them). */
  static void assertSame(String what, Value actual, Value expected) {
    assertThat(actual.dtype()).as(what + " dtype").isEqualTo(expected.dtype());
    assertThat(actual.shape()).as(what + " shape").containsExactly(expected.shape());
    assertThat(actual.data()).as(what + " elements").isEqualTo(expected.data());
  }

  /**
   * tfport rejects the inputs with a KernelException mentioning {@code fragment}, and TensorFlow
   * rejects them too.
   */
  static void rejects(String op, Map<String, AttrValue> attrs, String fragment, Value... inputs) {
    assertThatThrownBy(() -> OpOracle.runKernel(op, attrs, inputs))
        .as(op + " in tfport")
        .isInstanceOf(KernelException.class)
        .hasMessageContaining(fragment);
    assertThatThrownBy(() -> OpOracle.runTensorFlow(op, attrs, 1, true, inputs))
        .as(op + " in TensorFlow")
        .isInstanceOf(RuntimeException.class);
  }

  static Value floats(Random rnd, long... shape) {
    return OpOracle.randomFloats(rnd, shape);
  }

  static Value ints(Random rnd, long... shape) {
    int[] v = new int[(int) Value.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = rnd.nextInt(200) - 100;
    }
    return Value.ints(shape, v);
  }

  static Value longs(Random rnd, long... shape) {
    long[] v = new long[(int) Value.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = rnd.nextLong();
    }
    return Value.longs(shape, v);
  }

  static Value bools(Random rnd, long... shape) {
    byte[] v = new byte[(int) Value.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (byte) rnd.nextInt(2);
    }
    return Value.bools(shape, v);
  }

  /** Distinct int64 element ids 0, 1, 2, ... in C order. */
  static Value ids(long... shape) {
    long[] v = new long[(int) Value.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = i;
    }
    return Value.longs(shape, v);
  }

  /** The strings "e0", "e1", ... named by int64 ids. */
  static Value named(Value ids) {
    List<String> s = new ArrayList<>();
    for (long id : ids.longs()) {
      s.add("e" + id);
    }
    return org.tfport.runtime.kernel.Values.strings(ids.shape(), s);
  }

  /**
   * The string path of a dtype-generic op: TensorFlow (which the oracle cannot feed strings) moves
   * int64 ids, tfport moves strings named by the same ids, and both must land in the same places.
   * {@code data} is the index of the input that carries the elements (given as ids). TensorFlow
   * sees shaped placeholders.
   */
  static void checkStrings(String op, Map<String, AttrValue> attrs, int data, Value... inputs) {
    checkStrings(op, attrs, new int[] {data}, inputs);
  }

  /** As above, with several inputs carrying elements (PadV2's constant, ...). */
  static void checkStrings(String op, Map<String, AttrValue> attrs, int[] data, Value... inputs) {
    Map<String, AttrValue> idAttrs = new java.util.LinkedHashMap<>(attrs);
    Map<String, AttrValue> strAttrs = new java.util.LinkedHashMap<>(attrs);
    String typeAttr = attrs.containsKey("Tparams") ? "Tparams" : "T";
    idAttrs.put(typeAttr, OpOracle.type(DType.INT64));
    strAttrs.put(typeAttr, OpOracle.type(DType.STRING));
    Value[] byId = check(op, idAttrs, inputs);
    Value[] strInputs = inputs.clone();
    for (int d : data) {
      strInputs[d] = named(inputs[d]);
    }
    Value[] byName = OpOracle.runKernel(op, strAttrs, strInputs);
    assertThat(byName[0].dtype()).isEqualTo(DType.STRING);
    assertThat(byName[0].shape()).containsExactly(byId[0].shape());
    String[] got =
        Arrays.stream(byName[0].strings())
            .map(b -> new String(b, StandardCharsets.UTF_8))
            .toArray(String[]::new);
    String[] want =
        Arrays.stream(named(byId[0]).strings())
            .map(b -> new String(b, StandardCharsets.UTF_8))
            .toArray(String[]::new);
    assertThat(got).as(op + " on strings").containsExactly(want);
  }

  static AttrValue ints(long... values) {
    return AttrValue.ListAttr.ofInts(Arrays.stream(values).boxed().toList());
  }

  static AttrValue i(long v) {
    return new AttrValue.Int(v);
  }

  static AttrValue t(DType d) {
    return OpOracle.type(d);
  }

  static Value vec(int... v) {
    return Value.ints(new long[] {v.length}, v);
  }

  static Value lvec(long... v) {
    return Value.longs(new long[] {v.length}, v);
  }
}
