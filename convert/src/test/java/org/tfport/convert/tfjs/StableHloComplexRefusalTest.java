package org.tfport.convert.tfjs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.Converter;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.ModelFormat;

/**
 * A StableHLO program whose interface is complex stays complex64 there, which neither TF.js nor
 * TFLite computes with: both conversions are refused naming the argument and the result, and write
 * nothing.
 */
class StableHloComplexRefusalTest {
  @TempDir Path tmp;

  static final String SQUARE =
      """
      func.func public @main(%z: tensor<2xcomplex<f32>>) -> tensor<2xcomplex<f32>> {
        %m = stablehlo.multiply %z, %z : tensor<2xcomplex<f32>>
        return %m : tensor<2xcomplex<f32>>
      }
      """;

  @Test
  void complexInterfaceIsRefusedByName() throws Exception {
    Path mlir = tmp.resolve("square.mlir");
    Files.writeString(mlir, SQUARE);
    Path js = tmp.resolve("js");
    assertThatThrownBy(
            () ->
                Converter.from(mlir, ModelFormat.STABLEHLO)
                    .to(ModelFormat.TFJS_GRAPH_MODEL)
                    .convert(js))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("square.mlir")
        .hasMessageContaining("argument z")
        .hasMessageContaining("result output_0")
        .hasMessageContaining("TF.js");
    Path tfl = tmp.resolve("square.tflite");
    assertThatThrownBy(
            () -> Converter.from(mlir, ModelFormat.STABLEHLO).to(ModelFormat.TFLITE).convert(tfl))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("argument z")
        .hasMessageContaining("TFLite");
    assertThat(js).doesNotExist();
    assertThat(tfl).doesNotExist();
  }
}
