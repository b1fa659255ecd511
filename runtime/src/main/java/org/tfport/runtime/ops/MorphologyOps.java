package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.Windows.Axis;
import org.tfport.runtime.ops.Windows.Padding;

/**
 * Grayscale morphology: Dilation2D, the max over a dilated window of input plus filter, per
 * channel. Taps in the padding do not take part; a window with none inside the input yields the
 * type's lowest finite value, as TensorFlow's kernel starts from it.
 */
final class MorphologyOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("Dilation2D", MorphologyOps::bindDilation);
  }

  private static Kernel bindDilation(BindContext b) {
    DType t = Reals.type(b, "T", Reals.FLOATS);
    int[] strides = spatialPair(b, "strides");
    int[] rates = spatialPair(b, "rates");
    Padding padding = Padding.of(b, false);
    double lowest = t == DType.FLOAT32 ? -Float.MAX_VALUE : -Double.MAX_VALUE;
    return (in, ctx) -> {
      Value x = in[0];
      Value f = in[1];
      ConvOps.checkType(x, t, "input");
      ConvOps.checkType(f, t, "filter");
      long[] xs = x.shape();
      long[] fs = f.shape();
      if (xs.length != 4) {
        throw new KernelException("input " + Arrays.toString(xs) + " is not of rank 4 (NHWC)");
      }
      if (fs.length != 3 || fs[2] != xs[3]) {
        throw new KernelException(
            "filter "
                + Arrays.toString(fs)
                + " is not [height, width, "
                + xs[3]
                + "] for input "
                + Arrays.toString(xs));
      }
      int batch = Math.toIntExact(xs[0]);
      int depth = Math.toIntExact(xs[3]);
      Axis ah =
          Windows.axis(
              Math.toIntExact(xs[1]), Math.toIntExact(fs[0]), strides[0], rates[0], padding, 0, 0);
      Axis aw =
          Windows.axis(
              Math.toIntExact(xs[2]), Math.toIntExact(fs[1]), strides[1], rates[1], padding, 0, 0);
      double[] xv = Reals.read(x);
      double[] fv = Reals.read(f);
      long[] outShape = {batch, ah.out(), aw.out(), depth};
      double[] y = new double[Math.toIntExact(Value.elementCount(outShape))];
      int o = 0;
      for (int n = 0; n < batch; n++) {
        for (int oh = 0; oh < ah.out(); oh++) {
          for (int ow = 0; ow < aw.out(); ow++) {
            for (int c = 0; c < depth; c++) {
              double best = lowest;
              for (int kh = 0; kh < ah.window(); kh++) {
                int ih = ah.input(oh, kh);
                if (ih < 0 || ih >= ah.in()) {
                  continue;
                }
                for (int kw = 0; kw < aw.window(); kw++) {
                  int iw = aw.input(ow, kw);
                  if (iw < 0 || iw >= aw.in()) {
                    continue;
                  }
                  double v =
                      xv[((n * ah.in() + ih) * aw.in() + iw) * depth + c]
                          + fv[(kh * aw.window() + kw) * depth + c];
                  if (t == DType.FLOAT32) {
                    // TensorFlow adds in float32 before comparing.
                    v = (float) v;
                  }
                  if (v > best) {
                    best = v;
                  }
                }
              }
              y[o++] = best;
            }
          }
        }
      }
      return new Value[] {Reals.write(t, outShape, y)};
    };
  }

  /** The height and width entries of a 4-entry NHWC attribute whose batch and depth must be 1. */
  private static int[] spatialPair(BindContext b, String attr) {
    long[] v = b.intsAttr(attr, null);
    if (v == null || v.length != 4 || v[0] != 1 || v[3] != 1 || v[1] < 1 || v[2] < 1) {
      throw new KernelException(
          "attribute '"
              + attr
              + "' "
              + (v == null ? "is missing" : Arrays.toString(v) + " is not [1, h, w, 1]"));
    }
    return new int[] {Math.toIntExact(v[1]), Math.toIntExact(v[2])};
  }
}
