package org.tfport.convert;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.graph.TensorRef;
import org.tfport.runtime.LoadOptions;
import org.tfport.runtime.Model;
import org.tfport.runtime.RandomInputs;
import org.tfport.runtime.Session;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;
import org.tfport.runtime.kernel.KernelException;

/**
 * Checks a conversion by running the source model and the written output in tfport's runtime on the
 * same seeded random inputs (those of {@link RandomInputs}, made from the SOURCE signature; a
 * dimension the source leaves open takes the output's size when the output fixes it, else 1) and
 * comparing each output.
 *
 * <p>Inputs and outputs of the two models are paired by name (an output input may also be named
 * after the source input's placeholder, as TF.js graph models and frozen-graph TFLite files name
 * them), else by position when both have as many and the types fit. A side that cannot be loaded or
 * run (a Keras or TF.js layers model, an op without a kernel) gives a one-line note naming that
 * side and why, and no comparison.
 *
 * <p>Tolerances, per element, {@code a} the output's value and {@code b} the source's (see {@link
 * Precision}): integer, bool and string outputs must be equal; float outputs within the bound of
 * how the weights were stored.
 */
public final class ConversionCheck {
  private ConversionCheck() {}

  /** How the conversion stored weights and computes, which sets the float tolerance. */
  public enum Precision {
    /** float32 weights: only the order of float operations differs: 1e-5 + 1e-4·|b|. */
    FLOAT32(new Tolerance(1e-5, 1e-4)),
    /**
     * float16 weights (TF.js --quantize_float16, TFLite float16): 11-bit mantissas, 1e-3 +
     * 1e-2·|b|.
     */
    FLOAT16(new Tolerance(1e-3, 1e-2)),
    /**
     * TF.js uint16 affine weights: 1/65535 of each weight's range per step, bounded like float16.
     */
    WEIGHTS_16BIT(new Tolerance(1e-3, 1e-2)),
    /**
     * TF.js uint8 affine weights, TFLite dynamic-range int8 weights (and 16x8 models, whose int8
     * weights dominate their error): a sanity bound, 5e-2 + 5e-2·|b|, since a weight moves by up to
     * half of 1/255 of its range and how that adds up depends on the model; it catches a wrong
     * layout or scale, not accuracy loss.
     */
    WEIGHTS_8BIT(new Tolerance(5e-2, 5e-2)),
    /**
     * Full-integer TFLite: 2 steps of the output's quantization (of the tensor the final DEQUANTIZE
     * reads when the output is float), else the 8-bit sanity bound.
     */
    FULL_INTEGER(new Tolerance(5e-2, 5e-2));

    final Tolerance floats;

    Precision(Tolerance floats) {
      this.floats = floats;
    }
  }

  /**
   * An element passes when {@code |a - b| <= absolute + relative·|b|}; both 0: the values must be
   * equal.
   */
  public record Tolerance(double absolute, double relative, String label) {
    public Tolerance(double absolute, double relative) {
      this(
          absolute,
          relative,
          absolute == 0 && relative == 0
              ? "must be equal"
              : relative == 0
                  ? String.format(Locale.ROOT, "%.1e", absolute)
                  : String.format(Locale.ROOT, "%.1e + %.1e·|b|", absolute, relative));
    }

    static final Tolerance EXACT = new Tolerance(0, 0);

    static Tolerance steps(int n, double scale) {
      return new Tolerance(
          n * scale, 0, String.format(Locale.ROOT, "%d output steps = %.1e", n, n * scale));
    }

    boolean accepts(double a, double b) {
      if (Double.isNaN(a) || Double.isNaN(b)) {
        return Double.isNaN(a) && Double.isNaN(b);
      }
      if (a == b) {
        return true; // also equal infinities
      }
      return Math.abs(a - b) <= absolute + relative * Math.abs(b);
    }
  }

