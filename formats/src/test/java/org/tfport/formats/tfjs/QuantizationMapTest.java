package org.tfport.formats.tfjs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tfport.core.DType;
import org.tfport.core.TfportException.UsageException;

class QuantizationMapTest {

  @ParameterizedTest(name = "{0} ~ {1} = {2}")
  @CsvSource(
      delimiter = '|',
      value = {
        "*|a/b/c|true",
        "*|''|true",
        "conv/*|conv/a/b/kernel|true",
        "conv/*/kernel|conv/1/kernel|true",
        "conv/*/kernel|conv/a/b/kernel|true",
        "conv/*/kernel|conv/kernel|false",
        "*kernel|dense/kernel|true",
        "*kernel|dense/kernel:0|false",
        "a?c|abc|true",
        "a?c|a/c|true",
        "a?c|ac|false",
        "[ab]x|ax|true",
        "[ab]x|bx|true",
        "[ab]x|cx|false",
        "[!ab]x|cx|true",
        "[!ab]x|ax|false",
        "[a-c]|b|true",
        "[a-c]|d|false",
        "[]]|]|true",
        "[!]]|a|true",
        "[!]]|]|false",
        "a[b|a[b|true",
        "[z-a]|m|false",
        "[z-a]|z|false",
        "[!z-a]|m|true",
        "[-a]|-|true",
        "[a-]|-|true",
        "[a-]|b|false",
        "a.b|a.b|true",
        "a.b|axb|false",
        "a+b|a+b|true",
        "(x)|(x)|true",
        "a\\b|a\\b|true",
        "a$|a$|true",
        "Dense/*|dense/kernel|false",
        "**|x/y|true",
        "*/bias|dense_1/bias|true",
      })
  void fnmatchFollowsPython(String glob, String name, boolean expected) {
    assertThat(Fnmatch.matches(glob, name)).isEqualTo(expected);
  }

  @Test
  void noFlagsQuantizesNothing() {
    QuantizationMap m = QuantizationMap.fromFlags(null, null, null, null);
    assertThat(m.isEmpty()).isTrue();
    assertThat(m.resolve("dense/kernel")).isNull();
    assertThat(QuantizationMap.NONE.resolve("x")).isNull();
  }

  @Test
  void flagWithoutValueIsTheFallthrough() {
    QuantizationMap m = QuantizationMap.fromFlags("", null, null, null);
    assertThat(m.resolve("anything/at/all")).isEqualTo(DType.FLOAT16);
  }

  @Test
  void patternsSelectAndFallthroughTakesTheRest() {
    QuantizationMap m = QuantizationMap.fromFlags("", "conv*", null, null);
    assertThat(m.resolve("conv1/kernel")).isEqualTo(DType.UINT8);
    assertThat(m.resolve("dense/kernel")).isEqualTo(DType.FLOAT16);
    QuantizationMap p = QuantizationMap.fromFlags(null, null, "conv*/kernel, dense/bias", null);
    assertThat(p.resolve("conv2/kernel")).isEqualTo(DType.UINT16);
    assertThat(p.resolve("dense/bias")).isEqualTo(DType.UINT16);
    assertThat(p.resolve("dense/kernel")).isNull();
  }

  @Test
  void twoDtypesMatchingOneNameIsAnErrorNamingBoth() {
    QuantizationMap m = QuantizationMap.fromFlags("*kernel", "conv*", null, null);
    assertThat(m.resolve("conv1/bias")).isEqualTo(DType.UINT8);
    assertThat(m.resolve("dense/kernel")).isEqualTo(DType.FLOAT16);
    assertThatThrownBy(() -> m.resolve("conv1/kernel"))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("conv1/kernel")
        .hasMessageContaining("QuantizationMap.float16")
        .hasMessageContaining("QuantizationMap.uint8");
  }

  @Test
  void oneDtypeMatchingTwiceIsFine() {
    QuantizationMap m = QuantizationMap.fromFlags(null, "conv*,*kernel", null, null);
    assertThat(m.resolve("conv1/kernel")).isEqualTo(DType.UINT8);
  }

  @Test
  void moreThanOneFallthroughIsAnError() {
    assertThatThrownBy(() -> QuantizationMap.fromFlags("", null, " ", null))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("QuantizationMap.float16")
        .hasMessageContaining("QuantizationMap.uint16");
  }

  @Test
  void quantizationBytesIsTheDeprecatedWholeModelFlag() {
    assertThat(QuantizationMap.fromFlags(null, null, null, 1).resolve("x")).isEqualTo(DType.UINT8);
    assertThat(QuantizationMap.fromFlags(null, null, null, 2).resolve("x")).isEqualTo(DType.UINT16);
    assertThatThrownBy(() -> QuantizationMap.fromFlags(null, null, null, 4))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("1 or 2");
    assertThatThrownBy(() -> QuantizationMap.fromFlags(null, "conv*", null, 1))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("QuantizationMap.quantizationBytes");
    assertThatThrownBy(() -> QuantizationMap.fromFlags("", null, null, 2))
        .isInstanceOf(UsageException.class);
  }

  @Test
  void factoriesRefuseDtypesThatAreNotQuantizations() {
    assertThatThrownBy(() -> QuantizationMap.all(DType.INT8))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(QuantizationMap.of(DType.FLOAT16, java.util.List.of("a*")).resolve("ab"))
        .isEqualTo(DType.FLOAT16);
  }
}
