package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;

/**
 * {@code convert --output_format=tflite} and {@code tflite_convert}: success, and refusals as one
 * stderr line.
 */
class TfliteCliTest {
  @TempDir Path tmp;

  static CliRunner run(String... args) {
    return CliRunner.run(args);
  }

  @Test
  void convertsSavedModelAndFrozenGraph() throws Exception {
    Path sm = Corpus.require("savedmodel/tfjava_saved_model");
    Path out = tmp.resolve("a.tflite");
    CliRunner r =
        run(
            "convert",
            "--input_format=tf_saved_model",
            "--output_format=tflite",
            sm.toString(),
            out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(TfliteReader.read(out).signatureDefs()).hasSize(1);
    Path pb = Corpus.require("frozen_pb/tf2onnx/fc-layers.pb");
    Path out2 = tmp.resolve("b.tflite");
    r =
        run(
            "tflite_convert",
            "--graph_def_file",
            pb.toString(),
            "--output_arrays",
            "output",
            "--output_file",
            out2.toString(),
            "--post_training_quantize");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Files.size(out2)).isLessThan(400_000);
  }

  @Test
  void metadataIsAttachedAndReadBack() throws Exception {
    Path sm = Corpus.require("savedmodel/tfjava_saved_model");
    Path labels = tmp.resolve("labels.txt");
    Files.writeString(labels, "cat\ndog\n");
    Path out = tmp.resolve("md.tflite");
    CliRunner r =
        run(
            "tflite_convert",
            "--saved_model_dir",
            sm.toString(),
            "--output_file",
            out.toString(),
            "--metadata_name",
            "demo",
            "--metadata_author",
            "me",
            "--input_norm_mean",
            "127.5",
            "--input_norm_std",
            "127.5",
            "--labels_file",
            labels.toString());
    assertThat(r.code()).as(r.err()).isZero();
    byte[] bytes = Files.readAllBytes(out);
    var md =
        org.tfport.formats.tflite.TfliteMetadata.read(TfliteReader.read(bytes, "md")).orElseThrow();
    assertThat(md.name()).isEqualTo("demo");
    assertThat(md.author()).isEqualTo("me");
    assertThat(md.subgraphs().get(0).inputs().get(0).mean()).containsExactly(127.5f);
    assertThat(
            new String(
                org.tfport.formats.tflite.TfliteMetadata.associatedFiles(bytes, "md")
                    .get("labels.txt")))
        .isEqualTo("cat\ndog\n");
  }

  @Test
  void unsupportedOpsAreListedAndNothingIsWritten() {
    Path pb = Corpus.require("frozen_pb/tf2onnx/lstm.pb");
    Path out = tmp.resolve("lstm.tflite");
    CliRunner r =
        run(
            "tflite_convert",
            "--graph_def_file",
            pb.toString(),
            "--output_arrays",
            "output",
            "--output_file",
            out.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip())
        .doesNotContain("\n")
        .contains("RandomUniform (model/dropout/random_uniform");
    assertThat(out).doesNotExist();
    r =
        run(
            "tflite_convert",
            "--graph_def_file",
            pb.toString(),
            "--output_arrays",
            "output",
            "--output_file",
            out.toString(),
            "--enable_select_tf_ops");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(
            TfliteReader.read(out).operatorCodes().stream()
                .anyMatch(c -> "FlexRandomUniform".equals(c.customCode())))
        .isTrue();
  }

  @Test
  void badInputsFailWithOneLine() throws Exception {
    Path sm = Corpus.require("savedmodel/tfjava_saved_model");
    Path out = tmp.resolve("x.tflite");
    CliRunner r =
        run(
            "tflite_convert",
            "--saved_model_dir",
            sm.toString(),
            "--signature_def_keys",
            "nope",
            "--output_file",
            out.toString());
    assertThat(r.code()).isIn(1, 2);
    assertThat(r.err().strip()).doesNotContain("\n").contains("nope");
    assertThat(out).doesNotExist();

    Path junk = tmp.resolve("junk.pb");
    Files.writeString(junk, "this is not a GraphDef");
    r =
        run(
            "tflite_convert",
            "--graph_def_file",
            junk.toString(),
            "--output_arrays",
            "y",
            "--output_file",
            out.toString());
    assertThat(r.code()).isIn(1, 2);
    assertThat(r.err().strip()).doesNotContain("\n");
    assertThat(out).doesNotExist();

    r = run("convert", "--output_format=tflite", sm.toString(), tmp.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).doesNotContain("\n").contains("folder");
  }

