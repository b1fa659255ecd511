package org.tfport.formats.savedmodel;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;
import org.tfport.core.graph.TensorValue;
import org.tfport.formats.graphdef.GraphDefWriter;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;

/**
 * Checkpoints written by {@link TensorBundleWriter} are read back, bit for bit, by tfport's reader
 * and by TensorFlow 2.18's own {@code RestoreV2} kernel, which checks the table's block CRCs and
 * each entry's masked CRC-32C.
 */
@OracleTest
class TensorBundleWriterTest {
  @TempDir Path tmp;

  @Test
  void tensorFlowRestoresWhatIsWritten() throws Exception {
    Map<String, Tensor> tensors = sample(40, new Random(7));
    Path prefix = tmp.resolve("variables");
    List<Path> files = TensorBundleWriter.write(prefix, tensors);
    assertThat(files).allMatch(Files::isRegularFile);

    TensorBundle back = TensorBundle.open(prefix);
    assertThat(back.keys()).containsExactlyInAnyOrderElementsOf(tensors.keySet());
    for (var e : tensors.entrySet()) {
      assertThat(bytes(back.read(e.getKey()))).isEqualTo(bytes(e.getValue()));
    }

    List<String> keys = new ArrayList<>(tensors.keySet());
    List<Tensor> restored = restoreInTensorFlow(prefix, keys, tensors);
    for (int i = 0; i < keys.size(); i++) {
      Tensor want = tensors.get(keys.get(i));
      assertThat(restored.get(i).shape()).isEqualTo(want.shape());
      assertThat(bytes(restored.get(i))).as(keys.get(i)).isEqualTo(bytes(want));
    }
  }

  @Test
  void anIndexOfManyBlocksIsReadByTensorFlow() throws Exception {
    // About 5,000 entries of ~100 bytes each: the index spans two data blocks of 256 KiB.
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (int i = 0; i < 5000; i++) {
      tensors.put(
          String.format("layer_%04d/some/long/variable/path/kernel/.ATTRIBUTES/VARIABLE_VALUE", i),
          Tensor.ofFloats(Shape.of(2), i, -i));
    }
    Path prefix = tmp.resolve("many");
    TensorBundleWriter.write(prefix, tensors);
    assertThat(Files.size(TensorBundle.indexFile(prefix))).isGreaterThan(SsTableWriter.BLOCK_SIZE);
    TensorBundle back = TensorBundle.open(prefix);
    assertThat(back.keys()).hasSize(5000);
    List<String> keys =
        List.of(
            "layer_0000/some/long/variable/path/kernel/.ATTRIBUTES/VARIABLE_VALUE",
            "layer_4999/some/long/variable/path/kernel/.ATTRIBUTES/VARIABLE_VALUE");
    List<Tensor> restored = restoreInTensorFlow(prefix, keys, tensors);
    assertThat(restored.get(1).toFloatArray()).containsExactly(4999f, -4999f);
    assertThat(back.read(keys.get(1)).toFloatArray()).containsExactly(4999f, -4999f);
  }

