package org.tfport.core.graph;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** One node attribute, a {@code AttrValue} with exactly one member set. */
public sealed interface AttrValue {
  /** Bytes, usually text ({@code padding: "SAME"}). */
  record Str(byte[] value) implements AttrValue {
    public Str {
      value = value.clone();
    }

    public static Str of(String s) {
      return new Str(s.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public byte[] value() {
      return value.clone();
    }

    public String string() {
      return new String(value, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Str s && java.util.Arrays.equals(s.value, value);
    }

    @Override
    public int hashCode() {
      return java.util.Arrays.hashCode(value);
    }

    @Override
    public String toString() {
      return "Str[" + string() + "]";
    }
  }

  record Int(long value) implements AttrValue {}

  record Float(float value) implements AttrValue {}

  record Bool(boolean value) implements AttrValue {}

  /** A {@link DataTypes} number. */
  record Type(int value) implements AttrValue {}

  record Shape(TensorShape value) implements AttrValue {}

  record TensorAttr(TensorValue value) implements AttrValue {}

  record Func(FuncRef value) implements AttrValue {}

  /**
   * A reference to an attribute of the enclosing function, resolved when the function is
   * instantiated.
   */
  record Placeholder(String name) implements AttrValue {}

  /** An {@code AttrValue} with nothing set (seen as {@code value {}} in text dumps). */
  record None() implements AttrValue {}

  /**
   * A list; protobuf keeps one array per kind and writers set only one, but the IR keeps them all
   * so a read and write is exact.
   */
  record ListAttr(
      List<byte[]> s,
      List<Long> i,
      List<java.lang.Float> f,
      List<Boolean> b,
      List<Integer> type,
      List<TensorShape> shape,
      List<TensorValue> tensor,
      List<FuncRef> func)
      implements AttrValue {
    public ListAttr {
      s = List.copyOf(s);
      i = List.copyOf(i);
      f = List.copyOf(f);
      b = List.copyOf(b);
      type = List.copyOf(type);
      shape = List.copyOf(shape);
      tensor = List.copyOf(tensor);
      func = List.copyOf(func);
    }

    public static ListAttr ofInts(List<Long> values) {
      return new ListAttr(
          List.of(), values, List.of(), List.of(), List.of(), List.of(), List.of(), List.of());
    }

    public static ListAttr ofTypes(List<Integer> values) {
      return new ListAttr(
          List.of(), List.of(), List.of(), List.of(), values, List.of(), List.of(), List.of());
    }

    public static ListAttr ofStrings(List<String> values) {
      return new ListAttr(
          values.stream().map(v -> v.getBytes(StandardCharsets.UTF_8)).toList(),
          List.of(),
          List.of(),
          List.of(),
          List.of(),
          List.of(),
          List.of(),
          List.of());
    }

    /** The number of elements of whichever member is set. */
    public int size() {
      return Math.max(
          Math.max(Math.max(s.size(), i.size()), Math.max(f.size(), b.size())),
          Math.max(Math.max(type.size(), shape.size()), Math.max(tensor.size(), func.size())));
    }
  }
}
