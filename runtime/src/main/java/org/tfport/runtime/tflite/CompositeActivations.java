package org.tfport.runtime.tflite;

import static org.tfport.runtime.tflite.ImportAttrs.type;

import java.util.List;
import org.tfport.core.DType;

/**
 * TFLite activations that have no single TensorFlow op (HARD_SWISH, GELU), imported as the
 * TensorFlow ops that compute them.
 */
final class CompositeActivations {
  private CompositeActivations() {}

  /** x · relu6(x + 3) / 6. */
  static void hardSwish(SubgraphImport s) {
    DType t = NnBuiltins.outType(s);
    String x = s.in(0);
    String shifted =
        s.node(
            "AddV2",
            s.base + "/add3",
            List.of(x, s.scalarConst(s.base + "/three", t, 3)),
            "T",
            type(t));
    String r = s.node("Relu6", s.base + "/Relu6", List.of(shifted), "T", type(t));
    String m = s.node("Mul", s.base + "/Mul", List.of(x, r), "T", type(t));
    s.define(
        0,
        s.node("RealDiv", s.base, List.of(m, s.scalarConst(s.base + "/six", t, 6)), "T", type(t)));
  }

  /**
   * 0.5·x·(1 + erf(x/√2)), or with {@code approximate} 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
   */
  static void gelu(SubgraphImport s) {
    DType t = NnBuiltins.outType(s);
    String x = s.in(0);
    String inner;
    if (s.boolOption("approximate")) {
      String cube =
          s.node(
              "Mul",
              s.base + "/x3",
              List.of(x, s.node("Square", s.base + "/x2", List.of(x), "T", type(t))),
              "T",
              type(t));
      String poly =
          s.node(
              "AddV2",
              s.base + "/poly",
              List.of(
                  x,
                  s.node(
                      "Mul",
                      s.base + "/cubic",
                      List.of(cube, s.scalarConst(s.base + "/c", t, 0.044715)),
                      "T",
                      type(t))),
              "T",
              type(t));
      String scaled =
          s.node(
              "Mul",
              s.base + "/scaled",
              List.of(poly, s.scalarConst(s.base + "/k", t, Math.sqrt(2 / Math.PI))),
              "T",
              type(t));
      inner = s.node("Tanh", s.base + "/Tanh", List.of(scaled), "T", type(t));
    } else {
      String scaled =
          s.node(
              "Mul",
              s.base + "/scaled",
              List.of(x, s.scalarConst(s.base + "/k", t, Math.sqrt(0.5))),
              "T",
              type(t));
      inner = s.node("Erf", s.base + "/Erf", List.of(scaled), "T", type(t));
    }
    String onePlus =
        s.node(
            "AddV2",
            s.base + "/one_plus",
            List.of(inner, s.scalarConst(s.base + "/one", t, 1)),
            "T",
            type(t));
    String half =
        s.node(
            "Mul",
            s.base + "/half_x",
            List.of(x, s.scalarConst(s.base + "/half", t, 0.5)),
            "T",
            type(t));
    s.define(0, s.node("Mul", s.base, List.of(half, onePlus), "T", type(t)));
  }
}
