package org.tfport.runtime.ops;

import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Value;

/**
 * MatrixDiag and MatrixDiagPart in their three versions: diagonals k[0]..k[1] of the innermost
 * matrices, each padded to the longest one; V3's {@code align} says which side short diagonals sit
 * on (V1 and V2 align left).
 */
final class MatrixDiags {
  private MatrixDiags() {}

  /** The diagonal band and how its short diagonals are aligned. */
  private record Band(long lo, long hi, boolean leftSuper, boolean leftSub) {
    int count() {
      return (int) (hi - lo + 1);
    }

    /** Where diagonal {@code d}'s first element sits in its padded row of {@code maxLen}. */
    long offset(long d, long len, long maxLen) {
      boolean left = d >= 0 && leftSuper || d <= 0 && leftSub;
      return left ? 0 : maxLen - len;
    }

    static long length(long d, long rows, long cols) {
      return Math.min(rows + Math.min(0, d), cols - Math.max(0, d));
    }
  }

  static void register(KernelRegistry r) {
    Value zeroK = Value.scalar(0);
    r.reference(
        "MatrixDiag",
        b -> (in, ctx) -> new Value[] {diag(in[0], band(zeroK, "LEFT_LEFT"), -1, -1, null)});
    r.reference(
        "MatrixDiagPart",
        b -> (in, ctx) -> new Value[] {part(in[0], band(zeroK, "LEFT_LEFT"), null)});
    r.reference("MatrixDiagV2", b -> diagV3(b, "LEFT_LEFT"));
    r.reference("MatrixDiagPartV2", b -> partV3(b, "LEFT_LEFT"));
    r.reference("MatrixDiagV3", b -> diagV3(b, b.stringAttr("align", "RIGHT_LEFT")));
    r.reference("MatrixDiagPartV3", b -> partV3(b, b.stringAttr("align", "RIGHT_LEFT")));
  }

  private static Kernel diagV3(BindContext b, String align) {
    checkAlign(align);
    return (in, ctx) ->
        new Value[] {
          diag(
              in[0],
              band(in[1], align),
              Layout.scalar(in[2], "num_rows"),
              Layout.scalar(in[3], "num_cols"),
              padding(in[4]))
        };
  }

  private static Kernel partV3(BindContext b, String align) {
    checkAlign(align);
    return (in, ctx) -> new Value[] {part(in[0], band(in[1], align), padding(in[2]))};
  }

  private static void checkAlign(String align) {
    if (!align.matches("(LEFT|RIGHT)_(LEFT|RIGHT)")) {
      throw new KernelException(
          "align must be one of LEFT_LEFT, LEFT_RIGHT, RIGHT_LEFT, RIGHT_RIGHT, not '"
              + align
              + "'");
    }
  }

  private static Object padding(Value v) {
    if (v.size() != 1) {
      throw new KernelException(
          "padding_value must be a scalar, got shape " + Layout.shape(v.shape()));
    }
    return v.data();
  }

  private static Band band(Value k, String align) {
    if (k.rank() > 1 || k.size() < 1 || k.size() > 2) {
      throw new KernelException(
          "diag_index must be a scalar or a vector of at most 2 elements, got shape "
              + Layout.shape(k.shape()));
    }
    long lo = k.longAt(0);
    long hi = k.size() == 2 ? k.longAt(1) : lo;
    if (lo > hi) {
      throw new KernelException(
          "lower_diag_index must not be larger than upper_diag_index: " + lo + " > " + hi);
    }
    return new Band(lo, hi, align.startsWith("LEFT"), align.endsWith("LEFT"));
  }