  /**
   * String tensors (a TF2 checkpoint's object graph is one) are stored as TensorFlow stores them:
   * TensorFlow's reader, which checks the length checksum and the entry's CRC, restores them equal
   * to what was written (empty strings, a length needing a two-byte varint, binary bytes).
   */
  @Test
  void tensorFlowRestoresStringTensors() throws Exception {
    List<String> words = List.of("", "kernel", "x".repeat(200), "\u00e9t\u00e9");
    byte[] blob = new byte[300];
    new Random(3).nextBytes(blob);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("words", Tensor.ofStrings(Shape.of(2, 2), words));
    tensors.put(
        "blob",
        Tensor.ofStrings(
            Shape.SCALAR, List.of(new String(blob, java.nio.charset.StandardCharsets.ISO_8859_1))));
    tensors.put("w", Tensor.ofFloats(Shape.of(2), 1f, 2f));
    Path prefix = tmp.resolve("strings");
    TensorBundleWriter.write(prefix, tensors);
    TensorBundle back = TensorBundle.open(prefix);
    for (var e : tensors.entrySet()) {
      assertThat(bytes(back.read(e.getKey()))).as(e.getKey()).isEqualTo(bytes(e.getValue()));
    }
    Graph g = new Graph("test");
    List<String> keys = List.of("words", "blob");
    g.add(stringConst("prefix", Shape.SCALAR, List.of(prefix.toString())));
    g.add(stringConst("names", Shape.of(2), keys));
    g.add(stringConst("slices", Shape.of(2), List.of("", "")));
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put(
        "dtypes",
        AttrValue.ListAttr.ofTypes(List.of(DType.STRING.tfEnum(), DType.STRING.tfEnum())));
    g.add(new Node("restore", "RestoreV2", List.of("prefix", "names", "slices"), "", a));
    Map<String, AttrValue> sa = new LinkedHashMap<>();
    sa.put("dtype", new AttrValue.Type(DType.STRING.tfEnum()));
    sa.put(
        "value",
        new AttrValue.TensorAttr(
            new TensorValue(
                DType.STRING.tfEnum(), TensorShape.of(Shape.of(2, 2)), tensors.get("words"))));
    g.add(new Node("want_words", "Const", List.of(), "", sa));
    Map<String, AttrValue> sb = new LinkedHashMap<>();
    sb.put("dtype", new AttrValue.Type(DType.STRING.tfEnum()));
    sb.put(
        "value",
        new AttrValue.TensorAttr(
            new TensorValue(DType.STRING.tfEnum(), TensorShape.SCALAR, tensors.get("blob"))));
    g.add(new Node("want_blob", "Const", List.of(), "", sb));
    Map<String, AttrValue> eq = new LinkedHashMap<>();
    eq.put("T", new AttrValue.Type(DType.STRING.tfEnum()));
    g.add(new Node("eq_words", "Equal", List.of("restore", "want_words"), "", eq));
    g.add(
        new Node(
            "eq_blob", "Equal", List.of("restore:1", "want_blob"), "", new LinkedHashMap<>(eq)));
    List<Tensor> same =
        TensorFlowOracle.run(GraphDefWriter.write(g), Map.of(), List.of("eq_words", "eq_blob"));
    assertThat(bytes(same.get(0))).containsExactly(1, 1, 1, 1);
    assertThat(bytes(same.get(1))).containsExactly(1);
  }

  private static Map<String, Tensor> sample(int n, Random rnd) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      int len = 1 + rnd.nextInt(300);
      float[] v = new float[len];
      for (int k = 0; k < len; k++) {
        v[k] = rnd.nextFloat() * 2 - 1;
      }
      String key = "dense_" + (n - i) + "/kernel";
      out.put(key, Tensor.ofFloats(Shape.of(len), v));
    }
    out.put("step", Tensor.ofInts(Shape.of(1, 2), 3, 4));
    out.put("z/b", Tensor.ofFloats(Shape.SCALAR, 2.5f));
    return out;
  }

  /** Runs {@code RestoreV2(prefix, keys)} in TensorFlow. */
  private static List<Tensor> restoreInTensorFlow(
      Path prefix, List<String> keys, Map<String, Tensor> tensors) {
    Graph g = new Graph("test");
    g.add(stringConst("prefix", Shape.SCALAR, List.of(prefix.toString())));
    g.add(stringConst("names", Shape.of(keys.size()), keys));
    g.add(stringConst("slices", Shape.of(keys.size()), keys.stream().map(k -> "").toList()));
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put(
        "dtypes",
        AttrValue.ListAttr.ofTypes(
            keys.stream().map(k -> tensors.get(k).dtype().tfEnum()).toList()));
    g.add(new Node("restore", "RestoreV2", List.of("prefix", "names", "slices"), "", a));
    List<String> fetches = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      fetches.add("restore:" + i);
    }
    return TensorFlowOracle.run(GraphDefWriter.write(g), Map.of(), fetches);
  }

  private static byte[] bytes(Tensor t) {
    byte[] b = new byte[t.byteLength()];
    t.bytes().get(b);
    return b;
  }

  private static Node stringConst(String name, Shape shape, List<String> values) {
    Map<String, AttrValue> a = new LinkedHashMap<>();
    a.put("dtype", new AttrValue.Type(DType.STRING.tfEnum()));
    a.put(
        "value",
        new AttrValue.TensorAttr(
            new TensorValue(
                DType.STRING.tfEnum(), TensorShape.of(shape), Tensor.ofStrings(shape, values))));
    return new Node(name, "Const", List.of(), "", a);
  }
}
