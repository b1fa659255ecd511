package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.ops.OpOracle.attrs;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.BytesList;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.Int64List;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.TensorShape;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.testkit.OracleTest;

/**
 * ParseExample and ParseExampleV2 against TensorFlow on hand-built tf.Example protos; every output
 * exact.
 */
@OracleTest
class ExampleParsingOpsTest {
  private static Feature floats(float... v) {
    FloatList.Builder b = FloatList.newBuilder();
    for (float f : v) {
      b.addValue(f);
    }
    return Feature.newBuilder().setFloatList(b).build();
  }

  private static Feature longs(long... v) {
    Int64List.Builder b = Int64List.newBuilder();
    for (long x : v) {
      b.addValue(x);
    }
    return Feature.newBuilder().setInt64List(b).build();
  }

  private static Feature strings(String... v) {
    BytesList.Builder b = BytesList.newBuilder();
    for (String s : v) {
      b.addValue(ByteString.copyFromUtf8(s));
    }
    return Feature.newBuilder().setBytesList(b).build();
  }

  private static byte[] example(Map<String, Feature> features) {
    return Example.newBuilder()
        .setFeatures(Features.newBuilder().putAllFeature(features))
        .build()
        .toByteArray();
  }

  private static Value batch(long[] shape, byte[]... examples) {
    return Value.of(DType.STRING, shape, examples);
  }

  private static Value keys(String... k) {
    return Values.strings(new long[] {k.length}, List.of(k));
  }

  private static AttrValue types(DType... t) {
    return AttrValue.ListAttr.ofTypes(Arrays.stream(t).map(DType::tfEnum).toList());
  }

  private static AttrValue shapes(long[]... s) {
    List<TensorShape> l = Arrays.stream(s).map(TensorShape::of).toList();
    return new AttrValue.ListAttr(
        List.of(), List.of(), List.of(), List.of(), List.of(), l, List.of(), List.of());
  }

  private static void same(String op, Map<String, AttrValue> a, int outputs, Value... inputs) {
    Value[] ours = OpOracle.runKernel(op, a, inputs);
    assertThat(ours).hasSize(outputs);
    List<Value> theirs = StringOracle.run(op, a, outputs, inputs);
    for (int i = 0; i < outputs; i++) {
      ExactOracle.assertSame(op + " output " + i, ours[i], theirs.get(i));
    }
  }

  private final byte[] e0 =
      example(
          Map.of(
              "age",
              longs(31),
              "score",
              floats(0.5f, -2f),
              "tags",
              strings("a", "bb"),
              "seq",
              floats(1, 2, 3, 4),
              "ids",
              longs(7, 8, 9),
              "w",
              floats(0.25f)));
  private final byte[] e1 =
      example(Map.of("age", longs(-4), "tags", strings(), "seq", floats(5, 6), "ids", longs()));
  private final byte[] e2 =
      example(Map.of("score", floats(3f, 4.25f), "tags", strings("ccc"), "ids", longs(1)));

  @Test
  void v2DenseSparseAndRagged() {
    Map<String, AttrValue> a =
        attrs(
            "Tdense",
            types(DType.INT64, DType.FLOAT32, DType.FLOAT32),
            "num_sparse",
            new AttrValue.Int(1),
            "sparse_types",
            types(DType.STRING),
            "ragged_value_types",
            types(DType.INT64, DType.FLOAT32),
            "ragged_split_types",
            types(DType.INT32, DType.INT64),
            "dense_shapes",
            shapes(new long[0], new long[] {2}, new long[] {-1, 2}));
    Value serialized = batch(new long[] {3}, e0, e1, e2);
    // A key names one feature only: TensorFlow parses it under one of the three kinds.
    same(
        "ParseExampleV2",
        a,
        3 + 3 + 2 * 2,
        serialized,
        Values.strings(new long[] {0}, List.of()),
        keys("tags"),
        keys("age", "score", "seq"),
        keys("ids", "w"),
        Value.longs(new long[0], -1),
        Value.floats(new long[] {2}, 9f, 8f),
        Value.floats(new long[0], -7f));
  }

