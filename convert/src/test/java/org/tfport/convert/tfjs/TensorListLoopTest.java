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
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.DType;
import org.tfport.core.ProgressListener;
import org.tfport.graph.GraphOptions;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TensorFlowOracle;
import org.tfport.testkit.TfjsOracle;

/**
 * A GraphDef whose functional {@code While} loop reads and writes TensorLists ({@code
 * TensorListFromTensor}, {@code TensorListGetItem}, {@code TensorListSetItem}, {@code
 * TensorListStack}), as Keras RNNs write them, built at test time, converted to TF.js (functions
 * kept) and TFLite (a WHILE over the lists' dense tensors) and compared with TensorFlow on the same
 * random inputs.
 */
@OracleTest
public class TensorListLoopTest {
  @TempDir Path tmp;

  /** Seeded here so the model is the same whichever tests ran before it in this JVM. */
  private static Random weights() {
    return new Random(5);
  }

  private static org.tensorflow.proto.AttrValue type(org.tensorflow.proto.DataType t) {
    return org.tensorflow.proto.AttrValue.newBuilder().setType(t).build();
  }

  private static org.tensorflow.proto.NodeDef.Builder node(
      String name, String op, String... inputs) {
    var b = org.tensorflow.proto.NodeDef.newBuilder().setName(name).setOp(op);
    for (String i : inputs) {
      b.addInput(i);
    }
    return b;
  }

  private static org.tensorflow.proto.NodeDef.Builder constant(
      String name, long[] shape, float[] f, int[] i) {
    var t = org.tensorflow.proto.TensorProto.newBuilder();
    var ts = org.tensorflow.proto.TensorShapeProto.newBuilder();
    for (long d : shape) {
      ts.addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    t.setTensorShape(ts);
    var dt =
        f != null ? org.tensorflow.proto.DataType.DT_FLOAT : org.tensorflow.proto.DataType.DT_INT32;
    t.setDtype(dt);
    if (f != null) {
      for (float v : f) {
        t.addFloatVal(v);
      }
    } else {
      for (int v : i) {
        t.addIntVal(v);
      }
    }
    return node(name, "Const")
        .putAttr("dtype", type(dt))
        .putAttr("value", org.tensorflow.proto.AttrValue.newBuilder().setTensor(t).build());
  }

  private static org.tensorflow.proto.AttrValue shapeList(long[]... shapes) {
    var l = org.tensorflow.proto.AttrValue.ListValue.newBuilder();
    for (long[] s : shapes) {
      var ts = org.tensorflow.proto.TensorShapeProto.newBuilder();
      for (long d : s) {
        ts.addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(d));
      }
      l.addShape(ts);
    }
    return org.tensorflow.proto.AttrValue.newBuilder().setList(l).build();
  }

