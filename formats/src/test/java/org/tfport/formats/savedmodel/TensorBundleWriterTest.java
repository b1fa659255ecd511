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
