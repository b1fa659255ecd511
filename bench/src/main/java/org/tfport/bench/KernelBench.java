package org.tfport.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Node;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.NodeBinding;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.WorkerPool;

/**
 * The runtime's convolution and matrix kernels at MobileNet-like sizes, reference against
 * optimized, on 1 and 2 threads: each case's kernel is bound once (weights as plan constants, so
 * the optimized kernels pack them) and run on fixed random inputs. {@link #main} runs JMH and
 * prints GFLOPS (2 × multiply-adds / time) per case; JMH options (e.g. {@code -f 1 -wi 2 -i 3 -p
 * kernels=OPTIMIZED}) pass through.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx2g", "--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class KernelBench {
  /**
   * One benchmarked op: its node, its inputs (input 1 is a plan constant) and its multiply-adds.
   */
  public enum Case {
    CONV1X1_112X112X32_64(
        "Conv2D",
        conv(1, 1, "VALID"),
        2 * 112 * 112 * 32 * 64L,
        new long[] {1, 112, 112, 32},
        new long[] {1, 1, 32, 64}),
    CONV3X3_S2_224X224X3_32(
        "Conv2D",
        conv(2, 1, "SAME"),
        2 * 112 * 112 * 27 * 32L,
        new long[] {1, 224, 224, 3},
        new long[] {3, 3, 3, 32}),
    DW3X3_56X56X64(
        "DepthwiseConv2dNative",
        conv(1, 1, "SAME"),
        2 * 56 * 56 * 64 * 9L,
        new long[] {1, 56, 56, 64},
        new long[] {3, 3, 64, 1}),
    CONV1X1_14X14X256_256(
        "Conv2D",
        conv(1, 1, "VALID"),
        2 * 14 * 14 * 256 * 256L,
        new long[] {1, 14, 14, 256},
        new long[] {1, 1, 256, 256}),
    CONV3X3_28X28X64_64(
        "Conv2D",
        conv(1, 1, "SAME"),
        2 * 28 * 28 * 64 * 64 * 9L,
        new long[] {1, 28, 28, 64},
        new long[] {3, 3, 64, 64}),
    MATMUL_1X1024_1000(
        "MatMul", matmul(), 2 * 1024 * 1000L, new long[] {1, 1024}, new long[] {1024, 1000});

    final String op;
    final Map<String, AttrValue> attrs;
    final long flops;
    final long[][] shapes;

    Case(String op, Map<String, AttrValue> attrs, long flops, long[]... shapes) {
      this.op = op;
      this.attrs = attrs;
      this.flops = flops;
      this.shapes = shapes;
    }
  }

  @Param public Case op;

  @Param({"REFERENCE", "OPTIMIZED"})
  public KernelRegistry.Mode kernels;

  @Param({"1", "2"})
  public int threads;

  private Kernel kernel;
  private Value[] inputs;
  private ForkJoinPool pool;
  private WorkerPool workers;
  private RunContext context;

  private static Map<String, AttrValue> conv(int stride, int dilation, String padding) {
    Map<String, AttrValue> m = new LinkedHashMap<>();
    m.put("T", new AttrValue.Type(DType.FLOAT32.tfEnum()));
    m.put("strides", AttrValue.ListAttr.ofInts(List.of(1L, (long) stride, (long) stride, 1L)));
    m.put(
        "dilations", AttrValue.ListAttr.ofInts(List.of(1L, (long) dilation, (long) dilation, 1L)));
    m.put("padding", AttrValue.Str.of(padding));
    m.put("data_format", AttrValue.Str.of("NHWC"));
    return m;
  }

  private static Map<String, AttrValue> matmul() {
    return Map.of(
        "T",
        new AttrValue.Type(DType.FLOAT32.tfEnum()),
        "transpose_a",
        new AttrValue.Bool(false),
        "transpose_b",
        new AttrValue.Bool(false));
  }

  @Setup
  public void setUp() {
    SplittableRandom rnd = new SplittableRandom(7);
    inputs = new Value[op.shapes.length];
    for (int i = 0; i < inputs.length; i++) {
      float[] v = new float[(int) Value.elementCount(op.shapes[i])];
      for (int k = 0; k < v.length; k++) {
        v[k] = (float) (rnd.nextDouble() * 2 - 1);
      }
      inputs[i] = Value.floats(op.shapes[i], v);
    }
    Node node = new Node("op", op.op, List.of("x", "w"), "", op.attrs);
    kernel = Binding.bind(node, kernels, inputs);
    pool = new ForkJoinPool(threads);
    // The helpers a session splits ops over (hot between ops), as tfport benchmark runs them.
    workers = new WorkerPool(threads - 1, "kernel-bench");
    context =
        new RunContext() {
          @Override
          public int threads() {
            return threads;
          }

          @Override
          public ForkJoinPool pool() {
            return pool;
          }

          @Override
          public void fork(Runnable task, int helpers) {
            workers.post(task, helpers);
          }

          @Override
          public <T> T sessionState(String key, Supplier<T> create) {
            throw new UnsupportedOperationException("no session state in a kernel benchmark");
          }
        };
  }

  @TearDown
  public void tearDown() {
    pool.shutdown();
    workers.close();
  }

  @Benchmark
  public Value[] run() {
    return kernel.run(inputs, context);
  }

  /** Binds a node's kernel from the standard registry, input 1 offered as a plan constant. */
  private static final class Binding extends NodeBinding {
    private final Value[] inputs;

    private Binding(Node node, Value[] inputs) {
      super(node, Map.of());
      this.inputs = inputs;
    }

    static Kernel bind(Node node, KernelRegistry.Mode mode, Value[] inputs) {
      return org.tfport.runtime.ops.StandardKernels.registry()
          .factory(node.op(), mode)
          .bind(new Binding(node, inputs));
    }

    @Override
    public Value constantInput(int i) {
      return i == 1 ? inputs[i] : null;
    }

    @Override
    public DType inputType(int i) {
      return inputs[i].dtype();
    }

    @Override
    public long[] inputShape(int i) {
      return inputs[i].shape().clone();
    }

    @Override
    public Function function(String attrName) {
      throw new UnsupportedOperationException("no functions in a kernel benchmark");
    }
  }

  /** Runs the benchmark (JMH options pass through) and prints milliseconds and GFLOPS per case. */
  public static void main(String[] args) throws RunnerException, CommandLineOptionException {
    CommandLineOptions options =
        new CommandLineOptions(
            args.length == 0 ? new String[] {KernelBench.class.getSimpleName()} : args);
    java.util.Collection<RunResult> results = new Runner(options).run();
    System.out.printf(
        Locale.ROOT, "%-26s %-10s %7s %10s %8s%n", "case", "kernels", "threads", "ms/op", "GFLOPS");
    for (RunResult r : results) {
      Map<String, String> p = new LinkedHashMap<>();
      for (String key : r.getParams().getParamsKeys()) {
        p.put(key, r.getParams().getParam(key));
      }
      Case c = Case.valueOf(p.get("op"));
      double ms = r.getPrimaryResult().getScore();
      System.out.printf(
          Locale.ROOT,
          "%-26s %-10s %7s %10.3f %8.2f%n",
          c,
          p.get("kernels"),
          p.get("threads"),
          ms,
          c.flops / (ms * 1e6));
    }
    System.out.println("load average: " + Arrays.toString(loadAverage()));
  }

  private static String[] loadAverage() {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg"))
          .trim()
          .split(" ", 4);
    } catch (java.io.IOException e) {
      return new String[] {"unknown"};
    }
  }
}
