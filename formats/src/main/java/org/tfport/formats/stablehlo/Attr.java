package org.tfport.formats.stablehlo;

import java.util.List;
import java.util.Map;

/** An MLIR attribute value, in the kinds StableHLO programs use. */
public sealed interface Attr {

  record IntAttr(long value, String type) implements Attr {}

  record FloatAttr(double value, String type) implements Attr {}

  record BoolAttr(boolean value) implements Attr {}

  record StrAttr(String value) implements Attr {}

  /** A symbol reference, {@code @name}, without the {@code @}. */
  record SymAttr(String name) implements Attr {}

  record UnitAttr() implements Attr {}

  record ArrayAttr(List<Attr> items) implements Attr {}

  /** {@code array<i64: 1, 2>}; booleans are 1 and 0. */
  record DenseArrayAttr(String elementType, long[] values) implements Attr {}

  record DenseAttr(DenseElements value) implements Attr {}

  /**
   * An enumerated value: {@code #stablehlo<comparison_direction GT>} gives {@code GT}, and so does
   * a bare {@code GT} in the pretty syntax.
   */
  record EnumAttr(String value) implements Attr {}

  /**
   * A dialect attribute with its own syntax, {@code #stablehlo.gather<...>}: {@code name} is {@code
   * stablehlo.gather}, {@code body} the text between the angle brackets.
   */
  record DialectAttr(String name, String body) implements Attr {}

  record DictAttr(Map<String, Attr> entries) implements Attr {}

  record TypeAttr(MlirType type) implements Attr {}

  /** Anything else, kept as its text (locations, affine maps, layouts). */
  record RawAttr(String text) implements Attr {}
}
