package org.tfport.train.grad;

import java.util.List;
import java.util.Map;
import org.tfport.core.graph.AttrValue;

/** Activations, written with plain math ops from the forward input or output. */
final class ActivationGrads {
  private ActivationGrads() {}

  static void register(Map<String, GradRule> r) {
    // TensorFlow's fused gradient ops: one pass each instead of a mask, a cast and a product, with
    // the same float arithmetic (dy·[x > 0], dy·(1 − y²), dy·(y·(1 − y))).
    r.put("Relu", (g, n, dy) -> List.of(g.binary("ReluGrad", dy.get(0), n.dataInputs().get(0))));
    r.put("Relu6", (g, n, dy) -> List.of(g.binary("Relu6Grad", dy.get(0), n.dataInputs().get(0))));
    r.put(
        "LeakyRelu",
        (g, n, dy) -> {
          String x = n.dataInputs().get(0);
          float alpha = n.attr("alpha") instanceof AttrValue.Float f ? (float) f.value() : 0.2f;
          String pos = g.mask("Greater", x, g.scalar(0f));
          // pos + alpha·(1 − pos)
          String slope =
              g.binary("AddV2", pos, g.mul(g.binary("Sub", g.scalar(1f), pos), g.scalar(alpha)));
          return List.of(g.mul(dy.get(0), slope));
        });
    r.put(
        "Elu",
        (g, n, dy) -> {
          String y = n.name();
          String pos = g.mask("Greater", y, g.scalar(0f));
          String slope =
              g.binary(
                  "AddV2",
                  pos,
                  g.mul(g.binary("Sub", g.scalar(1f), pos), g.binary("AddV2", y, g.scalar(1f))));
          return List.of(g.mul(dy.get(0), slope));
        });
    r.put("Selu", (g, n, dy) -> List.of(g.binary("SeluGrad", dy.get(0), n.name())));
    r.put("Sigmoid", (g, n, dy) -> List.of(g.binary("SigmoidGrad", n.name(), dy.get(0))));
    r.put("Tanh", (g, n, dy) -> List.of(g.binary("TanhGrad", n.name(), dy.get(0))));
    r.put(
        "Softplus",
        (g, n, dy) -> List.of(g.mul(dy.get(0), g.unary("Sigmoid", n.dataInputs().get(0)))));
    r.put(
        "Softsign",
        (g, n, dy) -> {
          String d = g.binary("AddV2", g.scalar(1f), g.unary("Abs", n.dataInputs().get(0)));
          return List.of(g.binary("RealDiv", dy.get(0), g.mul(d, d)));
        });
    r.put(
        "Softmax",
        (g, n, dy) -> {
          // y·(dy − Σ dy·y) over the last axis.
          String y = n.name();
          String s = g.sum(g.mul(dy.get(0), y), new long[] {-1}, true);
          return List.of(g.mul(y, g.binary("Sub", dy.get(0), s)));
        });
    r.put(
        "Erf",
        (g, n, dy) -> {
          // GELU's erf: d/dx erf(x) = 2/√π · exp(−x²).
          String x = n.dataInputs().get(0);
          String bell = g.unary("Exp", g.unary("Neg", g.mul(x, x)));
          return List.of(g.mul(dy.get(0), g.mul(bell, g.scalar((float) (2 / Math.sqrt(Math.PI))))));
        });
    r.put(
        "LogSoftmax",
        (g, n, dy) -> {
          String s = g.sum(dy.get(0), new long[] {-1}, true);
          return List.of(g.binary("Sub", dy.get(0), g.mul(g.unary("Exp", n.name()), s)));
        });
  }
}
