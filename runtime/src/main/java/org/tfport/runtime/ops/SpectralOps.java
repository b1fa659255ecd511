package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * complex64 construction and parts (Complex, Real, Imag, ComplexAbs), the innermost-dimension
 * transforms FFT, IFFT, RFFT and IRFFT, and RFFT2D over the two innermost dimensions. Transforms
 * compute in double (radix-2 for powers of two, a direct sum otherwise) and round once to float, so
 * they are at least as accurate as TensorFlow's float32 FFT; results agree to float rounding of the
 * largest magnitude, not bit for bit.
 */
final class SpectralOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("Complex", SpectralOps::complex);
    r.reference("Real", b -> part(b, 0));
    r.reference("Imag", b -> part(b, 1));
    r.reference("ComplexAbs", SpectralOps::complexAbs);
    r.reference("FFT", b -> complexTransform(b, false));
    r.reference("IFFT", b -> complexTransform(b, true));
    r.reference("RFFT", SpectralOps::rfft);
    r.reference("IRFFT", SpectralOps::irfft);
    r.reference("RFFT2D", SpectralOps::rfft2d);
  }

  private static void checkComplex(Value v, String what) {
    if (v.dtype() != DType.COMPLEX64) {
      throw new KernelException(what + " must be complex64 (tfport has no complex128), got " + v);
    }
  }

  private static Kernel complex(BindContext b) {
    DType t = b.typeAttr("T", DType.FLOAT32);
    if (t != DType.FLOAT32) {
      throw new KernelException(
          "Complex of " + t.jsName() + " parts is not supported; tfport builds complex64");
    }
    return (in, ctx) -> {
      Elements.check(in[0], DType.FLOAT32, "real");
      Elements.check(in[1], DType.FLOAT32, "imag");
      long[] shape = Layout.broadcast(in[0].shape(), in[1].shape());
      if (shape == null) {
        throw new KernelException(
            "Incompatible shapes: "
                + Layout.shape(in[0].shape())
                + " vs. "
                + Layout.shape(in[1].shape()));
      }
      int[] re = Layout.broadcastMap(in[0].shape(), shape);
      int[] im = Layout.broadcastMap(in[1].shape(), shape);
      float[] a = in[0].floats();
      float[] c = in[1].floats();
      float[] out = new float[2 * re.length];
      for (int i = 0; i < re.length; i++) {
        out[2 * i] = a[re[i]];
        out[2 * i + 1] = c[im[i]];
      }
      return new Value[] {Value.of(DType.COMPLEX64, shape, out)};
    };
  }

  private static Kernel part(BindContext b, int which) {
    return (in, ctx) -> {
      Value x = in[0];
      if (x.dtype() == DType.FLOAT32) {
        // TensorFlow's Real/Imag also take real tensors: the value itself, or zeros.
        return new Value[] {which == 0 ? x : Value.zeros(DType.FLOAT32, x.shape())};
      }
      checkComplex(x, "input");
      float[] c = x.floats();
      float[] out = new float[x.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = c[2 * i + which];
      }
      return new Value[] {Value.floats(x.shape(), out)};
    };
  }

  private static Kernel complexAbs(BindContext b) {
    return (in, ctx) -> {
      checkComplex(in[0], "x");
      float[] c = in[0].floats();
      float[] out = new float[in[0].size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = (float) Math.hypot(c[2 * i], c[2 * i + 1]);
      }
      return new Value[] {Value.floats(in[0].shape(), out)};
    };
  }

  /** In-place DFT of n points (re, im), sign -1 forward, +1 inverse (unscaled). */
  static void dft(double[] re, double[] im, int sign) {
    int n = re.length;
    if (n <= 1) {
      return;
    }
    if ((n & n - 1) == 0) {
      radix2(re, im, sign);
      return;
    }
    double[] cos = new double[n];
    double[] sin = new double[n];
    for (int k = 0; k < n; k++) {
      double angle = 2 * Math.PI * k / n;
      cos[k] = Math.cos(angle);
      sin[k] = sign * Math.sin(angle);
    }
    double[] outRe = new double[n];
    double[] outIm = new double[n];
    for (int k = 0; k < n; k++) {
      double sr = 0;
      double si = 0;
      long idx = 0;
      for (int t = 0; t < n; t++) {
        int w = (int) idx;
        sr += re[t] * cos[w] - im[t] * sin[w];
        si += re[t] * sin[w] + im[t] * cos[w];
        idx += k;
        if (idx >= n) {
          idx -= n;
        }
      }
      outRe[k] = sr;
      outIm[k] = si;
    }
    System.arraycopy(outRe, 0, re, 0, n);
    System.arraycopy(outIm, 0, im, 0, n);
  }

  private static void radix2(double[] re, double[] im, int sign) {
    int n = re.length;
    for (int i = 1, j = 0; i < n; i++) {
      int bit = n >> 1;
      for (; (j & bit) != 0; bit >>= 1) {
        j ^= bit;
      }
      j ^= bit;
      if (i < j) {
        double t = re[i];
        re[i] = re[j];
        re[j] = t;
        t = im[i];
        im[i] = im[j];
        im[j] = t;
      }
    }
    for (int len = 2; len <= n; len <<= 1) {
      int half = len >> 1;
      for (int k = 0; k < half; k++) {
        double angle = 2 * Math.PI * k / len;
        double wr = Math.cos(angle);
        double wi = sign * Math.sin(angle);
        for (int s = 0; s < n; s += len) {
          int a = s + k;
          int c = a + half;
          double xr = re[c] * wr - im[c] * wi;
          double xi = re[c] * wi + im[c] * wr;
          re[c] = re[a] - xr;
          im[c] = im[a] - xi;
          re[a] += xr;
          im[a] += xi;
        }
      }
    }
  }

  private static Kernel complexTransform(BindContext b, boolean inverse) {
    return (in, ctx) -> {
      Value x = in[0];
      checkComplex(x, "input");
      if (x.rank() < 1) {
        throw new KernelException("input must be at least 1-D, got " + x);
      }
      int n = (int) x.dim(x.rank() - 1);
      int rows = n == 0 ? 0 : x.size() / n;
      float[] c = x.floats();
      float[] out = new float[c.length];
      double[] re = new double[n];
      double[] im = new double[n];
      for (int r = 0; r < rows; r++) {
        for (int t = 0; t < n; t++) {
          re[t] = c[2 * (r * n + t)];
          im[t] = c[2 * (r * n + t) + 1];
        }
        dft(re, im, inverse ? 1 : -1);
        double scale = inverse ? 1.0 / n : 1.0;
        for (int k = 0; k < n; k++) {
          out[2 * (r * n + k)] = (float) (re[k] * scale);
          out[2 * (r * n + k) + 1] = (float) (im[k] * scale);
        }
      }
      return new Value[] {Value.of(DType.COMPLEX64, x.shape(), out)};
    };
  }

  private static int fftLength(Value v) {
    long[] l = Layout.vector(v, "fft_length");
    if (l.length != 1 || l[0] < 0) {
      throw new KernelException(
          "fft_length must hold one non-negative length, got " + Layout.shape(l));
    }
    return (int) l[0];
  }

  private static Kernel rfft(BindContext b) {
    return (in, ctx) -> {
      Value x = in[0];
      Elements.check(x, DType.FLOAT32, "input");
      if (x.rank() < 1) {
        throw new KernelException("input must be at least 1-D, got " + x);
      }
      int n = fftLength(in[1]);
      int len = (int) x.dim(x.rank() - 1);
      int rows = len == 0 ? Layout.product(x.shape(), 0, x.rank() - 1) : x.size() / len;
      int bins = n == 0 ? 0 : n / 2 + 1;
      if (len < n) {
        throw new KernelException(
            "RFFT of length " + n + " needs at least " + n + " input values, got " + len);
      }
      long[] shape = x.shape().clone();
      shape[shape.length - 1] = bins;
      float[] src = x.floats();
      float[] out = new float[2 * rows * bins];
      double[] re = new double[n];
      double[] im = new double[n];
      for (int r = 0; r < rows; r++) {
        java.util.Arrays.fill(im, 0);
        for (int t = 0; t < n; t++) {
          re[t] = src[r * len + t];
        }
        dft(re, im, -1);
        for (int k = 0; k < bins; k++) {
          out[2 * (r * bins + k)] = (float) re[k];
          out[2 * (r * bins + k) + 1] = (float) im[k];
        }
      }
      return new Value[] {Value.of(DType.COMPLEX64, shape, out)};
    };
  }

  /**
   * The real signal of a Hermitian spectrum's first n/2+1 bins; the imaginary parts of DC and
   * Nyquist are ignored.
   */
  private static Kernel irfft(BindContext b) {
    return (in, ctx) -> {
      Value x = in[0];
      checkComplex(x, "input");
      if (x.rank() < 1) {
        throw new KernelException("input must be at least 1-D, got " + x);
      }
      int n = fftLength(in[1]);
      int len = (int) x.dim(x.rank() - 1);
      int rows = len == 0 ? Layout.product(x.shape(), 0, x.rank() - 1) : x.size() / len;
      int bins = n / 2 + 1;
      if (n > 0 && len < bins) {
        throw new KernelException(
            "IRFFT of length " + n + " needs at least " + bins + " input bins, got " + len);
      }
      long[] shape = x.shape().clone();
      shape[shape.length - 1] = n;
      float[] c = x.floats();
      float[] out = new float[rows * n];
      double[] re = new double[n];
      double[] im = new double[n];
      for (int r = 0; r < rows; r++) {
        for (int k = 0; k < n; k++) {
          int from = k < bins ? k : n - k;
          double vr = c[2 * (r * len + from)];
          double vi = c[2 * (r * len + from) + 1];
          if (from == 0 || 2 * from == n) {
            vi = 0;
          }
          re[k] = vr;
          im[k] = k < bins ? vi : -vi;
        }
        dft(re, im, 1);
        for (int t = 0; t < n; t++) {
          out[r * n + t] = (float) (re[t] / n);
        }
      }
      return new Value[] {Value.floats(shape, out)};
    };
  }

  /**
   * RFFT2D (TensorFlow's, and TFLite's builtin of that name): the 2-D DFT of the two innermost
   * dimensions of a real input, cropped or zero-padded to {@code fft_length} [rows, cols], keeping
   * the {@code cols/2 + 1} non-redundant bins of the last dimension. Computed in double (each row's
   * transform, then each kept bin's column transform) and rounded once to complex64.
   */
  private static Kernel rfft2d(BindContext b) {
    return (in, ctx) -> {
      Value x = in[0];
      Elements.check(x, DType.FLOAT32, "input");
      if (x.rank() < 2) {
        throw new KernelException("input must be at least 2-D, got " + x);
      }
      long[] l = Layout.vector(in[1], "fft_length");
      if (l.length != 2 || l[0] < 0 || l[1] < 0 || l[0] > 1 << 24 || l[1] > 1 << 24) {
        throw new KernelException(
            "fft_length must hold two non-negative lengths, got " + Layout.shape(l));
      }
      int n0 = (int) l[0];
      int n1 = (int) l[1];
      int h = (int) x.dim(x.rank() - 2);
      int w = (int) x.dim(x.rank() - 1);
      int batch = Layout.product(x.shape(), 0, x.rank() - 2);
      int bins = n1 == 0 ? 0 : n1 / 2 + 1;
      long[] shape = x.shape().clone();
      shape[shape.length - 2] = n0;
      shape[shape.length - 1] = bins;
      org.tfport.runtime.kernel.Memory.reserve(DType.COMPLEX64, shape);
      float[] src = x.floats();
      float[] out = new float[Math.toIntExact(2L * batch * n0 * bins)];
      double[][] specRe = new double[n0][bins];
      double[][] specIm = new double[n0][bins];
      double[] re = new double[Math.max(n0, n1)];
      double[] im = new double[re.length];
      double[] rowRe = new double[n1];
      double[] rowIm = new double[n1];
      double[] colRe = new double[n0];
      double[] colIm = new double[n0];
      for (int bt = 0; bt < batch; bt++) {
        int base = bt * h * w;
        for (int r = 0; r < n0; r++) {
          java.util.Arrays.fill(rowIm, 0);
          for (int c = 0; c < n1; c++) {
            rowRe[c] = r < h && c < w ? src[base + r * w + c] : 0;
          }
          dft(rowRe, rowIm, -1);
          System.arraycopy(rowRe, 0, specRe[r], 0, bins);
          System.arraycopy(rowIm, 0, specIm[r], 0, bins);
        }
        for (int k = 0; k < bins; k++) {
          for (int r = 0; r < n0; r++) {
            colRe[r] = specRe[r][k];
            colIm[r] = specIm[r][k];
          }
          dft(colRe, colIm, -1);
          for (int r = 0; r < n0; r++) {
            int o = 2 * ((bt * n0 + r) * bins + k);
            out[o] = (float) colRe[r];
            out[o + 1] = (float) colIm[r];
          }
        }
      }
      return new Value[] {Value.of(DType.COMPLEX64, shape, out)};
    };
  }
}
