package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.ConversionResult;
import org.tfport.core.Json;
import org.tfport.core.TfportException;
import org.tfport.core.graph.TensorRef;
import org.tfport.formats.tflite.TfliteModel;
import org.tfport.formats.tflite.TfliteReader;
import org.tfport.graph.TfjsGraphReader;
import org.tfport.testkit.Comparison;
import org.tfport.testkit.Corpus;
import org.tfport.testkit.OracleTest;
import org.tfport.testkit.TfjsOracle;
import org.tfport.testkit.TfliteOracle;

/**
 * Every corpus TF.js graph model that TFLite builtins express converts, loads in the real TFLite
 * 2.18 interpreter and matches TF.js 4.22 on the same random inputs within 1e-4 + 1e-3 |b|; the
 * others are refused naming their ops, and convert with select TF ops when Flex covers them.
 */
@OracleTest
class TfjsGraphTfliteCorpusTest {
  static final double ATOL = 1e-4;
  static final double RTOL = 1e-3;
  @TempDir Path tmp;

  @Test
  void graphModelsConvertAndMatchTfjs() throws Exception {
    Path root = Corpus.require("tfjs/graph");
    List<Path> models = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      s.filter(p -> p.toString().endsWith(".json"))
          .sorted()
          .forEach(
              p -> {
                if (Json.MAPPER
                    .readTree(p.toFile())
                    .path("format")
                    .asString("")
                    .equals("graph-model")) {
                  models.add(p);
                }
              });
    }
    List<String> report = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    int matched = 0;
    int refused = 0;
    for (Path mj : models) {
      String label = root.relativize(mj).toString();
      Path out = tmp.resolve(label.replaceAll("[^A-Za-z0-9_.-]", "_") + ".tflite");
      ConversionResult s;
      try {
        s = TfjsGraphToTflite.convert(mj, out, TfliteOptions.defaults());
      } catch (TfportException e) {
        refused++;
        assertThat(e.getMessage()).contains("no TFLite builtin").doesNotContain("\n");
        assertThat(out).doesNotExist();
        String flex;
        Path fout = tmp.resolve("flex_" + out.getFileName());
        try {
          TfjsGraphToTflite.convert(mj, fout, TfliteOptions.defaults().withOps(false, true));
          TfliteOracle.Load l = TfliteOracle.load(fout);
          flex =
              "converts with select TF ops ("
                  + (l.accepted() ? "loads" : "TFLite: " + l.error())
                  + ")";
        } catch (TfportException f) {
          flex = "also refused with select TF ops: " + f.getMessage();
        }
        report.add(String.format("%-60s refused: %s; %s", label, e.getMessage(), flex));
        continue;
      }
      String r = check(mj, out, label);
      if (TfliteChecks.tally(failures, label, r)) {
        matched++;
      }
      report.add(String.format("%-60s %s; %s", label, r, s.detail()));
    }
    TfliteChecks.finish(
        "TF.js graph -> TFLite corpus ("
            + models.size()
            + " models, "
            + matched
            + " matched, "
            + refused
            + " refused)",
        report,
        failures,
        matched,
        5);
  }

  static String check(Path modelJson, Path tflite, String label) {
    String rejected = TfliteChecks.rejected(tflite);
    if (rejected != null) {
      return rejected;
    }
    TfjsGraphReader.TfjsGraph tg = TfjsGraphReader.read(modelJson);
    TfliteModel m = TfliteReader.read(tflite);
    var sub = m.mainSubgraph();
    Random rnd = new Random(label.hashCode());
    List<TfliteOracle.Tensor> ins = new ArrayList<>();
    List<TfjsOracle.Input> jsIns = new ArrayList<>();
    for (int t : sub.inputs()) {
      var tensor = sub.tensors().get(t);
      int[] shape = TfliteChecks.concreteShape(tensor);
      long[] lshape = Arrays.stream(shape).asLongStream().toArray();
      int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
      String name = tensor.name();
      switch (tensor.type()) {
        case FLOAT32 -> {
          float[] v = new float[n];
          for (int i = 0; i < n; i++) {
            v[i] = rnd.nextFloat() * 2 - 1;
          }
          ins.add(TfliteOracle.Tensor.f32(shape, v));
          jsIns.add(TfjsOracle.Input.f32(name, lshape, v));
        }
        case INT32, INT64 -> {
          int[] iv = new int[n];
          long[] lv = new long[n];
          for (int i = 0; i < n; i++) {
            iv[i] = rnd.nextInt(10);
            lv[i] = iv[i];
          }
          ins.add(
              tensor.type().name().equals("INT32")
                  ? TfliteOracle.Tensor.i32(shape, iv)
                  : TfliteOracle.Tensor.i64(shape, lv));
          jsIns.add(TfjsOracle.Input.i32(name, lshape, iv));
        }
        default -> {
          return "skipped: input type " + tensor.type();
        }
      }
    }
    return TfliteChecks.runThen(
        tflite,
        ins,
        outs -> {
          List<String> outNames =
              tg.graph().outputs().stream().map(o -> TensorRef.parse(o).tensorName()).toList();
          TfjsOracle.Result js = TfjsOracle.run(TfjsOracle.Job.graph(modelJson, jsIns, outNames));
          if (!js.ok()) {
            return "FAIL: TF.js failed: " + js.error();
          }
          StringBuilder worst = new StringBuilder("matched TF.js:");
          for (int k = 0; k < outNames.size(); k++) {
            Comparison cmp = Comparison.of(js.output(k).data(), outs.get(k).floats(), ATOL, RTOL);
            worst.append(String.format(" %s max|d|=%.2g", outNames.get(k), cmp.maxAbs()));
            if (!cmp.ok()) {
              return "FAIL output " + outNames.get(k) + ": " + cmp;
            }
          }
          return worst.toString();
        });
  }
}
