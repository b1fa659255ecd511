package org.tfport.testkit;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.proto.BytesList;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.Int64List;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.GraphFunction;
import org.tfport.core.graph.Node;
import org.tfport.core.graph.TensorShape;

/**
 * Serialized {@code tf.Example} protos for a graph that parses them (serving's classify and regress
 * signatures, TFX's {@code serve_tf_examples_fn}): every feature its {@code ParseExample}, {@code
 * ParseExampleV2} or {@code ParseSingleExample} ops read, dense ones with as many values as their
 * declared shape holds, sparse ones with one to three, in the declared type. Floats in [-1, 1),
 * integers in [0, 10), strings of one digit.
 */
public final class ExampleFeeds {
  private ExampleFeeds() {}

  private static final int DT_FLOAT = 1;
  private static final int DT_STRING = 7;
  private static final int DT_INT64 = 9;

  /** A feature a parse op reads: its key, element type and, for dense ones, value count. */
  record Spec(String key, int dtype, int denseCount) {}

  /**
   * The features the graph's parse ops read (in the graph and its functions), by key; empty when it
   * parses no examples.
   */
  static Map<String, Spec> features(Graph g) {
    Map<String, Spec> out = new LinkedHashMap<>();
    collect(g.nodes(), out);
    for (GraphFunction f : g.functions().values()) {
      collect(f.nodes(), out);
    }
    return out;
  }

  /** Whether the graph parses tf.Example protos. */
  public static boolean parsesExamples(Graph g) {
    return !features(g).isEmpty();
  }

  /**
   * Whether the graph parses a batch of examples ({@code ParseExample}, {@code ParseExampleV2}),
   * which takes a vector of them, not a scalar.
   */
  public static boolean parsesBatches(Graph g) {
    if (g.nodes().stream().anyMatch(ExampleFeeds::batchParse)) {
      return true;
    }
    return g.functions().values().stream()
        .anyMatch(f -> f.nodes().stream().anyMatch(ExampleFeeds::batchParse));
  }

  private static boolean batchParse(Node n) {
    return n.op().equals("ParseExample") || n.op().equals("ParseExampleV2");
  }

