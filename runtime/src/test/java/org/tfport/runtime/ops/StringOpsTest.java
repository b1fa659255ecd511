package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.tfport.runtime.ops.ExactOracle.t;
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
 * String ops against TensorFlow (strings fed and fetched through {@link StringOracle}); every
 * output exact.
 */
@OracleTest
class StringOpsTest {
  private static Value strs(long[] shape, String... s) {
    return Values.strings(shape, List.of(s));
  }

  private static Value vec(String... s) {
    return strs(new long[] {s.length}, s);
  }

  private static Value scalar(String s) {
    return strs(new long[0], s);
  }

  private static void same(String op, Map<String, AttrValue> a, int outputs, Value... in) {
    Value[] ours = OpOracle.runKernel(op, a, in);
    List<Value> theirs = StringOracle.run(op, a, outputs, in);
    for (int i = 0; i < outputs; i++) {
      ExactOracle.assertSame(op + " output " + i, ours[i], theirs.get(i));
    }
  }

  private static final Value WORDS =
      strs(new long[] {2, 3}, "héllo wörld", "", "a,b,,c", "  x  ", "日本語", "tf");

  @Test
  void joinAndLength() {
    same(
        "StringJoin",
        attrs("N", new AttrValue.Int(3), "separator", AttrValue.Str.of("-")),
        1,
        WORDS,
        scalar("mid"),
        WORDS);
    same("StringJoin", attrs("N", new AttrValue.Int(2)), 1, scalar("a"), scalar("b"));
    for (String unit : List.of("BYTE", "UTF8_CHAR")) {
      same("StringLength", attrs("unit", AttrValue.Str.of(unit)), 1, WORDS);
    }
  }

  @Test
  void substr() {
    for (String unit : List.of("BYTE", "UTF8_CHAR")) {
      Map<String, AttrValue> a = attrs("T", t(DType.INT32), "unit", AttrValue.Str.of(unit));
      same("Substr", a, 1, vec("héllo", "日本語です", "abc"), Value.scalar(1), Value.scalar(3));
      same(
          "Substr",
          a,
          1,
          vec("héllo", "日本語です", "abc"),
          Value.ints(new long[] {3}, -2, 0, 3),
          Value.ints(new long[] {3}, 5, 2, 1));
    }
    assertThatThrownBy(
            () ->
                OpOracle.runKernel(
                    "Substr",
                    attrs("T", t(DType.INT32)),
                    vec("abc"),
                    Value.scalar(4),
                    Value.scalar(1)))
        .isInstanceOf(KernelException.class)
        .hasMessageContaining("out of range");
  }

  @Test
  void toNumber() {
    Value s = vec("1.5", "-2e3", " 7 ", "inf", "-0", "3.4028235e38", ".25", "0x10", "NaN");
    same("StringToNumber", attrs("out_type", t(DType.FLOAT32)), 1, s);
    same("StringToNumber", attrs("out_type", t(DType.FLOAT64)), 1, s);
    Value ints = vec("12", "-7", " 3", "2147483647");
    same("StringToNumber", attrs("out_type", t(DType.INT32)), 1, ints);
    same("StringToNumber", attrs("out_type", t(DType.INT64)), 1, vec("9223372036854775807", "-1"));
    assertThatThrownBy(
            () ->
                OpOracle.runKernel("StringToNumber", attrs("out_type", t(DType.INT32)), vec("1.5")))
        .hasMessageContaining("could not correctly convert string: 1.5");
    for (String bad : List.of("+3", "1e", "2f", "1.5.2", "-0x1.8p1")) {
      org.tfport.runtime.kernel.Value v = vec(bad);
      DType type = bad.equals("+3") ? DType.INT32 : DType.FLOAT32;
      Map<String, AttrValue> a = attrs("out_type", t(type));
      assertThatThrownBy(() -> OpOracle.runKernel("StringToNumber", a, v))
          .isInstanceOf(KernelException.class)
          .hasMessageContaining("could not correctly convert");
      assertThatThrownBy(() -> StringOracle.run("StringToNumber", a, 1, v))
          .isInstanceOf(org.tensorflow.exceptions.TFInvalidArgumentException.class);
    }
  }

  @Test
  void split() {
    for (boolean skip : new boolean[] {true, false}) {
      Map<String, AttrValue> a = attrs("skip_empty", new AttrValue.Bool(skip));
      same("StringSplit", a, 3, vec("a,b,,c", "", "x y,z", ",,"), scalar(", "));
      same("StringSplit", a, 3, vec("ab", "héllo"), scalar(""));
      same("StringSplit", a, 3, strs(new long[] {0}), scalar(","));
    }
  }

  @Test
  void regexReplace() {
    Value in = vec("hello world", "aaa", "", "2024-01-31", "x.y.z");
    String[][] cases = {
      {"o", "0"},
      {"a+", "<\\0>"},
      {"(\\d+)-(\\d+)-(\\d+)", "\\3/\\2/\\1"},
      {"\\.", "\\\\"},
      {"^", "^"},
      {"[a-z]", "$"}
    };
    for (String[] c : cases) {
      for (boolean global : new boolean[] {true, false}) {
        same(
            "StaticRegexReplace",
            attrs(
                "pattern",
                AttrValue.Str.of(c[0]),
                "rewrite",
                AttrValue.Str.of(c[1]),
                "replace_global",
                new AttrValue.Bool(global)),
            1,
            in);
        same(
            "RegexReplace",
            attrs("replace_global", new AttrValue.Bool(global)),
            1,
            in,
            scalar(c[0]),
            scalar(c[1]));
      }
    }
  }

  @Test
  void hashBucketFastMatchesTensorFlowOnEveryLengthClass() {
    // Lengths 0..300 cover each branch of Fingerprint64 (0, 1-3, 4-7, 8-16, 17-32, 33-64, and
    // the 64-byte loop with every tail length).
    java.util.Random rnd = new java.util.Random(77);
    String[] s = new String[400];
    for (int k = 0; k < s.length; k++) {
      int len = k < 301 ? k : rnd.nextInt(2000);
      StringBuilder b = new StringBuilder();
      for (int c = 0; c < len; c++) {
        b.append(k % 3 == 0 ? (char) ('a' + rnd.nextInt(26)) : (char) (32 + rnd.nextInt(95)));
      }
      s[k] = b.toString();
    }
    s[399] = "日本語 héllo wörld";
    for (long buckets : new long[] {1, 7, 1000, Long.MAX_VALUE}) {
      same("StringToHashBucketFast", attrs("num_buckets", new AttrValue.Int(buckets)), 1, vec(s));
    }
    same(
        "StringToHashBucketFast",
        attrs("num_buckets", new AttrValue.Int(10)),
        1,
        strs(new long[] {2, 3}, "héllo wörld", "", "a,b,,c", "  x  ", "日本語", "tf"));
  }

  @Test
  void fingerprint64OfKnownStrings() {
    // The empty string hashes to the constant k2 of the algorithm.
    org.assertj.core.api.Assertions.assertThat(FarmHash.fingerprint64(new byte[0]))
        .isEqualTo(0x9ae16a3b2f90404fL);
  }
}
