package org.tfport.runtime.stablehlo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.Graph;
import org.tfport.formats.stablehlo.Attr;
import org.tfport.formats.stablehlo.DenseElements;
import org.tfport.formats.stablehlo.Func;
import org.tfport.formats.stablehlo.StableHloModule;
import org.tfport.graph.stablehlo.StableHloLowering;
import org.tfport.graph.stablehlo.StableHloLowering.Check;
import org.tfport.graph.stablehlo.StableHloLowering.Lowered;
import org.tfport.runtime.Model;
import org.tfport.runtime.Session;

/**
 * Runs the StableHLO test programs of the corpus: each function with {@code check.*} assertions is
 * lowered with the compared tensors as its outputs, run in tfport's runtime, and each assertion
 * evaluated.
 */
final class StableHloPrograms {
  private StableHloPrograms() {}

  /** One assertion's outcome; {@code failure} is null when it held. */
  record Outcome(String where, String failure) {}

  static List<Outcome> run(StableHloModule m, Func f) {
    Lowered lw = StableHloLowering.lower(m, f);
    Graph g = lw.graph();
    g.outputs().clear();
    List<Check> checks = lw.checks();
    for (Check c : checks) {
      g.outputs().addAll(c.tensors());
    }
    List<Outcome> out = new ArrayList<>();
    if (checks.isEmpty()) {
      return out;
    }
    Map<String, Tensor> results;
    try (Model model = Model.fromGraph(g);
        Session s = model.newSession()) {
      results = s.run(Map.of());
    }
    List<String> names = model(g);
    int at = 0;
    for (Check c : checks) {
      String where = m.fileName() + ":" + c.op().line() + " (" + f.name() + ")";
      Tensor actual = results.get(names.get(at));
      double[] expected;
      if (c.tensors().size() == 2) {
        expected = values(results.get(names.get(at + 1)));
      } else {
        DenseElements d = ((Attr.DenseAttr) c.op().attr("value")).value();
        expected =
            d.type().element().startsWith("f") || d.type().element().equals("bf16")
                ? d.toDoubles()
                : java.util.Arrays.stream(d.toLongs()).asDoubleStream().toArray();
      }
      at += c.tensors().size();
      double tolerance =
          c.op().attr("tolerance") instanceof Attr.FloatAttr t ? t.value() : ALMOST_EQ_TOLERANCE;
      out.add(new Outcome(where, compare(c.target(), values(actual), expected, tolerance)));
    }
    return out;
  }

  /** The signature's output names, in the graph's output order. */
  private static List<String> model(Graph g) {
    List<String> names = new ArrayList<>();
    for (String o : g.outputs()) {
      names.add(o);
    }
    return names;
  }

  /**
   * The tolerance of StableHLO's {@code check.expect_almost_eq} and of its interpreter's {@code
   * check.expect_close} custom call: an absolute 1e-4 unless the op states one.
   */
  static final double ALMOST_EQ_TOLERANCE = 1e-4;

  /**
   * Exact for {@code expect_eq}; {@code expect_almost_eq} and {@code expect_close} within their
   * absolute tolerance; any other check within 1e-5 relative.
   */
  static String compare(String target, double[] a, double[] b, double tolerance) {
    if (a.length != b.length) {
      return "got " + a.length + " values, expected " + b.length;
    }
    boolean exact = target.contains("expect_eq");
    boolean almost = target.contains("almost_eq") || target.contains("expect_close");
    for (int k = 0; k < a.length; k++) {
      double diff = Math.abs(a[k] - b[k]);
      boolean ok =
          (Double.isNaN(a[k]) && Double.isNaN(b[k]))
              || a[k] == b[k]
              || (almost && diff <= tolerance)
              || (!exact && !almost && diff <= 1e-5 * Math.abs(b[k]));
      if (!ok) {
        return "element " + k + ": got " + a[k] + ", expected " + b[k] + " (" + target + ")";
      }
    }
    return null;
  }

  static double[] values(Tensor t) {
    ByteBuffer b = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) t.size();
    double[] out = new double[n];
    for (int k = 0; k < n; k++) {
      DType d = t.dtype();
      out[k] =
          switch (d) {
            case FLOAT32 -> b.getFloat(k * 4);
            case FLOAT64 -> b.getDouble(k * 8);
            case FLOAT16 -> Float.float16ToFloat(b.getShort(k * 2));
            case BFLOAT16 -> Float.intBitsToFloat((b.getShort(k * 2) & 0xffff) << 16);
            case INT8 -> b.get(k);
            case UINT8, BOOL -> b.get(k) & 0xff;
            case INT16 -> b.getShort(k * 2);
            case UINT16 -> b.getShort(k * 2) & 0xffff;
            case INT32 -> b.getInt(k * 4);
            case INT64 -> b.getLong(k * 8);
            default -> throw new IllegalArgumentException("values of " + d.jsName());
          };
    }
    return out;
  }
}
