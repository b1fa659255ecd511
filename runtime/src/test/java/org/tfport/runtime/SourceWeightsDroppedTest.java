package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.TestGraphs.constant;
import static org.tfport.runtime.TestGraphs.node;
import static org.tfport.runtime.TestGraphs.placeholder;
import static org.tfport.runtime.TestGraphs.type;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.nio.Buffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.formats.graphdef.GraphDefWriter;
import org.tfport.runtime.kernel.KernelRegistry.Mode;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;

/**
 * A model loaded with {@link LoadOptions#dropSourceWeights()} holds its weights about once: the
 * bytes reachable from it (float and byte arrays, tensor buffers) stay under 1.5× the weight bytes,
 * where a model keeping its graph holds them at least twice. Its runs are those of a model that
 * kept its graph; a plan of another kind re-reads the file, and is refused once the file changed.
 */
class SourceWeightsDroppedTest {
  private static final long[] X = {1, 12, 12, 8};
  private static final long[] FILTER = {3, 3, 8, 72};
  // Stored [n, k] and read transposed: the packed copy must unpack back into this layout.
  private static final long[] MATRIX = {300, 256};

  @TempDir Path dir;

  private static Value random(Random rnd, long... shape) {
    float[] v = new float[(int) Value.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = rnd.nextFloat() - 0.5f;
    }
    return Value.floats(shape, v);
  }

  private static AttrValue ints(long... v) {
    return AttrValue.ListAttr.ofInts(Arrays.stream(v).boxed().toList());
  }

  /** x → Conv2D(w) → y; a → MatMul(·, mᵀ) → z; written as a frozen GraphDef. */
  private Path write(long seed) throws Exception {
    Random rnd = new Random(seed);
    Graph g = new Graph("weights");
    g.add(placeholder("x", DType.FLOAT32, X));
    g.add(placeholder("a", DType.FLOAT32, -1, -1));
    g.add(constant("w", random(rnd, FILTER)));
    g.add(constant("m", random(rnd, MATRIX)));
    g.add(
        node(
            "y",
            "Conv2D",
            List.of("x", "w"),
            "T",
            type(DType.FLOAT32),
            "strides",
            ints(1, 1, 1, 1),
            "padding",
            AttrValue.Str.of("SAME")));
    g.add(
        node(
            "z",
            "MatMul",
            List.of("a", "m"),
            "T",
            type(DType.FLOAT32),
            "transpose_a",
            new AttrValue.Bool(false),
            "transpose_b",
            new AttrValue.Bool(true)));
    Path file = dir.resolve("model.pb");
    Files.write(file, GraphDefWriter.write(g));
    return file;
  }

  private static long weightBytes() {
    return 4 * (Value.elementCount(FILTER) + Value.elementCount(MATRIX));
  }

  private static Model load(Path file, boolean drop) {
    return Model.load(file, LoadOptions.defaults().withSourceWeightsDropped(drop));
  }

  @Test
  void aModelThatDroppedItsGraphHoldsItsWeightsAboutOnce() throws Exception {
    Path file = write(51);
    try (Model kept = load(file, false);
        Model dropped = load(file, true)) {
      assertThat(bytesReachable(kept))
          .as("a model keeping its graph: the weights as read and the plans' copy")
          .isGreaterThanOrEqualTo(2 * weightBytes());
      assertThat(bytesReachable(dropped))
          .as("bytes reachable from the model, for %d weight bytes", weightBytes())
          .isLessThan(weightBytes() * 3 / 2);
      Map<String, Tensor> feed = feed(new Random(53), 256);
      for (int threads : new int[] {1, 2}) {
        SessionOptions o = new SessionOptions(threads, Mode.OPTIMIZED);
        assertSameBits(run(kept, o, feed), run(dropped, o, feed));
      }
      // Reference kernels need the graph: the dropped model reads the file again.
      SessionOptions reference = new SessionOptions(1, Mode.REFERENCE);
      Map<String, Tensor> ref = run(kept, reference, feed);
      assertSameBits(ref, run(dropped, reference, feed));
      assertClose(ref, run(dropped, SessionOptions.defaults(), feed));
    }
  }

  @Test
  void aFileChangedSinceLoadingIsNotReadInsteadOfTheModel() throws Exception {
    Path file = write(57);
    try (Model m = load(file, true)) {
      Map<String, Tensor> feed = feed(new Random(59), 256);
      run(m, SessionOptions.defaults(), feed);
      write(61); // other weights, same graph
      assertThatThrownBy(() -> run(m, new SessionOptions(1, Mode.REFERENCE), feed))
          .isInstanceOf(UsageException.class)
          .hasMessageContaining(file.toString())
          .hasMessageContaining("changed since it was loaded");
      Files.delete(file);
      assertThatThrownBy(() -> run(m, new SessionOptions(1, Mode.REFERENCE), feed))
          .isInstanceOf(UsageException.class)
          .hasMessageContaining("reading its files again");
      // The compiled plans still run.
      assertThat(run(m, SessionOptions.defaults(), feed)).containsKeys("y", "z");
    }
  }