  /** A float32 .npy file (format 1.0) as numpy writes it. */
  static void npy(Path file, int[] shape, float[] v) throws Exception {
    StringBuilder h = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int d : shape) {
      h.append(d).append(shape.length == 1 ? "," : ", ");
    }
    if (shape.length > 1) {
      h.setLength(h.length() - 2);
    }
    h.append("), }");
    h.append(" ".repeat((64 - (11 + h.length()) % 64) % 64)).append('\n');
    java.nio.ByteBuffer b =
        java.nio.ByteBuffer.allocate(10 + h.length() + 4 * v.length)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93)
        .put("NUMPY".getBytes())
        .put((byte) 1)
        .put((byte) 0)
        .putShort((short) h.length())
        .put(h.toString().getBytes());
    for (float x : v) {
      b.putFloat(x);
    }
    Files.write(file, b.array());
  }

  @Test
  void fullIntegerQuantizationFromNpySamples() throws Exception {
    Path pb = Corpus.require("frozen_pb/dl4j-tf_graphs/mnist_00/frozen_model.pb");
    Path samples = Files.createDirectories(tmp.resolve("samples"));
    java.util.Random rnd = new java.util.Random(3);
    for (int i = 0; i < 20; i++) {
      float[] v = new float[784];
      for (int j = 0; j < v.length; j++) {
        v[j] = rnd.nextFloat();
      }
      npy(samples.resolve(String.format("%02d.npy", i)), new int[] {784}, v);
    }
    Path out = tmp.resolve("mnist.int8.tflite");
    CliRunner r =
        run(
            "tflite_convert",
            "--graph_def_file",
            pb.toString(),
            "--output_arrays",
            "output",
            "--output_file",
            out.toString(),
            "--representative_data",
            samples.toString(),
            "--inference_input_type",
            "int8",
            "--inference_output_type",
            "uint8",
            "--target_ops",
            "TFLITE_BUILTINS_INT8");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("quantization int8");
    var sub = TfliteReader.read(out).mainSubgraph();
    assertThat(sub.tensors().get(sub.inputs().get(0)).type())
        .isEqualTo(org.tfport.formats.tflite.TfliteType.INT8);
    assertThat(sub.tensors().get(sub.outputs().get(0)).type())
        .isEqualTo(org.tfport.formats.tflite.TfliteType.UINT8);

    // A folder that does not exist, a sample of the wrong size, a bad inference type: one line,
    // nothing written.
    Path out2 = tmp.resolve("bad.tflite");
    r =
        run(
            "tflite_convert",
            "--graph_def_file",
            pb.toString(),
            "--output_arrays",
            "output",
            "--output_file",
            out2.toString(),
            "--representative_data",
            tmp.resolve("nope").toString());
    assertThat(r.code()).isIn(1, 2);
    assertThat(r.err().strip()).doesNotContain("\n").contains("nope").contains(".npy");
    npy(samples.resolve("zz.npy"), new int[] {1, 783}, new float[783]);
    r =
        run(
            "tflite_convert",
            "--graph_def_file",
            pb.toString(),
            "--output_arrays",
            "output",
            "--output_file",
            out2.toString(),
            "--representative_data",
            samples.toString());
    assertThat(r.code()).isIn(1, 2);
    assertThat(r.err().strip()).doesNotContain("\n").contains("zz.npy").contains("[1, 783]");
    Files.delete(samples.resolve("zz.npy"));
    r =
        run(
            "tflite_convert",
            "--graph_def_file",
            pb.toString(),
            "--output_arrays",
            "output",
            "--output_file",
            out2.toString(),
            "--representative_data",
            samples.toString(),
            "--inference_input_type",
            "int16");
    assertThat(r.code()).isIn(1, 2);
    assertThat(r.err().strip()).doesNotContain("\n").contains("int16");
    assertThat(out2).doesNotExist();

    r = run("tflite_convert", "--help");
    assertThat(r.out()).contains("--representative_data").contains("INPUT.npy");
  }

  @OracleTest
  @Test
  void int16x8QuantizationFromNpySamples() throws Exception {
    Path pb = Corpus.require("frozen_pb/dl4j-tf_graphs/mnist_00/frozen_model.pb");
    Path samples = Files.createDirectories(tmp.resolve("samples"));
    java.util.Random rnd = new java.util.Random(5);
    java.util.List<float[]> inputs = new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      float[] v = new float[784];
      for (int j = 0; j < v.length; j++) {
        v[j] = rnd.nextFloat();
      }
      inputs.add(v);
      npy(samples.resolve(String.format("%02d.npy", i)), new int[] {784}, v);
    }
    String ops = "TFLITE_BUILTINS,EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8";
    Path f32 = tmp.resolve("mnist.tflite");
    CliRunner r =
        run(
            "tflite_convert",
            "--graph_def_file",
            pb.toString(),
            "--output_arrays",
            "output",
            "--output_file",
            f32.toString());
    assertThat(r.code()).as(r.err()).isZero();
    Path out = tmp.resolve("mnist.16x8.tflite");
    r =
        run(
            "tflite_convert",
            "--graph_def_file",
            pb.toString(),
            "--output_arrays",
            "output",
            "--output_file",
            out.toString(),
            "--target_ops",
            ops,
            "--representative_data",
            samples.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("quantization int16x8");
    var model = TfliteReader.read(out);
    var sub = model.mainSubgraph();
    assertThat(model.conversionMetadata().orElseThrow().optimizationModes())
        .containsExactly(org.tfport.formats.tflite.ConversionMetadata.PTQ_INT16);
    assertThat(sub.tensors())
        .anyMatch(t -> t.type() == org.tfport.formats.tflite.TfliteType.INT16)
        .anyMatch(t -> t.type() == org.tfport.formats.tflite.TfliteType.INT64);
    // The samples themselves, through TFLite 2.18: the 16x8 model stays near the float one.
    float[] batch = new float[20 * 784];
    for (int i = 0; i < 20; i++) {
      System.arraycopy(inputs.get(i), 0, batch, i * 784, 784);
    }
    var in =
        java.util.List.of(org.tfport.testkit.TfliteOracle.Tensor.f32(new int[] {20, 784}, batch));
    float[] ref = org.tfport.testkit.TfliteOracle.run(f32, in).get(0).floats();
    float[] got = org.tfport.testkit.TfliteOracle.run(out, in).get(0).floats();
    double err = 0;
    for (int i = 0; i < ref.length; i++) {
      err = Math.max(err, Math.abs(ref[i] - got[i]));
    }
    System.out.printf(
        "CLI 16x8 mnist: max|f-16x8| %.6f, bytes %d -> %d%n",
        err, Files.size(f32), Files.size(out));
    // mnist_00's outputs span about [0, 1] (its int8 output step is 1/256). Against float the int8
    // weights'
    // rounding dominates (4e-3 with these samples); a wrong scale or zero point would be off by far
    // more.
    assertThat(err).isLessThan(0.02);
    assertThat(r.err()).as("every op has an int16 kernel").doesNotContain("stay float");

    // int16 inference I/O; int8 I/O is refused for 16x8 in one line and nothing is written.
    Path io = tmp.resolve("mnist.16x8io.tflite");
    r =
        run(
            "tflite_convert",
            "--graph_def_file",
            pb.toString(),
            "--output_arrays",
            "output",
            "--output_file",
            io.toString(),
            "--target_ops",
            ops,
            "--representative_data",
            samples.toString(),
            "--inference_input_type",
            "int16",
            "--inference_output_type",
            "int16");
    assertThat(r.code()).as(r.err()).isZero();
    var iosub = TfliteReader.read(io).mainSubgraph();
    assertThat(iosub.tensors().get(iosub.inputs().get(0)).type())
        .isEqualTo(org.tfport.formats.tflite.TfliteType.INT16);
    assertThat(iosub.tensors().get(iosub.outputs().get(0)).type())
        .isEqualTo(org.tfport.formats.tflite.TfliteType.INT16);
    Path bad = tmp.resolve("bad.tflite");
    r =
        run(
            "tflite_convert",
            "--graph_def_file",
            pb.toString(),
            "--output_arrays",
            "output",
            "--output_file",
            bad.toString(),
            "--target_ops",
            ops,
            "--representative_data",
            samples.toString(),
            "--inference_input_type",
            "int8");
    assertThat(r.code()).isIn(1, 2);
    assertThat(r.err().strip()).doesNotContain("\n").contains("16x8").contains("float32 or int16");
    assertThat(bad).doesNotExist();
  }
}
