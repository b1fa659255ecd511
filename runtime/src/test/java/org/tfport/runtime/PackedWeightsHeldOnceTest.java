package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.TestGraphs.constant;
import static org.tfport.runtime.TestGraphs.node;
import static org.tfport.runtime.TestGraphs.placeholder;
import static org.tfport.runtime.TestGraphs.type;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
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
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.runtime.kernel.KernelRegistry.Mode;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;

/**
 * A convolution filter the optimized kernel packed at load is held once by the compiled plan: the
 * plan's slot for it is empty and no raw float copy of it is reachable from the plan, while the
 * results stay those of the reference kernels (which read the raw filter), on 1 and 2 threads, and
 * on the kernel's fallback (a grouped convolution the input's shape did not reveal at load) that
 * unpacks the packed copy.
 */
class PackedWeightsHeldOnceTest {
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

  /** x → Conv2D(w) → y; {@code cin} is the filter's input depth. */
  private static Graph conv(Value w, long... xShape) {
    Graph g = new Graph("conv");
    g.add(placeholder("x", DType.FLOAT32, xShape));
    g.add(constant("w", w));
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
    return g;
  }

  private static Signature signature(long[] xShape) {
    return new Signature(
        Signature.DEFAULT_KEY,
        List.of(new TensorSpec("x", "x:0", DType.FLOAT32, xShape)),
        List.of(new TensorSpec("y", "y:0", DType.FLOAT32, null)));
  }

  @Test
  void aPackedFilterHasNoRawCopyInThePlan() {
    Random rnd = new Random(41);
    // 72 output channels: more than any micro-kernel's panel, so the packed copy is reordered.
    Value w = random(rnd, 3, 3, 8, 72);
    long[] xShape = {1, 12, 12, 8};
    try (Model m = Model.fromGraph(conv(w, xShape), List.of(signature(xShape)))) {
      Plan optimized = m.bound(Mode.OPTIMIZED, Signature.DEFAULT_KEY).plan();
      Plan reference = m.bound(Mode.REFERENCE, Signature.DEFAULT_KEY).plan();
      assertThat(rawCopies(reference, w.floats())).as("the reference plan reads w raw").isOne();
      assertThat(rawCopies(optimized, w.floats())).as("raw copies of w").isZero();
      assertThat(floatsReachable(optimized))
          .as("floats the optimized plan holds: w packed, padded to whole panels at most")
          .isBetween((long) w.size(), 2L * w.size() - 1);
      assertSameResults(m, random(rnd, xShape));
    }
  }

  @Test
  void aGroupedConvolutionFoundOnlyWhenRunUnpacksTheFilter() {
    Random rnd = new Random(43);
    // Filter depth 4 for an input of 8 channels: two groups. The placeholder does not say the
    // depth, so the kernel packs the filter at load and meets the groups at the first run.
    Value w = random(rnd, 3, 3, 4, 72);
    long[] unknown = {-1, -1, -1, -1};
    try (Model m = Model.fromGraph(conv(w, unknown), List.of(signature(unknown)))) {
      assertThat(rawCopies(m.bound(Mode.OPTIMIZED, Signature.DEFAULT_KEY).plan(), w.floats()))
          .isZero();
      assertSameResults(m, random(rnd, 1, 9, 9, 8));
    }
  }

  @Test
  void aFilterAnotherNodeReadsAsAValueIsHeldRawOnce() {
    Random rnd = new Random(47);
    Value w = random(rnd, 3, 3, 8, 72);
    long[] xShape = {1, 10, 10, 8};
    Graph g = conv(w, xShape);
    g.add(node("z", "Identity", List.of("w"), "T", type(DType.FLOAT32)));
    Signature sig =
        new Signature(
            Signature.DEFAULT_KEY,
            List.of(new TensorSpec("x", "x:0", DType.FLOAT32, xShape)),
            List.of(
                new TensorSpec("y", "y:0", DType.FLOAT32, null),
                new TensorSpec("z", "z:0", DType.FLOAT32, null)));
    try (Model m = Model.fromGraph(g, List.of(sig))) {
      assertThat(rawCopies(m.bound(Mode.OPTIMIZED, Signature.DEFAULT_KEY).plan(), w.floats()))
          .as("the plan's value of w, for Identity")
          .isOne();
      Tensor x = Values.toTensor(random(rnd, xShape));
      try (Session s = m.newSession(new SessionOptions(2, Mode.OPTIMIZED))) {
        Map<String, Tensor> out = s.run(Map.of("x", x));
        assertThat(Values.fromTensor(out.get("z")).floats()).containsExactly(w.floats());
        float[] ref = run(m, new SessionOptions(1, Mode.REFERENCE), x);
        float[] y = Values.fromTensor(out.get("y")).floats();
        for (int i = 0; i < y.length; i++) {
          if (!(Math.abs(y[i] - ref[i]) <= 1e-5 + 1e-4 * Math.abs(ref[i]))) {
            assertThat(y[i]).as("y[" + i + "]").isEqualTo(ref[i]);
          }
        }
      }
    }
  }

  private static void assertSameResults(Model m, Value x) {
    Tensor in = Values.toTensor(x);
    float[] ref = run(m, new SessionOptions(1, Mode.REFERENCE), in);
    float[] one = run(m, new SessionOptions(1, Mode.OPTIMIZED), in);
    float[] two = run(m, new SessionOptions(2, Mode.OPTIMIZED), in);
    assertThat(one).hasSameSizeAs(ref);
    for (int i = 0; i < one.length; i++) {
      if (!(Math.abs(one[i] - ref[i]) <= 1e-5 + 1e-4 * Math.abs(ref[i]))) {
        assertThat(one[i]).as("y[" + i + "]").isEqualTo(ref[i]);
      }
    }
    assertThat(Arrays.equals(one, two)).as("1 and 2 threads give the same bits").isTrue();
  }

  private static float[] run(Model m, SessionOptions options, Tensor x) {
    try (Session s = m.newSession(options)) {
      return Values.fromTensor(s.run(Map.of("x", x)).get("y")).floats();
    }
  }

  private static long rawCopies(Plan plan, float[] raw) {
    return reachable(plan).stream()
        .filter(o -> o instanceof float[] a && Arrays.equals(a, raw))
        .count();
  }

  private static long floatsReachable(Plan plan) {
    return reachable(plan).stream().mapToLong(o -> o instanceof float[] a ? a.length : 0).sum();
  }

  /**
   * Every object reachable from {@code root} through the fields of the runtime's classes and
   * lambdas, arrays, collections and maps (other classes are not entered).
   */
  private static Set<Object> reachable(Object root) {
    Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    Deque<Object> todo = new ArrayDeque<>();
    todo.push(root);
    while (!todo.isEmpty()) {
      Object o = todo.pop();
      if (!seen.add(o)) {
        continue;
      }
      Class<?> c = o.getClass();
      if (c.isArray()) {
        if (!c.getComponentType().isPrimitive()) {
          for (Object e : (Object[]) o) {
            if (e != null) {
              todo.push(e);
            }
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
      } else if (ours(c)) {
        for (Class<?> k = c; k != null && ours(k); k = k.getSuperclass()) {
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
    return seen;
  }

  private static boolean ours(Class<?> c) {
    // The runtime's classes and lambdas (the plan, its kernels and their records); other modules'
    // classes (dtypes, the graph) hold no weights of a plan.
    return c.getModule() == Plan.class.getModule() && !c.isEnum();
  }

  private static void push(Deque<Object> todo, Object o) {
    if (o != null) {
      todo.push(o);
    }
  }
}