  /**
   * A recurrent loop as TF2 traces a Keras RNN: the input sequence unstacked into a TensorList, an
   * output TensorList reserved, and a While whose body reads step {@code i} ({@code
   * TensorListGetItem}), computes {@code h <- tanh(x_i @ u + h @ w)} and writes it back ({@code
   * TensorListSetItem}); the outputs are the stacked list and the last state. Written as a GraphDef
   * with its function library (TF Java's function builder cannot declare variant arguments),
   * imported into TensorFlow for the reference.
   */
  private static Path tensorListLoop(Path file, int steps, boolean unknownBatch) throws Exception {
    long batch = unknownBatch ? -1 : 2;
    var f32 = org.tensorflow.proto.DataType.DT_FLOAT;
    var i32 = org.tensorflow.proto.DataType.DT_INT32;
    var variant = org.tensorflow.proto.DataType.DT_VARIANT;
    String[] args = {"i", "in_list", "out_list", "h", "u", "w"};
    org.tensorflow.proto.DataType[] types = {i32, variant, variant, f32, f32, f32};
    var condSig = org.tensorflow.proto.OpDef.newBuilder().setName("rnn_cond");
    var bodySig = org.tensorflow.proto.OpDef.newBuilder().setName("rnn_body");
    for (int k = 0; k < args.length; k++) {
      condSig.addInputArg(
          org.tensorflow.proto.OpDef.ArgDef.newBuilder().setName(args[k]).setType(types[k]));
      bodySig.addInputArg(
          org.tensorflow.proto.OpDef.ArgDef.newBuilder().setName(args[k]).setType(types[k]));
      bodySig.addOutputArg(
          org.tensorflow.proto.OpDef.ArgDef.newBuilder()
              .setName(args[k] + "_next")
              .setType(types[k]));
    }
    condSig.addOutputArg(
        org.tensorflow.proto.OpDef.ArgDef.newBuilder()
            .setName("more")
            .setType(org.tensorflow.proto.DataType.DT_BOOL));
    var cond =
        org.tensorflow.proto.FunctionDef.newBuilder()
            .setSignature(condSig)
            .addNodeDef(constant("steps", new long[0], null, new int[] {steps}))
            .addNodeDef(node("less", "Less", "i", "steps:output:0").putAttr("T", type(i32)))
            .putRet("more", "less:z:0");
    var body =
        org.tensorflow.proto.FunctionDef.newBuilder()
            .setSignature(bodySig)
            .addNodeDef(constant("x_shape", new long[] {2}, null, new int[] {(int) batch, 4}))
            .addNodeDef(
                node("x_t", "TensorListGetItem", "in_list", "i", "x_shape:output:0")
                    .putAttr("element_dtype", type(f32)))
            .addNodeDef(node("xu", "MatMul", "x_t:item:0", "u").putAttr("T", type(f32)))
            .addNodeDef(node("hw", "MatMul", "h", "w").putAttr("T", type(f32)))
            .addNodeDef(
                node("sum", "AddV2", "xu:product:0", "hw:product:0").putAttr("T", type(f32)))
            .addNodeDef(node("h_next", "Tanh", "sum:z:0").putAttr("T", type(f32)))
            .addNodeDef(
                node("written", "TensorListSetItem", "out_list", "i", "h_next:y:0")
                    .putAttr("element_dtype", type(f32)))
            .addNodeDef(constant("one", new long[0], null, new int[] {1}))
            .addNodeDef(node("i_next", "AddV2", "i", "one:output:0").putAttr("T", type(i32)))
            .addNodeDef(node("in_pass", "Identity", "in_list").putAttr("T", type(variant)))
            .addNodeDef(node("u_pass", "Identity", "u").putAttr("T", type(f32)))
            .addNodeDef(node("w_pass", "Identity", "w").putAttr("T", type(f32)))
            .putRet("i_next", "i_next:z:0")
            .putRet("in_list_next", "in_pass:output:0")
            .putRet("out_list_next", "written:output_handle:0")
            .putRet("h_next", "h_next:y:0")
            .putRet("u_next", "u_pass:output:0")
            .putRet("w_next", "w_pass:output:0");
    Random weights = weights();
    float[] u = new float[12];
    float[] w = new float[9];
    for (int k = 0; k < u.length; k++) {
      u[k] = (weights.nextFloat() * 2 - 1) * 0.8f;
    }
    for (int k = 0; k < w.length; k++) {
      w[k] = (weights.nextFloat() * 2 - 1) * 0.8f;
    }
    var whileTypes = org.tensorflow.proto.AttrValue.ListValue.newBuilder();
    for (var t : types) {
      whileTypes.addType(t);
    }
    var g =
        org.tensorflow.proto.GraphDef.newBuilder()
            .addNode(
                node("x", "Placeholder")
                    .putAttr("dtype", type(f32))
                    .putAttr(
                        "shape",
                        org.tensorflow.proto.AttrValue.newBuilder()
                            .setShape(
                                org.tensorflow.proto.TensorShapeProto.newBuilder()
                                    .addDim(
                                        org.tensorflow.proto.TensorShapeProto.Dim.newBuilder()
                                            .setSize(batch))
                                    .addDim(
                                        org.tensorflow.proto.TensorShapeProto.Dim.newBuilder()
                                            .setSize(steps))
                                    .addDim(
                                        org.tensorflow.proto.TensorShapeProto.Dim.newBuilder()
                                            .setSize(4)))
                            .build()))
            .addNode(constant("perm", new long[] {3}, null, new int[] {1, 0, 2}))
            .addNode(
                node("time_major", "Transpose", "x", "perm")
                    .putAttr("T", type(f32))
                    .putAttr("Tperm", type(i32)))
            .addNode(constant("in_shape", new long[] {2}, null, new int[] {(int) batch, 4}))
            .addNode(
                node("in_list", "TensorListFromTensor", "time_major", "in_shape")
                    .putAttr("element_dtype", type(f32))
                    .putAttr("shape_type", type(i32)))
            .addNode(constant("out_shape", new long[] {2}, null, new int[] {(int) batch, 3}))
            .addNode(constant("steps", new long[0], null, new int[] {steps}))
            .addNode(
                node("out_list", "TensorListReserve", "out_shape", "steps")
                    .putAttr("element_dtype", type(f32))
                    .putAttr("shape_type", type(i32)))
            .addNode(constant("i0", new long[0], null, new int[] {0}))
            // The initial state as Keras makes it: zeros of [batch, units], the batch read off the
            // input.
            .addNode(
                node("x_dims", "Shape", "x").putAttr("T", type(f32)).putAttr("out_type", type(i32)))
            .addNode(constant("first", new long[] {1}, null, new int[] {0}))
            .addNode(constant("second", new long[] {1}, null, new int[] {1}))
            .addNode(
                node("batch", "StridedSlice", "x_dims", "first", "second", "second")
                    .putAttr("T", type(i32))
                    .putAttr("Index", type(i32))
                    .putAttr(
                        "shrink_axis_mask",
                        org.tensorflow.proto.AttrValue.newBuilder().setI(1).build()))
            .addNode(constant("units", new long[0], null, new int[] {3}))
            .addNode(
                node("h0_dims", "Pack", "batch", "units")
                    .putAttr("T", type(i32))
                    .putAttr("N", org.tensorflow.proto.AttrValue.newBuilder().setI(2).build()))
            .addNode(constant("zero", new long[0], new float[1], null))
            .addNode(
                node("h0", "Fill", "h0_dims", "zero")
                    .putAttr("T", type(f32))
                    .putAttr("index_type", type(i32)))
            .addNode(constant("u", new long[] {4, 3}, u, null))
            .addNode(constant("w", new long[] {3, 3}, w, null))
            .addNode(
                node("rnn", "While", "i0", "in_list", "out_list", "h0", "u", "w")
                    .putAttr(
                        "T",
                        org.tensorflow.proto.AttrValue.newBuilder().setList(whileTypes).build())
                    .putAttr(
                        "cond",
                        org.tensorflow.proto.AttrValue.newBuilder()
                            .setFunc(
                                org.tensorflow.proto.NameAttrList.newBuilder().setName("rnn_cond"))
                            .build())
                    .putAttr(
                        "body",
                        org.tensorflow.proto.AttrValue.newBuilder()
                            .setFunc(
                                org.tensorflow.proto.NameAttrList.newBuilder().setName("rnn_body"))
                            .build())
                    .putAttr(
                        "output_shapes",
                        shapeList(
                            new long[0],
                            new long[0],
                            new long[0],
                            new long[] {batch, 3},
                            new long[] {4, 3},
                            new long[] {3, 3}))
                    .putAttr(
                        "parallel_iterations",
                        org.tensorflow.proto.AttrValue.newBuilder().setI(10).build()))
            .addNode(
                node("stacked", "TensorListStack", "rnn:2", "out_shape")
                    .putAttr("element_dtype", type(f32))
                    .putAttr(
                        "num_elements",
                        org.tensorflow.proto.AttrValue.newBuilder().setI(steps).build()))
            .addNode(node("sequence", "Identity", "stacked").putAttr("T", type(f32)))
            .addNode(node("last", "Identity", "rnn:3").putAttr("T", type(f32)))
            .setLibrary(
                org.tensorflow.proto.FunctionDefLibrary.newBuilder()
                    .addFunction(cond)
                    .addFunction(body));
    Files.write(file, g.build().toByteArray());
    return file;
  }