  static Value part(Value x, Band band, Object pad) {
    int r = x.rank();
    if (r < 2) {
      throw new KernelException(
          "input must be at least 2-dim, received shape: " + Layout.shape(x.shape()));
    }
    long rows = x.dim(r - 2);
    long cols = x.dim(r - 1);
    for (long d : new long[] {band.lo(), band.hi()}) {
      if (!(-rows < d && d < cols || d == 0)) {
        throw new KernelException(
            "diagonal index "
                + d
                + " is out of bound: it must be between "
                + -rows
                + " and "
                + cols
                + " (exclusive) or 0");
      }
    }
    long maxLen =
        Math.max(0, Math.min(rows + Math.min(0, band.hi()), cols - Math.max(0, band.lo())));
    int n = band.count();
    long[] shape = new long[r - 2 + (n > 1 ? 2 : 1)];
    System.arraycopy(x.shape(), 0, shape, 0, r - 2);
    if (n > 1) {
      shape[r - 2] = n;
    }
    shape[shape.length - 1] = maxLen;
    int batches = Layout.product(x.shape(), 0, r - 2);
    int[] from = new int[(int) Value.elementCount(shape)];
    int pos = 0;
    for (int bi = 0; bi < batches; bi++) {
      for (int di = 0; di < n; di++) {
        long d = band.hi() - di;
        long len = Band.length(d, rows, cols);
        long offset = band.offset(d, len, maxLen);
        for (long j = 0; j < maxLen; j++) {
          long i = j - offset;
          from[pos++] =
              i < 0 || i >= len
                  ? -1
                  : (int) (bi * rows * cols + (i - Math.min(0, d)) * cols + i + Math.max(0, d));
        }
      }
    }
    return Layout.take(x, shape, from, pad);
  }

  static Value diag(Value diagonal, Band band, long numRows, long numCols, Object pad) {
    int n = band.count();
    int r = diagonal.rank();
    if (r < (n > 1 ? 2 : 1)) {
      throw new KernelException(
          "diagonal must be at least "
              + (n > 1 ? 2 : 1)
              + "-dim, got shape "
              + Layout.shape(diagonal.shape()));
    }
    if (n > 1 && diagonal.dim(r - 2) != n) {
      throw new KernelException(
          "The number of diagonals provided in the input ("
              + diagonal.dim(r - 2)
              + ") does not match the lower_diag_index and upper_diag_index range ("
              + n
              + ")");
    }
    long maxLen = diagonal.dim(r - 1);
    long minRows = maxLen - Math.min(band.hi(), 0);
    long minCols = maxLen + Math.max(band.lo(), 0);
    long rows = numRows;
    long cols = numCols;
    if (rows == -1 && cols == -1) {
      rows = Math.max(minRows, minCols);
      cols = rows;
    } else if (rows == -1) {
      rows = minRows;
    } else if (cols == -1) {
      cols = minCols;
    }
    if (rows < minRows || cols < minCols || rows != minRows && cols != minCols) {
      throw new KernelException(
          "The number of rows or columns ("
              + rows
              + ", "
              + cols
              + ") is not consistent with "
              + "the diagonal band ["
              + band.lo()
              + ", "
              + band.hi()
              + "] and diagonal length "
              + maxLen);
    }
    int batchRank = r - (n > 1 ? 2 : 1);
    long[] shape = new long[batchRank + 2];
    System.arraycopy(diagonal.shape(), 0, shape, 0, batchRank);
    shape[batchRank] = rows;
    shape[batchRank + 1] = cols;
    int batches = Layout.product(diagonal.shape(), 0, batchRank);
    int[] from = new int[(int) Value.elementCount(shape)];
    int pos = 0;
    for (int bi = 0; bi < batches; bi++) {
      for (long row = 0; row < rows; row++) {
        for (long col = 0; col < cols; col++) {
          long d = col - row;
          if (d < band.lo() || d > band.hi()) {
            from[pos++] = -1;
            continue;
          }
          long len = Band.length(d, rows, cols);
          long j = row + Math.min(0, d) + band.offset(d, len, maxLen);
          from[pos++] = (int) ((bi * n + band.hi() - d) * maxLen + j);
        }
      }
    }
    return Layout.take(diagonal, shape, from, pad);
  }
}
