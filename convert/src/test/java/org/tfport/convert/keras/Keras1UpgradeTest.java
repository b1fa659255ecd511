package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.TfjsOutputOptions;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.ProgressListener;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.keras.KerasH5Writer;
import org.tfport.formats.keras.KerasLayerWeights;
import org.tfport.formats.keras.KerasWeight;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfjsOracle.Input;
import org.tfport.testkit.TfjsOracle.Job;
import org.tfport.testkit.TfjsOracle.Result;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Keras 1 configs and weights translated to Keras 2 form: hand-written Keras 1 input, checked by
 * value.
 */
class Keras1UpgradeTest {
  private static final Path FILE = Path.of("k1.h5");

  private static ObjectNode json(String s) {
    return (ObjectNode) Json.MAPPER.readTree(s.replace('\'', '"'));
  }

  private static ObjectNode upgraded(String modelConfig) {
    ObjectNode config = json(modelConfig);
    Keras1Upgrade.upgrade(FILE, null, config);
    return config;
  }

  private static KerasWeight weight(String name, long[] shape, float... values) {
    Tensor t = Tensor.ofFloats(Shape.of(shape), values);
    return new KerasWeight(name, DType.FLOAT32, t.shape(), () -> t);
  }

  /** Values base, base+1, ...: every element says where it came from. */
  private static float[] counting(int n, float base) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = base + i;
    }
    return v;
  }

  @Test
  void denseConfigBecomesKeras2() {
    ObjectNode m =
        upgraded(
            "{'class_name': 'Sequential', 'config': [{'class_name': 'Dense', 'config': {"
                + "'name': 'dense_1', 'trainable': true, 'batch_input_shape': [null, 4], 'input_dtype': 'float32',"
                + " 'output_dim': 6, 'init': 'glorot_uniform', 'activation': 'relu', 'W_regularizer': {'l2': 0.1,"
                + " 'name': 'WeightRegularizer', 'l1': 0.0}, 'b_regularizer': null, 'activity_regularizer': null,"
                + " 'W_constraint': {'name': 'MaxNorm', 'm': 2.0, 'axis': 0}, 'b_constraint': null, 'bias': false,"
                + " 'input_dim': 4}}]}");
    JsonNode c = m.path("config").get(0).path("config");
    assertThat(m.path("config").get(0).path("class_name").asString()).isEqualTo("Dense");
    assertThat(c.path("units").asInt()).isEqualTo(6);
    assertThat(c.path("use_bias").asBoolean()).isFalse();
    assertThat(c.path("dtype").asString()).isEqualTo("float32");
    assertThat(c.path("activation").asString()).isEqualTo("relu");
    assertThat(c.path("kernel_initializer").path("class_name").asString())
        .isEqualTo("VarianceScaling");
    assertThat(c.path("kernel_initializer").path("config").path("mode").asString())
        .isEqualTo("fan_avg");
    assertThat(c.path("kernel_regularizer").path("class_name").asString()).isEqualTo("L1L2");
    assertThat(c.path("kernel_regularizer").path("config").path("l2").asDouble()).isEqualTo(0.1);
    assertThat(c.path("kernel_constraint").path("config").path("max_value").asDouble())
        .isEqualTo(2.0);
    assertThat(
            c.has("output_dim")
                || c.has("init")
                || c.has("bias")
                || c.has("input_dim")
                || c.has("W_regularizer")
                || c.has("input_dtype"))
        .isFalse();
  }

  @Test
  void thConvolutionConfigBecomesChannelsFirstConv2D() {
    ObjectNode m =
        upgraded(
            "{'class_name': 'Sequential', 'config': [{'class_name': 'Convolution2D', 'config': {"
                + "'name': 'conv', 'trainable': true, 'batch_input_shape': [null, 3, 8, 8], 'input_dtype': 'float32',"
                + " 'nb_filter': 5, 'nb_row': 3, 'nb_col': 2, 'init': 'he_normal', 'activation': 'linear',"
                + " 'border_mode': 'same', 'subsample': [2, 1], 'dim_ordering': 'th', 'W_regularizer': null,"
                + " 'b_regularizer': null, 'activity_regularizer': null, 'W_constraint': {'name': 'MaxNorm', 'm': 3,"
                + " 'axis': [1, 2, 3]}, 'b_constraint': null, 'bias': true}}, {'class_name': 'MaxPooling2D', 'config': {"
                + "'name': 'pool', 'trainable': true, 'pool_size': [2, 2], 'strides': null, 'border_mode': 'valid',"
                + " 'dim_ordering': 'th'}}]}");
    JsonNode conv = m.path("config").get(0);
    JsonNode c = conv.path("config");
    assertThat(conv.path("class_name").asString()).isEqualTo("Conv2D");
    assertThat(c.path("filters").asInt()).isEqualTo(5);
    assertThat(c.path("kernel_size").toString()).isEqualTo("[3,2]");
    assertThat(c.path("strides").toString()).isEqualTo("[2,1]");
    assertThat(c.path("padding").asString()).isEqualTo("same");
    assertThat(c.path("data_format").asString()).isEqualTo("channels_first");
    assertThat(c.path("dilation_rate").toString()).isEqualTo("[1,1]");
    assertThat(c.path("kernel_initializer").path("config").path("scale").asDouble()).isEqualTo(2.0);
    // th kernels were (out, in, rows, cols); the constraint's axes in, rows, cols are now 2, 0, 1.
    assertThat(c.path("kernel_constraint").path("config").path("axis").toString())
        .isEqualTo("[2,0,1]");
    JsonNode pool = m.path("config").get(1).path("config");
    assertThat(pool.path("padding").asString()).isEqualTo("valid");
    assertThat(pool.path("data_format").asString()).isEqualTo("channels_first");
    assertThat(pool.path("strides").isNull()).isTrue();
  }

  @Test
  void lstmConfigBecomesKeras2() {
    ObjectNode m =
        upgraded(
            "{'class_name': 'Sequential', 'config': [{'class_name': 'LSTM', 'config': {"
                + "'name': 'lstm_1', 'trainable': true, 'return_sequences': true, 'go_backwards': false,"
                + " 'stateful': false, 'unroll': false, 'consume_less': 'gpu', 'input_dim': 5, 'input_length': 7,"
                + " 'output_dim': 6, 'init': 'glorot_uniform', 'inner_init': 'orthogonal', 'forget_bias_init': 'one',"
                + " 'activation': 'tanh', 'inner_activation': 'hard_sigmoid', 'W_regularizer': null,"
                + " 'U_regularizer': {'name': 'WeightRegularizer', 'l1': 0.01, 'l2': 0.0}, 'b_regularizer': null,"
                + " 'dropout_W': 0.2, 'dropout_U': 0.3}}]}");
    JsonNode c = m.path("config").get(0).path("config");
    assertThat(c.path("units").asInt()).isEqualTo(6);
    assertThat(c.path("recurrent_activation").asString()).isEqualTo("hard_sigmoid");
    assertThat(c.path("recurrent_initializer").path("class_name").asString())
        .isEqualTo("Orthogonal");
    assertThat(c.path("recurrent_regularizer").path("config").path("l1").asDouble())
        .isEqualTo(0.01);
    assertThat(c.path("unit_forget_bias").asBoolean()).isTrue();
    assertThat(c.path("dropout").asDouble()).isEqualTo(0.2);
    assertThat(c.path("recurrent_dropout").asDouble()).isEqualTo(0.3);
    assertThat(c.path("implementation").asInt()).isEqualTo(2);
    // The first layer had no batch_input_shape saved: Keras 1 built it from input_length and
    // input_dim.
    assertThat(c.path("batch_input_shape").toString()).isEqualTo("[null,7,5]");
  }

  @Test
  void lstmGatesAreJoinedInKeras2Order() {
    int in = 2;
    int units = 3;
    // Keras 1 saves W, U, b per gate in the order i, c, f, o; each gate's values start at its own
    // base.
    String[] gates = {"i", "c", "f", "o"};
    float[] base = {100, 200, 300, 400};
    List<KerasWeight> ws = new ArrayList<>();
    for (int g = 0; g < 4; g++) {
      ws.add(weight("lstm_1_W_" + gates[g], new long[] {in, units}, counting(in * units, base[g])));
      ws.add(
          weight(
              "lstm_1_U_" + gates[g],
              new long[] {units, units},
              counting(units * units, base[g] + 50)));
      ws.add(weight("lstm_1_b_" + gates[g], new long[] {units}, counting(units, base[g] + 90)));
    }
    JsonNode layer = json("{'class_name': 'LSTM', 'config': {'name': 'lstm_1', 'output_dim': 3}}");
    List<KerasWeight> out = Keras1Weights.convert(FILE, "tf", layer, ws, "lstm_1/");
    assertThat(out)
        .extracting(KerasWeight::name)
        .containsExactly("lstm_1/kernel", "lstm_1/recurrent_kernel", "lstm_1/bias");
    assertThat(out.get(0).shape()).isEqualTo(Shape.of(in, 4 * units));
    assertThat(out.get(1).shape()).isEqualTo(Shape.of(units, 4 * units));
    // Keras 2 order i, f, c, o: row 0 of the kernel is i[0,:], f[0,:], c[0,:], o[0,:].
    float[] kernel = out.get(0).data().get().toFloatArray();
    assertThat(java.util.Arrays.copyOfRange(kernel, 0, 12))
        .containsExactly(100, 101, 102, 300, 301, 302, 200, 201, 202, 400, 401, 402);
    assertThat(java.util.Arrays.copyOfRange(kernel, 12, 24))
        .containsExactly(103, 104, 105, 303, 304, 305, 203, 204, 205, 403, 404, 405);
    float[] recurrent = out.get(1).data().get().toFloatArray();
    assertThat(recurrent[0]).isEqualTo(150);
    assertThat(recurrent[3]).isEqualTo(350);
    assertThat(recurrent[6]).isEqualTo(250);
    assertThat(recurrent[9]).isEqualTo(450);
    assertThat(out.get(2).data().get().toFloatArray())
        .containsExactly(190, 191, 192, 390, 391, 392, 290, 291, 292, 490, 491, 492);
  }

  @Test
  void gruGatesKeepTheirOrderAndBidirectionalHalvesAreNamedPerDirection() {
    List<KerasWeight> ws = new ArrayList<>();
    for (String dir : new String[] {"forward", "backward"}) {
      for (String g : new String[] {"z", "r", "h"}) {
        float b = (dir.equals("forward") ? 0 : 1000) + "zrh".indexOf(g) * 100;
        ws.add(weight(dir + "_gru_1_W_" + g, new long[] {1, 2}, b, b + 1));
        ws.add(weight(dir + "_gru_1_U_" + g, new long[] {2, 2}, b + 10, b + 11, b + 12, b + 13));
        ws.add(weight(dir + "_gru_1_b_" + g, new long[] {2}, b + 20, b + 21));
      }
    }
    JsonNode layer =
        json(
            "{'class_name': 'Bidirectional', 'config': {'name': 'bi', 'layer': {"
                + "'class_name': 'GRU', 'config': {'name': 'gru_1', 'output_dim': 2}}, 'merge_mode': 'concat'}}");
    List<KerasWeight> out = Keras1Weights.convert(FILE, "tf", layer, ws, "bi/");
    assertThat(out)
        .extracting(KerasWeight::name)
        .containsExactly(
            "bi/forward_gru_1/kernel",
            "bi/forward_gru_1/recurrent_kernel",
            "bi/forward_gru_1/bias",
            "bi/backward_gru_1/kernel",
            "bi/backward_gru_1/recurrent_kernel",
            "bi/backward_gru_1/bias");
    assertThat(out.get(0).data().get().toFloatArray()).containsExactly(0, 1, 100, 101, 200, 201);
    assertThat(out.get(5).data().get().toFloatArray())
        .containsExactly(1020, 1021, 1120, 1121, 1220, 1221);
  }

  @Test
  void thConvolutionKernelIsTransposedToRowsColsInOut() {
    int o = 2;
    int i = 3;
    int r = 2;
    int c = 4;
    float[] old = counting(o * i * r * c, 0);
    List<KerasWeight> ws =
        List.of(
            weight("conv_W", new long[] {o, i, r, c}, old), weight("conv_b", new long[] {o}, 7, 8));
    JsonNode layer =
        json(
            "{'class_name': 'Convolution2D', 'config': {'name': 'conv', 'nb_filter': 2,"
                + " 'nb_row': 2, 'nb_col': 4, 'dim_ordering': 'th', 'bias': true}}");
    List<KerasWeight> out = Keras1Weights.convert(FILE, "tf", layer, ws, "conv/");
    assertThat(out.get(0).name()).isEqualTo("conv/kernel");
    assertThat(out.get(0).shape()).isEqualTo(Shape.of(r, c, i, o));
    float[] k = out.get(0).data().get().toFloatArray();
    for (int a = 0; a < o; a++) {
      for (int b = 0; b < i; b++) {
        for (int y = 0; y < r; y++) {
          for (int x = 0; x < c; x++) {
            assertThat(k[((y * c + x) * i + b) * o + a])
                .isEqualTo(old[((a * i + b) * r + y) * c + x]);
          }
        }
      }
    }
    assertThat(out.get(1).name()).isEqualTo("conv/bias");

    // The same layer saved with dim_ordering 'tf' already has Keras 2's layout.
    JsonNode tf =
        json("{'class_name': 'Convolution2D', 'config': {'name': 'conv', 'dim_ordering': 'tf'}}");
    List<KerasWeight> same =
        Keras1Weights.convert(
            FILE,
            "tf",
            tf,
            List.of(
                weight("conv_W", new long[] {r, c, i, o}, old),
                weight("conv_b", new long[] {o}, 7, 8)),
            "conv/");
    assertThat(same.get(0).data().get().toFloatArray()).containsExactly(old);
  }

  @Test
  void conv1dKernelLosesItsDummyAxisAndBatchNormStdIsTheVariance() {
    JsonNode conv =
        json(
            "{'class_name': 'Convolution1D', 'config': {'name': 'c1', 'nb_filter': 2,"
                + " 'filter_length': 3, 'bias': true}}");
    List<KerasWeight> out =
        Keras1Weights.convert(
            FILE,
            "tf",
            conv,
            List.of(
                weight("c1_W", new long[] {3, 1, 4, 2}, counting(24, 0)),
                weight("c1_b", new long[] {2}, 0, 0)),
            "c1/");
    assertThat(out.get(0).shape()).isEqualTo(Shape.of(3, 4, 2));
    assertThat(out.get(0).data().get().toFloatArray()).containsExactly(counting(24, 0));

    JsonNode bn = json("{'class_name': 'BatchNormalization', 'config': {'name': 'bn', 'mode': 0}}");
    List<KerasWeight> bnOut =
        Keras1Weights.convert(
            FILE,
            "tf",
            bn,
            List.of(
                weight("bn_gamma", new long[] {1}, 1),
                weight("bn_beta", new long[] {1}, 2),
                weight("bn_running_mean", new long[] {1}, 3),
                weight("bn_running_std", new long[] {1}, 4)),
            "bn/");
    assertThat(bnOut)
        .extracting(KerasWeight::name)
        .containsExactly("bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance");
    assertThat(bnOut.get(3).data().get().toFloatArray()).containsExactly(4);
  }

  @Test
  void functionalModelGetsKwargsAndMergeClasses() {
    ObjectNode m =
        upgraded(
            "{'class_name': 'Model', 'config': {'name': 'model_1', 'layers': ["
                + "{'name': 'input_1', 'class_name': 'InputLayer', 'config': {'batch_input_shape': [null, 4],"
                + " 'input_dtype': 'float32', 'sparse': false, 'name': 'input_1'}, 'inbound_nodes': []},"
                + "{'name': 'merge_1', 'class_name': 'Merge', 'config': {'name': 'merge_1', 'mode': 'concat',"
                + " 'mode_type': 'raw', 'concat_axis': 1, 'dot_axes': -1, 'output_shape': null,"
                + " 'output_shape_type': 'raw', 'output_mask': null, 'output_mask_type': 'raw', 'arguments': {}},"
                + " 'inbound_nodes': [[['input_1', 0, 0], ['input_1', 0, 0]]]}],"
                + " 'input_layers': [['input_1', 0, 0]], 'output_layers': [['merge_1', 0, 0]]}}");
    JsonNode input = m.path("config").path("layers").get(0);
    assertThat(input.path("config").path("dtype").asString()).isEqualTo("float32");
    JsonNode merge = m.path("config").path("layers").get(1);
    assertThat(merge.path("class_name").asString()).isEqualTo("Concatenate");
    assertThat(merge.path("config").path("axis").asInt()).isEqualTo(1);
    assertThat(merge.path("inbound_nodes").toString())
        .isEqualTo("[[[\"input_1\",0,0,{}],[\"input_1\",0,0,{}]]]");
  }

  @Test
  void inexpressibleLayersAreRefusedNamingFileLayerAndClass() {
    assertThatThrownBy(
            () ->
                upgraded(
                    "{'class_name': 'Sequential', 'config': [{'class_name':"
                        + " 'BatchNormalization', 'config': {'name': 'bn_1', 'mode': 2, 'axis': -1, 'epsilon': 0.001,"
                        + " 'momentum': 0.99, 'gamma_regularizer': null, 'beta_regularizer': null}}]}"))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageStartingWith("k1.h5: Keras 1 layer 'bn_1' (BatchNormalization) uses mode 2")
        .hasMessageNotContaining("\n");
    assertThatThrownBy(
            () ->
                upgraded(
                    "{'class_name': 'Sequential', 'config': [{'class_name': 'Convolution2D',"
                        + " 'config': {'name': 'c', 'nb_filter': 1, 'nb_row': 3, 'nb_col': 3, 'border_mode': 'full',"
                        + " 'dim_ordering': 'tf'}}]}"))
        .hasMessageStartingWith("k1.h5: Keras 1 layer 'c' (Convolution2D) uses border_mode 'full'");
    assertThatThrownBy(
            () ->
                upgraded(
                    "{'class_name': 'Sequential', 'config': [{'class_name': 'Merge',"
                        + " 'config': {'name': 'm', 'mode': 'sum', 'layers': []}}]}"))
        .hasMessageStartingWith("k1.h5: Keras 1 layer 'm' (Merge) joins whole Sequential branches");
    assertThatThrownBy(
            () ->
                upgraded(
                    "{'class_name': 'Sequential', 'config': [{'class_name': 'Dense',"
                        + " 'config': {'name': 'd', 'output_dim': 2, 'mystery': 1}}]}"))
        .hasMessageStartingWith("k1.h5: Keras 1 layer 'd' (Dense) has the setting 'mystery'");
  }

  /**
   * No corpus file has a {@code th} convolution, so one is written here (a Keras 1 Sequential of
   * Convolution2D, Flatten and Dense under the TensorFlow backend), converted, and run by TF.js;
   * its output must be the forward pass Keras 1 computed, done here directly on the Keras 1 layout.
   */
  @OracleTest
  @Test
  void thConvolutionModelComputesInTfjsWhatKeras1Computed(@TempDir Path tmp) {
    int n = 2;
    int ch = 3;
    int h = 5;
    int w = 4;
    int f = 2;
    int kr = 3;
    int kc = 2;
    int units = 3;
    int oh = h - kr + 1;
    int ow = w - kc + 1;
    float[] kernel = random(1, f * ch * kr * kc);
    float[] bias = random(2, f);
    float[] dense = random(3, f * oh * ow * units);
    float[] denseBias = random(4, units);
    float[] x = random(5, n * ch * h * w);
    ObjectNode config =
        json(
            "{'class_name': 'Sequential', 'config': [{'class_name': 'Convolution2D', 'config': {"
                + "'name': 'convolution2d_1', 'trainable': true, 'batch_input_shape': [null, 3, 5, 4],"
                + " 'input_dtype': 'float32', 'nb_filter': 2, 'nb_row': 3, 'nb_col': 2, 'init': 'glorot_uniform',"
                + " 'activation': 'linear', 'border_mode': 'valid', 'subsample': [1, 1], 'dim_ordering': 'th',"
                + " 'W_regularizer': null, 'b_regularizer': null, 'activity_regularizer': null, 'W_constraint': null,"
                + " 'b_constraint': null, 'bias': true}}, {'class_name': 'Flatten', 'config': {'name': 'flatten_1',"
                + " 'trainable': true}}, {'class_name': 'Dense', 'config': {'name': 'dense_1', 'trainable': true,"
                + " 'output_dim': 3, 'init': 'glorot_uniform', 'activation': 'linear', 'W_regularizer': null,"
                + " 'b_regularizer': null, 'activity_regularizer': null, 'W_constraint': null, 'b_constraint': null,"
                + " 'bias': true, 'input_dim': 18}}]}");
    Path h5 = tmp.resolve("th_conv_keras1.h5");
    KerasH5Writer.write(
        h5,
        "1.2.2",
        "tensorflow",
        config,
        null,
        List.of(
            new KerasLayerWeights(
                "convolution2d_1",
                List.of(
                    weight("convolution2d_1_W", new long[] {f, ch, kr, kc}, kernel),
                    weight("convolution2d_1_b", new long[] {f}, bias))),
            new KerasLayerWeights(
                "dense_1",
                List.of(
                    weight("dense_1_W", new long[] {f * oh * ow, units}, dense),
                    weight("dense_1_b", new long[] {units}, denseBias)))));
    Path out = tmp.resolve("tfjs");
    KerasToTfjs.convert(h5, out, TfjsOutputOptions.defaults(), ProgressListener.NONE);

    // Keras 1 on TensorFlow: cross-correlation over (channels, rows, cols), flattened channels
    // first.
    float[] expected = new float[n * units];
    for (int s = 0; s < n; s++) {
      float[] flat = new float[f * oh * ow];
      for (int o = 0; o < f; o++) {
        for (int y = 0; y < oh; y++) {
          for (int z = 0; z < ow; z++) {
            double acc = bias[o];
            for (int c = 0; c < ch; c++) {
              for (int a = 0; a < kr; a++) {
                for (int b = 0; b < kc; b++) {
                  acc +=
                      x[((s * ch + c) * h + y + a) * w + z + b]
                          * kernel[((o * ch + c) * kr + a) * kc + b];
                }
              }
            }
            flat[(o * oh + y) * ow + z] = (float) acc;
          }
        }
      }
      for (int u = 0; u < units; u++) {
        double acc = denseBias[u];
        for (int k = 0; k < flat.length; k++) {
          acc += flat[k] * dense[k * units + u];
        }
        expected[s * units + u] = (float) acc;
      }
    }
    Result r =
        TfjsOracle.run(
            Job.layers(out.resolve("model.json"), new Input(null, new long[] {n, ch, h, w}, x)));
    assertThat(r.ok()).as(r.error()).isTrue();
    Comparison c = Comparison.of(expected, r.outputs().get(0).data(), 1e-5, 1e-4);
    assertThat(c.ok()).as(c.toString()).isTrue();
  }

  /**
   * A Keras 1 functional model with merge layers (no corpus file has one) runs in TF.js as Keras 1
   * computed.
   */
  @OracleTest
  @Test
  void functionalMergeModelComputesInTfjsWhatKeras1Computed(@TempDir Path tmp) {
    int n = 3;
    int in = 4;
    int units = 2;
    float[] w1 = random(11, in * units);
    float[] b1 = random(12, units);
    float[] w2 = random(13, in * units);
    float[] b2 = random(14, units);
    float[] x = random(15, n * in);
    String dense =
        "'class_name': 'Dense', 'config': {'name': '%s', 'trainable': true, 'output_dim': 2,"
            + " 'init': 'glorot_uniform', 'activation': 'linear', 'W_regularizer': null, 'b_regularizer': null,"
            + " 'activity_regularizer': null, 'W_constraint': null, 'b_constraint': null, 'bias': true,"
            + " 'input_dim': 4}, 'inbound_nodes': [[['input_1', 0, 0]]]";
    String merge =
        "'class_name': 'Merge', 'config': {'name': '%s', 'mode': '%s', 'mode_type': 'raw',"
            + " 'concat_axis': -1, 'dot_axes': -1, 'output_shape': null, 'output_shape_type': 'raw',"
            + " 'output_mask': null, 'output_mask_type': 'raw', 'arguments': {}}, 'inbound_nodes': [%s]";
    ObjectNode config =
        json(
            "{'class_name': 'Model', 'config': {'name': 'model_1', 'layers': ["
                + "{'name': 'input_1', 'class_name': 'InputLayer', 'config': {'batch_input_shape': [null, 4],"
                + " 'input_dtype': 'float32', 'sparse': false, 'name': 'input_1'}, 'inbound_nodes': []},"
                + "{'name': 'dense_1', "
                + dense.formatted("dense_1")
                + "},"
                + "{'name': 'dense_2', "
                + dense.formatted("dense_2")
                + "},"
                + "{'name': 'merge_1', "
                + merge.formatted("merge_1", "sum", "[['dense_1', 0, 0], ['dense_2', 0, 0]]")
                + "},{'name': 'merge_2', "
                + merge.formatted("merge_2", "concat", "[['merge_1', 0, 0], ['dense_2', 0, 0]]")
                + "}], 'input_layers': [['input_1', 0, 0]], 'output_layers': [['merge_2', 0, 0]]}}");
    Path h5 = tmp.resolve("functional_keras1.h5");
    KerasH5Writer.write(
        h5,
        "1.2.2",
        "tensorflow",
        config,
        null,
        List.of(
            new KerasLayerWeights(
                "dense_1",
                List.of(
                    weight("dense_1_W", new long[] {in, units}, w1),
                    weight("dense_1_b", new long[] {units}, b1))),
            new KerasLayerWeights(
                "dense_2",
                List.of(
                    weight("dense_2_W", new long[] {in, units}, w2),
                    weight("dense_2_b", new long[] {units}, b2)))));
    Path out = tmp.resolve("tfjs");
    KerasToTfjs.convert(h5, out, TfjsOutputOptions.defaults(), ProgressListener.NONE);

    float[] expected = new float[n * 2 * units];
    for (int s = 0; s < n; s++) {
      for (int u = 0; u < units; u++) {
        double a = b1[u];
        double b = b2[u];
        for (int k = 0; k < in; k++) {
          a += x[s * in + k] * w1[k * units + u];
          b += x[s * in + k] * w2[k * units + u];
        }
        expected[s * 2 * units + u] = (float) (a + b);
        expected[s * 2 * units + units + u] = (float) b;
      }
    }
    Result r =
        TfjsOracle.run(
            Job.layers(out.resolve("model.json"), new Input(null, new long[] {n, in}, x)));
    assertThat(r.ok()).as(r.error()).isTrue();
    Comparison c = Comparison.of(expected, r.outputs().get(0).data(), 1e-5, 1e-4);
    assertThat(c.ok()).as(c.toString()).isTrue();
  }

  private static float[] random(long seed, int count) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[count];
    for (int i = 0; i < count; i++) {
      v[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return v;
  }
}