  /**
   * The TensorList loop in TF.js (functions kept) and in TFLite (WHILE over the lists' dense
   * tensors).
   */
  @Test
  void tensorListLoopMatchesTensorFlowInTfjsAndTflite() throws Exception {
    Random rnd = new Random(8);
    List<String> lines = new ArrayList<>();
    for (int variant = 0; variant < 3; variant++) {
      int steps = variant == 0 ? 1 : 5;
      // The last variant declares an unknown batch, as a Keras SavedModel does, and is fed a batch
      // of 2.
      boolean unknownBatch = variant == 2;
      Path pb = tensorListLoop(tmp.resolve("rnn_" + variant + ".pb"), steps, unknownBatch);
      long[] shape = {2, steps, 4};
      float[] data = TensorFlowOracle.random("x", shape, DType.FLOAT32.tfEnum(), rnd).data();
      Map<String, TensorFlowOracle.Feed> feeds = new LinkedHashMap<>();
      feeds.put(
          "x",
          new TensorFlowOracle.Feed(
              TfjsOracle.Input.f32("x", shape, data), DType.FLOAT32.tfEnum()));
      List<String> outputs = List.of("sequence", "last");
      List<float[]> expected = TensorFlowOracle.runGraphDef(pb, feeds, outputs);

      GraphOptions go = GraphOptions.defaults().withOutputNodeNames(outputs);
      Path js = tmp.resolve("rnn_" + variant + "_tfjs");
      TfGraphToTfjs.convertFrozen(pb, js, go, TfjsOutputOptions.defaults(), ProgressListener.NONE);
      var jsOut =
          TfjsOracle.run(
                  List.of(
                      TfjsOracle.Job.graph(
                          js.resolve("model.json"),
                          List.of(TfjsOracle.Input.f32("x", shape, data)),
                          outputs)))
              .get(0)
              .orThrow();
      Path lite = tmp.resolve("rnn_" + variant + ".tflite");
      var summary =
          org.tfport.convert.tflite.TfliteConverter.convertFrozen(
              pb,
              lite,
              go,
              List.of("x"),
              Map.of(),
              org.tfport.convert.tflite.TfliteOptions.defaults());
      var liteOut =
          org.tfport.testkit.TfliteOracle.run(
              lite,
              List.of(org.tfport.testkit.TfliteOracle.Tensor.f32(new int[] {2, steps, 4}, data)));
      StringBuilder line =
          new StringBuilder(
              steps + " steps" + (unknownBatch ? ", unknown batch" : "") + ": " + summary.detail());
      for (int k = 0; k < outputs.size(); k++) {
        Comparison cj = Comparison.of(expected.get(k), jsOut.output(k).data(), E2e.ATOL, E2e.RTOL);
        Comparison cl = Comparison.of(expected.get(k), liteOut.get(k).floats(), E2e.ATOL, E2e.RTOL);
        line.append(
            String.format(
                "; %s TF.js max|d|=%.2g TFLite max|d|=%.2g",
                outputs.get(k), cj.maxAbs(), cl.maxAbs()));
        assertThat(cj.ok()).as(steps + " steps TF.js " + outputs.get(k) + ": " + cj).isTrue();
        assertThat(cl.ok()).as(steps + " steps TFLite " + outputs.get(k) + ": " + cl).isTrue();
      }
      assertThat(expected.get(0)).hasSize(steps * 2 * 3);
      lines.add(line.toString());
    }
    System.out.println("TensorList loop:\n  " + String.join("\n  ", lines));
  }
}
