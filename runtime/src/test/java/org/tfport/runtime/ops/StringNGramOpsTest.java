package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.tfport.runtime.ops.NnTesting.b;
import static org.tfport.runtime.ops.NnTesting.i;
import static org.tfport.runtime.ops.NnTesting.ints;
import static org.tfport.runtime.ops.NnTesting.str;
import static org.tfport.runtime.ops.OpOracle.attrs;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.kernel.Values;
import org.tfport.testkit.OracleTest;

/**
 * StringNGrams against TensorFlow 2.18 (strings through {@link StringOracle}): widths 1–4 alone and
 * together, fixed and dynamic padding, preserved short rows, empty rows; outputs identical.
 */
@OracleTest
class StringNGramOpsTest {
  private static final Value TOKENS =
      Values.strings(new long[] {9}, List.of("a", "bb", "ccc", "d", "é", "f", "g", "hh", "ii"));

  private static Map<String, AttrValue> spec(
      DType splits, long[] widths, int pad, boolean preserve) {
    return attrs(
        "separator", str("|"),
        "ngram_widths", ints(widths),
        "left_pad", str("LP"),
        "right_pad", str("RP"),
        "pad_width", i(pad),
        "preserve_short_sequences", b(preserve),
        "Tsplits", OpOracle.type(splits));
  }

  private static void same(Map<String, AttrValue> a, Value splits) {
    Value[] ours = OpOracle.runKernel("StringNGrams", a, TOKENS, splits);
    List<Value> theirs = StringOracle.run("StringNGrams", a, 2, TOKENS, splits);
    ExactOracle.assertSame("ngrams " + a, ours[0], theirs.get(0));
    ExactOracle.assertSame("ngram splits " + a, ours[1], theirs.get(1));
  }

  @Test
  void matchesTensorFlowOverWidthsAndPadding() {
    // Rows of 1, 0, 3, 5 tokens.
    Value splits64 = Value.longs(new long[] {5}, 0, 1, 1, 4, 9);
    Value splits32 = Value.ints(new long[] {5}, 0, 1, 1, 4, 9);
    long[][] widthSets = {{1}, {2}, {3}, {4}, {1, 2, 3}, {3, 1}};
    int cases = 0;
    for (long[] widths : widthSets) {
      for (int pad : new int[] {-1, 0, 1, 2}) {
        for (boolean preserve : new boolean[] {false, true}) {
          same(spec(DType.INT64, widths, pad, preserve), splits64);
          cases++;
        }
      }
    }
    same(spec(DType.INT32, new long[] {2, 6}, 1, true), splits32);
    assertThat(cases).isEqualTo(48);
  }

  @Test
  void rejectsSplitsThatDoNotCoverTheData() {
    Value bad = Value.longs(new long[] {3}, 0, 5, 4);
    Map<String, AttrValue> a = spec(DType.INT64, new long[] {2}, 0, false);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> OpOracle.runKernel("StringNGrams", a, TOKENS, bad))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("Invalid split value 4");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> StringOracle.run("StringNGrams", a, 2, TOKENS, bad))
        .isInstanceOf(RuntimeException.class);
  }
}
