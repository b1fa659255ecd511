package org.tfport.runtime.ops;

import java.util.Set;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Memory;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.ImageOps.Image;
import org.tfport.runtime.ops.ImageOps.Lerp;

/**
 * The gradients of the image resizes: ResizeBilinearGrad and ResizeNearestNeighborGrad add each
 * resized pixel's gradient back into the source pixels it was read from, with the forward op's
 * source coordinates (shared with {@link ImageOps}, so the two cannot drift apart) and, for
 * bilinear, its interpolation weights. Sums are in float, in TensorFlow's order.
 */
final class ResizeGradOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("ResizeBilinearGrad", ResizeGradOps::bindBilinear);
    r.reference("ResizeNearestNeighborGrad", ResizeGradOps::bindNearest);
  }

  private record Modes(boolean alignCorners, boolean halfPixel) {
    static Modes of(BindContext b) {
      Modes m =
          new Modes(b.boolAttr("align_corners", false), b.boolAttr("half_pixel_centers", false));
      if (m.alignCorners && m.halfPixel) {
        throw new KernelException("half_pixel_centers needs align_corners false");
      }
      return m;
    }
  }

  /** ResizeBilinearGrad(grads, original_image): a gradient shaped and typed as the original. */
  private static Kernel bindBilinear(BindContext b) {
    DType t = Reals.type(b, "T", Set.of(DType.FLOAT32, DType.FLOAT64));
    Modes m = Modes.of(b);
    return (in, ctx) -> {
      ConvOps.checkType(in[0], DType.FLOAT32, "grads");
      ConvOps.checkType(in[1], t, "original_image");
      Image dy = Image.of(in[0], "grads");
      Image x = Image.of(in[1], "original_image");
      check(dy, x);
      float sy = ImageOps.scale(x.height(), dy.height(), m.alignCorners());
      float sx = ImageOps.scale(x.width(), dy.width(), m.alignCorners());
      Lerp[] ys = ImageOps.lerps(dy.height(), x.height(), sy, m.halfPixel());
      Lerp[] xs = ImageOps.lerps(dy.width(), x.width(), sx, m.halfPixel());
      float[] g = in[0].floats();
      long[] shape = {x.batch(), x.height(), x.width(), x.channels()};
      Memory.reserve(t, shape);
      float[] out = new float[x.batch() * x.height() * x.width() * x.channels()];
      for (int n = 0; n < dy.batch(); n++) {
        for (int y = 0; y < dy.height(); y++) {
          Lerp ly = ys[y];
          float yw = ly.weight();
          float yInv = 1 - yw;
          for (int xi = 0; xi < dy.width(); xi++) {
            Lerp lx = xs[xi];
            float xw = lx.weight();
            float xInv = 1 - xw;
            int src = dy.at(n, y, xi);
            int tl = x.at(n, ly.lower(), lx.lower());
            int tr = x.at(n, ly.lower(), lx.upper());
            int bl = x.at(n, ly.upper(), lx.lower());
            int br = x.at(n, ly.upper(), lx.upper());
            for (int c = 0; c < dy.channels(); c++) {
              float d = g[src + c];
              out[tl + c] += d * yInv * xInv;
              out[tr + c] += d * yInv * xw;
              out[bl + c] += d * yw * xInv;
              out[br + c] += d * yw * xw;
            }
          }
        }
      }
      double[] wide = new double[out.length];
      for (int i = 0; i < out.length; i++) {
        wide[i] = out[i];
      }
      return new Value[] {Reals.write(t, shape, wide)};
    };
  }

  /** ResizeNearestNeighborGrad(grads, size): a gradient of the original's [height, width]. */
  private static Kernel bindNearest(BindContext b) {
    DType t = Reals.type(b, "T", Reals.FLOATS);
    Modes m = Modes.of(b);
    return (in, ctx) -> {
      ConvOps.checkType(in[0], t, "grads");
      Image dy = Image.of(in[0], "grads");
      long[] size = Reals.vector(in[1], "size", 2);
      if (size[0] <= 0 || size[1] <= 0) {
        throw new KernelException("size [" + size[0] + ", " + size[1] + "] is not positive");
      }
      Image x = new Image(dy.batch(), (int) size[0], (int) size[1], dy.channels());
      check(dy, x);
      float sy = ImageOps.scale(x.height(), dy.height(), m.alignCorners());
      float sx = ImageOps.scale(x.width(), dy.width(), m.alignCorners());
      int[] ys = ImageOps.nearest(dy.height(), x.height(), sy, m.alignCorners(), m.halfPixel());
      int[] xs = ImageOps.nearest(dy.width(), x.width(), sx, m.alignCorners(), m.halfPixel());
      double[] g = Reals.read(in[0]);
      long[] shape = {x.batch(), x.height(), x.width(), x.channels()};
      Memory.reserve(t, shape);
      double[] out = new double[x.batch() * x.height() * x.width() * x.channels()];
      boolean single = t == DType.FLOAT32;
      for (int n = 0; n < dy.batch(); n++) {
        for (int y = 0; y < dy.height(); y++) {
          for (int xi = 0; xi < dy.width(); xi++) {
            int src = dy.at(n, y, xi);
            int dst = x.at(n, ys[y], xs[xi]);
            for (int c = 0; c < dy.channels(); c++) {
              double s = out[dst + c] + g[src + c];
              out[dst + c] = single ? (float) s : s;
            }
          }
        }
      }
      return new Value[] {Reals.write(t, shape, out)};
    };
  }

  private static void check(Image dy, Image x) {
    if (dy.batch() != x.batch() || dy.channels() != x.channels()) {
      throw new KernelException(
          "grads ["
              + dy.batch()
              + ", _, _, "
              + dy.channels()
              + "] do not match the image ["
              + x.batch()
              + ", _, _, "
              + x.channels()
              + "] in batch and channels");
    }
    if (x.height() == 0 || x.width() == 0 || dy.height() == 0 || dy.width() == 0) {
      if ((long) x.batch() * x.channels() > 0) {
        throw new KernelException("grads or image has no pixels");
      }
    }
  }
}
