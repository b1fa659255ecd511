package org.tfport.convert.tflite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.tfport.formats.tflite.TfliteTensor;
import org.tfport.testkit.TfliteOracle;

/**
 * What the TFLite corpus tests share: loading and running a converted file, and tallying the
 * results.
 */
final class TfliteChecks {
  private TfliteChecks() {}

  /** An input's shape with each unknown dimension (-1 in the shape signature) set to 2. */
  static int[] concreteShape(TfliteTensor tensor) {
    int[] shape = tensor.shape().stream().mapToInt(i -> i).toArray();
    for (int i = 0; i < shape.length; i++) {
      shape[i] =
          tensor.shapeSignature() != null && tensor.shapeSignature().get(i) < 0 ? 2 : shape[i];
    }
    return shape;
  }

  /** "FAIL ..." when TFLite refuses to load the file, else null. */
  static String rejected(Path tflite) {
    TfliteOracle.Load load = TfliteOracle.load(tflite);
    return load.accepted() ? null : "FAIL: TFLite rejected the file: " + load.error();
  }

  /**
   * Runs the file in TFLite on the inputs and hands the outputs to {@code compare}, whose result is
   * the check's; a run that throws is a failure.
   */
  static String runThen(
      Path tflite,
      List<TfliteOracle.Tensor> ins,
      Function<List<TfliteOracle.Tensor>, String> compare) {
    List<TfliteOracle.Tensor> outs;
    try {
      outs = TfliteOracle.run(tflite, ins);
    } catch (RuntimeException e) {
      return "FAIL: TFLite run failed: " + e.getMessage();
    }
    return compare.apply(outs);
  }

  /** Whether the check result {@code r} matched; a "FAIL ..." one is added to {@code failures}. */
  static boolean tally(List<String> failures, String label, String r) {
    if (r.startsWith("FAIL")) {
      failures.add(label + ": " + r);
      return false;
    }
    return true;
  }

  /**
   * Prints the report under its heading, then asserts nothing failed and at least {@code
   * minMatched} matched.
   */
  static void finish(
      String heading, Iterable<String> report, List<String> failures, int matched, int minMatched) {
    System.out.println(heading + ":\n  " + String.join("\n  ", report));
    assertThat(failures).isEmpty();
    assertThat(matched).isGreaterThanOrEqualTo(minMatched);
  }
}
