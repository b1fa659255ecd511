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

/**
 * Image resizing: ResizeBilinear, ResizeNearestNeighbor and CropAndResize over NHWC images. Source
 * coordinates and interpolation weights are computed in float exactly as TensorFlow does (which
 * pixel is read depends on the float rounding); bilinear results are float32 whatever the image
 * type, nearest-neighbour resizes keep it.
 */
final class ImageOps implements OpFamily {
  private static final Set<DType> IMAGE_TYPES =
      Set.of(
          DType.FLOAT32,
          DType.FLOAT64,
          DType.INT32,
          DType.INT64,
          DType.INT8,
          DType.UINT8,
          DType.INT16,
          DType.UINT16);

  @Override
  public void register(KernelRegistry r) {
    r.reference("ResizeBilinear", b -> bindResize(b, true));
    r.reference("ResizeNearestNeighbor", b -> bindResize(b, false));
    r.reference("CropAndResize", ImageOps::bindCropAndResize);
  }

  /** An NHWC image tensor's dimensions. */
  record Image(int batch, int height, int width, int channels) {
    static Image of(Value v, String what) {
      if (v.rank() != 4) {
        throw new KernelException(what + " " + v + " is not of rank 4 (NHWC)");
      }
      return new Image((int) v.dim(0), (int) v.dim(1), (int) v.dim(2), (int) v.dim(3));
    }

    int at(int n, int y, int x) {
      return ((n * height + y) * width + x) * channels;
    }
  }

  /**
   * One output coordinate's source: the two neighbours and the weight of the upper one (bilinear).
   */
  record Lerp(int lower, int upper, float weight) {}

  private static Kernel bindResize(BindContext b, boolean bilinear) {
    DType t = Reals.type(b, "T", IMAGE_TYPES);
    boolean alignCorners = b.boolAttr("align_corners", false);
    boolean halfPixel = b.boolAttr("half_pixel_centers", false);
    if (alignCorners && halfPixel) {
      throw new KernelException("half_pixel_centers needs align_corners false");
    }
    return (in, ctx) -> {
      Value images = in[0];
      ConvOps.checkType(images, t, "images");
      Image src = Image.of(images, "images");
      long[] size = Reals.vector(in[1], "size", 2);
      if (size[0] <= 0 || size[1] <= 0) {
        throw new KernelException("size [" + size[0] + ", " + size[1] + "] is not positive");
      }
      if ((src.height() == 0 || src.width() == 0) && src.batch() * src.channels() > 0) {
        throw new KernelException("images " + images + " has no pixels to resize");
      }
      Image dst = new Image(src.batch(), (int) size[0], (int) size[1], src.channels());
      float sy = scale(src.height(), dst.height(), alignCorners);
      float sx = scale(src.width(), dst.width(), alignCorners);
      double[] v = Reals.read(images);
      long[] shape = {dst.batch(), dst.height(), dst.width(), dst.channels()};
      Memory.reserve(DType.FLOAT32, shape);
      double[] out = new double[dst.batch() * dst.height() * dst.width() * dst.channels()];
      if (bilinear) {
        Lerp[] ys = lerps(dst.height(), src.height(), sy, halfPixel);
        Lerp[] xs = lerps(dst.width(), src.width(), sx, halfPixel);
        for (int n = 0; n < dst.batch(); n++) {
          for (int y = 0; y < dst.height(); y++) {
            for (int x = 0; x < dst.width(); x++) {
              int o = dst.at(n, y, x);
              for (int c = 0; c < dst.channels(); c++) {
                out[o + c] =
                    interpolate(
                        (float) v[src.at(n, ys[y].lower(), xs[x].lower()) + c],
                        (float) v[src.at(n, ys[y].lower(), xs[x].upper()) + c],
                        (float) v[src.at(n, ys[y].upper(), xs[x].lower()) + c],
                        (float) v[src.at(n, ys[y].upper(), xs[x].upper()) + c],
                        xs[x].weight(),
                        ys[y].weight());
              }
            }
          }
        }
        return new Value[] {Reals.write(DType.FLOAT32, shape, out)};
      }
      int[] ys = nearest(dst.height(), src.height(), sy, alignCorners, halfPixel);
      int[] xs = nearest(dst.width(), src.width(), sx, alignCorners, halfPixel);
      for (int n = 0; n < dst.batch(); n++) {
        for (int y = 0; y < dst.height(); y++) {
          for (int x = 0; x < dst.width(); x++) {
            System.arraycopy(v, src.at(n, ys[y], xs[x]), out, dst.at(n, y, x), dst.channels());
          }
        }
      }
      return new Value[] {Reals.write(t, shape, out)};
    };
  }

  /** TensorFlow's resize scale, in float. */
  static float scale(int in, int out, boolean alignCorners) {
    return alignCorners && out > 1 ? (in - 1) / (float) (out - 1) : in / (float) out;
  }

  static Lerp[] lerps(int outSize, int inSize, float scale, boolean halfPixel) {
    Lerp[] out = new Lerp[outSize];
    for (int i = 0; i < outSize; i++) {
      float in = halfPixel ? (i + 0.5f) * scale - 0.5f : i * scale;
      float floor = (float) Math.floor(in);
      out[i] =
          new Lerp(Math.max((int) floor, 0), Math.min((int) Math.ceil(in), inSize - 1), in - floor);
    }
    return out;
  }

