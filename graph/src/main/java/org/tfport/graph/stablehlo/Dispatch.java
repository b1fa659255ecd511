package org.tfport.graph.stablehlo;

import java.util.List;
import java.util.Set;
import org.tfport.formats.stablehlo.Op;
import org.tfport.graph.stablehlo.Lowerer.Refusal;
import org.tfport.graph.stablehlo.Lowerer.V;

/** Which family lowers which StableHLO op. */
final class Dispatch {
  private Dispatch() {}

  /** Every op name {@link #lower} handles (the custom calls it knows are checked there). */
  static final Set<String> LOWERED =
      Set.copyOf(
          concat(
              Elementwise.NAMES,
              ShapeLowering.NAMES,
              DotConv.NAMES,
              Reductions.NAMES,
              Indexing.NAMES,
              Scatter.NAMES,
              Control.NAMES,
              ComplexLowering.NAMES,
              ShapeRefinement.DYNAMIC));

  private static List<String> concat(Set<?>... sets) {
    return java.util.Arrays.stream(sets).flatMap(Set::stream).map(Object::toString).toList();
  }

  /** Why {@code op} cannot lower whatever its operands, or null when it may. */
  static String refusalOf(Op op) {
    try {
      if (op.name().equals("stablehlo.custom_call")) {
        Control.checkTarget(op);
        return null;
      }
      if (!LOWERED.contains(op.name()) && !op.name().startsWith("check.")) {
        lower(null, op, List.of());
      }
      return null;
    } catch (Refusal r) {
      return r.getMessage();
    }
  }

  static List<V> lower(Lowerer l, Op op, List<V> ins) {
    String name = op.name();
    if (name.startsWith("check.")) {
      // A test program's assertion: kept for the harness, computes nothing.
      l.checks.add(new Lowerer.Check(name, ins, op));
      return List.of();
    }
    if (Elementwise.NAMES.contains(name)) {
      return List.of(Elementwise.lower(l, op, ins));
    }
    if (ShapeLowering.NAMES.contains(name)) {
      return List.of(ShapeLowering.lower(l, op, ins));
    }
    if (DotConv.NAMES.contains(name)) {
      return List.of(DotConv.lower(l, op, ins));
    }
    if (Reductions.NAMES.contains(name)) {
      return Reductions.lower(l, op, ins);
    }
    if (Indexing.NAMES.contains(name)) {
      return Indexing.lower(l, op, ins);
    }
    if (Scatter.NAMES.contains(name)) {
      return Scatter.lower(l, op, ins);
    }
    if (Control.NAMES.contains(name)) {
      return Control.lower(l, op, ins);
    }
    if (ShapeRefinement.DYNAMIC.contains(name)) {
      return List.of(DynamicShapes.lower(l, op, ins));
    }
    if (name.equals("stablehlo.rng_bit_generator") || name.equals("stablehlo.rng")) {
      throw new Refusal(
          "random bits from XLA's generator, which no TensorFlow op reproduces; pass the random"
              + " values in as an argument instead");
    }
    throw new Refusal("no lowering to TensorFlow ops for this op");
  }
}