  /**
   * One compared output.
   *
   * @param name the source's output name
   * @param maxDiff the largest {@code |a - b|} (infinite where one side is NaN or infinite and the
   *     other not, or the shapes or strings differ)
   * @param problem why it failed beyond the numbers (a shape that differs), else null
   */
  public record OutputCheck(
      String name, double maxDiff, Tolerance tolerance, boolean ok, String problem) {
    /** {@code probs max|a-b| = 3.1e-07 (tolerance 1.0e-05 + 1.0e-04·|b|) ok}. */
    public String line() {
      String diff =
          Double.isInfinite(maxDiff) ? "inf" : String.format(Locale.ROOT, "%.1e", maxDiff);
      return name
          + " max|a-b| = "
          + diff
          + " (tolerance "
          + tolerance.label()
          + ") "
          + (ok ? "ok" : "BEYOND TOLERANCE" + (problem == null ? "" : ": " + problem));
    }
  }

  /**
   * What a check found.
   *
   * @param outputs one entry per source output that has a counterpart in the output model
   * @param notes one line each: a side that could not run and why, outputs paired by position or
   *     left unpaired
   */
  public record Report(List<OutputCheck> outputs, List<String> notes) {
    public Report {
      outputs = List.copyOf(outputs);
      notes = List.copyOf(notes);
    }

    /** Whether anything was compared at all. */
    public boolean compared() {
      return !outputs.isEmpty();
    }

    /** Whether every compared output is within its tolerance (true when nothing was compared). */
    public boolean passed() {
      return outputs.stream().allMatch(OutputCheck::ok);
    }
  }

  /**
   * {@link #run(Path, LoadOptions, Path, Precision, long)} with seed 0, as {@code tfport predict}
   * uses.
   */
  public static Report run(
      Path source, LoadOptions sourceOptions, Path output, Precision precision) {
    return run(source, sourceOptions, output, precision, 0);
  }

  /**
   * Runs {@code source} (loaded with {@code sourceOptions}: signature, tags, output node names) and
   * {@code output} (the converted model, its signature of the same key if it has one, else its
   * default one) on the same inputs. Library code: never prints, never throws for a model that
   * cannot run (that is a note in the report).
   */
  public static Report run(
      Path source, LoadOptions sourceOptions, Path output, Precision precision, long seed) {
    List<String> notes = new ArrayList<>();
    Model src = open(source, sourceOptions, "source", notes);
    if (src == null) {
      return new Report(List.of(), notes);
    }
    try (src) {
      Signature ss = signature(src, sourceOptions.signatureName(), source, "source", notes);
      if (ss == null) {
        return new Report(List.of(), notes);
      }
      Model out = open(output, LoadOptions.defaults(), "output", notes);
      if (out == null) {
        return new Report(List.of(), notes);
      }
      try (out) {
        String key =
            out.signatures().stream().anyMatch(s -> s.key().equals(ss.key())) ? ss.key() : null;
        Signature os = signature(out, key, output, "output", notes);
        return os == null
            ? new Report(List.of(), notes)
            : compare(src, ss, source, out, os, output, precision, seed, notes);
      }
    }
  }

  private static Report compare(
      Model src,
      Signature ss,
      Path source,
      Model out,
      Signature os,
      Path output,
      Precision precision,
      long seed,
      List<String> notes) {
    List<TensorSpec> outInputs = pair(ss.inputs(), os.inputs(), true, output, "input", notes);
    if (outInputs == null) {
      return new Report(List.of(), notes);
    }
    QuantizedIo q = QuantizedIo.of(output, os);
    Random rnd = new Random(seed);
    Map<String, Tensor> srcFeed = new LinkedHashMap<>();
    Map<String, Tensor> outFeed = new LinkedHashMap<>();
    for (int i = 0; i < ss.inputs().size(); i++) {
      TensorSpec s = ss.inputs().get(i);
      TensorSpec o = outInputs.get(i);
      if (s.dtype() == null) {
        notes.add(
            "source " + source + ": input '" + s.name() + "' has no known type to make values for");
        return new Report(List.of(), notes);
      }
      Tensor t = RandomInputs.random(s.dtype(), shape(s, o), rnd);
      srcFeed.put(s.name(), t);
      outFeed.put(o.name(), q.quantizeInput(o, t));
    }
    Map<String, Tensor> a = execute(out, os, outFeed, output, "output", notes);
    Map<String, Tensor> b = execute(src, ss, srcFeed, source, "source", notes);
    if (a == null || b == null) {
      return new Report(List.of(), notes);
    }
    List<TensorSpec> outOutputs = byShape(ss.outputs(), os.outputs(), b, a, notes);
    if (outOutputs == null) {
      outOutputs = pair(ss.outputs(), os.outputs(), false, output, "output", notes);
    }
    if (outOutputs == null) {
      return new Report(List.of(), notes);
    }
    List<OutputCheck> checks = new ArrayList<>();
    for (int i = 0; i < ss.outputs().size(); i++) {
      TensorSpec o = outOutputs.get(i);
      if (o == null) {
        continue;
      }
      String name = ss.outputs().get(i).name();
      Tensor tb = b.get(name);
      Tensor ta = q.dequantizeOutput(o, a.get(o.name()), tb.dtype());
      checks.add(Compare.of(name, ta, tb, tolerance(tb.dtype(), precision, q.outputScale(o))));
    }
    return new Report(checks, notes);
  }

