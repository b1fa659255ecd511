package org.tfport.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ComparisonTest {
  @Test
  void closeFollowsNumpyIsclose() {
    assertThat(TfjsOracle.close(1.0f, 1.0f, 0, 0)).isTrue();
    assertThat(TfjsOracle.close(1.00001f, 1.0f, 0, 1e-4)).isTrue();
    assertThat(TfjsOracle.close(1.001f, 1.0f, 0, 1e-4)).isFalse();
    assertThat(TfjsOracle.close(1e-7f, 0f, 1e-6, 0)).isTrue();
    assertThat(TfjsOracle.close(Float.NaN, Float.NaN, 0, 0)).isTrue();
    assertThat(TfjsOracle.close(Float.NaN, 1f, 1, 1)).isFalse();
    assertThat(TfjsOracle.close(Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY, 0, 0)).isTrue();
    assertThat(TfjsOracle.close(Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1, 1)).isFalse();
    assertThat(TfjsOracle.close(Float.MAX_VALUE, Float.POSITIVE_INFINITY, 1, 1)).isFalse();
  }

  @Test
  void comparisonReportsWorstElement() {
    float[] expected = {1f, 2f, 0f, -4f};
    float[] actual = {1f, 2.002f, 1e-7f, -4f};
    Comparison c = Comparison.of(expected, actual, 1e-6, 1e-5);
    assertThat(c.ok()).isFalse();
    assertThat(c.mismatches()).isEqualTo(1);
    assertThat(c.worstIndex()).isEqualTo(1);
    assertThat(c.maxAbs()).isCloseTo(0.002, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(c.maxRel()).isCloseTo(0.001, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(c.toString()).contains("1/4 outside").contains("worst [1]");
    assertThatThrownBy(() -> c.assertOk("probe"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("probe");

    Comparison fine = Comparison.of(expected, actual, 1e-2, 0);
    assertThat(fine.ok()).isTrue();
    assertThat(fine.worstIndex()).isEqualTo(1);
    assertThat(Comparison.of(new float[0], new float[0], 0, 0).worstIndex()).isEqualTo(-1);
  }

  @Test
  void nanAgainstNumberIsInfiniteError() {
    Comparison c =
        Comparison.of(new float[] {Float.NaN, 1f}, new float[] {Float.NaN, Float.NaN}, 1, 1);
    assertThat(c.mismatches()).isEqualTo(1);
    assertThat(c.worstIndex()).isEqualTo(1);
    assertThat(c.maxAbs()).isInfinite();
  }

  @Test
  void lengthMismatchIsAnError() {
    assertThatThrownBy(() -> Comparison.of(new float[2], new float[3], 0, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