  /**
   * {@code count} serialized examples holding every feature the graph's parse ops read, as a string
   * tensor of {@code shape} (whose element count must be {@code count}).
   */
  public static Tensor examples(Graph g, long[] shape, Random rnd) {
    Map<String, Spec> specs = features(g);
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    List<byte[]> out = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      Features.Builder fs = Features.newBuilder();
      for (Spec s : specs.values()) {
        int k = s.denseCount() >= 0 ? s.denseCount() : 1 + rnd.nextInt(3);
        Feature.Builder f = Feature.newBuilder();
        switch (s.dtype()) {
          case DT_FLOAT -> {
            FloatList.Builder v = FloatList.newBuilder();
            for (int j = 0; j < k; j++) {
              v.addValue(rnd.nextFloat() * 2 - 1);
            }
            f.setFloatList(v);
          }
          case DT_INT64 -> {
            Int64List.Builder v = Int64List.newBuilder();
            for (int j = 0; j < k; j++) {
              v.addValue(rnd.nextInt(10));
            }
            f.setInt64List(v);
          }
          default -> {
            BytesList.Builder v = BytesList.newBuilder();
            for (int j = 0; j < k; j++) {
              v.addValue(ByteString.copyFromUtf8(Integer.toString(rnd.nextInt(10))));
            }
            f.setBytesList(v);
          }
        }
        fs.putFeature(s.key(), f.build());
      }
      out.add(Example.newBuilder().setFeatures(fs).build().toByteArray());
    }
    return strings(shape, out);
  }

  /** A string tensor of raw byte strings (tfport's layout: a 4-byte length before each). */
  public static Tensor strings(long[] shape, List<byte[]> values) {
    int bytes = 0;
    for (byte[] v : values) {
      bytes += 4 + v.length;
    }
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (byte[] v : values) {
      b.putInt(v.length).put(v);
    }
    return new Tensor(org.tfport.core.DType.STRING, org.tfport.core.Shape.of(shape), b.flip());
  }

  private static void collect(List<Node> nodes, Map<String, Spec> out) {
    Map<String, Node> byName = new LinkedHashMap<>();
    for (Node n : nodes) {
      byName.put(n.name(), n);
    }
    for (Node n : nodes) {
      switch (n.op()) {
        case "ParseExample" -> {
          int sparse = (int) intAttr(n, "Nsparse");
          int dense = (int) intAttr(n, "Ndense");
          List<Integer> sparseTypes = types(n, "sparse_types");
          List<Integer> denseTypes = types(n, "Tdense");
          List<TensorShape> shapes = shapes(n, "dense_shapes");
          for (int i = 0; i < sparse; i++) {
            for (String key : constStrings(byName, n.input(2 + i))) {
              out.putIfAbsent(key, new Spec(key, sparseTypes.get(i), -1));
            }
          }
          for (int i = 0; i < dense; i++) {
            for (String key : constStrings(byName, n.input(2 + sparse + i))) {
              out.putIfAbsent(key, new Spec(key, denseTypes.get(i), count(shapes.get(i))));
            }
          }
        }
        case "ParseExampleV2" -> {
          List<String> sparseKeys = constStrings(byName, n.input(2));
          List<String> denseKeys = constStrings(byName, n.input(3));
          List<String> raggedKeys = constStrings(byName, n.input(4));
          List<Integer> sparseTypes = types(n, "sparse_types");
          List<Integer> denseTypes = types(n, "Tdense");
          List<Integer> raggedTypes = types(n, "ragged_value_types");
          List<TensorShape> shapes = shapes(n, "dense_shapes");
          for (int i = 0; i < sparseKeys.size(); i++) {
            out.putIfAbsent(sparseKeys.get(i), new Spec(sparseKeys.get(i), sparseTypes.get(i), -1));
          }
          for (int i = 0; i < raggedKeys.size(); i++) {
            out.putIfAbsent(raggedKeys.get(i), new Spec(raggedKeys.get(i), raggedTypes.get(i), -1));
          }
          for (int i = 0; i < denseKeys.size(); i++) {
            out.putIfAbsent(
                denseKeys.get(i),
                new Spec(denseKeys.get(i), denseTypes.get(i), count(shapes.get(i))));
          }
        }
        case "ParseSingleExample" -> {
          List<String> sparseKeys = strings(n, "sparse_keys");
          List<String> denseKeys = strings(n, "dense_keys");
          List<Integer> sparseTypes = types(n, "sparse_types");
          List<Integer> denseTypes = types(n, "Tdense");
          List<TensorShape> shapes = shapes(n, "dense_shapes");
          for (int i = 0; i < sparseKeys.size(); i++) {
            out.putIfAbsent(sparseKeys.get(i), new Spec(sparseKeys.get(i), sparseTypes.get(i), -1));
          }
          for (int i = 0; i < denseKeys.size(); i++) {
            out.putIfAbsent(
                denseKeys.get(i),
                new Spec(denseKeys.get(i), denseTypes.get(i), count(shapes.get(i))));
          }
        }
        default -> {}
      }
    }
  }

  /** Values a dense feature holds: the product of its known dimensions (unknown ones as 1). */
  private static int count(TensorShape s) {
    if (s == null || s.dims() == null) {
      return 1;
    }
    int n = 1;
    for (long d : s.dims()) {
      n *= (int) Math.max(d, 1);
    }
    return n;
  }

  private static long intAttr(Node n, String key) {
    return n.attr(key) instanceof AttrValue.Int i ? i.value() : 0;
  }

  private static List<Integer> types(Node n, String key) {
    return n.attr(key) instanceof AttrValue.ListAttr l ? l.type() : List.of();
  }

  private static List<TensorShape> shapes(Node n, String key) {
    return n.attr(key) instanceof AttrValue.ListAttr l ? l.shape() : List.of();
  }

  private static List<String> strings(Node n, String key) {
    return n.attr(key) instanceof AttrValue.ListAttr l
        ? l.s().stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList()
        : List.of();
  }

  /** The strings of the Const a parse op's key input names (in a graph or a function body). */
  private static List<String> constStrings(Map<String, Node> byName, String ref) {
    String name = ref.startsWith("^") ? ref.substring(1) : ref;
    int colon = name.indexOf(':');
    Node c = byName.get(colon < 0 ? name : name.substring(0, colon));
    if (c == null || !c.op().equals("Const") || c.tensorAttr("value") == null) {
      throw new IllegalArgumentException(
          "the parse op's key input '" + ref + "' is not a constant in the same graph");
    }
    Tensor t = c.tensorAttr("value").value();
    if (t.dtype() != org.tfport.core.DType.STRING) {
      throw new IllegalArgumentException("the parse op's key input '" + ref + "' is not a string");
    }
    return t.toByteStrings().stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
  }
}
