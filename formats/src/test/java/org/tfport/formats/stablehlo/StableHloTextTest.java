package org.tfport.formats.stablehlo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.tfport.core.TfportException;
import org.tfport.formats.stablehlo.Attr.DenseAttr;
import org.tfport.formats.stablehlo.Attr.DictAttr;
import org.tfport.formats.stablehlo.Attr.EnumAttr;
import org.tfport.testkit.Corpus;

/** The StableHLO text reader on JAX's pretty syntax, the generic syntax and the corpus files. */
class StableHloTextTest {

  @Test
  void prettyOpsBecomeGeneric() {
    String text =
        """
        module @jit_f attributes {mhlo.num_partitions = 1 : i32} {
          func.func public @main(%arg0: tensor<2x3xf32> {mhlo.sharding = "{replicated}"} loc("x")) -> (tensor<3x2xf32> {jax.result_info = "out"}) {
            %0 = stablehlo.transpose %arg0, dims = [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32> loc(#loc1)
            %c = stablehlo.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
            %1 = stablehlo.compare  GT, %0, %c,  FLOAT : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xi1>
            %2 = stablehlo.select %1, %0, %c : tensor<3x2xi1>, tensor<3x2xf32>
            %3 = stablehlo.slice %2 [0:3:2, 1:2] : (tensor<3x2xf32>) -> tensor<2x1xf32>
            %4 = call @helper(%2) : (tensor<3x2xf32>) -> tensor<3x2xf32>
            return %4 : tensor<3x2xf32>
          }
          func.func private @helper(%arg0: tensor<3x2xf32>) -> tensor<3x2xf32> {
            %0 = stablehlo.add %arg0, %arg0 : tensor<3x2xf32>
            return %0 : tensor<3x2xf32>
          }
        }
        #loc1 = loc("x")
        """;
    StableHloModule m = StableHloText.parse(text, "t.mlir");
    assertThat(m.name()).isEqualTo("jit_f");
    Func main = m.entry().orElseThrow();
    assertThat(main.resultNames()).containsExactly("out");
    List<Op> ops = main.body().ops();
    assertThat(ops)
        .extracting(Op::name)
        .containsExactly(
            "stablehlo.transpose",
            "stablehlo.constant",
            "stablehlo.compare",
            "stablehlo.select",
            "stablehlo.slice",
            "func.call",
            "func.return");
    assertThat(Attrs.longs(ops.get(0).attr("permutation"))).containsExactly(1, 0);
    assertThat(ops.get(0).line()).isEqualTo(3);
    assertThat(((DenseAttr) ops.get(1).attr("value")).value().toDoubles())
        .containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(ops.get(2).attr("comparison_direction")).isEqualTo(new EnumAttr("GT"));
    assertThat(ops.get(3).resultTypes().get(0).text()).isEqualTo("tensor<3x2xf32>");
    assertThat(Attrs.longs(ops.get(4).attr("start_indices"))).containsExactly(0, 1);
    assertThat(Attrs.longs(ops.get(4).attr("limit_indices"))).containsExactly(3, 2);
    assertThat(Attrs.longs(ops.get(4).attr("strides"))).containsExactly(2, 1);
    assertThat(m.func("helper").orElseThrow().visibility()).isEqualTo("private");
  }

  @Test
  void genericSyntaxWithRegionsAndDimensionNumbers() {
    String text =
        """
        func.func @f(%a: tensor<3x4xf32>, %i: tensor<2x1xi32>) -> tensor<2x4xf32> {
          %0 = "stablehlo.gather"(%a, %i) <{dimension_numbers = #stablehlo.gather<offset_dims = [1], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 1>, slice_sizes = array<i64: 1, 4>}> : (tensor<3x4xf32>, tensor<2x1xi32>) -> tensor<2x4xf32>
          %1 = "stablehlo.reduce"(%0, %c) ({
          ^bb0(%x: tensor<f32>, %y: tensor<f32>):
            %s = "stablehlo.maximum"(%x, %y) : (tensor<f32>, tensor<f32>) -> tensor<f32>
            "stablehlo.return"(%s) : (tensor<f32>) -> ()
          }) {dimensions = array<i64: 1>} : (tensor<2x4xf32>, tensor<f32>) -> tensor<2xf32>
          %2 = "stablehlo.compare"(%0, %0) {comparison_direction = #stablehlo<comparison_direction GE>} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xi1>
          %c = stablehlo.constant dense<0xFF800000> : tensor<f32>
          %h = stablehlo.constant dense<"0x0000803F00000040"> : tensor<2xf32>
          "func.return"(%0) : (tensor<2x4xf32>) -> ()
        }
        """;
    Func f = StableHloText.parse(text, "g.mlir").entry().orElseThrow();
    Op gather = f.body().ops().get(0);
    DictAttr dims = (DictAttr) gather.attr("dimension_numbers");
    assertThat(Attrs.longs(dims.entries().get("offset_dims"))).containsExactly(1);
    assertThat(Attrs.intValue(dims.entries().get("index_vector_dim"), -1)).isEqualTo(1);
    Op reduce = f.body().ops().get(1);
    assertThat(reduce.regions()).hasSize(1);
    assertThat(reduce.regions().get(0).args()).extracting(Arg::name).containsExactly("%x", "%y");
    assertThat(reduce.regions().get(0).ops().get(0).name()).isEqualTo("stablehlo.maximum");
    assertThat(f.body().ops().get(2).attr("comparison_direction")).isEqualTo(new EnumAttr("GE"));
    assertThat(((DenseAttr) f.body().ops().get(3).attr("value")).value().toDoubles())
        .containsExactly(Double.NEGATIVE_INFINITY);
    assertThat(((DenseAttr) f.body().ops().get(4).attr("value")).value().toDoubles())
        .containsExactly(1.0, 2.0);
  }

