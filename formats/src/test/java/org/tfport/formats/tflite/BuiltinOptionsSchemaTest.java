package org.tfport.formats.tflite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.flatbuffers.FlatBufferBuilder;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The options table layouts restated in {@link OptionsSchema} agree with the generated classes of
 * the 0.4.4 schema: same union order and names, and every field the generated class has is found at
 * the same id with the same default. Fields newer than 0.4.4 (quantized_bias_type, ...) have no
 * generated accessor and are only round-tripped.
 */
class BuiltinOptionsSchemaTest {
  /** Every member of the union but NONE. */
  private static final List<TfliteOptionsType> TYPES =
      java.util.Arrays.stream(TfliteOptionsType.values())
          .filter(t -> t != TfliteOptionsType.NONE)
          .toList();

  @Test
  void unionOrderAndNamesMatchTheGeneratedEnum() {
    assertThat(TfliteOptionsType.values().length)
        .isEqualTo(org.tensorflow.lite.schema.BuiltinOptions.names.length);
    for (TfliteOptionsType t : TfliteOptionsType.values()) {
      assertThat(t.schemaName()).isEqualTo(org.tensorflow.lite.schema.BuiltinOptions.name(t.id()));
      assertThat(TfliteOptionsType.ofId(t.id())).isSameAs(t);
    }
  }

  @Test
  void builtinCodesAndNamesMatchTheGeneratedEnum() {
    String[] generated = org.tensorflow.lite.schema.BuiltinOperator.names;
    for (int code = 0; code < generated.length; code++) {
      assertThat(TfliteBuiltin.ofCode(code).name()).as("code " + code).isEqualTo(generated[code]);
      assertThat(TfliteBuiltin.ofCode(code).code()).isEqualTo(code);
    }
    // Codes newer than the 0.4.4 classes follow on without gaps.
    for (TfliteBuiltin b : TfliteBuiltin.values()) {
      assertThat(b.code()).isEqualTo(b.ordinal());
    }
    assertThat(TfliteBuiltin.nameOf(TfliteBuiltin.values().length))
        .isEqualTo("BUILTIN_" + TfliteBuiltin.values().length);
  }

  @Test
  void everyFieldMatchesTheGeneratedAccessor() throws Exception {
    int checked = 0;
    List<String> newer = new ArrayList<>();
    for (TfliteOptionsType t : TYPES) {
      OptionsSchema.Desc d = OptionsSchema.desc(t);
      Class<?> c = Class.forName("org.tensorflow.lite.schema." + d.name());
      Method root = c.getMethod("getRootAs" + d.name(), ByteBuffer.class);
      // Defaults: an empty table.
      Object empty = root.invoke(null, finish(t, Map.of()));
      for (OptionsSchema.Field f : d.fields()) {
        Method m = accessor(c, f);
        if (m == null) {
          newer.add(d.name() + "." + f.name());
          continue;
        }
        assertThat(norm(read(empty, m, f)))
            .as(d.name() + "." + f.name() + " default")
            .isEqualTo(norm(OptionsSchema.defaults(t).get(f.name())));
        Map<String, Object> one = new LinkedHashMap<>();
        Object v = sample(f);
        one.put(f.name(), v);
        Object table = root.invoke(null, finish(t, one));
        assertThat(norm(read(table, m, f))).as(d.name() + "." + f.name()).isEqualTo(norm(v));
        checked++;
      }
    }
    System.out.println(
        "options fields checked against generated classes: "
            + checked
            + "; newer than 0.4.4: "
            + newer);
    assertThat(checked).isEqualTo(145);
    assertThat(newer)
        .containsExactlyInAnyOrder(
            "Conv2DOptions.quantized_bias_type",
            "FullyConnectedOptions.quantized_bias_type",
            "TransposeConvOptions.quantized_bias_type");
  }

