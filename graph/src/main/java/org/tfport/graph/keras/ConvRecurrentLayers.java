package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tfport.core.Tensor;
import tools.jackson.databind.JsonNode;

/**
 * ConvLSTM2D unrolled over its (static) time steps, as Keras' {@code ConvLSTM2DCell} computes a
 * step: the gates {@code i, f, c, o} are the input's convolution (the layer's strides, padding and
 * dilation, plus bias) plus the previous output's convolution with the recurrent kernel (stride 1,
 * {@code same} padding); {@code c = f·c + i·act(c̃)}, {@code h = o·act(c)}.
 */
final class ConvRecurrentLayers {
  private ConvRecurrentLayers() {}

  static void register(Map<String, LayerBuilder> r) {
    r.put(
        "ConvLSTM2D",
        new LayerBuilder() {
          @Override
          public List<KT> call(Call c, List<KT> in) {
            boolean bias = c.bool("use_bias", true);
            Tensor[] w = {
              c.floatWeight("kernel", 0),
              c.floatWeight("recurrent_kernel", 1),
              bias ? c.floatWeight("bias", 2) : null
            };
            RecurrentLayers.refuseInitialStates(c, in);
            return convLstm(
                c,
                in.get(0),
                w,
                c.mask(0),
                c.training() == null ? null : TrainingLayers.recurrentVariables(c, w));
          }

          @Override
          public String problem(JsonNode cfg) {
            return RecurrentLayers.recurrentProblem(cfg);
          }
        });
  }

