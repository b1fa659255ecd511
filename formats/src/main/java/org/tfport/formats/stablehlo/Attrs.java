package org.tfport.formats.stablehlo;

import java.util.ArrayList;
import java.util.List;
import org.tfport.formats.stablehlo.Attr.ArrayAttr;
import org.tfport.formats.stablehlo.Attr.BoolAttr;
import org.tfport.formats.stablehlo.Attr.DenseArrayAttr;
import org.tfport.formats.stablehlo.Attr.DenseAttr;
import org.tfport.formats.stablehlo.Attr.IntAttr;

/** Reading attribute values whichever syntax wrote them. */
public final class Attrs {
  private Attrs() {}

  /**
   * The integers of a list-like attribute: {@code array<i64: ...>}, {@code dense<...>}, {@code [1,
   * 2]} or nested lists (flattened), a single integer, booleans as 1/0; {@code null} gives an empty
   * array.
   */
  public static long[] longs(Attr a) {
    if (a == null) {
      return new long[0];
    }
    List<Long> out = new ArrayList<>();
    collect(a, out);
    return out.stream().mapToLong(Long::longValue).toArray();
  }

  private static void collect(Attr a, List<Long> out) {
    switch (a) {
      case DenseArrayAttr d -> {
        for (long v : d.values()) {
          out.add(v);
        }
      }
      case DenseAttr d -> {
        for (long v : d.value().toLongs()) {
          out.add(v);
        }
      }
      case ArrayAttr arr -> arr.items().forEach(i -> collect(i, out));
      case IntAttr i -> out.add(i.value());
      case BoolAttr b -> out.add(b.value() ? 1L : 0L);
      default -> throw new IllegalArgumentException("not a list of integers: " + a);
    }
  }

  /** The integer of {@code a}, or {@code fallback} when absent. */
  public static long intValue(Attr a, long fallback) {
    if (a == null) {
      return fallback;
    }
    long[] v = longs(a);
    if (v.length != 1) {
      throw new IllegalArgumentException("not one integer: " + a);
    }
    return v[0];
  }
}
