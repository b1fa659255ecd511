package org.tfport.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PermutationTest {
  @Test
  void transposeMovesElementsAsNumpyDoes() {
    // [[0, 1, 2], [3, 4, 5]] transposed is [[0, 3], [1, 4], [2, 5]].
    Tensor t = Tensor.ofInts(Shape.of(2, 3), 0, 1, 2, 3, 4, 5);
    Tensor tt = Permutation.transpose(t, 1, 0);
    assertThat(tt.shape()).isEqualTo(Shape.of(3, 2));
    int[] v = new int[6];
    tt.bytes().asIntBuffer().get(v);
    assertThat(v).containsExactly(0, 3, 1, 4, 2, 5);
    assertThat(Permutation.sourceIndices(new long[] {2, 3}, new int[] {1, 0}))
        .containsExactly(0, 3, 1, 4, 2, 5);
  }

  @Test
  void nhwcAndNchwAreInverses() {
    assertThat(Permutation.inverse(Permutation.nchwToNhwc()))
        .containsExactly(Permutation.nhwcToNchw());
    long[] nchw = {1, 3, 224, 224};
    assertThat(Permutation.apply(nchw, Permutation.nchwToNhwc())).containsExactly(1, 224, 224, 3);
    long[] there = {0, 2, 3, 1};
    long[] back = {0, 3, 1, 2};
    assertThat(Permutation.isIdentity(Permutation.compose(there, back))).isTrue();
  }

  @Test
  void invalidPermutationsAreTold() {
    assertThat(Permutation.isValid(new long[] {0, 0}, 2)).isFalse();
    assertThat(Permutation.isValid(new long[] {1, 0}, 2)).isTrue();
    assertThat(Permutation.apply(new long[] {4, 5}, new long[] {2, 0})).isNull();
    assertThat(Permutation.strides(new long[] {2, 3, 4})).containsExactly(12, 4, 1);
  }
}
