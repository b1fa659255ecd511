package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * The gradients of the activations, as backward graphs use them: two same-shape inputs (the
 * incoming gradient and the forward op's input or output, in TensorFlow's argument order) and the
 * gradient with respect to the forward input. Each is computed in the element type with the
 * operations in the order TensorFlow's CPU functors apply them, so float32 results equal
 * TensorFlow's bit for bit except SoftplusGrad, whose exp TensorFlow approximates.
 */
final class ActivationGradOps implements OpFamily {
  /** One element: {@code a} and {@code b} are the op's first and second inputs. */
  @FunctionalInterface
  interface FloatGrad {
    float apply(float a, float b);
  }

  @FunctionalInterface
  interface DoubleGrad {
    double apply(double a, double b);
  }

  private static final double SELU_SCALE = 1.0507009873554804934193349852946;
  private static final double SELU_SCALE_ALPHA = 1.7580993408473768599402175208123;

  @Override
  public void register(KernelRegistry r) {
    // (gradients, features): the gradient passes where the forward input was positive.
    op(r, "ReluGrad", (g, x) -> g * (x > 0 ? 1f : 0f), (g, x) -> g * (x > 0 ? 1d : 0d));
    op(
        r,
        "Relu6Grad",
        (g, x) -> g * (x > 0 && x < 6 ? 1f : 0f),
        (g, x) -> g * (x > 0 && x < 6 ? 1d : 0d));
    // (gradients, outputs).
    op(r, "EluGrad", (g, y) -> y < 0 ? (y + 1) * g : g, (g, y) -> y < 0 ? (y + 1) * g : g);
    float seluScale = (float) SELU_SCALE;
    float seluScaleAlpha = (float) SELU_SCALE_ALPHA;
    op(
        r,
        "SeluGrad",
        (g, y) -> y < 0 ? g * (y + seluScaleAlpha) : g * seluScale,
        (g, y) -> y < 0 ? g * (y + SELU_SCALE_ALPHA) : g * SELU_SCALE);
    // (gradients, features).
    op(
        r,
        "SoftplusGrad",
        (g, x) -> (float) (g / (Math.exp(-x) + 1)),
        (g, x) -> g / (Math.exp(-x) + 1));
    op(
        r,
        "SoftsignGrad",
        (g, x) -> {
          float d = Math.abs(x) + 1;
          return g / (d * d);
        },
        (g, x) -> {
          double d = Math.abs(x) + 1;
          return g / (d * d);
        });
    // The cwise gradients take (y, dy), y the forward output. TensorFlow's functors return +0 for
    // a zero incoming gradient (no 0·∞ NaN where y is 0) and divide by multiplying with 1/y.
    op(
        r,
        "SigmoidGrad",
        new Lanes(
            (y, dy) -> dy * (y * (1 - y)),
            (y, dy) -> dy * (y * (1 - y)),
            (y, dy) -> dy * y * (1 - y),
            (y, dy) -> dy * y * (1 - y)));
    op(r, "TanhGrad", (y, dy) -> dy * (1 - y * y), (y, dy) -> dy * (1 - y * y));
    // Adding +0 turns a −0 product into +0, as TensorFlow's result has.
    op(
        r,
        "RsqrtGrad",
        (y, dy) -> dy == 0 ? 0f : -0.5f * (dy * y) * (y * y) + 0f,
        (y, dy) -> dy == 0 ? 0d : -0.5 * (dy * y) * (y * y) + 0d);
    op(
        r,
        "SqrtGrad",
        new Lanes(
            (y, dy) -> dy == 0 ? 0f : 0.5f * dy * (1 / y),
            (y, dy) -> dy == 0 ? 0d : 0.5 * dy * (1 / y),
            (y, dy) -> dy == 0 ? 0f : 0.5f * dy / y,
            (y, dy) -> dy == 0 ? 0d : 0.5 * dy / y));
    for (String name : new String[] {"ReciprocalGrad", "InvGrad"}) {
      op(r, name, (y, dy) -> dy == 0 ? 0f : -dy * (y * y), (y, dy) -> dy == 0 ? 0d : -dy * (y * y));
    }
    r.reference(
        "LeakyReluGrad",
        b -> {
          DType t = Reals.type(b, "T", Reals.FLOATS);
          // alpha is converted to the element type first, as TensorFlow's kernel does.
          float alpha = b.floatAttr("alpha", 0.2f);
          double alphaD = alpha;
          return kernel(
              t, b.op(), (g, x) -> x > 0 ? g : g * alpha, (g, x) -> x > 0 ? g : g * alphaD);
        });
  }

  /**
   * An op whose vectorized and scalar forms round differently. TensorFlow's CPU build evaluates
   * packets of 8 floats or 4 doubles (AVX) over the largest multiple of that many leading elements
   * and the scalar form over the rest, so which form an element gets depends on its index.
   */
  record Lanes(FloatGrad packetF, DoubleGrad packetD, FloatGrad scalarF, DoubleGrad scalarD) {}

  private static final int FLOAT_PACKET = 8;
  private static final int DOUBLE_PACKET = 4;

  private static void op(KernelRegistry r, String name, FloatGrad f, DoubleGrad d) {
    op(r, name, new Lanes(f, d, f, d));
  }

  private static void op(KernelRegistry r, String name, Lanes lanes) {
    r.reference(name, b -> kernel(Reals.type(b, "T", Reals.FLOATS), b.op(), lanes));
  }

  private static Kernel kernel(DType t, String op, FloatGrad f, DoubleGrad d) {
    return kernel(t, op, new Lanes(f, d, f, d));
  }

  private static Kernel kernel(DType t, String op, Lanes lanes) {
    return (in, ctx) -> {
      Value a = in[0];
      Value b = in[1];
      Elements.check(a, t, op + " input 0");
      Elements.check(b, t, op + " input 1");
      if (!Arrays.equals(a.shape(), b.shape())) {
        throw new KernelException(op + " inputs must have the same shape, not " + a + " and " + b);
      }
      if (t == DType.FLOAT32) {
        float[] x = a.floats();
        float[] y = b.floats();
        float[] out = new float[x.length];
        int packed = out.length - out.length % FLOAT_PACKET;
        FloatGrad f = lanes.packetF();
        for (int i = 0; i < packed; i++) {
          out[i] = f.apply(x[i], y[i]);
        }
        FloatGrad tail = lanes.scalarF();
        for (int i = packed; i < out.length; i++) {
          out[i] = tail.apply(x[i], y[i]);
        }
        return new Value[] {Value.of(t, a.shape(), out)};
      }
      double[] x = a.doubles();
      double[] y = b.doubles();
      double[] out = new double[x.length];
      int packed = out.length - out.length % DOUBLE_PACKET;
      DoubleGrad d = lanes.packetD();
      for (int i = 0; i < packed; i++) {
        out[i] = d.apply(x[i], y[i]);
      }
      DoubleGrad tail = lanes.scalarD();
      for (int i = packed; i < out.length; i++) {
        out[i] = tail.apply(x[i], y[i]);
      }
      return new Value[] {Value.of(t, a.shape(), out)};
    };
  }
}
