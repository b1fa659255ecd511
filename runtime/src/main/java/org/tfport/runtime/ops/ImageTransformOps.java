package org.tfport.runtime.ops;

import java.util.Set;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * ImageProjectiveTransformV3: each output pixel (x, y) reads the input at ((a0 x + a1 y + a2) / k,
 * (b0 x + b1 y + b2) / k) with k = c0 x + c1 y + 1, after the fill mode folds the point into the
 * image. All of it runs in float32 as TensorFlow's kernel does, whatever the image type; a result
 * is converted to an integer type by truncation, as a C cast.
 */
final class ImageTransformOps implements OpFamily {
  private static final Set<DType> TYPES =
      Set.of(DType.FLOAT32, DType.FLOAT64, DType.UINT8, DType.INT32, DType.INT64);

  private enum Fill {
    CONSTANT,
    REFLECT,
    WRAP,
    NEAREST
  }

  @Override
  public void register(KernelRegistry r) {
    r.reference("ImageProjectiveTransformV3", ImageTransformOps::bind);
  }

  private static Kernel bind(BindContext b) {
    DType t = Reals.type(b, "dtype", TYPES);
    String interpolation = b.stringAttr("interpolation", null);
    if (!"NEAREST".equals(interpolation) && !"BILINEAR".equals(interpolation)) {
      throw new KernelException("interpolation '" + interpolation + "' is not NEAREST or BILINEAR");
    }
    boolean bilinear = interpolation.equals("BILINEAR");
    String mode = b.stringAttr("fill_mode", "CONSTANT");
    Fill fillMode;
    try {
      fillMode = Fill.valueOf(mode);
    } catch (IllegalArgumentException e) {
      throw new KernelException(
          "fill_mode '" + mode + "' is not CONSTANT, REFLECT, WRAP or NEAREST");
    }
    return (in, ctx) -> {
      Value images = in[0];
      Value transforms = in[1];
      if (images.dtype() != t || images.rank() != 4) {
        throw new KernelException(
            "images must be a rank-4 " + t.jsName() + " tensor, got " + images);
      }
      int batch = (int) images.dim(0);
      int h = (int) images.dim(1);
      int w = (int) images.dim(2);
      int ch = (int) images.dim(3);
      if (transforms.dtype() != DType.FLOAT32
          || transforms.rank() != 2
          || transforms.dim(1) != 8
          || (transforms.dim(0) != 1 && transforms.dim(0) != batch)) {
        throw new KernelException(
            "Input transform should be num_images x 8 or 1 x 8, got " + transforms);
      }
      long[] size = Layout.vector(in[2], "output_shape");
      if (size.length != 2 || size[0] < 0 || size[1] < 0) {
        throw new KernelException("output_shape must be two non-negative sizes");
      }
      if (in[3].size() != 1) {
        throw new KernelException("fill_value must be a scalar, got " + in[3]);
      }
      float fill = toType(t, (float) in[3].doubleAt(0));
      int oh = Math.toIntExact(size[0]);
      int ow = Math.toIntExact(size[1]);
      double[] x = Reals.read(images);
      float[] tr = transforms.floats();
      double[] y = new double[Math.toIntExact(Value.elementCount(new long[] {batch, oh, ow, ch}))];
      int o = 0;
      for (int n = 0; n < batch; n++) {
        int tb = transforms.dim(0) == 1 ? 0 : n * 8;
        for (int oy = 0; oy < oh; oy++) {
          for (int ox = 0; ox < ow; ox++) {
            float fx = ox;
            float fy = oy;
            float k = tr[tb + 6] * fx + tr[tb + 7] * fy + 1f;
            float ix = (tr[tb] * fx + tr[tb + 1] * fy + tr[tb + 2]) / k;
            float iy = (tr[tb + 3] * fx + tr[tb + 4] * fy + tr[tb + 5]) / k;
            float mx = map(fillMode, ix, w);
            float my = map(fillMode, iy, h);
            for (int c = 0; c < ch; c++) {
              float v;
              if (k == 0) {
                v = fill;
              } else if (bilinear) {
                float x0 = (float) Math.floor(mx);
                float y0 = (float) Math.floor(my);
                float x1 = x0 + 1;
                float y1 = y0 + 1;
                float top =
                    (x1 - mx) * read(x, n, y0, x0, c, h, w, ch, fill)
                        + (mx - x0) * read(x, n, y0, x1, c, h, w, ch, fill);
                float bottom =
                    (x1 - mx) * read(x, n, y1, x0, c, h, w, ch, fill)
                        + (mx - x0) * read(x, n, y1, x1, c, h, w, ch, fill);
                v = (y1 - my) * top + (my - y0) * bottom;
              } else {
                v = read(x, n, roundHalfAway(my), roundHalfAway(mx), c, h, w, ch, fill);
              }
              y[o++] = toType(t, v);
            }
          }
        }
      }
      return new Value[] {Reals.write(t, new long[] {batch, oh, ow, ch}, y)};
    };
  }

  /** The image value at a (whole-numbered) point, or the fill outside the image. */
  private static float read(
      double[] x, int n, float py, float px, int c, int h, int w, int ch, float fill) {
    if (!(py >= 0 && py < h && px >= 0 && px < w)) {
      return fill;
    }
    return (float) x[((n * h + (int) py) * w + (int) px) * ch + c];
  }

  /** C's round: halves away from zero. */
  private static float roundHalfAway(float v) {
    return (float) (v < 0 ? -Math.floor(-(double) v + 0.5) : Math.floor(v + 0.5));
  }

  /** A float as the image type holds it: integers truncate, float64 keeps the float32 value. */
  private static float toType(DType t, float v) {
    return switch (t) {
      case FLOAT32, FLOAT64 -> v;
      case UINT8 -> (float) (((int) v) & 0xff);
      default -> (float) (long) v;
    };
  }

  /** Folds a coordinate into [0, len − 1] by the fill mode (CONSTANT leaves it to the read). */
  private static float map(Fill mode, float in, int len) {
    switch (mode) {
      case CONSTANT -> {
        return in;
      }
      case NEAREST -> {
        return clamp(in, len);
      }
      case REFLECT -> {
        if (in < 0) {
          if (len <= 1) {
            in = 0;
          } else {
            long sz2 = 2L * len;
            in = sz2 * (long) (-in / sz2) + in;
            in = in < -len ? in + sz2 : -in - 1;
          }
        } else if (in > len - 1) {
          if (len <= 1) {
            in = 0;
          } else {
            long sz2 = 2L * len;
            in -= sz2 * (long) (in / sz2);
            if (in >= len) {
              in = sz2 - in - 1;
            }
          }
        }
        return clamp(in, len);
      }
      default -> {
        if (in < 0) {
          if (len <= 1) {
            in = 0;
          } else {
            long sz = len - 1;
            in += len * ((long) (-in / sz) + 1);
          }
        } else if (in > len - 1) {
          if (len <= 1) {
            in = 0;
          } else {
            long sz = len - 1;
            in -= len * (long) (in / sz);
          }
        }
        return clamp(in, len);
      }
    }
  }

  private static float clamp(float in, int len) {
    return Math.min(Math.max(in, 0f), (float) (len - 1));
  }
}
