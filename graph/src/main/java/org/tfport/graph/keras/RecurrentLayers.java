package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * LSTM, GRU and SimpleRNN unrolled over a static number of time steps (the loop Keras runs, one
 * step after the other; a While loop when the number is known only at run time), with Keras masks,
 * Bidirectional and TimeDistributed. Initial states are those the call passes ({@code
 * initial_state=}), else zeros.
 */
final class RecurrentLayers {
  private RecurrentLayers() {}

  static void register(Map<String, LayerBuilder> r) {
    for (String cls : List.of("LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU")) {
      r.put(
          cls,
          new LayerBuilder() {
            @Override
            public List<KT> call(Call c, List<KT> in) {
              c.initialStates = initialStates(c, in);
              Tensor[] w = ownWeights(c);
              return c.training() == null
                  ? rnn(c, in.get(0), w, c.mask(0))
                  : rnn(c, in.get(0), w, c.mask(0), TrainingLayers.recurrentVariables(c, w));
            }

            @Override
            public String problem(JsonNode cfg) {
              return recurrentProblem(cfg);
            }
          });
    }
    r.put(
        "Bidirectional",
        new LayerBuilder() {
          @Override
          public List<KT> call(Call c, List<KT> in) {
            refuseInitialStates(c, in);
            return bidirectional(c, in.get(0));
          }

          @Override
          public String problem(JsonNode cfg) {
            JsonNode inner = cfg.path("layer");
            String cls = inner.path("class_name").asString("");
            if (!List.of("LSTM", "GRU", "SimpleRNN", "ConvLSTM2D").contains(cls)) {
              return "wrapped layer " + cls;
            }
            if (cfg.path("return_state").asBoolean(false)
                || inner.path("config").path("return_state").asBoolean(false)) {
              return "return_state";
            }
            return recurrentProblem(inner.path("config"));
          }
        });
    r.put(
        "TimeDistributed",
        new LayerBuilder.Single() {
          @Override
          public KT apply(Call c, KT x) {
            return timeDistributed(c, x);
          }

          @Override
          public String problem(JsonNode cfg) {
            String cls = cfg.path("layer").path("class_name").asString("");
            return KerasGraphBuilder.LAYERS.containsKey(cls) ? null : "wrapped layer " + cls;
          }
        });
  }

  static String recurrentProblem(JsonNode cfg) {
    if (cfg.path("stateful").asBoolean(false)) {
      return "stateful = true (its state lives between calls)";
    }
    return null;
  }

  /** Kernel, recurrent kernel and bias (null without one), by name, else by position. */
  private static Tensor[] ownWeights(Call c) {
    boolean bias = c.bool("use_bias", true);
    return new Tensor[] {
      c.floatWeight("kernel", 0),
      c.floatWeight("recurrent_kernel", 1),
      bias ? c.floatWeight("bias", 2) : null
    };
  }

  static int gates(String cls) {
    return switch (cls) {
      case "LSTM", "CuDNNLSTM" -> 4;
      case "GRU", "CuDNNGRU" -> 3;
      default -> 1;
    };
  }

