package org.tfport.convert.tfjs;

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
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;
import org.tfport.convert.ConversionResult;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.DType;
import org.tfport.core.ProgressListener;
import org.tfport.graph.GraphLoader;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;

/**
 * SavedModels with TF2 functional control flow ({@code While}, {@code StatelessWhile}, {@code If},
 * {@code StatelessIf}) built at test time with TF Java: the loop and branch bodies are library
 * functions, and the weights they use come from variables outside them, as in Keras' recurrent
 * layers. Converted, run in TF.js 4.22 and compared with TensorFlow on the same random inputs.
 */
@OracleTest
public class BuiltControlFlowTest {
  @TempDir Path tmp;

  /**
   * Each model draws its weights from a generator of its own, seeded here, so a model is the same
   * whichever tests ran before it in this JVM.
   */
  private static Random weights() {
    return new Random(5);
  }

  private static Operand<TFloat32> weight(Ops tf, Random weights, String name, long... shape) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (weights.nextFloat() * 2 - 1) * 0.6f;
    }
    // The value leaves the variable as a plain tensor (an Identity of the ref), the way Keras hands
    // kernels to its recurrent loop functions.
    return tf.identity(
        tf.withName(name)
            .variable(tf.withInitScope().constant(Shape.of(shape), DataBuffers.of(v))));
  }

  /**
   * {@code h <- tanh(h @ w + x), n times}, as a recurrent cell would, with i and n as loop
   * variables: the condition ({@code body} false) or the body over the loop variables (i, n, h, x,
   * w).
   */
  private static final ConcreteFunction CELL =
      ConcreteFunction.create(
          tf -> {
            var z = tf.withName("z").placeholder(TFloat32.class);
            return Signature.builder().input("z", z).output("a", tf.math.tanh(z)).build();
          });

  private static ConcreteFunction loop(boolean body) {
    return ConcreteFunction.create(
        tf -> {
          var i = tf.withName("i").placeholder(TInt32.class);
          var n = tf.withName("n").placeholder(TInt32.class);
          var h = tf.withName("h").placeholder(TFloat32.class);
          var x = tf.withName("x").placeholder(TFloat32.class);
          var w = tf.withName("w").placeholder(TFloat32.class);
          var sig =
              Signature.builder()
                  .input("i", i)
                  .input("n", n)
                  .input("h", h)
                  .input("x", x)
                  .input("w", w);
          if (!body) {
            return sig.output("more", tf.math.less(i, n)).build();
          }
          // The cell is a function of its own, called from the loop body (a tf.function calling
          // another).
          @SuppressWarnings("unchecked")
          Operand<TFloat32> next =
              (Operand<TFloat32>) tf.call(CELL, tf.math.add(tf.linalg.matMul(h, w), x));
          return sig.output("i1", tf.math.add(i, tf.constant(1)))
              .output("n1", tf.identity(n))
              .output("h1", next)
              .output("x1", tf.identity(x))
              .output("w1", tf.identity(w))
              .build();
        });
  }

  private static ConcreteFunction branch(boolean then) {
    return ConcreteFunction.create(
        tf -> {
          var x = tf.withName("x").placeholder(TFloat32.class);
          var w = tf.withName("w").placeholder(TFloat32.class);
          Operand<TFloat32> y =
              then
                  ? tf.nn.relu(tf.linalg.matMul(x, w))
                  : tf.math.sub(tf.math.mul(x, tf.constant(2f)), tf.constant(1f));
          return Signature.builder().input("x", x).input("w", w).output("y", y).build();
        });
  }

  /**
   * The While-then-If SavedModel (input x [-1, 4]; outputs h, the loop state, and y, the If
   * result).
   */
  public static Path export(Path dir, boolean stateless) throws Exception {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      Random weights = weights();
      var w = weight(tf, weights, "recurrent_kernel", 4, 4);
      var u = weight(tf, weights, "kernel", 4, 4);
      var xu = tf.linalg.matMul(x, u);
      List<Operand<?>> loopVars = List.of(tf.constant(0), tf.constant(3), tf.zerosLike(xu), xu, w);
      var loop =
          stateless
              ? tf.statelessWhile(loopVars, loop(false), loop(true))
              : tf.whileOp(loopVars, loop(false), loop(true));
      @SuppressWarnings("unchecked")
      Operand<TFloat32> h = (Operand<TFloat32>) loop.output().get(2);
      Operand<TBool> positive =
          tf.math.greater(tf.sum(h, tf.constant(new int[] {0, 1})), tf.constant(0f));
      List<Class<? extends TType>> outTypes = List.of(TFloat32.class);
      var branches =
          stateless
              ? tf.statelessIf(positive, List.of(h, w), outTypes, branch(true), branch(false))
              : tf.ifOp(positive, List.of(h, w), outTypes, branch(true), branch(false));
      @SuppressWarnings("unchecked")
      Operand<TFloat32> y = (Operand<TFloat32>) branches.output().get(0);
      Signature sig =
          Signature.builder()
              .key(Signature.DEFAULT_KEY)
              .methodName("tensorflow/serving/predict")
              .input("x", x)
              .output("h", h)
              .output("y", y)
              .build();
      try (Session s = new Session(g)) {
        s.initialize();
        SavedModelBundle.exporter(dir.toString())
            .withSession(s)
            .withFunction(SessionFunction.create(sig, s))
            .export();
      }
    }
    return dir;
  }

  private static final List<String> VARIABLES = List.of("scale", "shift", "w");

  /** {@code h <- tanh(h @ read(v) + x)}: the loop body reads the variable through its handle. */
  private static ConcreteFunction resourceLoop(boolean body) {
    return ConcreteFunction.create(
        tf -> {
          var i = tf.withName("i").placeholder(TInt32.class);
          var h = tf.withName("h").placeholder(TFloat32.class);
          var x = tf.withName("x").placeholder(TFloat32.class);
          var v = tf.withName("v").placeholder(TFloat32.class);
          var b = Signature.builder().input("i", i).input("h", h).input("x", x).input("v", v);
          if (!body) {
            return b.output("more", tf.math.less(i, tf.constant(4))).build();
          }
          var w = tf.withName("read_v").identity(v);
          return b.output("i1", tf.math.add(i, tf.constant(1)))
              .output("h1", tf.math.tanh(tf.math.add(tf.linalg.matMul(h, w), x)))
              .output("x1", tf.identity(x))
              .output("v1", tf.withName("pass_v").identity(v))
              .build();
        });
  }

  /**
   * {@code relu(x) * read(scale)} or {@code x + read(shift)}: each branch reads its own variable.
   */
  private static ConcreteFunction resourceBranch(boolean then) {
    return ConcreteFunction.create(
        tf -> {
          var x = tf.withName("x").placeholder(TFloat32.class);
          var scale = tf.withName("scale").placeholder(TFloat32.class);
          var shift = tf.withName("shift").placeholder(TFloat32.class);
          Operand<TFloat32> y =
              then
                  ? tf.math.mul(tf.nn.relu(x), tf.withName("read_scale").identity(scale))
                  : tf.math.add(x, tf.withName("read_shift").identity(shift));
          return Signature.builder()
              .input("x", x)
              .input("scale", scale)
              .input("shift", shift)
              .output("y", y)
              .build();
        });
  }

  /**
   * A SavedModel whose resource variables ({@code VarHandleOp}) are read inside the loop and branch
   * functions, as a {@code tf.function} reading {@code self.w} in a loop traces. TF Java's function
   * builder cannot declare resource arguments and its exporter only saves {@code VariableV2}, so
   * the graph is built with float stand-ins, retyped in the GraphDef (stand-in placeholders become
   * {@code VarHandleOp}, the reads {@code ReadVariableOp}), imported back into TensorFlow (which
   * checks it), given a saver subgraph (SaveV2/RestoreV2 + AssignVariableOp) with which TensorFlow
   * writes the checkpoint, and stored as a MetaGraph.
   */
  private static Path exportResourceModel(Path dir, boolean stateless) throws Exception {
    Files.createDirectories(dir.resolve("variables"));
    Map<String, long[]> shapes =
        Map.of("w", new long[] {4, 4}, "scale", new long[] {4}, "shift", new long[] {4});
    org.tensorflow.proto.GraphDef def;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      Map<String, Operand<TFloat32>> handles = new LinkedHashMap<>();
      for (String k : VARIABLES) {
        handles.put(
            k,
            tf.withName(k).placeholder(TFloat32.class, Placeholder.shape(Shape.of(shapes.get(k)))));
      }
      List<Operand<?>> loopVars = List.of(tf.constant(0), tf.zerosLike(x), x, handles.get("w"));
      var loop =
          stateless
              ? tf.statelessWhile(loopVars, resourceLoop(false), resourceLoop(true))
              : tf.whileOp(loopVars, resourceLoop(false), resourceLoop(true));
      @SuppressWarnings("unchecked")
      Operand<TFloat32> h = (Operand<TFloat32>) loop.output().get(1);
      Operand<TBool> positive =
          tf.math.greater(tf.sum(h, tf.constant(new int[] {0, 1})), tf.constant(0f));
      List<Class<? extends TType>> outTypes = List.of(TFloat32.class);
      List<Operand<?>> ifIns = List.of(h, handles.get("scale"), handles.get("shift"));
      var branches =
          stateless
              ? tf.statelessIf(
                  positive, ifIns, outTypes, resourceBranch(true), resourceBranch(false))
              : tf.ifOp(positive, ifIns, outTypes, resourceBranch(true), resourceBranch(false));
      tf.withName("y").identity(branches.output().get(0));
      tf.withName("h").identity(h);
      def = asResourceVariables(g.toGraphDef());
    }
    try (Graph g = new Graph()) {
      g.importGraphDef(def);
      Ops tf = Ops.create(g);
      var prefix =
          tf.withSubScope("save")
              .withName("Const")
              .placeholderWithDefault(tf.constant("model"), Shape.scalar());
      var names =
          tf.constant(
              java.nio.charset.StandardCharsets.UTF_8,
              VARIABLES.stream()
                  .map(k -> k + "/.ATTRIBUTES/VARIABLE_VALUE")
                  .toArray(String[]::new));
      var slices =
          tf.constant(
              java.nio.charset.StandardCharsets.UTF_8,
              VARIABLES.stream().map(k -> "").toArray(String[]::new));
      List<Operand<?>> reads = new ArrayList<>();
      List<Class<? extends TType>> types = new ArrayList<>();
      List<org.tensorflow.op.Op> inits = new ArrayList<>();
      Random weights = weights();
      for (String k : VARIABLES) {
        Operand<TFloat32> handle = g.operation(k).output(0);
        reads.add(tf.readVariableOp(handle, TFloat32.class));
        types.add(TFloat32.class);
        long[] shape = shapes.get(k);
        float[] v = new float[(int) java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < v.length; i++) {
          v[i] = (weights.nextFloat() * 2 - 1) * 0.6f;
        }
        inits.add(tf.assignVariableOp(handle, tf.constant(Shape.of(shape), DataBuffers.of(v))));
      }
      var save =
          tf.withSubScope("save").withName("SaveV2").train.save(prefix, names, slices, reads);
      var restore =
          tf.withSubScope("save").withName("RestoreV2").train.restore(prefix, names, slices, types);
      List<org.tensorflow.op.Op> assigns = new ArrayList<>();
      for (int k = 0; k < VARIABLES.size(); k++) {
        Operand<TFloat32> handle = g.operation(VARIABLES.get(k)).output(0);
        assigns.add(tf.assignVariableOp(handle, restore.tensors().get(k)));
      }
      String restoreAll =
          tf.withSubScope("save")
              .withControlDependencies(assigns)
              .withName("restore_all")
              .noOp()
              .op()
              .name();
      var init = tf.withControlDependencies(inits).withName("init").noOp();
      try (Session s = new Session(g)) {
        s.runner().addTarget(init).run();
        try (var p =
            org.tensorflow.types.TString.scalarOf(dir.resolve("variables/variables").toString())) {
          s.runner().feed(prefix, p).addTarget(save).run();
        }
      }
      var sig =
          org.tensorflow.proto.SignatureDef.newBuilder()
              .setMethodName("tensorflow/serving/predict")
              .putInputs("x", tensorInfo("x:0", Shape.of(-1, 4)))
              .putOutputs("h", tensorInfo("h:0", Shape.of(-1, 4)))
              .putOutputs("y", tensorInfo("y:0", Shape.of(-1, 4)));
      var meta =
          org.tensorflow.proto.MetaGraphDef.newBuilder()
              .setMetaInfoDef(
                  org.tensorflow.proto.MetaGraphDef.MetaInfoDef.newBuilder().addTags("serve"))
              .setGraphDef(g.toGraphDef())
              .setSaverDef(
                  org.tensorflow.proto.SaverDef.newBuilder()
                      .setFilenameTensorName(prefix.op().name() + ":0")
                      .setSaveTensorName(save.op().name())
                      .setRestoreOpName(restoreAll)
                      .setVersion(org.tensorflow.proto.SaverDef.CheckpointFormatVersion.V2))
              .putSignatureDef("serving_default", sig.build());
      Files.write(
          dir.resolve("saved_model.pb"),
          org.tensorflow.proto.SavedModel.newBuilder()
              .setSavedModelSchemaVersion(1)
              .addMetaGraphs(meta)
              .build()
              .toByteArray());
    }
    return dir;
  }

  /**
   * Turns the float stand-ins of {@link #exportResourceModel} into resource variables and their
   * reads.
   */
  private static org.tensorflow.proto.GraphDef asResourceVariables(
      org.tensorflow.proto.GraphDef def) {
    var resource = org.tensorflow.proto.DataType.DT_RESOURCE;
    var b = def.toBuilder();
    for (var n : b.getNodeBuilderList()) {
      if (VARIABLES.contains(n.getName())) {
        var shape = n.getAttrOrThrow("shape");
        var dtype = n.getAttrOrThrow("dtype");
        n.setOp("VarHandleOp")
            .clearAttr()
            .putAttr("dtype", dtype)
            .putAttr("shape", shape)
            .putAttr(
                "shared_name",
                org.tensorflow.proto.AttrValue.newBuilder()
                    .setS(com.google.protobuf.ByteString.copyFromUtf8(n.getName()))
                    .build())
            .putAttr(
                "container",
                org.tensorflow.proto.AttrValue.newBuilder()
                    .setS(com.google.protobuf.ByteString.EMPTY)
                    .build());
      }
      String types = n.getOp().endsWith("While") ? "T" : n.getOp().endsWith("If") ? "Tin" : null;
      if (types != null) {
        var list = n.getAttrOrThrow(types).getList().toBuilder();
        for (int k = 0; k < n.getInputCount(); k++) {
          String in = n.getInput(k);
          int at = types.equals("Tin") ? k - 1 : k;
          if (at >= 0 && VARIABLES.contains(in.split(":")[0])) {
            list.setType(at, resource);
          }
        }
        n.putAttr(types, org.tensorflow.proto.AttrValue.newBuilder().setList(list).build());
      }
    }
    var lib = b.getLibraryBuilder();
    for (var f : lib.getFunctionBuilderList()) {
      var sig = f.getSignatureBuilder();
      for (var arg : sig.getInputArgBuilderList()) {
        if (VARIABLES.contains(arg.getName()) || arg.getName().equals("v")) {
          arg.setType(resource);
        }
      }
      for (var arg : sig.getOutputArgBuilderList()) {
        if (f.getRetOrDefault(arg.getName(), "").startsWith("pass_v")) {
          arg.setType(resource);
        }
      }
      for (var n : f.getNodeDefBuilderList()) {
        for (int k = 0; k < n.getInputCount(); k++) {
          // ReadVariableOp's output is named "value" where Identity's is "output".
          n.setInput(k, n.getInput(k).replaceFirst("^(read_\\w+):output:", "$1:value:"));
        }
        if (n.getName().startsWith("read_")) {
          var t = n.getAttrOrThrow("T");
          n.setOp("ReadVariableOp").clearAttr().putAttr("dtype", t);
        } else if (n.getName().startsWith("pass_v")) {
          n.putAttr("T", org.tensorflow.proto.AttrValue.newBuilder().setType(resource).build());
        }
      }
    }
    for (var f : lib.getFunctionBuilderList()) {
      f.getRetMap()
          .forEach((k, v) -> f.putRet(k, v.replaceFirst("^(read_\\w+):output:", "$1:value:")));
    }
    return b.build();
  }

  private static org.tensorflow.proto.TensorInfo tensorInfo(String name, Shape shape) {
    var s = org.tensorflow.proto.TensorShapeProto.newBuilder();
    for (long d : shape.asArray()) {
      s.addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return org.tensorflow.proto.TensorInfo.newBuilder()
        .setName(name)
        .setDtype(org.tensorflow.proto.DataType.DT_FLOAT)
        .setTensorShape(s)
        .build();
  }

  @Test
  void anExportHasTheSameWeightsWhicheverExportsRanBefore() throws Exception {
    // ControlFlowQuantizationTest's error bounds hold for the weights of a first export; a shared
    // generator gave every later export in the JVM other weights.
    Path first = export(tmp.resolve("first"), true);
    Path second = export(tmp.resolve("second"), true);
    Path data = Path.of("variables", "variables.data-00000-of-00001");
    assertThat(Files.readAllBytes(second.resolve(data)))
        .isEqualTo(Files.readAllBytes(first.resolve(data)));
  }

  @Test
  void functionalControlFlowMatchesTensorFlow() throws Exception {
    Random rnd = new Random(3);
    List<TfjsOracle.Job> jobs = new ArrayList<>();
    List<Map<String, float[]>> expected = new ArrayList<>();
    List<List<String>> keys = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int variant = 0; variant < 4; variant++) {
      boolean stateless = variant % 2 == 1;
      boolean resources = variant >= 2;
      for (int sign : new int[] {1, -1}) {
        String name =
            (resources ? "resource_" : "")
                + (stateless ? "stateless" : "stateful")
                + (sign > 0 ? "_then" : "_else");
        Path dir = tmp.resolve(name + "_savedmodel");
        Path saved = resources ? exportResourceModel(dir, stateless) : export(dir, stateless);
        long[] shape = {2, 4};
        TfjsOracle.Input in = TensorFlowOracle.random("x", shape, DType.FLOAT32.tfEnum(), rnd);
        float[] data = in.data().clone();
        for (int i = 0; i < data.length; i++) {
          data[i] = Math.abs(data[i]) * sign;
        }
        in = TfjsOracle.Input.f32("x", shape, data);
        Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
        feeds.put("x", new TensorFlowOracle.Feed(in, DType.FLOAT32.tfEnum()));
        expected.add(TensorFlowOracle.runSavedModel(saved, "serve", "serving_default", feeds));
        Path out = tmp.resolve(name + "_tfjs");
        ConversionResult s =
            TfGraphToTfjs.convertSavedModel(
                saved,
                out,
                GraphOptions.defaults(),
                TfjsOutputOptions.defaults(),
                ProgressListener.NONE);
        names.add(name + ": " + s.detail());
        var sigIn =
            E2e.modelJson(out)
                .path("signature")
                .path("inputs")
                .path("x")
                .path("name")
                .stringValue();
        jobs.add(
            TfjsOracle.Job.graph(
                out.resolve("model.json"),
                List.of(TfjsOracle.Input.f32(sigIn, shape, data)),
                E2e.outputNames(out)));
        keys.add(E2e.outputKeys(out));
      }
    }
    List<TfjsOracle.Result> results = TfjsOracle.run(jobs);
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < jobs.size(); i++) {
      TfjsOracle.Result r = results.get(i).orThrow();
      for (int k = 0; k < keys.get(i).size(); k++) {
        String key = keys.get(i).get(k);
        Comparison c =
            Comparison.of(expected.get(i).get(key), r.output(k).data(), E2e.ATOL, E2e.RTOL);
        names.set(i, names.get(i) + String.format("; %s max|d|=%.2g", key, c.maxAbs()));
        if (!c.ok()) {
          failures.add(names.get(i) + " output " + key + ": " + c);
        }
      }
    }
    // The inputs must have driven both branches, or the If was never tested both ways.
    java.util.Set<Boolean> elseTaken = new java.util.HashSet<>();
    for (Map<String, float[]> e : expected) {
      double sum = 0;
      for (float v : e.get("h")) {
        sum += v;
      }
      elseTaken.add(sum <= 0);
    }
    assertThat(elseTaken).as("branches taken").containsExactlyInAnyOrder(true, false);
    System.out.println("Built control-flow SavedModels:\n  " + String.join("\n  ", names));
    assertThat(failures).isEmpty();
  }

  /** The same models to TFLite: While/If become WHILE/IF with their functions as subgraphs. */
  @Test
  void functionalControlFlowRunsInTflite() throws Exception {
    Random rnd = new Random(4);
    List<String> lines = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    for (int variant = 0; variant < 4; variant++) {
      boolean stateless = variant % 2 == 1;
      boolean resources = variant >= 2;
      String name = (resources ? "resource_" : "") + (stateless ? "stateless" : "stateful");
      Path dir = tmp.resolve(name + "_tflite_savedmodel");
      Path saved = resources ? exportResourceModel(dir, stateless) : export(dir, stateless);
      Path out = tmp.resolve(name + ".tflite");
      var summary =
          org.tfport.convert.tflite.TfliteConverter.convertSavedModel(
              saved,
              out,
              GraphOptions.defaults(),
              List.of(),
              false,
              org.tfport.convert.tflite.TfliteOptions.defaults());
      List<String> keys =
          GraphLoader.loadSavedModel(saved, GraphOptions.defaults(), false).outputKeys();
      var model = org.tfport.formats.tflite.TfliteReader.read(out);
      assertThat(model.subgraphs()).as(name + " subgraphs").hasSize(5);
      for (int sign : new int[] {1, -1}) {
        long[] shape = {2, 4};
        float[] data =
            TensorFlowOracle.random("x", shape, DType.FLOAT32.tfEnum(), rnd).data().clone();
        for (int i = 0; i < data.length; i++) {
          data[i] = Math.abs(data[i]) * sign;
        }
        Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
        feeds.put(
            "x",
            new TensorFlowOracle.Feed(
                TfjsOracle.Input.f32("x", shape, data), DType.FLOAT32.tfEnum()));
        Map<String, float[]> expected =
            TensorFlowOracle.runSavedModel(saved, "serve", "serving_default", feeds);
        var got =
            org.tfport.testkit.TfliteOracle.run(
                out, List.of(org.tfport.testkit.TfliteOracle.Tensor.f32(new int[] {2, 4}, data)));
        StringBuilder line =
            new StringBuilder(name + (sign > 0 ? "+" : "-") + ": " + summary.detail());
        for (int k = 0; k < keys.size(); k++) {
          Comparison c =
              Comparison.of(expected.get(keys.get(k)), got.get(k).floats(), E2e.ATOL, E2e.RTOL);
          line.append(String.format("; %s max|d|=%.2g", keys.get(k), c.maxAbs()));
          if (!c.ok()) {
            failures.add(name + " " + keys.get(k) + ": " + c);
          }
        }
        lines.add(line.toString());
      }
    }
    System.out.println(
        "Built control-flow SavedModels in TFLite:\n  " + String.join("\n  ", lines));
    assertThat(failures).isEmpty();
  }
}