  static Tolerance tolerance(DType sourceType, Precision precision, double outputScale) {
    if (!sourceType.isFloating()) {
      return Tolerance.EXACT;
    }
    if (precision == Precision.FULL_INTEGER && outputScale > 0) {
      return Tolerance.steps(2, outputScale);
    }
    return precision.floats;
  }

  /**
   * The random input's shape: the source's dims, an open one taking the output's size when that is
   * fixed.
   */
  private static long[] shape(TensorSpec s, TensorSpec o) {
    long[] d = RandomInputs.shape(s);
    long[] src = s.shape();
    long[] out = o.shape();
    if (src != null && out != null && src.length == out.length) {
      for (int i = 0; i < d.length; i++) {
        d[i] = src[i] < 0 && out[i] >= 0 ? out[i] : d[i];
      }
    } else if (src == null && out != null) {
      d = RandomInputs.shape(o);
    }
    return d;
  }

  /**
   * For each source spec its counterpart in the output: by name (inputs: also by the source
   * tensor's node name), else by position when the counts agree (inputs: and the types and shapes
   * fit). Null (with a note) when inputs cannot be paired; an output with no counterpart is null in
   * the list and named in a note.
   */
  private static List<TensorSpec> pair(
      List<TensorSpec> src,
      List<TensorSpec> out,
      boolean inputs,
      Path output,
      String kind,
      List<String> notes) {
    Map<String, TensorSpec> byName = new HashMap<>();
    out.forEach(o -> byName.put(o.name(), o));
    List<TensorSpec> named = new ArrayList<>();
    boolean all = true;
    for (TensorSpec s : src) {
      TensorSpec o = byName.get(s.name());
      if (o == null && inputs) {
        o = byName.get(TensorRef.nodeOf(s.tensor()));
      }
      named.add(o);
      all &= o != null;
    }
    if (all && (!inputs || src.size() == out.size())) {
      return named;
    }
    if (src.size() == out.size() && (!inputs || fitsByPosition(src, out))) {
      notes.add(kind + "s paired by position: source " + names(src) + ", output " + names(out));
      return out;
    }
    if (inputs) {
      notes.add(
          "the inputs do not correspond: source "
              + describe(src)
              + ", output "
              + output
              + " "
              + describe(out));
      return null;
    }
    for (int i = 0; i < src.size(); i++) {
      if (named.get(i) == null) {
        notes.add(
            "source output '"
                + src.get(i).name()
                + "' has no counterpart in "
                + output
                + " (its outputs are "
                + names(out)
                + ")");
      }
    }
    return named;
  }