  @Test
  void aProductTheKernelCannotTakeIsWordedWithTheUnpackedConstant() throws Exception {
    Path file = write(67);
    try (Model kept = load(file, false);
        Model dropped = load(file, true)) {
      Map<String, Tensor> feed = feed(new Random(71), 255); // k = 255 against 256
      String expected = failure(kept, feed);
      assertThat(expected).contains("[300, 256]");
      assertThat(failure(dropped, feed)).isEqualTo(expected);
    }
  }

  private static String failure(Model m, Map<String, Tensor> feed) {
    try {
      run(m, SessionOptions.defaults(), feed);
    } catch (TfportException | org.tfport.runtime.kernel.KernelException e) {
      return e.getMessage();
    }
    throw new AssertionError("the product of mismatched operands ran");
  }

  private static Map<String, Tensor> feed(Random rnd, int k) {
    return Map.of("x", Values.toTensor(random(rnd, X)), "a", Values.toTensor(random(rnd, 3, k)));
  }

  private static Map<String, Tensor> run(Model m, SessionOptions o, Map<String, Tensor> feed) {
    try (Session s = m.newSession(o)) {
      return s.run(feed);
    }
  }

  private static void assertSameBits(Map<String, Tensor> expected, Map<String, Tensor> actual) {
    for (String k : List.of("y", "z")) {
      assertThat(Values.fromTensor(actual.get(k)).floats())
          .as(k)
          .containsExactly(Values.fromTensor(expected.get(k)).floats());
    }
  }

  private static void assertClose(Map<String, Tensor> expected, Map<String, Tensor> actual) {
    for (String k : List.of("y", "z")) {
      float[] e = Values.fromTensor(expected.get(k)).floats();
      float[] a = Values.fromTensor(actual.get(k)).floats();
      assertThat(a).hasSameSizeAs(e);
      for (int i = 0; i < e.length; i++) {
        if (!(Math.abs(a[i] - e[i]) <= 1e-5 + 1e-4 * Math.abs(e[i]))) {
          assertThat(a[i]).as(k + "[" + i + "]").isEqualTo(e[i]);
        }
      }
    }
  }

  /**
   * Bytes of the float and byte arrays and of the tensor buffers reachable from {@code root}
   * through the fields of the runtime's classes and lambdas, other modules' records and graphs,
   * arrays, collections and maps.
   */
  private static long bytesReachable(Object root) {
    Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    Deque<Object> todo = new ArrayDeque<>();
    todo.push(root);
    long bytes = 0;
    while (!todo.isEmpty()) {
      Object o = todo.pop();
      if (!seen.add(o)) {
        continue;
      }
      Class<?> c = o.getClass();
      if (o instanceof float[] a) {
        bytes += 4L * a.length;
      } else if (o instanceof byte[] a) {
        bytes += a.length;
      } else if (o instanceof Buffer b) {
        // A tensor's bytes (java.nio's fields are not open to reflection).
        bytes += b.capacity();
      } else if (c.isArray()) {
        if (!c.getComponentType().isPrimitive()) {
          for (Object e : (Object[]) o) {
            push(todo, e);
          }
        }
      } else if (o instanceof java.util.Collection<?> col) {
        col.forEach(e -> push(todo, e));
      } else if (o instanceof Map<?, ?> map) {
        map.forEach(
            (k, v) -> {
              push(todo, k);
              push(todo, v);
            });
      } else if (o instanceof Graph g) {
        // The core module is not open to reflection: its graph and records through their API.
        push(todo, g.nodes());
        push(todo, g.functions());
      } else if (o instanceof Node n) {
        push(todo, n.attrs());
      } else if (c.isRecord() && c.getModule() != Plan.class.getModule()) {
        for (RecordComponent rc : c.getRecordComponents()) {
          if (!rc.getType().isPrimitive()) {
            try {
              push(todo, rc.getAccessor().invoke(o));
            } catch (ReflectiveOperationException | RuntimeException e) {
              throw new AssertionError("cannot read " + rc, e);
            }
          }
        }
      } else if (c.getModule() == Plan.class.getModule() && !c.isEnum()) {
        for (Class<?> k = c; k != null && k.getModule() == c.getModule(); k = k.getSuperclass()) {
          for (Field f : k.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
              continue;
            }
            try {
              f.setAccessible(true);
              push(todo, f.get(o));
            } catch (ReflectiveOperationException | RuntimeException e) {
              throw new AssertionError("cannot read " + f, e);
            }
          }
        }
      }
    }
    return bytes;
  }

  private static void push(Deque<Object> todo, Object o) {
    if (o != null) {
      todo.push(o);
    }
  }
}
