package org.tfport.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tfport.convert.ConversionCheck;
import org.tfport.convert.ConversionCheck.OutputCheck;
import org.tfport.convert.ConversionCheck.Precision;
import org.tfport.convert.ConversionCheck.Report;
import org.tfport.convert.TfliteQuantizationMode;
import org.tfport.core.DType;
import org.tfport.formats.tfjs.QuantizationMap;
import org.tfport.runtime.LoadOptions;

/**
 * {@code --verify} on {@code convert} and {@code tflite_convert}: after the output is written, runs
 * source and output in tfport's runtime on the same seeded inputs and prints one {@code verify:}
 * line per output. Exit 1 (the output stays written) when an output is beyond its tolerance or
 * nothing could be compared at all.
 */
final class Verify {
  private Verify() {}

  /**
   * Checks each of {@code signatureKeys} (none: the source's default signature), printing to {@code
   * out}.
   *
   * @return the exit code: 0, or 1 when an output is beyond its tolerance or nothing was compared
   */
  static int run(
      Path source,
      LoadOptions options,
      List<String> signatureKeys,
      Path output,
      Precision precision,
      PrintWriter out) {
    List<String> keys =
        signatureKeys.isEmpty() ? java.util.Collections.singletonList(null) : signatureKeys;
    List<OutputCheck> all = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    for (String key : keys) {
      Report r =
          ConversionCheck.run(
              source, key == null ? options : options.withSignatureName(key), output, precision);
      String prefix = keys.size() > 1 ? key + "/" : "";
      for (OutputCheck o : r.outputs()) {
        all.add(o);
        out.println(
            "verify: " + prefix + o.line() + (o.ok() ? "" : "; " + output + " is left written"));
      }
      for (String n : r.notes()) {
        notes.add(n);
        out.println("verify: note: " + prefix + n);
      }
    }
    out.flush();
    if (all.isEmpty()) {
      out.println(
          "verify: nothing could be compared ("
              + String.join("; ", notes)
              + "); "
              + output
              + " is left written");
      return 1;
    }
    return all.stream().allMatch(OutputCheck::ok) ? 0 : 1;
  }

  /** The precision of a TF.js output: its coarsest weight quantization. */
  static Precision tfjs(QuantizationMap q) {
    Precision p = Precision.FLOAT32;
    for (DType t : q.dtypes()) {
      p =
          switch (t) {
            case UINT8 -> Precision.WEIGHTS_8BIT;
            case UINT16 -> p == Precision.WEIGHTS_8BIT ? p : Precision.WEIGHTS_16BIT;
            case FLOAT16 -> p == Precision.FLOAT32 ? Precision.FLOAT16 : p;
            default -> p;
          };
    }
    return p;
  }

  /** The precision of a {@code .tflite} output. */
  static Precision tflite(TfliteQuantizationMode q) {
    return switch (q) {
      case NONE -> Precision.FLOAT32;
      case FLOAT16 -> Precision.FLOAT16;
      case DYNAMIC_RANGE, INT16X8 -> Precision.WEIGHTS_8BIT;
      case INT8 -> Precision.FULL_INTEGER;
    };
  }
}
