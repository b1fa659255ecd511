package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;

/** The JSON tensor codec against hand-written bodies and answers. */
class TensorJsonTest {
  private static final Signature BYTES =
      new Signature(
          "serving_default",
          List.of(new TensorSpec("image_bytes", "x:0", DType.STRING, new long[] {-1})),
          List.of(new TensorSpec("out", "y:0", DType.STRING, new long[] {-1})));

  private static final Signature TWO =
      new Signature(
          "serving_default",
          List.of(
              new TensorSpec("a", "a:0", DType.INT64, new long[] {-1, 2}),
              new TensorSpec("b", "b:0", DType.FLOAT32, new long[] {-1})),
          List.of(new TensorSpec("y", "y:0", null, null)));

  private static TensorJson.Request parse(String body, Signature sig) {
    return TensorJson.inputs(
        TensorJson.parse(body.getBytes(StandardCharsets.UTF_8)), sig, 1_000_000);
  }

  /**
   * TF Serving's json_tensor builds a row-format tensor as [instances] + the JSON shape of item 0,
   * every item the same, and does not reshape it to the signature's shape (neither does its
   * predict_util): {@code [1.0, 2.0]} for a {@code [-1, 1]} input is a {@code [2]} tensor, which
   * the model then accepts or refuses.
   */
  @Test
  void rowTensorsTakeTheJsonShapeNotTheSignatures() {
    Signature column =
        new Signature(
            "serving_default",
            List.of(new TensorSpec("x", "x:0", DType.FLOAT32, new long[] {-1, 1})),
            List.of(new TensorSpec("y", "y:0", null, null)));
    TensorJson.Request r = parse("{\"instances\": [1.0, 2.0]}", column);
    assertThat(r.inputs().get("x").shape()).isEqualTo(Shape.of(2));
    assertThat(r.inputs().get("x").toFloatArray()).containsExactly(1f, 2f);
    assertThat(r.rows()).isEqualTo(2);
    TensorJson.Request nested = parse("{\"instances\": [[1.0], [2.0]]}", column);
    assertThat(nested.inputs().get("x").shape()).isEqualTo(Shape.of(2, 1));
    TensorJson.Request columnar = parse("{\"inputs\": [1.0, 2.0, 3.0]}", column);
    assertThat(columnar.inputs().get("x").shape()).isEqualTo(Shape.of(3));
    HttpError ragged =
        catchThrowableOfType(HttpError.class, () -> parse("{\"instances\": [1.0, [2.0]]}", column));
    assertThat(ragged.status).isEqualTo(400);
  }

  @Test
  void b64ObjectsAreBytes() {
    TensorJson.Request r =
        parse("{\"instances\": [{\"b64\": \"aGk=\"}, {\"b64\": \"AP8=\"}]}", BYTES);
    Tensor t = r.inputs().get("image_bytes");
    assertThat(t.shape()).isEqualTo(Shape.of(2));
    assertThat(t.toByteStrings().get(0)).isEqualTo("hi".getBytes(StandardCharsets.UTF_8));
    assertThat(t.toByteStrings().get(1)).containsExactly(0, 0xff);
    HttpError bad =
        catchThrowableOfType(
            HttpError.class, () -> parse("{\"inputs\": [{\"b64\": \"%%\"}]}", BYTES));
    assertThat(bad.getMessage()).contains("base64");
  }

  @Test
  void namedRowsStackAndInt64StaysExact() {
    TensorJson.Request r =
        parse(
            "{\"instances\": [{\"a\": [9007199254740993, -1], \"b\": 0.5},"
                + " {\"a\": [1, 2], \"b\": -2}]}",
            TWO);
    assertThat(r.row()).isTrue();
    Tensor a = r.inputs().get("a");
    assertThat(a.shape()).isEqualTo(Shape.of(2, 2));
    assertThat(a.bytes().getLong(0)).isEqualTo(9007199254740993L);
    assertThat(r.inputs().get("b").toFloatArray()).containsExactly(0.5f, -2f);
    HttpError missing =
        catchThrowableOfType(
            HttpError.class, () -> parse("{\"instances\": [{\"a\": [1, 2]}]}", TWO));
    assertThat(missing.getMessage()).contains("[a, b]");
    HttpError plain =
        catchThrowableOfType(HttpError.class, () -> parse("{\"instances\": [[1, 2]]}", TWO));
    assertThat(plain.getMessage()).contains("plain list");
    HttpError fractional =
        catchThrowableOfType(
            HttpError.class, () -> parse("{\"inputs\": {\"a\": [[1.5, 2]], \"b\": [1]}}", TWO));
    assertThat(fractional.getMessage()).contains("1.5", "DT_INT64");
  }

  @Test
  void answersAreShapedAsTfServingShapesThem() {
    Map<String, Tensor> one = new LinkedHashMap<>();
    one.put("probs", Tensor.ofFloats(Shape.of(2, 2), 0.1f, 1f / 3, Float.NaN, 1e-7f));
    assertThat(new String(TensorAnswer.of(one, true), StandardCharsets.UTF_8))
        .isEqualTo("{\"predictions\": [[0.1, 0.33333334], [NaN, 1.0e-7]]}");
    assertThat(new String(TensorAnswer.of(one, false), StandardCharsets.UTF_8))
        .isEqualTo("{\"outputs\": [[0.1, 0.33333334], [NaN, 1.0e-7]]}");
    Map<String, Tensor> two = new LinkedHashMap<>();
    java.nio.ByteBuffer ids =
        java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    ids.putLong(Long.MAX_VALUE).putLong(-3).flip();
    two.put("ids", new Tensor(DType.INT64, Shape.of(2), ids));
    two.put("label_bytes", Tensor.ofStrings(Shape.of(2), List.of("hi", "\"q\"")));
    assertThat(new String(TensorAnswer.of(two, true), StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"predictions\": [{\"ids\": 9223372036854775807, \"label_bytes\": {\"b64\": \"aGk=\"}},"
                + " {\"ids\": -3, \"label_bytes\": {\"b64\": \"InEi\"}}]}");
    two.put("label", Tensor.ofStrings(Shape.of(2), List.of("hi", "\"q\"")));
    assertThat(
            new String(
                TensorAnswer.of(Map.of("label", two.get("label")), false), StandardCharsets.UTF_8))
        .isEqualTo("{\"outputs\": [\"hi\", \"\\\"q\\\"\"]}");
    Map<String, Tensor> scalar = Map.of("s", Tensor.ofFloats(Shape.SCALAR, 2f));
    assertThat(new String(TensorAnswer.of(scalar, false), StandardCharsets.UTF_8))
        .isEqualTo("{\"outputs\": 2.0}");
    HttpError row = catchThrowableOfType(HttpError.class, () -> TensorAnswer.of(scalar, true));
    assertThat(row.getMessage()).contains("scalar");
  }
}
