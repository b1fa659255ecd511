package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.TestGraphs.REGISTRY;
import static org.tfport.runtime.TestGraphs.binary;
import static org.tfport.runtime.TestGraphs.constant;
import static org.tfport.runtime.TestGraphs.ifNode;
import static org.tfport.runtime.TestGraphs.node;
import static org.tfport.runtime.TestGraphs.placeholder;
import static org.tfport.runtime.TestGraphs.type;
import static org.tfport.runtime.TestGraphs.whileNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Graph;
import org.tfport.core.graph.Node;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.testkit.OracleTest;

@OracleTest
class SessionTest {
  private static final SessionOptions REF = new SessionOptions(1, KernelRegistry.Mode.REFERENCE);

  private static Tensor strings(String... s) {
    return Tensor.ofStrings(Shape.of(s.length), List.of(s));
  }

  private static long[] longs(Tensor t) {
    return Values.fromTensor(t).longs();
  }

  private static Node table(String name, boolean mutable, String shared) {
    return node(
        name,
        mutable ? "MutableHashTableV2" : "HashTableV2",
        List.of(),
        "key_dtype",
        type(DType.STRING),
        "value_dtype",
        type(DType.INT64),
        "shared_name",
        AttrValue.Str.of(shared));
  }

  private static Graph vocabularyInitializer(boolean mutable, String shared) {
    Graph init = new Graph("init");
    init.add(table("table", mutable, shared));
    init.add(constant("keys", Values.strings(new long[] {3}, List.of("a", "b", "c"))));
    init.add(constant("values", Value.longs(new long[] {3}, 10, 20, 30)));
    init.add(
        node(
            "import",
            "LookupTableImportV2",
            List.of("table", "keys", "values"),
            "Tin",
            type(DType.STRING),
            "Tout",
            type(DType.INT64)));
    return init;
  }

  private static Signature lookupSignature() {
    return new Signature(
        "lookup",
        List.of(new TensorSpec("words", "words:0", DType.STRING, new long[] {-1})),
        List.of(
            new TensorSpec("ids", "find:0", DType.INT64, new long[] {-1}),
            new TensorSpec("size", "size", DType.INT64, new long[0])));
  }

  @Test
  void hashTableFilledByTheInitializerServesEveryRun() {
    Graph g = new Graph("vocab");
    g.add(table("lookup_table", false, "vocab"));
    g.add(placeholder("words", DType.STRING, -1));
    g.add(constant("default", Value.longs(new long[0], -1)));
    g.add(node("find", "LookupTableFindV2", List.of("lookup_table", "words", "default")));
    g.add(node("size", "LookupTableSizeV2", List.of("lookup_table")));
    try (Model m =
        Model.fromGraph(
            g, List.of(lookupSignature()), vocabularyInitializer(false, "vocab"), REGISTRY)) {
      for (int s = 0; s < 2; s++) {
        try (Session session = m.newSession(REF)) {
          Map<String, Tensor> out = session.run(Map.of("words", strings("b", "zz", "a", "c")));
          assertThat(out.keySet()).containsExactly("ids", "size");
          assertThat(longs(out.get("ids"))).containsExactly(20, -1, 10, 30);
          assertThat(longs(out.get("size"))).containsExactly(3);
          assertThat(longs(session.run(Map.of("words", strings())).get("ids"))).isEmpty();
        }
      }
    }
    // Without the initializer the table is never filled, and the run says which node found that.
    try (Model m = Model.fromGraph(g, List.of(lookupSignature()), null, REGISTRY);
        Session session = m.newSession(REF)) {
      assertThatThrownBy(() -> session.run(Map.of("words", strings("a"))))
          .isInstanceOf(KernelException.class)
          .hasMessage("node 'find' (LookupTableFindV2): the table is not initialized");
    }
  }

