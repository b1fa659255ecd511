package org.tfport.convert;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.tfport.convert.ConversionCheck.OutputCheck;
import org.tfport.convert.ConversionCheck.Tolerance;
import org.tfport.core.DType;
import org.tfport.core.Tensor;

/**
 * Element-wise comparison of one output of the converted model ({@code a}) with the source's
 * ({@code b}).
 */
final class Compare {
  private Compare() {}

  static OutputCheck of(String name, Tensor a, Tensor b, Tolerance tol) {
    if (!Arrays.equals(a.shape().dims(), b.shape().dims())) {
      return new OutputCheck(
          name,
          Double.POSITIVE_INFINITY,
          tol,
          false,
          "the output is " + ConversionCheck.dims(a) + ", the source " + ConversionCheck.dims(b));
    }
    if (a.dtype() == DType.STRING || b.dtype() == DType.STRING) {
      return strings(name, a, b, tol);
    }
    double[] va = values(a);
    double[] vb = values(b);
    double max = 0;
    int bad = 0;
    for (int i = 0; i < va.length; i++) {
      double d = Math.abs(va[i] - vb[i]);
      boolean same = va[i] == vb[i] || Double.isNaN(va[i]) && Double.isNaN(vb[i]);
      max = Math.max(max, same ? 0 : Double.isNaN(d) ? Double.POSITIVE_INFINITY : d);
      bad += tol.accepts(va[i], vb[i]) ? 0 : 1;
    }
    return new OutputCheck(
        name, max, tol, bad == 0, bad == 0 ? null : bad + " of " + va.length + " values beyond it");
  }

  private static OutputCheck strings(String name, Tensor a, Tensor b, Tolerance tol) {
    if (a.dtype() != b.dtype()) {
      return new OutputCheck(
          name,
          Double.POSITIVE_INFINITY,
          Tolerance.EXACT,
          false,
          "the output is " + ConversionCheck.dims(a) + ", the source " + ConversionCheck.dims(b));
    }
    List<byte[]> sa = a.toByteStrings();
    List<byte[]> sb = b.toByteStrings();
    int bad = 0;
    for (int i = 0; i < sa.size(); i++) {
      bad += Arrays.equals(sa.get(i), sb.get(i)) ? 0 : 1;
    }
    return new OutputCheck(
        name,
        bad == 0 ? 0 : Double.POSITIVE_INFINITY,
        Tolerance.EXACT,
        bad == 0,
        bad == 0 ? null : bad + " of " + sa.size() + " strings differ");
  }

  /** The elements as doubles; exact for every integer type up to 2^53 in magnitude. */
  static double[] values(Tensor t) {
    int n = Math.toIntExact(t.size());
    if (t.dtype() == DType.INT64) {
      ByteBuffer b = t.bytes();
      double[] out = new double[n];
      for (int i = 0; i < n; i++) {
        out[i] = b.getLong(i * 8);
      }
      return out;
    }
    if (t.dtype() == DType.FLOAT64) {
      ByteBuffer b = t.bytes();
      double[] out = new double[n];
      for (int i = 0; i < n; i++) {
        out[i] = b.getDouble(i * 8);
      }
      return out;
    }
    float[] f = t.toFloatArray();
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      out[i] = f[i];
    }
    return out;
  }
}