  @Test
  void typedRecordsRoundTripThroughTheirFields() {
    for (TfliteOptionsType t : TYPES) {
      OptionsSchema.Desc d = OptionsSchema.desc(t);
      Map<String, Object> values = new LinkedHashMap<>();
      for (OptionsSchema.Field f : d.fields()) {
        values.put(f.name(), f.kind() == OptionsSchema.Kind.BYTE ? (Object) 1 : sample(f));
      }
      BuiltinOptions o = BuiltinOptions.of(t, values);
      assertThat(o.type()).isEqualTo(t);
      assertThat(o.fields()).isEqualTo(OptionsSchema.normalize(t, values));
      assertThat(BuiltinOptions.of(t, o.fields())).isEqualTo(o);
    }
    assertThat(BuiltinOptions.empty(TfliteOptionsType.CONV_2D_OPTIONS))
        .isInstanceOf(BuiltinOptions.Conv2D.class);
    assertThat(BuiltinOptions.empty(TfliteOptionsType.TRANSPOSE_OPTIONS))
        .isInstanceOf(BuiltinOptions.Other.class);
    // An activation outside the enum is kept as read rather than rejected.
    assertThat(
            BuiltinOptions.of(
                TfliteOptionsType.MUL_OPTIONS, Map.of("fused_activation_function", 9)))
        .isInstanceOf(BuiltinOptions.Other.class);
  }

  @Test
  void rejectsUnknownFieldsAndTypes() {
    assertThatThrownBy(
            () -> BuiltinOptions.of(TfliteOptionsType.CONV_2D_OPTIONS, Map.of("strides", 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Conv2DOptions has no field 'strides'");
    assertThatThrownBy(
            () -> BuiltinOptions.of(TfliteOptionsType.CONV_2D_OPTIONS, Map.of("stride_w", 1L)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("stride_w");
    assertThat(TfliteOptionsType.ofId(127)).isNull();
    assertThatThrownBy(() -> BuiltinOptions.of(TfliteOptionsType.NONE, Map.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static ByteBuffer finish(TfliteOptionsType type, Map<String, Object> values) {
    FlatBufferBuilder b = new FlatBufferBuilder(64);
    b.finish(OptionsSchema.write(b, type, OptionsSchema.normalize(type, values)));
    return ByteBuffer.wrap(b.sizedByteArray()).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static Method accessor(Class<?> c, OptionsSchema.Field f) {
    String camel = camel(f.name());
    try {
      return switch (f.kind()) {
        case INTS, FLOATS -> c.getMethod(camel, int.class);
        default -> c.getMethod(camel);
      };
    } catch (NoSuchMethodException e) {
      return null;
    }
  }

  private static Object read(Object table, Method m, OptionsSchema.Field f) throws Exception {
    if (f.kind() == OptionsSchema.Kind.INTS || f.kind() == OptionsSchema.Kind.FLOATS) {
      int n = (int) table.getClass().getMethod(camel(f.name()) + "Length").invoke(table);
      if (n == 0 && !((boolean) hasVector(table, f))) {
        return null;
      }
      List<Object> out = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        out.add(m.invoke(table, i));
      }
      return out;
    }
    return m.invoke(table);
  }

  private static Object hasVector(Object table, OptionsSchema.Field f) throws Exception {
    return table.getClass().getMethod(camel(f.name()) + "AsByteBuffer").invoke(table) != null;
  }

  /** Byte/short/int/long to Long so generated (byte, long) and map (Integer) values compare. */
  private static Object norm(Object v) {
    if (v instanceof Byte || v instanceof Short || v instanceof Integer || v instanceof Long) {
      return ((Number) v).longValue();
    }
    if (v instanceof List<?> l) {
      return l.stream().map(BuiltinOptionsSchemaTest::norm).toList();
    }
    return v;
  }

  private static Object sample(OptionsSchema.Field f) {
    return switch (f.kind()) {
      case BOOL -> f.def() == 0;
      case BYTE -> (int) f.def() + 3;
      case INT -> (int) f.def() + 7;
      case UINT -> 123456L;
      case LONG -> 1L << 40;
      case FLOAT -> 2.5f;
      case INTS -> List.of(3, -1, 7);
      case FLOATS -> List.of(1.5f, -2f);
      case STRING -> "abc";
    };
  }

  private static String camel(String snake) {
    StringBuilder sb = new StringBuilder();
    boolean up = false;
    for (char ch : snake.toCharArray()) {
      if (ch == '_') {
        up = true;
      } else {
        sb.append(up ? Character.toUpperCase(ch) : ch);
        up = false;
      }
    }
    return sb.toString();
  }
}
