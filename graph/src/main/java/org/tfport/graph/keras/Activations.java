package org.tfport.graph.keras;

import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/** Keras activation functions and the advanced-activation layers. */
final class Activations {
  static final Set<String> FUNCTIONS =
      Set.of(
          "linear",
          "relu",
          "relu6",
          "sigmoid",
          "hard_sigmoid",
          "tanh",
          "softmax",
          "elu",
          "selu",
          "softplus",
          "softsign",
          "exponential",
          "swish",
          "silu",
          "gelu",
          "mish",
          "log_softmax",
          "hard_swish",
          "hard_silu",
          "leaky_relu");

  private Activations() {}

  static void register(Map<String, LayerBuilder> r) {
    r.put(
        "Activation",
        new LayerBuilder.Single() {
          @Override
          public KT apply(Call c, KT x) {
            return x.with(function(c, c.cfg.get("activation"), x.ref()), x.shape());
          }

          @Override
          public String problem(JsonNode cfg) {
            return functionProblem(cfg.get("activation"));
          }
        });
    r.put("ReLU", (LayerBuilder.Single) Activations::reluLayer);
    r.put(
        "LeakyReLU",
        (LayerBuilder.Single)
            (c, x) -> {
              double alpha =
                  c.cfg.has("negative_slope")
                      ? c.number("negative_slope", 0.2)
                      : c.number("alpha", c.kerasMajor() >= 3 ? 0.2 : 0.3);
              return x.with(c.e.op("LeakyRelu", List.of(x.ref()), "alpha", alpha), x.shape());
            });
    r.put(
        "ELU",
        (LayerBuilder.Single)
            (c, x) -> x.with(elu(c.e, x.ref(), c.number("alpha", 1.0)), x.shape()));
    r.put(
        "ThresholdedReLU",
        (LayerBuilder.Single)
            (c, x) -> {
              Emit e = c.e;
              String gt =
                  e.op("Greater", List.of(x.ref(), e.scalar((float) c.number("theta", 1.0))));
              String mask = e.cast(gt, KT.BOOL, KT.FLOAT);
              return x.with(e.binary("Mul", x.ref(), mask), x.shape());
            });
    r.put(
        "Softmax",
        (LayerBuilder.Single)
            (c, x) -> {
              long[] axes = c.intList("axis");
              return x.with(softmax(c.e, x, axes == null ? new long[] {-1} : axes), x.shape());
            });
    r.put("PReLU", (LayerBuilder.Single) Activations::prelu);
  }

  static String functionProblem(JsonNode fn) {
    String name = name(fn);
    return name == null || FUNCTIONS.contains(name) ? null : "activation '" + name + "'";
  }

  /** The activation's name: a string, or Keras 3's {@code {"class_name": ..., "config": ...}}. */
  static String name(JsonNode fn) {
    if (fn == null || fn.isNull()) {
      return null;
    }
    if (fn.isObject()) {
      JsonNode cfg = fn.path("config");
      return cfg.isString() ? cfg.stringValue() : fn.path("class_name").asString("");
    }
    return fn.asString();
  }

  /** The activation named by the layer's config applied to {@code x}. */
  static String function(Call c, JsonNode fn, String x) {
    String name = name(fn);
    if (name == null) {
      return x;
    }
    Emit e = c.e;
    return switch (name) {
      case "linear" -> x;
      case "relu" -> e.unary("Relu", x);
      case "relu6" -> e.unary("Relu6", x);
      case "sigmoid" -> e.unary("Sigmoid", x);
      case "tanh" -> e.unary("Tanh", x);
      case "elu" -> e.unary("Elu", x);
      case "selu" -> e.unary("Selu", x);
      case "softplus" -> e.unary("Softplus", x);
      case "softsign" -> e.unary("Softsign", x);
      case "exponential" -> e.unary("Exp", x);
      case "swish", "silu" -> e.binary("Mul", x, e.unary("Sigmoid", x));
      case "mish" -> e.binary("Mul", x, e.unary("Tanh", e.unary("Softplus", x)));
      case "gelu" -> gelu(e, x);
      case "leaky_relu" -> e.op("LeakyRelu", List.of(x), "alpha", 0.2f);
      case "hard_sigmoid" -> hardSigmoid(c, x);
      case "hard_swish", "hard_silu" -> e.binary("Mul", x, hardSigmoid3(e, x));
      case "softmax" -> e.op("Softmax", List.of(x));
      case "log_softmax" -> e.op("LogSoftmax", List.of(x));
      default -> throw c.unsupported("uses activation '" + name + "', which tfport cannot build");
    };
  }

