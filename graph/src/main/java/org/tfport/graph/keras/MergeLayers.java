package org.tfport.graph.keras;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate and Dot. */
final class MergeLayers {
  private MergeLayers() {}

  static void register(Map<String, LayerBuilder> r) {
    r.put("Add", (c, in) -> List.of(fold(c, in, "AddV2")));
    r.put("Multiply", (c, in) -> List.of(fold(c, in, "Mul")));
    r.put("Maximum", (c, in) -> List.of(fold(c, in, "Maximum")));
    r.put("Minimum", (c, in) -> List.of(fold(c, in, "Minimum")));
    r.put(
        "Subtract",
        (c, in) -> {
          if (in.size() != 2) {
            throw c.corrupt("subtracts exactly two inputs but is called on " + in.size());
          }
          return List.of(result(in, c.e.binary("Sub", in.get(0).ref(), in.get(1).ref())));
        });
    r.put(
        "Average",
        (c, in) -> {
          KT sum = fold(c, in, "AddV2");
          return List.of(
              sum.with(c.e.binary("Mul", sum.ref(), c.e.scalar(1f / in.size())), sum.shape()));
        });
    r.put("Concatenate", MergeLayers::concatenate);
    r.put("Dot", MergeLayers::dot);
  }

  /** The broadcast shape of the inputs (Keras merges inputs of equal shape, or broadcastable). */
  private static KT result(List<KT> in, String ref) {
    int rank = 0;
    for (KT k : in) {
      rank = Math.max(rank, k.rank());
    }
    long[] s = new long[rank];
    java.util.Arrays.fill(s, 1);
    for (KT k : in) {
      for (int i = 0; i < k.rank(); i++) {
        long d = k.dim(k.rank() - 1 - i);
        int j = rank - 1 - i;
        s[j] = d < 0 ? (s[j] == 1 ? -1 : s[j]) : d == 1 ? s[j] : d;
      }
    }
    return KT.f32(ref, s);
  }

  private static KT fold(Call c, List<KT> in, String op) {
    if (in.size() < 2) {
      throw c.corrupt("merges at least two inputs but is called on " + in.size());
    }
    String acc = in.get(0).ref();
    for (int i = 1; i < in.size(); i++) {
      acc = c.e.binary(op, acc, in.get(i).ref());
    }
    return result(in, acc);
  }

  private static List<KT> concatenate(Call c, List<KT> in) {
    int rank = in.get(0).rank();
    int axis = c.integer("axis", -1);
    axis = axis < 0 ? axis + rank : axis;
    long[] s = in.get(0).shape();
    long total = 0;
    List<String> refs = new ArrayList<>();
    for (KT k : in) {
      refs.add(k.ref());
      total = total < 0 || k.dim(axis) < 0 ? -1 : total + k.dim(axis);
    }
    s[axis] = total;
    return List.of(KT.f32(c.e.concat(refs, axis), s));
  }

  /** Keras' {@code batch_dot} over {@code axes} of two rank-2 or rank-3 inputs. */
  private static List<KT> dot(Call c, List<KT> in) {
    if (in.size() != 2) {
      throw c.corrupt("takes exactly two inputs but is called on " + in.size());
    }
    Emit e = c.e;
    KT a = in.get(0);
    KT b = in.get(1);
    long[] ax = c.intList("axes");
    long axA = ax.length == 1 ? ax[0] : ax[0];
    long axB = ax.length == 1 ? ax[0] : ax[1];
    axA = axA < 0 ? axA + a.rank() : axA;
    axB = axB < 0 ? axB + b.rank() : axB;
    String ra = a.ref();
    String rb = b.ref();
    if (c.bool("normalize", false)) {
      ra = l2Normalize(e, ra, axA);
      rb = l2Normalize(e, rb, axB);
    }
    if (a.rank() == 2 && b.rank() == 2) {
      String prod = e.binary("Mul", ra, rb);
      return List.of(KT.f32(e.reduce("Sum", prod, new long[] {1}, true), new long[] {a.dim(0), 1}));
    }
    if (a.rank() != 3 || b.rank() != 3) {
      throw c.unsupported(
          "takes the dot product of inputs of rank "
              + a.rank()
              + " and "
              + b.rank()
              + "; tfport builds rank 2 and 3");
    }
    boolean adjX = axA == 1;
    boolean adjY = axB == 2;
    String y =
        e.raw(
            "BatchMatMulV2",
            List.of(ra, rb),
            Map.of("T", Emit.type(KT.FLOAT), "adj_x", Emit.attr(adjX), "adj_y", Emit.attr(adjY)));
    long rows = adjX ? a.dim(2) : a.dim(1);
    long cols = adjY ? b.dim(1) : b.dim(2);
    return List.of(KT.f32(y, new long[] {a.dim(0), rows, cols}));
  }

  private static String l2Normalize(Emit e, String x, long axis) {
    String sq = e.reduce("Sum", e.unary("Square", x), new long[] {axis}, true);
    return e.binary("Mul", x, e.unary("Rsqrt", e.binary("Maximum", sq, e.scalar(1e-12f))));
  }
}