  /**
   * ConvLSTM2D over {@code x} [N, T, rows, cols, channels] (channels_first: [N, T, ch, r, c]);
   * {@code vars}, when not null, are the kernel, recurrent kernel and bias as training variables
   * (stored in Keras' [kh, kw, in, 4·filters] layout, as the ops read them).
   */
  static List<KT> convLstm(Call c, KT x, Tensor[] w, String mask, String[] vars) {
    Emit e = c.e;
    if (x.rank() != 5) {
      throw c.corrupt(
          "expects [batch, time, rows, cols, channels] but gets "
              + KerasGraphBuilder.shapeText(x.shape()));
    }
    if (mask != null) {
      throw c.unsupported("reads a Keras mask, which tfport does not build for ConvLSTM2D");
    }
    long steps = x.dim(1);
    if (steps <= 0) {
      throw c.unsupported(
          "runs over a time dimension of unknown length; give the model's input a fixed number of"
              + " time steps");
    }
    boolean cf = c.channelsFirst();
    String in = cf ? e.transpose(x.ref(), 0, 1, 3, 4, 2) : x.ref();
    long rows = cf ? x.dim(3) : x.dim(2);
    long cols = cf ? x.dim(4) : x.dim(3);
    long ch = cf ? x.dim(2) : x.dim(4);
    if (rows <= 0 || cols <= 0 || ch <= 0) {
      throw c.unsupported(
          "reads frames of unknown size "
              + KerasGraphBuilder.shapeText(x.shape())
              + "; give the model's input a full shape");
    }
    long[] k = c.ints("kernel_size", 2, 1);
    long[] s = c.ints("strides", 2, 1);
    long[] d = c.ints("dilation_rate", 2, 1);
    String padding = c.string("padding", "valid");
    int filters = c.integer("filters", -1);
    long[] kernelShape = {k[0], k[1], ch, 4L * filters};
    long[] recurrentShape = {k[0], k[1], filters, 4L * filters};
    if (w[0].shape().size() != k[0] * k[1] * ch * 4 * filters
        || w[1].shape().size() != k[0] * k[1] * filters * 4L * filters) {
      throw c.corrupt(
          "has kernels whose shapes do not fit a "
              + k[0]
              + "x"
              + k[1]
              + " kernel, "
              + ch
              + " channels and "
              + filters
              + " filters");
    }
    long outRows = ConvLayers.outLength(rows, k[0], padding, s[0], d[0]);
    long outCols = ConvLayers.outLength(cols, k[1], padding, s[1], d[1]);

    // The input's convolution for every step at once: [N·T, rows, cols, ch].
    String frames = e.reshape(in, -1, rows, cols, ch);
    String kernel =
        vars != null
            ? e.reshape(vars[0], kernelShape)
            : e.constant("kernel", reshaped(w[0], kernelShape));
    String xz = conv(e, frames, kernel, s, padding.equals("same") ? "SAME" : "VALID", d);
    if (w[2] != null) {
      String b = vars != null ? e.reshape(vars[2], 4L * filters) : e.constant("bias", w[2]);
      xz = e.op("BiasAdd", List.of(xz, b), "data_format", "NHWC");
    }
    xz = e.reshapeKeeping(xz, x.ref(), new long[] {-1, steps, outRows, outCols, 4L * filters});
    String unpacked = e.op("Unpack", List.of(xz), "num", steps, "axis", 1);
    String rk =
        vars != null
            ? e.reshape(vars[1], recurrentShape)
            : e.constant("recurrent_kernel", reshaped(w[1], recurrentShape));

    JsonNode act = c.cfg.has("activation") ? c.cfg.get("activation") : null;
    JsonNode ract = c.cfg.has("recurrent_activation") ? c.cfg.get("recurrent_activation") : null;
    java.util.function.UnaryOperator<String> activation =
        v -> act == null ? e.unary("Tanh", v) : Activations.function(c, act, v);
    java.util.function.UnaryOperator<String> recurrent =
        v -> ract == null ? e.unary("Sigmoid", v) : Activations.function(c, ract, v);
    boolean backwards = c.bool("go_backwards", false);
    String h = null;
    String cell = null;
    List<String> hs = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      int t = backwards ? (int) steps - 1 - i : i;
      String xt = unpacked + ":" + t;
      String z =
          h == null
              ? xt
              : e.binary("AddV2", xt, conv(e, h, rk, new long[] {1, 1}, "SAME", new long[] {1, 1}));
      String split = e.op("Split", List.of(e.intScalar(3), z), "num_split", 4);
      String ig = recurrent.apply(split + ":0");
      String fg = recurrent.apply(split + ":1");
      String cc = activation.apply(split + ":2");
      String og = recurrent.apply(split + ":3");
      String ic = e.binary("Mul", ig, cc);
      cell = cell == null ? ic : e.binary("AddV2", e.binary("Mul", fg, cell), ic);
      h = e.binary("Mul", og, activation.apply(cell));
      hs.add(h);
    }
    long[] frame = {x.dim(0), outRows, outCols, filters};
    List<KT> out = new ArrayList<>();
    if (c.bool("return_sequences", false)) {
      String seq = e.op("Pack", hs, "N", hs.size(), "axis", 1);
      long[] shape = {x.dim(0), steps, outRows, outCols, filters};
      out.add(
          cf
              ? x.with(
                  e.transpose(seq, 0, 1, 4, 2, 3),
                  new long[] {x.dim(0), steps, filters, outRows, outCols})
              : x.with(seq, shape));
    } else {
      out.add(frameOut(e, x, h, frame, cf));
    }
    if (c.bool("return_state", false)) {
      out.add(frameOut(e, x, h, frame, cf));
      out.add(frameOut(e, x, cell, frame, cf));
    }
    return out;
  }

  private static KT frameOut(Emit e, KT x, String v, long[] frame, boolean cf) {
    return cf
        ? x.with(e.transpose(v, 0, 3, 1, 2), new long[] {frame[0], frame[3], frame[1], frame[2]})
        : x.with(v, frame);
  }

  private static Tensor reshaped(Tensor t, long[] shape) {
    return new Tensor(t.dtype(), org.tfport.core.Shape.of(shape), t.data());
  }

  private static String conv(
      Emit e, String x, String kernel, long[] strides, String padding, long[] dilations) {
    return e.op(
        "Conv2D",
        List.of(x, kernel),
        "strides",
        new long[] {1, strides[0], strides[1], 1},
        "padding",
        padding,
        "dilations",
        new long[] {1, dilations[0], dilations[1], 1},
        "data_format",
        "NHWC",
        "use_cudnn_on_gpu",
        true,
        "explicit_paddings",
        new long[0]);
  }
}