  @Test
  void v2ScalarSerializedAndEmptyBatch() {
    Map<String, AttrValue> a =
        attrs(
            "Tdense",
            types(DType.FLOAT32, DType.STRING),
            "num_sparse",
            new AttrValue.Int(1),
            "sparse_types",
            types(DType.FLOAT32),
            "ragged_value_types",
            types(),
            "ragged_split_types",
            types(),
            "dense_shapes",
            shapes(new long[] {1, 2}, new long[0]));
    Value names = Values.strings(new long[] {0}, List.of());
    Value[] defaults = {
      Value.floats(new long[] {1, 2}, 0f, 1f), Values.strings(new long[0], List.of("none"))
    };
    same(
        "ParseExampleV2",
        a,
        5,
        batch(new long[0], e0),
        names,
        keys("seq"),
        keys("score", "name"),
        keys(),
        defaults[0],
        defaults[1]);
    same(
        "ParseExampleV2",
        a,
        5,
        batch(new long[] {0}),
        names,
        keys("seq"),
        keys("score", "name"),
        keys(),
        defaults[0],
        defaults[1]);
  }

  @Test
  void v1DenseAndSparse() {
    Map<String, AttrValue> a =
        attrs(
            "Nsparse",
            new AttrValue.Int(1),
            "Ndense",
            new AttrValue.Int(2),
            "sparse_types",
            types(DType.INT64),
            "Tdense",
            types(DType.STRING, DType.FLOAT32),
            "dense_shapes",
            shapes(new long[] {1}, new long[] {-1}));
    Value scalarKey = Values.strings(new long[0], List.of("ids"));
    same(
        "ParseExample",
        a,
        5,
        batch(new long[] {3}, e0, e1, e2),
        Values.strings(new long[] {0}, List.of()),
        scalarKey,
        Values.strings(new long[0], List.of("missing")),
        Values.strings(new long[0], List.of("seq")),
        Values.strings(new long[] {1}, List.of("dflt")),
        Value.floats(new long[0], 0.5f));
  }

  @Test
  void errorsNameTheFeature() {
    Map<String, AttrValue> a =
        attrs(
            "Tdense",
            types(DType.FLOAT32),
            "num_sparse",
            new AttrValue.Int(0),
            "sparse_types",
            types(),
            "ragged_value_types",
            types(),
            "ragged_split_types",
            types(),
            "dense_shapes",
            shapes(new long[] {2}));
    Value names = Values.strings(new long[] {0}, List.of());
    Value none = Value.floats(new long[] {0});
    Value[][] cases = {
      {batch(new long[] {2}, e0, e1), names, keys(), keys("score"), keys(), none},
      {batch(new long[] {1}, e0), names, keys(), keys("age"), keys(), none},
      {batch(new long[] {1}, e0), names, keys(), keys("seq"), keys(), none},
      {
        batch(new long[] {1}, "garbage\u00ff".getBytes(StandardCharsets.ISO_8859_1)),
        names,
        keys(),
        keys("x"),
        keys(),
        Value.floats(new long[] {2}, 0, 0)
      }
    };
    String[] messages = {
      "score (data type: float) is required",
      "Data types don't match",
      "Values size: 4 but output shape: [2]",
      "Could not parse example input"
    };
    for (int i = 0; i < cases.length; i++) {
      Value[] in = cases[i];
      assertThatThrownBy(() -> OpOracle.runKernel("ParseExampleV2", a, in))
          .isInstanceOf(KernelException.class)
          .hasMessageContaining(messages[i]);
      assertThatThrownBy(() -> StringOracle.run("ParseExampleV2", a, 1, in))
          .isInstanceOf(RuntimeException.class);
    }
  }

  /**
   * Protobuf merge rules the hand-written reader must follow: a repeated key keeps its last value.
   */
  @Test
  void duplicateKeysAndUnpackedLists() {
    Feature unpacked =
        Feature.newBuilder().setInt64List(Int64List.newBuilder().addValue(3).addValue(300)).build();
    byte[] first = example(Map.of("k", longs(1, 2)));
    byte[] second = example(Map.of("k", unpacked));
    byte[] both = new byte[first.length + second.length];
    System.arraycopy(first, 0, both, 0, first.length);
    System.arraycopy(second, 0, both, first.length, second.length);
    Map<String, AttrValue> a =
        attrs(
            "Tdense",
            types(DType.INT64),
            "num_sparse",
            new AttrValue.Int(0),
            "sparse_types",
            types(),
            "ragged_value_types",
            types(),
            "ragged_split_types",
            types(),
            "dense_shapes",
            shapes(new long[] {2}));
    List<byte[]> examples = new ArrayList<>(List.of(both, first, second));
    same(
        "ParseExampleV2",
        a,
        1,
        batch(new long[] {3}, examples.toArray(byte[][]::new)),
        Values.strings(new long[] {0}, List.of()),
        keys(),
        keys("k"),
        keys(),
        Value.longs(new long[] {0}));
  }
}