  @Test
  void prettyReduceWhileConvolutionDotGeneral() {
    String text =
        """
        func.func @f(%a: tensor<1x4x4x1xf32>, %k: tensor<3x3x1x2xf32>) -> tensor<1x2x2x2xf32> {
          %c = stablehlo.constant dense<0.0> : tensor<f32>
          %r = stablehlo.reduce(%a init: %c) applies stablehlo.add across dimensions = [1, 2] : (tensor<1x4x4x1xf32>, tensor<f32>) -> tensor<1x1xf32>
          %v = stablehlo.convolution(%a, %k) dim_numbers = [b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f], window = {stride = [2, 2], pad = [[1, 1], [0, 1]], rhs_dilate = [1, 1]} {batch_group_count = 1 : i64, feature_group_count = 1 : i64} : (tensor<1x4x4x1xf32>, tensor<3x3x1x2xf32>) -> tensor<1x2x2x2xf32>
          %d = stablehlo.dot_general %a, %k, batching_dims = [] x [], contracting_dims = [3] x [2], precision = [DEFAULT, DEFAULT] : (tensor<1x4x4x1xf32>, tensor<3x3x1x2xf32>) -> tensor<1x4x4x3x3x2xf32>
          %i, %s = stablehlo.while(%x = %c, %y = %c) : tensor<f32>, tensor<f32>
           cond {
            %p = stablehlo.compare  LT, %x, %y : (tensor<f32>, tensor<f32>) -> tensor<i1>
            stablehlo.return %p : tensor<i1>
          } do {
            stablehlo.return %y, %x : tensor<f32>, tensor<f32>
          }
          return %v : tensor<1x2x2x2xf32>
        }
        """;
    List<Op> ops = StableHloText.parse(text, "p.mlir").entry().orElseThrow().body().ops();
    Op reduce = ops.get(1);
    assertThat(reduce.operands()).containsExactly("%a", "%c");
    assertThat(Attrs.longs(reduce.attr("dimensions"))).containsExactly(1, 2);
    assertThat(reduce.regions().get(0).ops().get(0).name()).isEqualTo("stablehlo.add");
    Op conv = ops.get(2);
    assertThat(conv.attr("dimension_numbers"))
        .isEqualTo(
            new Attr.DialectAttr("stablehlo.conv", "[b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]"));
    assertThat(Attrs.longs(conv.attr("window_strides"))).containsExactly(2, 2);
    assertThat(Attrs.longs(conv.attr("padding"))).containsExactly(1, 1, 0, 1);
    assertThat(Attrs.intValue(conv.attr("feature_group_count"), 0)).isEqualTo(1);
    DictAttr dot = (DictAttr) ops.get(3).attr("dot_dimension_numbers");
    assertThat(Attrs.longs(dot.entries().get("lhs_contracting_dimensions"))).containsExactly(3);
    assertThat(Attrs.longs(dot.entries().get("rhs_contracting_dimensions"))).containsExactly(2);
    Op loop = ops.get(4);
    assertThat(loop.results()).containsExactly("%i", "%s");
    assertThat(loop.regions()).hasSize(2);
    assertThat(loop.regions().get(0).args()).extracting(Arg::name).containsExactly("%x", "%y");
  }

  @Test
  void errorsNameFileAndLine() {
    assertThatThrownBy(
            () ->
                StableHloText.parse(
                    "func.func @f() {\n  %0 = stablehlo.constant dense<[1, 2]> : tensor<3xf32>\n}",
                    "bad.mlir"))
        .isInstanceOf(TfportException.class)
        .hasMessageContaining("bad.mlir:2:")
        .hasMessageContaining("2 elements");
    assertThatThrownBy(
            () -> StableHloText.parse("func.func @f() {\n  %0 = stablehlo.add %a\n", "cut.mlir"))
        .isInstanceOf(TfportException.class)
        .hasMessageContaining("cut.mlir:");
  }

  /** Every StableHLO text in the corpus parses, and every op has as many result types as names. */
  @Test
  void corpusTextsParse() throws Exception {
    Path jax = Corpus.require("jax");
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.walk(jax)) {
      s.filter(p -> p.toString().endsWith(".mlir") || p.endsWith("mlir_module_text.txt"))
          .sorted()
          .forEach(files::add);
    }
    assertThat(files).hasSizeGreaterThanOrEqualTo(18);
    int ops = 0;
    for (Path p : files) {
      StableHloModule m = StableHloText.read(p);
      assertThat(m.funcs()).as(p.toString()).isNotEmpty();
      for (Func f : m.funcs()) {
        ops += countOps(f.body());
      }
    }
    assertThat(ops).isGreaterThan(500);
  }

  private static int countOps(Region r) {
    int n = 0;
    for (Op op : r.ops()) {
      n++;
      assertThat(op.results()).hasSameSizeAs(op.resultTypes());
      for (Region inner : op.regions()) {
        n += countOps(inner);
      }
    }
    return n;
  }
}
