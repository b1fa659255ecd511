package org.tfport.runtime.ops;

import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Moves between spatial, depth and batch axes (DepthToSpace, SpaceToDepth, SpaceToBatchND,
 * BatchToSpaceND and their 2-D forms) and matrix-structured selections (MatrixBandPart, the
 * MatrixDiag family).
 */
final class SpaceOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("DepthToSpace", b -> depthSpace(b, true));
    r.reference("SpaceToDepth", b -> depthSpace(b, false));
    r.reference(
        "SpaceToBatchND", b -> (in, ctx) -> new Value[] {spaceToBatch(in[0], in[1], in[2])});
    r.reference(
        "BatchToSpaceND", b -> (in, ctx) -> new Value[] {batchToSpace(in[0], in[1], in[2])});
    r.reference(
        "SpaceToBatch",
        b -> {
          Value block = square(b);
          return (in, ctx) -> new Value[] {spaceToBatch(in[0], block, in[1])};
        });
    r.reference(
        "BatchToSpace",
        b -> {
          Value block = square(b);
          return (in, ctx) -> new Value[] {batchToSpace(in[0], block, in[1])};
        });
    r.reference("MatrixBandPart", b -> (in, ctx) -> new Value[] {bandPart(in[0], in[1], in[2])});
    MatrixDiags.register(r);
  }

  private static Value square(BindContext b) {
    long s = b.intAttr("block_size");
    if (s < 2) {
      throw new KernelException("Block size should be > 1, but was: " + s);
    }
    return Value.longs(new long[] {2}, s, s);
  }

  private static Kernel depthSpace(BindContext b, boolean toSpace) {
    long block = b.intAttr("block_size");
    if (block < 2) {
      throw new KernelException("Block size should be > 1, but was: " + block);
    }
    String format = b.stringAttr("data_format", "NHWC");
    if (!format.equals("NHWC")) {
      throw new KernelException("only data_format NHWC is supported on CPU, not " + format);
    }
    int bs = (int) block;
    return (in, ctx) -> {
      Value x = in[0];
      if (x.rank() != 4) {
        throw new KernelException("Input rank should be: 4 instead of: " + x.rank());
      }
      long n = x.dim(0);
      long h = x.dim(1);
      long w = x.dim(2);
      long c = x.dim(3);
      long[] shape;
      if (toSpace) {
        if (c % (block * block) != 0) {
          throw new KernelException(
              "Input depth dimension " + c + " should be divisible by: " + block * block);
        }
        shape = new long[] {n, h * block, w * block, c / (block * block)};
      } else {
        if (h % block != 0 || w % block != 0) {
          throw new KernelException(
              "Image width "
                  + w
                  + " and height "
                  + h
                  + " should be divisible by block_size: "
                  + block);
        }
        shape = new long[] {n, h / block, w / block, c * block * block};
      }
      int oh = (int) shape[1];
      int ow = (int) shape[2];
      int oc = (int) shape[3];
      int[] from = new int[(int) Value.elementCount(shape)];
      int pos = 0;
      for (int bi = 0; bi < n; bi++) {
        for (int y = 0; y < oh; y++) {
          for (int xw = 0; xw < ow; xw++) {
            for (int ch = 0; ch < oc; ch++) {
              // Depth is laid out block row, block column, channel (TensorFlow's DCR order) in both
              // directions.
              from[pos++] =
                  toSpace
                      ? (int)
                          (((bi * h + y / bs) * w + xw / bs) * c
                              + ((y % bs) * bs + xw % bs) * oc
                              + ch)
                      : (int)
                          (((bi * h + y * bs + ch / c / bs) * w + xw * bs + ch / c % bs) * c
                              + ch % c);
            }
          }
        }
      }
      return new Value[] {Layout.take(x, shape, from, null)};
    };
  }

  private static long[] blockShape(Value x, Value blockInput) {
    long[] block = Layout.vector(blockInput, "block_shape");
    if (x.rank() < 1 + block.length) {
      throw new KernelException(
          "input rank should be >= " + (1 + block.length) + " instead of " + x.rank());
    }
    for (int i = 0; i < block.length; i++) {
      if (block[i] < 1) {
        throw new KernelException("block_shape[" + i + "] = " + block[i] + " must be positive");
      }
    }
    return block;
  }

  static Value spaceToBatch(Value x, Value blockInput, Value paddingsInput) {
    long[] block = blockShape(x, blockInput);
    int m = block.length;
    long[][] pad = ArrayOps.paddings(paddingsInput, m, "paddings");
    long[] s = x.shape();
    long batch = s[0];
    long[] shape = s.clone();
    long blocks = 1;
    for (int i = 0; i < m; i++) {
      long padded = s[i + 1] + pad[i][0] + pad[i][1];
      if (padded % block[i] != 0) {
        throw new KernelException(
            "padded_shape["
                + i
                + "]="
                + padded
                + " is not divisible by block_shape["
                + i
                + "]="
                + block[i]);
      }
      shape[i + 1] = padded / block[i];
      blocks *= block[i];
    }
    shape[0] = batch * blocks;
    int[] inStrides = Layout.strides(s);
    int[] outStrides = Layout.strides(shape);
    int rest = Layout.product(s, m + 1, s.length);
    int[] from = new int[(int) Value.elementCount(shape)];
    for (int i = 0; i < from.length; i += rest) {
      long ob = i / outStrides[0];
      long b = ob % batch;
      long offsets = ob / batch;
      long src = b * inStrides[0];
      for (int d = m - 1; d >= 0; d--) {
        long j = i / outStrides[d + 1] % shape[d + 1];
        long o = offsets % block[d];
        offsets /= block[d];
        long xi = j * block[d] + o - pad[d][0];
        if (xi < 0 || xi >= s[d + 1]) {
          src = -1;
          break;
        }
        src += xi * inStrides[d + 1];
      }
      for (int q = 0; q < rest; q++) {
        from[i + q] = src < 0 ? -1 : (int) src + q;
      }
    }
    return Layout.take(x, shape, from, null);
  }

  static Value batchToSpace(Value x, Value blockInput, Value cropsInput) {
    long[] block = blockShape(x, blockInput);
    int m = block.length;
    long[][] crop = ArrayOps.paddings(cropsInput, m, "crops");
    long[] s = x.shape();
    long blocks = 1;
    for (long bl : block) {
      blocks *= bl;
    }
    if (s[0] % blocks != 0) {
      throw new KernelException(
          "Input batch dimension ("
              + s[0]
              + ") is not divisible by product of block sizes ("
              + blocks
              + ")");
    }
    long batch = s[0] / blocks;
    long[] shape = s.clone();
    shape[0] = batch;
    for (int i = 0; i < m; i++) {
      shape[i + 1] = s[i + 1] * block[i] - crop[i][0] - crop[i][1];
      if (shape[i + 1] < 0) {
        throw new KernelException(
            "Negative output dimension size caused by crops: "
                + s[i + 1]
                + " * "
                + block[i]
                + " - "
                + crop[i][0]
                + " - "
                + crop[i][1]);
      }
    }
    int[] inStrides = Layout.strides(s);
    int[] outStrides = Layout.strides(shape);
    int rest = Layout.product(s, m + 1, s.length);
    int[] from = new int[(int) Value.elementCount(shape)];
    for (int i = 0; i < from.length; i += rest) {
      long b = i / outStrides[0];
      long blockIndex = 0;
      long src = 0;
      for (int d = 0; d < m; d++) {
        long p = i / outStrides[d + 1] % shape[d + 1] + crop[d][0];
        blockIndex = blockIndex * block[d] + p % block[d];
        src += p / block[d] * inStrides[d + 1];
      }
      src += (blockIndex * batch + b) * inStrides[0];
      for (int q = 0; q < rest; q++) {
        from[i + q] = (int) src + q;
      }
    }
    return Layout.take(x, shape, from, null);
  }

  static Value bandPart(Value x, Value lowerInput, Value upperInput) {
    if (x.rank() < 2) {
      throw new KernelException(
          "input must be at least 2-dim, received shape: " + Layout.shape(x.shape()));
    }
    long rows = x.dim(x.rank() - 2);
    long cols = x.dim(x.rank() - 1);
    long lower = Layout.scalar(lowerInput, "num_lower");
    long upper = Layout.scalar(upperInput, "num_upper");
    if (lower > rows) {
      throw new KernelException(
          "num_lower must be negative or less or equal to number of rows ("
              + rows
              + ") got: "
              + lower);
    }
    if (upper > cols) {
      throw new KernelException(
          "num_upper must be negative or less or equal to number of columns ("
              + cols
              + ") got: "
              + upper);
    }
    int[] from = new int[x.size()];
    for (int i = 0; i < from.length; i++) {
      long c = i % cols;
      long r = i / cols % rows;
      boolean keep = (lower < 0 || r - c <= lower) && (upper < 0 || c - r <= upper);
      from[i] = keep ? i : -1;
    }
    return Layout.take(x, x.shape(), from, null);
  }
}