  @Test
  void initializerRunsOncePerSessionAndTablesPersistBetweenRuns() {
    // Each run reads "a", then sets it to 99: the second run sees 99 unless the initializer ran
    // again.
    Graph g = new Graph("counts");
    g.add(table("t", true, "counts"));
    g.add(placeholder("words", DType.STRING, -1));
    g.add(constant("default", Value.longs(new long[0], -1)));
    g.add(constant("key", Values.strings(new long[] {1}, List.of("a"))));
    g.add(constant("value", Value.longs(new long[] {1}, 99)));
    g.add(node("before", "LookupTableFindV2", List.of("t", "words", "default")));
    g.add(node("insert", "LookupTableInsertV2", List.of("t", "key", "value", "^before")));
    g.add(node("find", "Identity", List.of("before", "^insert"), "T", type(DType.INT64)));
    g.add(node("size", "LookupTableSizeV2", List.of("t")));
    try (Model m =
        Model.fromGraph(
            g, List.of(lookupSignature()), vocabularyInitializer(true, "counts"), REGISTRY)) {
      for (int s = 0; s < 2; s++) {
        try (Session session = m.newSession(REF)) {
          assertThat(longs(session.run(Map.of("words", strings("a", "b"))).get("ids")))
              .containsExactly(10, 20);
          assertThat(longs(session.run(Map.of("words", strings("a", "b"))).get("ids")))
              .containsExactly(99, 20);
        }
      }
    }
  }

  private static Model loopModel() {
    Graph g = new Graph("loop.pb");
    ControlFlowTest.addLoopFunctions(g);
    ControlFlowTest.addBranches(g);
    g.add(placeholder("x", DType.FLOAT32, -1, 3));
    g.add(placeholder("n", DType.INT32));
    g.add(constant("zero", Value.scalar(0)));
    g.add(
        whileNode(
            "loop",
            "cond",
            "body",
            List.of("zero", "n", "x", "x"),
            DType.INT32,
            DType.INT32,
            DType.FLOAT32,
            DType.FLOAT32));
    g.add(
        binary("small", "Less", DType.INT32, "n", "zero")); // false for n >= 0: the looping branch
    g.add(
        ifNode(
            "branch",
            "minus_one",
            "looping",
            "small",
            List.of("loop:2", "n"),
            new DType[] {DType.FLOAT32, DType.INT32},
            new DType[] {DType.FLOAT32}));
    g.inputs().addAll(List.of("x", "n"));
    g.outputs().addAll(List.of("branch:0", "loop:0"));
    return Model.fromGraph(g, List.of(Model.graphSignature(g)), null, REGISTRY);
  }

  @Test
  void badInputsAreRefusedWithOneClearLine() {
    try (Model m = loopModel();
        Session s = m.newSession(REF)) {
      Tensor x = Tensor.ofFloats(Shape.of(2, 3), 1, 2, 3, 4, 5, 6);
      Tensor n = Tensor.ofInts(Shape.SCALAR, 2);
      assertThat(m.signatures().get(0).inputNames()).containsExactly("x", "n");
      assertThat(s.run(Map.of("x", x, "n", n)).keySet()).containsExactly("branch:0", "loop:0");
      assertThatThrownBy(() -> s.run(Map.of("x", x, "n", n, "y", n)))
          .isInstanceOf(UsageException.class)
          .hasMessage(
              "loop.pb: signature 'serving_default' has no input 'y'; its inputs are [x, n]");
      assertThatThrownBy(() -> s.run(Map.of("x", x)))
          .isInstanceOf(UsageException.class)
          .hasMessage(
              "loop.pb: input 'n' (int32[]) is missing; signature 'serving_default' takes [x, n]");
      assertThatThrownBy(() -> s.run(Map.of("x", Tensor.ofInts(Shape.of(1, 3), 1, 2, 3), "n", n)))
          .isInstanceOf(UsageException.class)
          .hasMessage("loop.pb: input 'x' wants float32[-1, 3], got int32[1, 3]");
      assertThatThrownBy(
              () -> s.run(Map.of("x", Tensor.ofFloats(Shape.of(3, 2), 1, 2, 3, 4, 5, 6), "n", n)))
          .isInstanceOf(UsageException.class)
          .hasMessage("loop.pb: input 'x' wants float32[-1, 3], got float32[3, 2]");
      assertThatThrownBy(() -> s.run(Map.of("x", Tensor.ofFloats(Shape.of(3), 1, 2, 3), "n", n)))
          .isInstanceOf(UsageException.class)
          .hasMessage("loop.pb: input 'x' wants float32[-1, 3], got float32[3]");
      assertThatThrownBy(() -> s.run("other", Map.of()))
          .isInstanceOf(UsageException.class)
          .hasMessage(
              "loop.pb: the model has no signature 'other'; its signatures are [serving_default]");
    }
  }