  private static float interpolate(
      float topLeft,
      float topRight,
      float bottomLeft,
      float bottomRight,
      float xLerp,
      float yLerp) {
    float top = topLeft + (topRight - topLeft) * xLerp;
    float bottom = bottomLeft + (bottomRight - bottomLeft) * xLerp;
    return top + (bottom - top) * yLerp;
  }

  static int[] nearest(
      int outSize, int inSize, float scale, boolean alignCorners, boolean halfPixel) {
    int[] out = new int[outSize];
    for (int i = 0; i < outSize; i++) {
      // Half-pixel centres for nearest neighbour: (i + 0.5)·scale, floored, without the −0.5 of
      // bilinear.
      float in = halfPixel ? (i + 0.5f) * scale : i * scale;
      int k = Math.min(alignCorners ? Math.round(in) : (int) Math.floor(in), inSize - 1);
      out[i] = halfPixel ? Math.max(k, 0) : k;
    }
    return out;
  }

  private static Kernel bindCropAndResize(BindContext b) {
    DType t = Reals.type(b, "T", IMAGE_TYPES);
    String method = b.stringAttr("method", "bilinear");
    if (!method.equals("bilinear") && !method.equals("nearest")) {
      throw new KernelException("method '" + method + "' is not bilinear or nearest");
    }
    boolean bilinear = method.equals("bilinear");
    float extrapolation = b.floatAttr("extrapolation_value", 0f);
    return (in, ctx) -> {
      ConvOps.checkType(in[0], t, "image");
      Image src = Image.of(in[0], "image");
      Value boxes = in[1];
      Value boxIndex = in[2];
      long[] crop = Reals.vector(in[3], "crop_size", 2);
      if (crop[0] <= 0 || crop[1] <= 0) {
        throw new KernelException("crop_size [" + crop[0] + ", " + crop[1] + "] is not positive");
      }
      if (boxes.rank() != 2 || boxes.dim(1) != 4 || boxes.dtype() != DType.FLOAT32) {
        throw new KernelException("boxes " + boxes + " is not a float32 [num_boxes, 4]");
      }
      int count = (int) boxes.dim(0);
      if (boxIndex.rank() != 1 || boxIndex.dim(0) != count) {
        throw new KernelException(
            "box_ind " + boxIndex + " is not a vector of " + count + " batch indices");
      }
      int ch = (int) crop[0];
      int cw = (int) crop[1];
      Image dst = new Image(count, ch, cw, src.channels());
      float[] box = boxes.floats();
      double[] v = Reals.read(in[0]);
      double[] out = new double[count * ch * cw * src.channels()];
      int h1 = src.height() - 1;
      int w1 = src.width() - 1;
      for (int n = 0; n < count; n++) {
        long batch = boxIndex.longAt(n);
        if (batch < 0 || batch >= src.batch()) {
          throw new KernelException(
              "box_ind[" + n + "] = " + batch + " is not in [0, " + src.batch() + ")");
        }
        int bi = (int) batch;
        float y1 = box[4 * n];
        float x1 = box[4 * n + 1];
        float y2 = box[4 * n + 2];
        float x2 = box[4 * n + 3];
        float hs = ch > 1 ? (y2 - y1) * h1 / (ch - 1) : 0;
        float ws = cw > 1 ? (x2 - x1) * w1 / (cw - 1) : 0;
        for (int y = 0; y < ch; y++) {
          // A single row or column samples the box centre; TF computes that one in double.
          float iy = ch > 1 ? y1 * h1 + y * hs : (float) (0.5 * (y1 + y2) * h1);
          for (int x = 0; x < cw; x++) {
            float ix = cw > 1 ? x1 * w1 + x * ws : (float) (0.5 * (x1 + x2) * w1);
            int o = dst.at(n, y, x);
            if (iy < 0 || iy > h1 || ix < 0 || ix > w1) {
              for (int c = 0; c < dst.channels(); c++) {
                out[o + c] = extrapolation;
              }
              continue;
            }
            if (bilinear) {
              int top = (int) Math.floor(iy);
              int bottom = (int) Math.ceil(iy);
              int left = (int) Math.floor(ix);
              int right = (int) Math.ceil(ix);
              float yl = iy - top;
              float xl = ix - left;
              for (int c = 0; c < dst.channels(); c++) {
                out[o + c] =
                    interpolate(
                        (float) v[src.at(bi, top, left) + c],
                        (float) v[src.at(bi, top, right) + c],
                        (float) v[src.at(bi, bottom, left) + c],
                        (float) v[src.at(bi, bottom, right) + c],
                        xl,
                        yl);
              }
            } else {
              int at = src.at(bi, Math.round(iy), Math.round(ix));
              for (int c = 0; c < dst.channels(); c++) {
                out[o + c] = (float) v[at + c];
              }
            }
          }
        }
      }
      return new Value[] {
        Reals.write(DType.FLOAT32, new long[] {count, ch, cw, src.channels()}, out)
      };
    };
  }
}