  /**
   * Outputs whose names do not correspond, paired by the shapes the two runs gave, when that is
   * unambiguous and position would pair different shapes (a frozen GraphDef lists a {@code
   * .tflite}'s outputs in another order); null to pair by name or position instead.
   */
  private static List<TensorSpec> byShape(
      List<TensorSpec> src,
      List<TensorSpec> out,
      Map<String, Tensor> srcValues,
      Map<String, Tensor> outValues,
      List<String> notes) {
    Set<String> outNames = new HashSet<>();
    out.forEach(o -> outNames.add(o.name()));
    if (src.size() != out.size() || src.stream().allMatch(s -> outNames.contains(s.name()))) {
      return null;
    }
    boolean positionFits = true;
    for (int i = 0; i < src.size(); i++) {
      positionFits &= sameShape(srcValues.get(src.get(i).name()), outValues.get(out.get(i).name()));
    }
    if (positionFits) {
      return null;
    }
    List<TensorSpec> paired = new ArrayList<>();
    Set<Integer> used = new HashSet<>();
    for (TensorSpec s : src) {
      int found = -1;
      for (int j = 0; j < out.size(); j++) {
        if (sameShape(srcValues.get(s.name()), outValues.get(out.get(j).name()))) {
          if (found >= 0) {
            return null; // two candidates: ambiguous
          }
          found = j;
        }
      }
      if (found < 0 || !used.add(found)) {
        return null;
      }
      paired.add(out.get(found));
    }
    notes.add("outputs paired by their shapes: source " + names(src) + ", output " + names(paired));
    return paired;
  }

  private static boolean sameShape(Tensor a, Tensor b) {
    return a != null && b != null && Arrays.equals(a.shape().dims(), b.shape().dims());
  }

  private static boolean fitsByPosition(List<TensorSpec> src, List<TensorSpec> out) {
    for (int i = 0; i < src.size(); i++) {
      TensorSpec s = src.get(i);
      TensorSpec o = out.get(i);
      boolean typeFits =
          s.dtype() == o.dtype()
              || o.dtype() == null
              || s.dtype() != null
                  && s.dtype().isFloating()
                  && QuantizedIo.QUANTIZED.contains(o.dtype());
      long[] ss = s.shape();
      long[] os = o.shape();
      if (!typeFits
          || ss != null
              && os != null
              && (ss.length != os.length
                  || !o.accepts(RandomInputs.shape(s)) && !s.accepts(RandomInputs.shape(o)))) {
        return false;
      }
    }
    return true;
  }

  private static String names(List<TensorSpec> specs) {
    return specs.stream().map(TensorSpec::name).toList().toString();
  }

  private static String describe(List<TensorSpec> specs) {
    return specs.stream().map(s -> s.name() + " " + s.describe()).toList().toString();
  }

  private static Model open(Path path, LoadOptions options, String side, List<String> notes) {
    try {
      return Model.load(path, options);
    } catch (TfportException | KernelException e) {
      notes.add(side + " cannot run in tfport: " + oneLine(e, path));
      return null;
    }
  }

  private static Signature signature(
      Model m, String key, Path path, String side, List<String> notes) {
    try {
      return key != null ? m.signature(key) : m.defaultSignature();
    } catch (TfportException | KernelException e) {
      notes.add(side + " cannot run in tfport: " + oneLine(e, path));
      return null;
    }
  }

  private static Map<String, Tensor> execute(
      Model m,
      Signature sig,
      Map<String, Tensor> feed,
      Path path,
      String side,
      List<String> notes) {
    try (Session s = m.newSession()) {
      return s.run(sig.key(), feed);
    } catch (TfportException | KernelException e) {
      notes.add(side + " cannot run in tfport: " + oneLine(e, path));
      return null;
    }
  }

  /**
   * The exception's message, its first line only, prefixed by the path unless it already names it.
   */
  private static String oneLine(RuntimeException e, Path path) {
    String m =
        e.getMessage() == null
            ? e.getClass().getSimpleName()
            : e.getMessage().lines().findFirst().orElse("");
    return m.contains(path.toString()) ? m : path + ": " + m;
  }

  /**
   * A tensor of {@code t} and {@code shape} holding {@code v}, rounded as {@code t} stores values.
   */
  static Tensor tensorOf(DType t, long[] shape, double[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (double x : v) {
      switch (t) {
        case INT8, UINT8 -> b.put((byte) x);
        case INT16 -> b.putShort((short) x);
        case FLOAT32 -> b.putFloat((float) x);
        default -> throw new IllegalArgumentException("no quantized values of type " + t.jsName());
      }
    }
    return new Tensor(t, Shape.of(shape), b.flip());
  }

  static String dims(Tensor t) {
    return t.dtype().jsName() + Arrays.toString(t.shape().dims());
  }
}