  /** Keras 2 (and TF.js): {@code clip(0.2x + 0.5, 0, 1)}; Keras 3: {@code relu6(x + 3) / 6}. */
  private static String hardSigmoid(Call c, String x) {
    Emit e = c.e;
    if (c.kerasMajor() >= 3) {
      return hardSigmoid3(e, x);
    }
    String lin = e.binary("AddV2", e.binary("Mul", x, e.scalar(0.2f)), e.scalar(0.5f));
    return e.binary("Minimum", e.binary("Maximum", lin, e.scalar(0f)), e.scalar(1f));
  }

  private static String hardSigmoid3(Emit e, String x) {
    return e.binary("Mul", e.unary("Relu6", e.binary("AddV2", x, e.scalar(3f))), e.scalar(1f / 6f));
  }

  /** The exact form, {@code 0.5x(1 + erf(x/√2))}, which Keras uses unless told to approximate. */
  private static String gelu(Emit e, String x) {
    String erf = e.unary("Erf", e.binary("Mul", x, e.scalar((float) (1 / Math.sqrt(2)))));
    return e.binary(
        "Mul", e.binary("Mul", x, e.scalar(0.5f)), e.binary("AddV2", erf, e.scalar(1f)));
  }

  static String elu(Emit e, String x, double alpha) {
    if (alpha == 1.0) {
      return e.unary("Elu", x);
    }
    String pos = e.binary("Greater", x, e.scalar(0f));
    String neg = e.binary("Mul", e.unary("Elu", x), e.scalar((float) alpha));
    return e.op("SelectV2", List.of(pos, x, neg));
  }

  /** Softmax over {@code axes}: the op itself on the last axis, else {@code exp(x - max) / sum}. */
  static String softmax(Emit e, KT x, long[] axes) {
    if (axes.length == 1 && (axes[0] == -1 || axes[0] == x.rank() - 1)) {
      return e.op("Softmax", List.of(x.ref()));
    }
    String max = e.reduce("Max", x.ref(), axes, true);
    String ex = e.unary("Exp", e.binary("Sub", x.ref(), max));
    return e.binary("RealDiv", ex, e.reduce("Sum", ex, axes, true));
  }

  /**
   * Keras' {@code ReLU(max_value, negative_slope, threshold)}: {@code x} from the threshold up,
   * {@code negative_slope·(x − threshold)} below it, capped at {@code max_value}.
   */
  private static KT reluLayer(Call c, KT x) {
    Emit e = c.e;
    JsonNode mv = c.cfg.get("max_value");
    Double max = mv == null || mv.isNull() ? null : mv.asDouble();
    double slope = c.number("negative_slope", 0);
    double threshold = c.number("threshold", 0);
    String y;
    if (slope == 0 && threshold == 0) {
      y = max != null && max == 6.0 ? e.unary("Relu6", x.ref()) : e.unary("Relu", x.ref());
    } else {
      String ge = e.binary("GreaterEqual", x.ref(), e.scalar((float) threshold));
      String below =
          e.binary(
              "Mul",
              e.binary("Sub", x.ref(), e.scalar((float) threshold)),
              e.scalar((float) slope));
      y = e.op("SelectV2", List.of(ge, x.ref(), below));
    }
    if (max != null && !(max == 6.0 && slope == 0 && threshold == 0)) {
      y = e.binary("Minimum", y, e.scalar(max.floatValue()));
    }
    return x.with(y, x.shape());
  }

  /** {@code relu(x) − alpha·relu(−x)}, alpha broadcast over its shared axes. */
  private static KT prelu(Call c, KT x) {
    Emit e = c.e;
    String alpha = c.weight("alpha", 0);
    String pos = e.unary("Relu", x.ref());
    String neg = e.unary("Relu", e.unary("Neg", x.ref()));
    return x.with(e.binary("Sub", pos, e.binary("Mul", alpha, neg)), x.shape());
  }
}
