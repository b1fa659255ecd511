package org.tfport.graph.stablehlo;

import java.util.List;
import org.tfport.formats.stablehlo.Attrs;
import org.tfport.formats.stablehlo.Op;
import org.tfport.graph.stablehlo.Lowerer.V;

/**
 * The result shape of an op from its operands' shapes, for results declared with {@code ?}
 * dimensions ({@link ShapeRefinement}); the rules are StableHLO's shape functions for the ops JAX's
 * symbolic-shape programs use.
 */
final class ShapeInference {
  private ShapeInference() {}

  /**
   * The static shape of a result declared {@code declared}, or null when the operands do not fix it
   * (the op is then lowered as declared).
   */
  static long[] infer(Op op, List<V> ins, long[] declared) {
    long[] s =
        switch (op.name()) {
          case "stablehlo.transpose" -> {
            long[] perm = Attrs.longs(op.attr("permutation"));
            long[] x = ins.get(0).shape();
            long[] out = new long[perm.length];
            for (int k = 0; k < perm.length; k++) {
              out[k] = x[(int) perm[k]];
            }
            yield out;
          }
          case "stablehlo.reduce" -> {
            long[] dims = Attrs.longs(op.attr("dimensions"));
            long[] x = ins.get(0).shape();
            long[] out = new long[x.length - dims.length];
            int at = 0;
            for (int k = 0; k < x.length; k++) {
              final int axis = k;
              if (java.util.Arrays.stream(dims).noneMatch(d -> d == axis) && at < out.length) {
                out[at++] = x[k];
              }
            }
            yield out;
          }
          case "stablehlo.concatenate" -> {
            int axis = (int) Attrs.intValue(op.attr("dimension"), 0);
            long[] out = ins.get(0).shape().clone();
            for (int k = 1; k < ins.size() && axis < out.length; k++) {
              out[axis] =
                  out[axis] < 0 || ins.get(k).dim(axis) < 0 ? -1 : out[axis] + ins.get(k).dim(axis);
            }
            yield out;
          }
          case "stablehlo.reshape" -> reshape(ins.get(0).shape(), declared);
          case "stablehlo.broadcast_in_dim" -> broadcast(op, ins.get(0).shape(), declared);
          case "stablehlo.dot_general" ->
              op.attr("dot_dimension_numbers") == null
                  ? null
                  : dot(op, ins.get(0).shape(), ins.get(1).shape());
          default -> Elementwise.NAMES.contains(op.name()) ? elementwise(ins, declared) : null;
        };
    if (s == null || s.length != declared.length) {
      return null;
    }
    for (int k = 0; k < s.length; k++) {
      if (s[k] < 0 || (declared[k] >= 0 && declared[k] != s[k])) {
        return null;
      }
    }
    return s;
  }

  /** Each dimension from an operand of the result's rank that knows it. */
  private static long[] elementwise(List<V> ins, long[] declared) {
    long[] out = declared.clone();
    for (V in : ins) {
      if (in.rank() != out.length) {
        continue;
      }
      for (int k = 0; k < out.length; k++) {
        if (out[k] < 0 && in.dim(k) >= 0) {
          out[k] = in.dim(k);
        }
      }
    }
    return out;
  }

  /** One {@code ?} in the result, fixed by the element count. */
  private static long[] reshape(long[] x, long[] declared) {
    long n = 1;
    for (long d : x) {
      if (d < 0) {
        return null;
      }
      n *= d;
    }
    long known = 1;
    int unknown = -1;
    for (int k = 0; k < declared.length; k++) {
      if (declared[k] < 0) {
        if (unknown >= 0) {
          return null;
        }
        unknown = k;
      } else {
        known *= declared[k];
      }
    }
    if (unknown < 0 || known == 0 || n % known != 0) {
      return null;
    }
    long[] out = declared.clone();
    out[unknown] = n / known;
    return out;
  }

  /** A {@code ?} the operand maps to, when the operand's size there is known and not 1. */
  private static long[] broadcast(Op op, long[] x, long[] declared) {
    long[] dims = Attrs.longs(op.attr("broadcast_dimensions"));
    long[] out = declared.clone();
    for (int k = 0; k < dims.length; k++) {
      int r = (int) dims[k];
      if (r < out.length && out[r] < 0 && x[k] > 1) {
        out[r] = x[k];
      }
    }
    return out;
  }

  private static long[] dot(Op op, long[] lhs, long[] rhs) {
    long[] lb = dims(op, "lhs_batching_dimensions");
    long[] lc = dims(op, "lhs_contracting_dimensions");
    long[] rb = dims(op, "rhs_batching_dimensions");
    long[] rc = dims(op, "rhs_contracting_dimensions");
    long[] out = new long[lhs.length + rhs.length - lc.length - rc.length - rb.length];
    int at = 0;
    for (long b : lb) {
      out[at++] = lhs[(int) b];
    }
    at = free(lhs, lb, lc, out, at);
    free(rhs, rb, rc, out, at);
    return out;
  }

  private static int free(long[] x, long[] batch, long[] contract, long[] out, int at) {
    for (int k = 0; k < x.length; k++) {
      final long axis = k;
      if (java.util.Arrays.stream(batch).noneMatch(d -> d == axis)
          && java.util.Arrays.stream(contract).noneMatch(d -> d == axis)) {
        out[at++] = x[k];
      }
    }
    return at;
  }

  /** A {@code dot_general} dimension list, from the flattened attributes or its dialect form. */
  private static long[] dims(Op op, String name) {
    return op.attr("dot_dimension_numbers") instanceof org.tfport.formats.stablehlo.Attr.DictAttr d
        ? Attrs.longs(d.entries().get(name))
        : new long[0];
  }
}
