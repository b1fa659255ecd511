package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;

class TheanoKernelsTest {
  @Test
  void reversesEverySpatialAxisAndKeepsChannels() {
    // kernel [rows=2, cols=3, in=1, out=2]: value encodes (r, c, o) as 100r + 10c + o
    float[] v = new float[12];
    for (int r = 0; r < 2; r++) {
      for (int c = 0; c < 3; c++) {
        for (int o = 0; o < 2; o++) {
          v[(r * 3 + c) * 2 + o] = 100 * r + 10 * c + o;
        }
      }
    }
    float[] f = TheanoKernels.flip(Tensor.ofFloats(Shape.of(2, 3, 1, 2), v)).toFloatArray();
    for (int r = 0; r < 2; r++) {
      for (int c = 0; c < 3; c++) {
        for (int o = 0; o < 2; o++) {
          assertThat(f[(r * 3 + c) * 2 + o]).isEqualTo(100 * (1 - r) + 10 * (2 - c) + o);
        }
      }
    }
  }

  @Test
  void oneDimensionalKernelFlipsItsSingleAxis() {
    float[] f = TheanoKernels.flip(Tensor.ofFloats(Shape.of(3, 1, 1), 1, 2, 3)).toFloatArray();
    assertThat(f).containsExactly(3, 2, 1);
  }
}