  /** Columns {@code [from, to)} of a row-major matrix. */
  private static Tensor columns(Tensor m, int from, int to) {
    long[] d = m.shape().dims();
    int rows = (int) d[0];
    int cols = (int) d[1];
    float[] v = m.toFloatArray();
    float[] out = new float[rows * (to - from)];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(v, r * cols + from, out, r * (to - from), to - from);
    }
    return Tensor.ofFloats(Shape.of(rows, to - from), out);
  }

  private static Tensor row(Tensor m, int row) {
    long[] d = m.shape().dims();
    int cols = (int) d[1];
    float[] v = m.toFloatArray();
    float[] out = new float[cols];
    System.arraycopy(v, row * cols, out, 0, cols);
    return Tensor.ofFloats(Shape.of(cols), out);
  }

  /**
   * A recurrent cell: its kind, size and recurrent weights, and its activations as the layer's
   * config names them (null: tanh and sigmoid).
   */
  record Cell(
      int gates,
      int units,
      boolean resetAfter,
      Tensor recurrent,
      Tensor recurrentBias,
      JsonNode activation,
      JsonNode recurrentActivation) {
    boolean lstm() {
      return gates == 4;
    }

    boolean gru() {
      return gates == 3;
    }
  }

  /** A cell's recurrent weights as constants of one graph (the layer's, or a loop body's). */
  record CellNodes(String u, String[] uParts, String rb, String one) {
    static CellNodes of(Emit e, Cell cell) {
      String u = e.constant("recurrent_kernel", cell.recurrent());
      String[] parts = null;
      if (cell.gru() && !cell.resetAfter()) {
        int n = cell.units();
        parts = new String[3];
        for (int k = 0; k < 3; k++) {
          parts[k] = e.constant("recurrent_kernel", columns(cell.recurrent(), k * n, (k + 1) * n));
        }
      }
      String rb =
          cell.recurrentBias() == null ? null : e.constant("recurrent_bias", cell.recurrentBias());
      return new CellNodes(u, parts, rb, e.scalar(1f));
    }
  }

  /**
   * One step from the step's input projection {@code xt} (bias included): the new output/state and,
   * for an LSTM, the new cell state. A null {@code h} is the zero state of the first step. {@code
   * c} emits into the graph that {@code w} belongs to.
   */
  static String[] step(Call c, Cell cell, CellNodes w, String xt, String h, String cellState) {
    Emit e = c.e;
    java.util.function.UnaryOperator<String> activation =
        v ->
            cell.activation() == null
                ? e.unary("Tanh", v)
                : Activations.function(c, cell.activation(), v);
    java.util.function.UnaryOperator<String> recurrent =
        v ->
            cell.recurrentActivation() == null
                ? e.unary("Sigmoid", v)
                : Activations.function(c, cell.recurrentActivation(), v);
    if (cell.lstm()) {
      String z = h == null ? xt : e.binary("AddV2", xt, matmul(e, h, w.u()));
      String split = e.op("Split", List.of(e.intScalar(1), z), "num_split", 4);
      String i = recurrent.apply(split + ":0");
      String f = recurrent.apply(split + ":1");
      String cc = activation.apply(split + ":2");
      String o = recurrent.apply(split + ":3");
      String ic = e.binary("Mul", i, cc);
      String next = cellState == null ? ic : e.binary("AddV2", e.binary("Mul", f, cellState), ic);
      return new String[] {e.binary("Mul", o, activation.apply(next)), next};
    }
    if (cell.gru()) {
      String split = e.op("Split", List.of(e.intScalar(1), xt), "num_split", 3);
      if (h == null) {
        h = e.unary("ZerosLike", split + ":0");
      }
      String zt;
      String rt;
      String hh;
      if (cell.resetAfter()) {
        String hu = matmul(e, h, w.u());
        if (w.rb() != null) {
          hu = e.op("BiasAdd", List.of(hu, w.rb()), "data_format", "NHWC");
        }
        String rs = e.op("Split", List.of(e.intScalar(1), hu), "num_split", 3);
        zt = recurrent.apply(e.binary("AddV2", split + ":0", rs + ":0"));
        rt = recurrent.apply(e.binary("AddV2", split + ":1", rs + ":1"));
        hh = activation.apply(e.binary("AddV2", split + ":2", e.binary("Mul", rt, rs + ":2")));
      } else {
        zt = recurrent.apply(e.binary("AddV2", split + ":0", matmul(e, h, w.uParts()[0])));
        rt = recurrent.apply(e.binary("AddV2", split + ":1", matmul(e, h, w.uParts()[1])));
        hh =
            activation.apply(
                e.binary("AddV2", split + ":2", matmul(e, e.binary("Mul", rt, h), w.uParts()[2])));
      }
      return new String[] {
        e.binary(
            "AddV2", e.binary("Mul", zt, h), e.binary("Mul", e.binary("Sub", w.one(), zt), hh)),
        null
      };
    }
    return new String[] {
      activation.apply(h == null ? xt : e.binary("AddV2", xt, matmul(e, h, w.u()))), null
    };
  }

  /**
   * The initial states a call passes after its sequence (Keras 2 saved {@code initial_state=} of
   * Keras tensors as a call on [sequence, state...]; the builder passes Keras 3's keyword the same
   * way): h, and c for an LSTM, each [batch, units]; null when there are none.
   */
  static String[] initialStates(Call c, List<KT> in) {
    if (in.size() == 1) {
      return null;
    }
    int expected = c.cls.endsWith("LSTM") ? 2 : 1;
    if (in.size() - 1 != expected) {
      throw c.corrupt(
          "is called with "
              + (in.size() - 1)
              + " initial states where it keeps "
              + expected
              + "; the file is damaged");
    }
    String[] out = new String[expected];
    for (int i = 0; i < expected; i++) {
      KT s = in.get(i + 1);
      if (s.rank() != 2 || s.dtype() != KT.FLOAT) {
        throw c.unsupported(
            "is given an initial state of shape "
                + KerasGraphBuilder.shapeText(s.shape())
                + "; tfport builds float32 states of [batch, units]");
      }
      out[i] = s.ref();
    }
    return out;
  }

  /**
   * Layers here that always start from zeros (Bidirectional, ConvLSTM2D) refuse a call with initial
   * states rather than build it without them.
   */
  static void refuseInitialStates(Call c, List<KT> in) {
    if (in.size() > 1) {
      throw c.unsupported(
          "is called with "
              + (in.size() - 1)
              + " initial state"
              + (in.size() > 2 ? "s" : "")
              + ", which tfport does not build (it starts from zeros); call it on its sequence"
              + " alone");
    }
  }

  /**
   * Keras' masked step: the new value where the step is kept ({@code m} = 1), else the previous one
   * (zeros before the first step), as {@code next·m + prev·(1 − m)} the way TF.js computes it.
   */
  static String keep(Emit e, String next, String prev, String m, String notM) {
    if (next == null) {
      return null;
    }
    String kept = e.binary("Mul", next, m);
    return prev == null ? kept : e.binary("AddV2", kept, e.binary("Mul", prev, notM));
  }

  /**
   * One recurrent layer over {@code x} [N, T, features], with the config of {@code c}; {@code mask}
   * [N, T] (float 0/1) or null.
   */
  static List<KT> rnn(Call c, KT x, Tensor[] w, String mask) {
    if (c.training() != null) {
      throw c.unsupported("cannot be trained yet (a wrapped recurrent layer); freeze it");
    }
    return rnn(c, x, w, mask, null);
  }

  /** As above; {@code vars}, when not null, are the kernel, recurrent kernel and bias variables. */
  static List<KT> rnn(Call c, KT x, Tensor[] w, String mask, String[] vars) {
    Emit e = c.e;
    String cls = c.cls;
    if (x.rank() != 3) {
      throw c.corrupt(
          "expects [batch, time, features] but gets " + KerasGraphBuilder.shapeText(x.shape()));
    }
    long steps = x.dim(1);
    int units = c.integer("units", (int) w[1].shape().dim(0));
    int g = gates(cls);
    boolean lstm = g == 4;
    boolean cudnn = cls.startsWith("CuDNN");
    boolean resetAfter = g == 3 && (cudnn || c.bool("reset_after", c.kerasMajor() >= 3));
    long features = x.dim(2);
    if (features <= 0) {
      throw c.unsupported(
          "reads an input of unknown feature size "
              + KerasGraphBuilder.shapeText(x.shape())
              + "; give the model's input a full feature dimension");
    }
    if (w[0].shape().size() != features * g * units
        || w[1].shape().size() != (long) units * g * units) {
      throw c.corrupt(
          "has kernels whose shapes do not fit " + features + " features and " + units + " units");
    }
    // Input projections of every step at once: [N·T, F]·W (+ input bias).
    if (vars != null && steps <= 0) {
      throw c.unsupported(
          "cannot be trained over a number of time steps known only at run time; give the"
              + " model's input a fixed number of steps, or freeze it");
    }
    // Trained biases stored as two parts (reset_after GRU: input and recurrent rows; CuDNN LSTM:
    // input and recurrent halves that add up) are split in the graph so both parts train.
    String inputBiasVar = vars != null ? vars[2] : null;
    String recurrentBiasVar = null;
    if (inputBiasVar != null && (resetAfter || (cudnn && lstm))) {
      String two =
          e.op("Split", List.of(e.intScalar(0), e.reshape(vars[2], 2, -1)), "num_split", 2);
      if (resetAfter) {
        inputBiasVar = e.reshape(two + ":0", 3L * units);
        recurrentBiasVar = e.reshape(two + ":1", 3L * units);
      } else {
        inputBiasVar = e.reshape(e.binary("AddV2", two + ":0", two + ":1"), 4L * units);
      }
    }
    String kernel = vars != null ? vars[0] : e.constant("kernel", w[0]);
    String flat = e.reshape(x.ref(), -1, features);
    String xw = e.op("MatMul", List.of(flat, kernel), "transpose_a", false, "transpose_b", false);
    Tensor recurrentBias = null;
    if (w[2] != null) {
      Tensor inputBias = w[2];
      if (cudnn && lstm) {
        // CuDNN keeps separate input and recurrent biases, [8u]: they add up.
        float[] b = w[2].toFloatArray();
        float[] sum = new float[4 * units];
        for (int i = 0; i < sum.length; i++) {
          sum[i] = b[i] + b[i + 4 * units];
        }
        inputBias = Tensor.ofFloats(Shape.of(4 * units), sum);
      } else if (resetAfter) {
        Tensor b2 =
            w[2].shape().rank() == 2
                ? w[2]
                : Tensor.ofFloats(Shape.of(2, 3L * units), w[2].toFloatArray());
        inputBias = row(b2, 0);
        recurrentBias = row(b2, 1);
      }
      xw =
          e.op(
              "BiasAdd",
              List.of(xw, vars != null ? inputBiasVar : e.constant("bias", inputBias)),
              "data_format",
              "NHWC");
    }
    Cell cell =
        new Cell(
            g,
            units,
            resetAfter,
            w[1],
            recurrentBias,
            c.cfg.has("activation") ? c.cfg.get("activation") : null,
            c.cfg.has("recurrent_activation") ? c.cfg.get("recurrent_activation") : null);
    boolean backwards = c.bool("go_backwards", false);
    boolean sequences = c.bool("return_sequences", false);
    String h;
    String cellState;
    String seq = null;
    if (steps <= 0) {
      // A time dimension known only at run time: the loop Keras runs, as a While.
      String xw3 = e.reshapeKeeping(xw, x.ref(), new long[] {-1, -1, (long) g * units});
      String[] r = RecurrentLoop.run(c, cell, x, xw3, mask, backwards, sequences);
      h = r[0];
      cellState = r[1];
      seq = r[2];
    } else {
      xw = e.reshapeKeeping(xw, x.ref(), new long[] {-1, steps, (long) g * units});
      String unpacked = e.op("Unpack", List.of(xw), "num", steps, "axis", 1);
      String masks = null;
      if (mask != null) {
        masks = e.op("Unpack", List.of(e.expandDims(mask, -1)), "num", steps, "axis", 1);
      }
      CellNodes nodes = CellNodes.of(e, cell);
      if (vars != null) {
        String[] parts = null;
        if (nodes.uParts() != null) {
          String split = e.op("Split", List.of(e.intScalar(1), vars[1]), "num_split", 3);
          parts = new String[] {split + ":0", split + ":1", split + ":2"};
        }
        nodes = new CellNodes(vars[1], parts, recurrentBiasVar, nodes.one());
      }
      List<String> hs = new ArrayList<>();
      h = c.initialStates != null ? c.initialStates[0] : null;
      cellState = c.initialStates != null && lstm ? c.initialStates[1] : null;
      for (int s = 0; s < steps; s++) {
        int t = backwards ? (int) steps - 1 - s : s;
        String[] next = step(c, cell, nodes, unpacked + ":" + t, h, cellState);
        if (masks != null) {
          String m = masks + ":" + t;
          String notM = e.binary("Sub", nodes.one(), m);
          next[0] = keep(e, next[0], h, m, notM);
          next[1] = keep(e, next[1], cellState, m, notM);
        }
        h = next[0];
        cellState = next[1];
        hs.add(h);
      }
      if (sequences) {
        seq = e.op("Pack", hs, "N", hs.size(), "axis", 1);
      }
    }
    List<KT> out = new ArrayList<>();
    if (sequences) {
      out.add(x.with(seq, new long[] {x.dim(0), steps, units}));
    } else {
      out.add(x.with(h, new long[] {x.dim(0), units}));
    }
    if (c.bool("return_state", false)) {
      out.add(x.with(h, new long[] {x.dim(0), units}));
      if (lstm) {
        out.add(x.with(cellState, new long[] {x.dim(0), units}));
      }
    }
    return out;
  }

  static String matmul(Emit e, String a, String b) {
    return e.op("MatMul", List.of(a, b), "transpose_a", false, "transpose_b", false);
  }

  private static List<KT> bidirectional(Call c, KT x) {
    JsonNode fwdLayer = c.cfg.path("layer");
    String cls = fwdLayer.path("class_name").asString("");
    JsonNode fwdCfg = fwdLayer.path("config");
    JsonNode bwdLayer = c.cfg.get("backward_layer");
    JsonNode bwdCfg;
    if (bwdLayer != null && bwdLayer.isObject()) {
      bwdCfg = bwdLayer.path("config");
    } else {
      ObjectNode copy = ((ObjectNode) fwdCfg).deepCopy();
      copy.put("go_backwards", !fwdCfg.path("go_backwards").asBoolean(false));
      bwdCfg = copy;
    }
    List<Tensor> all = c.allWeights();
    boolean bias = fwdCfg.path("use_bias").asBoolean(true);
    int n = bias ? 3 : 2;
    if (all.size() != 2 * n) {
      throw c.corrupt(
          "holds " + all.size() + " weights where its two " + cls + " layers need " + 2 * n);
    }
    Tensor[] fw = {all.get(0), all.get(1), bias ? all.get(2) : null};
    Tensor[] bw = {all.get(n), all.get(n + 1), bias ? all.get(n + 2) : null};
    Emit e = c.e;
    boolean conv = cls.equals("ConvLSTM2D");
    Call fc = c.wrapped(cls, fwdCfg);
    Call bc = c.wrapped(cls, bwdCfg);
    KT f;
    KT b;
    if (conv) {
      boolean train = c.training() != null;
      f =
          ConvRecurrentLayers.convLstm(
                  fc, x, fw, c.mask(0), train ? directionVariables(c, "forward/", 0, bias) : null)
              .get(0);
      b =
          ConvRecurrentLayers.convLstm(
                  bc, x, bw, c.mask(0), train ? directionVariables(c, "backward/", n, bias) : null)
              .get(0);
    } else if (c.training() == null) {
      f = rnn(fc, x, fw, c.mask(0)).get(0);
      b = rnn(bc, x, bw, c.mask(0)).get(0);
    } else {
      // The two layers' weights share short names (kernel, ...): found by position instead.
      f = rnn(fc, x, fw, c.mask(0), directionVariables(c, "forward/", 0, bias)).get(0);
      b = rnn(bc, x, bw, c.mask(0), directionVariables(c, "backward/", n, bias)).get(0);
    }
    if (fwdCfg.path("return_sequences").asBoolean(false)) {
      b =
          b.with(
              e.raw(
                  "ReverseV2",
                  List.of(b.ref(), e.ints("axis", 1)),
                  Map.of("T", Emit.type(KT.FLOAT), "Tidx", Emit.type(KT.INT32))),
              b.shape());
    }
    String mode = c.string("merge_mode", "concat");
    long[] s = f.shape();
    return switch (mode) {
      case "sum" -> List.of(f.with(e.binary("AddV2", f.ref(), b.ref()), s));
      case "mul" -> List.of(f.with(e.binary("Mul", f.ref(), b.ref()), s));
      case "ave" ->
          List.of(f.with(e.binary("Mul", e.binary("AddV2", f.ref(), b.ref()), e.scalar(0.5f)), s));
      case "concat" -> {
        s[s.length - 1] *= 2;
        yield List.of(f.with(e.concat(List.of(f.ref(), b.ref()), s.length - 1), s));
      }
      default -> List.of(f, b);
    };
  }

  /** One direction's kernel, recurrent kernel and bias variables, from weight {@code first} on. */
  private static String[] directionVariables(Call c, String prefix, int first, boolean bias) {
    return new String[] {
      c.weight(prefix + "kernel", first),
      c.weight(prefix + "recurrent_kernel", first + 1),
      bias ? c.weight(prefix + "bias", first + 2) : null
    };
  }

  /** The wrapped layer on every step: [N, T, ...] as [N·T, ...] and back. */
  private static KT timeDistributed(Call c, KT x) {
    JsonNode inner = c.cfg.path("layer");
    String cls = inner.path("class_name").asString("");
    long steps = x.dim(1);
    if (steps <= 0) {
      throw c.unsupported(
          "wraps a time dimension of unknown length; give the model's input a fixed number of time steps");
    }
    long[] rest = new long[x.rank() - 1];
    rest[0] = -1;
    for (int i = 2; i < x.rank(); i++) {
      rest[i - 1] = x.dim(i);
    }
    KT flat = x.with(c.e.reshapeKeeping(x.ref(), x.ref(), rest), rest);
    List<KT> out =
        KerasGraphBuilder.LAYERS.get(cls).call(c.wrapped(cls, inner.path("config")), List.of(flat));
    KT y = out.get(0);
    long[] back = new long[y.rank() + 1];
    back[0] = -1;
    back[1] = steps;
    for (int i = 1; i < y.rank(); i++) {
      back[i + 1] = y.dim(i);
    }
    long[] shape = back.clone();
    shape[0] = x.dim(0);
    return y.with(c.e.reshape(y.ref(), back), shape);
  }
}