  @Test
  void modelWithoutKernelsIsRefusedWhenMade() {
    Graph g = new Graph("m.pb");
    g.add(placeholder("x", DType.FLOAT32, 2));
    g.add(node("y", "Softmax", List.of("x"), "T", type(DType.FLOAT32)));
    g.inputs().add("x");
    g.outputs().add("y:0");
    assertThatThrownBy(() -> Model.fromGraph(g, List.of(Model.graphSignature(g)), null, REGISTRY))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessage("m.pb: no kernel for op 'Softmax' (node y)");
  }

  private static Map<String, Tensor> feeds(int run) {
    float[] x = new float[6];
    for (int i = 0; i < x.length; i++) {
      x[i] = (run * 7 + i * 3) % 11 / 4f - 1;
    }
    return Map.of(
        "x", Tensor.ofFloats(Shape.of(2, 3), x), "n", Tensor.ofInts(Shape.SCALAR, run % 6));
  }

  /** Every output of one run, by name, as float or int arrays (what equality compares). */
  private static Map<String, Object> outputs(Session s, int run) {
    Map<String, Object> out = new java.util.TreeMap<>();
    s.run(feeds(run))
        .forEach(
            (k, t) ->
                out.put(
                    k,
                    t.dtype() == DType.FLOAT32 ? t.toFloatArray() : Values.fromTensor(t).ints()));
    return out;
  }

  @Test
  void sessionsOnManyThreadsGiveIdenticalResults() throws Exception {
    // The bar: one model, 8 sessions on 8 threads, 1,000 runs in all, every output equal to
    // the single-thread run of the same inputs.
    int threads = 8;
    int runsPerThread = 125;
    try (Model m = loopModel()) {
      List<Map<String, Object>> expected = new ArrayList<>();
      try (Session s = m.newSession(REF)) {
        for (int r = 0; r < runsPerThread; r++) {
          expected.add(outputs(s, r));
        }
      }
      assertThat(expected.get(0)).containsOnlyKeys("branch:0", "loop:0");
      java.util.concurrent.atomic.AtomicInteger checked =
          new java.util.concurrent.atomic.AtomicInteger();
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          // Each thread starts at another input, so different inputs are in flight at once.
          int offset = t * 13;
          done.add(
              pool.submit(
                  () -> {
                    start.await();
                    try (Session s = m.newSession(REF)) {
                      for (int k = 0; k < runsPerThread; k++) {
                        int r = (k + offset) % runsPerThread;
                        Map<String, Object> got = outputs(s, r);
                        assertThat(got.keySet()).isEqualTo(expected.get(r).keySet());
                        for (var e : got.entrySet()) {
                          assertThat(e.getValue())
                              .as("run %d output %s", r, e.getKey())
                              .isEqualTo(expected.get(r).get(e.getKey()));
                        }
                        checked.incrementAndGet();
                      }
                    }
                    return null;
                  }));
        }
        start.countDown();
        for (Future<?> f : done) {
          f.get();
        }
      } finally {
        pool.shutdown();
      }
      assertThat(checked.get()).isEqualTo(1000);
    }
  }
}
