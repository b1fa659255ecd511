package org.tfport.formats.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfliteOracle;
import org.tfport.testkit.TfliteOracle.Tensor;

/**
 * tfport's rewrite of every corpus model is accepted by the real TFLite 2.18 interpreter whenever
 * the original is, and computes bit-identical outputs on random inputs; the TFLM SEANet models
 * reproduce their golden outputs, from the original files and from the rewrites.
 */
@OracleTest
class TfliteOracleTest {
  @TempDir static Path tmp;

  private static final TreeMap<String, Integer> COUNTS = new TreeMap<>();

  @AfterAll
  static void summary() {
    System.out.println("tflite oracle: " + COUNTS);
    if (COUNTS.containsKey("original accepted")) {
      // 51 of the 76 readable corpus models when this was written; the others are rejected by
      // TFLite itself
      // (Flex/custom ops, 15), have string inputs (5), fail or crash on random inputs (3) or are
      // too big (2).
      assertThat(COUNTS.getOrDefault("bit-identical", 0)).isGreaterThanOrEqualTo(50);
    }
  }

  private static void count(String key) {
    synchronized (COUNTS) {
      COUNTS.merge(key, 1, Integer::sum);
    }
  }

  private static Path rewrite(Path p) throws IOException {
    TfliteModel m = TfliteReader.read(p);
    Path out = tmp.resolve(TfliteFiles.rel(p).replace('/', '_') + ".rewritten.tflite");
    TfliteWriter.write(m, out);
    return out;
  }

  @TestFactory
  Stream<DynamicTest> rewrittenModelsRunBitIdentically() {
    return TfliteFiles.readable().stream()
        .map(
            p ->
                DynamicTest.dynamicTest(
                    TfliteFiles.rel(p),
                    () -> {
                      TfliteModel m = TfliteReader.read(p);
                      Path re = rewrite(p);
                      TfliteOracle.Load a = TfliteOracle.load(p);
                      TfliteOracle.Load b = TfliteOracle.load(re);
                      count(a.accepted() ? "original accepted" : "original rejected");
                      if (!a.accepted()) {
                        System.out.println(
                            "  " + TfliteFiles.rel(p) + " rejected by TFLite: " + a.error());
                      }
                      assertThat(b.accepted())
                          .as("rewrite accepted (original: %s)", a.error())
                          .isEqualTo(a.accepted());
                      if (!a.accepted()) {
                        return;
                      }
                      count("rewrite accepted");
                      assertThat(b.inputs().toString()).isEqualTo(a.inputs().toString());
                      assertThat(b.outputs().toString()).isEqualTo(a.outputs().toString());
                      boolean custom =
                          m.operatorCodes().stream().anyMatch(TfliteOperatorCode::isCustom);
                      long values =
                          a.inputs().stream()
                              .mapToLong(
                                  i ->
                                      java.util.Arrays.stream(i.shape())
                                          .asLongStream()
                                          .reduce(1, (u, v) -> u * v))
                              .sum();
                      if (values > 4_000_000) {
                        // LiteRT's huge-im2col tests: tens of millions of inputs and half a minute
                        // per run prove nothing more.
                        count("not run: inputs over 4M values");
                        return;
                      }
                      List<Tensor> inputs;
                      try {
                        inputs = TfliteOracle.randomInputs(a, 42);
                      } catch (IllegalArgumentException e) {
                        count("not run: input without random form");
                        return;
                      }
                      List<Tensor> x;
                      try {
                        x = TfliteOracle.run(p, inputs);
                      } catch (IllegalStateException e) {
                        count("not run: original fails on random input");
                        System.out.println("  " + TfliteFiles.rel(p) + ": " + e.getMessage());
                        return;
                      }
                      if (!TfliteOracle.run(p, inputs).equals(x)) {
                        // Some TFLM-only models read uninitialized memory in TFLite; their outputs
                        // prove nothing.
                        count("not run: original nondeterministic");
                        return;
                      }
                      List<Tensor> y = TfliteOracle.run(re, inputs);
                      assertThat(y).isEqualTo(x);
                      count("bit-identical");
                      if (custom) {
                        // Custom ops the runtime registers itself (TFLite_Detection_PostProcess).
                        count("bit-identical with custom ops");
                      }
                    }));
  }

  private static final Pattern INPUT = Pattern.compile("(.+)_input(\\d+)_(int16|int32)\\.csv");

  @TestFactory
  Stream<DynamicTest> seanetGoldenOutputs() throws IOException {
    Path dir = Corpus.require("tflite/tflite-micro/seanet");
    List<Path> models;
    try (Stream<Path> s = Files.walk(dir)) {
      models = s.filter(p -> p.toString().endsWith(".tflite")).sorted().toList();
    }
    assertThat(models).hasSizeGreaterThanOrEqualTo(9);
    return models.stream()
        .map(
            p ->
                DynamicTest.dynamicTest(
                    p.getFileName().toString(),
                    () -> {
                      String stem = p.getFileName().toString().replace(".tflite", "");
                      TfliteOracle.Load load = TfliteOracle.load(p);
                      assertThat(load.accepted()).as(load.error()).isTrue();
                      TreeMap<Integer, Path> csvs = new TreeMap<>();
                      try (Stream<Path> s = Files.list(p.getParent())) {
                        s.forEach(
                            f -> {
                              Matcher mt = INPUT.matcher(f.getFileName().toString());
                              if (mt.matches() && mt.group(1).equals(stem)) {
                                csvs.put(Integer.parseInt(mt.group(2)), f);
                              }
                            });
                      }
                      assertThat(csvs).hasSize(load.inputs().size());
                      List<Tensor> inputs = new ArrayList<>();
                      for (int i = 0; i < load.inputs().size(); i++) {
                        TfliteOracle.TensorInfo info = load.inputs().get(i);
                        long[] v = csv(csvs.get(i));
                        inputs.add(
                            switch (info.dtype()) {
                              case "int16" -> {
                                short[] s = new short[v.length];
                                for (int k = 0; k < v.length; k++) {
                                  s[k] = (short) v[k];
                                }
                                yield Tensor.i16(info.shape(), s);
                              }
                              case "int32" ->
                                  Tensor.i32(
                                      info.shape(),
                                      java.util.Arrays.stream(v).mapToInt(l -> (int) l).toArray());
                              default ->
                                  throw new AssertionError("SEANet input type " + info.dtype());
                            });
                      }
                      long[] golden = csv(p.resolveSibling(stem + "_golden_int16.csv"));
                      List<Tensor> out = TfliteOracle.run(p, inputs);
                      assertThat(out).hasSize(1);
                      assertThat(out.get(0).dtype()).isEqualTo("int16");
                      assertThat(out.get(0).longs()).containsExactly(golden);
                      assertThat(TfliteOracle.run(rewrite(p), inputs)).isEqualTo(out);
                    }));
  }

  private static long[] csv(Path f) throws IOException {
    String s = Files.readString(f).trim();
    return java.util.Arrays.stream(s.split("[,\\s]+"))
        .filter(x -> !x.isEmpty())
        .mapToLong(Long::parseLong)
        .toArray();
  }
}
