package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.Memory;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Ops that rearrange whole tensors without arithmetic: transposes, joins and splits, tiling,
 * padding, reversal; every dtype (strings and bools included), exact.
 */
final class ArrayOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("Transpose", b -> (in, ctx) -> new Value[] {transpose(in[0], in[1])});
    r.reference(
        "ConcatV2",
        b -> {
          sameTypes(b, 0, b.inputCount() - 1);
          return (in, ctx) ->
              new Value[] {
                concat(Arrays.copyOf(in, in.length - 1), Layout.scalar(in[in.length - 1], "axis"))
              };
        });
    r.reference(
        "Concat",
        b -> {
          sameTypes(b, 1, b.inputCount());
          return (in, ctx) ->
              new Value[] {
                concat(Arrays.copyOfRange(in, 1, in.length), Layout.scalar(in[0], "concat_dim"))
              };
        });
    r.reference("Pack", ArrayOps::pack);
    r.reference("Unpack", ArrayOps::unpack);
    r.reference("Split", ArrayOps::split);
    r.reference("SplitV", b -> (in, ctx) -> splitV(in[0], in[1], in[2]));
    r.reference("Tile", b -> (in, ctx) -> new Value[] {tile(in[0], in[1])});
    r.reference("Pad", b -> (in, ctx) -> new Value[] {pad(in[0], in[1], null)});
    r.reference("PadV2", b -> (in, ctx) -> new Value[] {pad(in[0], in[1], in[2])});
    r.reference("MirrorPad", ArrayOps::mirrorPad);
    r.reference(
        "Reverse", b -> (in, ctx) -> new Value[] {reverse(in[0], reverseFlags(in[0], in[1]))});
    r.reference(
        "ReverseV2", b -> (in, ctx) -> new Value[] {reverse(in[0], reverseAxes(in[0], in[1]))});
    r.reference("ReverseSequence", ArrayOps::reverseSequence);
  }

  /**
   * The inputs {@code from..to-1} of a join (ConcatV2, Concat, Pack) share one dtype, its {@code
   * T}: a graph that feeds them different ones is refused when the plan is made, not mid-run.
   */
  static void sameTypes(BindContext b, int from, int to) {
    DType want = b.hasAttr("T") ? b.typeAttr("T") : null;
    int wantFrom = -1;
    for (int i = from; i < to; i++) {
      DType t = b.inputType(i);
      if (t == null) {
        continue;
      }
      if (want == null) {
        want = t;
        wantFrom = i - from;
      } else if (t != want) {
        throw new KernelException(
            "values["
                + (i - from)
                + "] is "
                + t.jsName()
                + " but "
                + (wantFrom < 0 ? "T is " : "values[" + wantFrom + "] is ")
                + want.jsName()
                + ": every input must have one dtype (add a Cast)");
      }
    }
  }

  /** The run-time half of {@link #sameTypes}, for inputs whose dtype the plan did not know. */
  private static void sameTypes(Value[] xs) {
    for (int k = 1; k < xs.length; k++) {
      if (xs[k].dtype() != xs[0].dtype()) {
        throw new KernelException(
            "values["
                + k
                + "] is "
                + xs[k].dtype().jsName()
                + " but values[0] is "
                + xs[0].dtype().jsName()
                + ": every input must have one dtype");
      }
    }
  }

  static Value transpose(Value x, Value permInput) {
    long[] perm = Layout.vector(permInput, "perm");
    int r = x.rank();
    if (perm.length != r) {
      throw new KernelException(
          "transpose expects a vector of size "
              + r
              + ". But input(1) is a vector of size "
              + perm.length);
    }
    int[] strides = Layout.strides(x.shape());
    boolean[] seen = new boolean[r];
    long[] shape = new long[r];
    int[][] tables = new int[r][];
    for (int i = 0; i < r; i++) {
      long d = perm[i];
      if (d < 0 || d >= r) {
        throw new KernelException("perm[" + i + "] = " + d + " is out of range [0 .. " + r + ")");
      }
      if (seen[(int) d]) {
        throw new KernelException(d + " is duplicated in perm");
      }
      seen[(int) d] = true;
      shape[i] = x.dim((int) d);
      tables[i] = Layout.affine(shape[i], 0, strides[(int) d]);
    }
    return Layout.take(x, shape, Layout.walk(tables), null);
  }

  static Value concat(Value[] xs, long axisValue) {
    sameTypes(xs);
    Value first = xs[0];
    int r = first.rank();
    if (r == 0) {
      throw new KernelException("ConcatOp : Can't concatenate scalars (use tf.stack instead)");
    }
    if (axisValue < -r || axisValue >= r) {
      throw new KernelException(
          "ConcatOp : Expected concatenating dimensions in the range ["
              + -r
              + ", "
              + r
              + "), but got "
              + axisValue);
    }
    int axis = (int) (axisValue < 0 ? axisValue + r : axisValue);
    long[] shape = first.shape().clone();
    shape[axis] = 0;
    for (int k = 0; k < xs.length; k++) {
      long[] s = xs[k].shape();
      if (s.length != r) {
        throw new KernelException(
            "ConcatOp : Ranks of all input tensors should match: shape[0] = "
                + Layout.shape(first.shape())
                + " vs. shape["
                + k
                + "] = "
                + Layout.shape(s));
      }
      for (int i = 0; i < r; i++) {
        if (i != axis && s[i] != first.dim(i)) {
          throw new KernelException(
              "ConcatOp : Dimension "
                  + i
                  + " in both shapes must be equal: shape[0] = "
                  + Layout.shape(first.shape())
                  + " vs. shape["
                  + k
                  + "] = "
                  + Layout.shape(s));
        }
      }
      shape[axis] += s[axis];
    }
    DType t = first.dtype();
    int outer = Layout.product(shape, 0, axis);
    Object out = Layout.allocate(t, (int) Value.elementCount(shape));
    int pos = 0;
    for (int o = 0; o < outer; o++) {
      for (Value x : xs) {
        int chunk = Layout.product(x.shape(), axis, r);
        Layout.copy(t, x.data(), o * chunk, out, pos, chunk);
        pos += chunk;
      }
    }
    return Value.of(t, shape, out);
  }

  private static Kernel pack(BindContext b) {
    long axisAttr = b.intAttr("axis", 0);
    sameTypes(b, 0, b.inputCount());
    return (in, ctx) -> {
      sameTypes(in);
      long[] s = in[0].shape();
      int r = s.length;
      if (axisAttr < -(r + 1) || axisAttr > r) {
        throw new KernelException(
            "axis = " + axisAttr + " not in [" + -(r + 1) + ", " + (r + 1) + ")");
      }
      int axis = (int) (axisAttr < 0 ? axisAttr + r + 1 : axisAttr);
      for (int k = 1; k < in.length; k++) {
        if (!Arrays.equals(in[k].shape(), s)) {
          throw new KernelException(
              "Shapes of all inputs must match: values[0].shape = "
                  + Layout.shape(s)
                  + " != values["
                  + k
                  + "].shape = "
                  + Layout.shape(in[k].shape()));
        }
      }
      long[] shape = new long[r + 1];
      for (int i = 0, j = 0; i <= r; i++) {
        shape[i] = i == axis ? in.length : s[j++];
      }
      DType t = in[0].dtype();
      int outer = Layout.product(s, 0, axis);
      int inner = Layout.product(s, axis, r);
      Object out = Layout.allocate(t, (int) Value.elementCount(shape));
      for (int o = 0; o < outer; o++) {
        for (int k = 0; k < in.length; k++) {
          Layout.copy(t, in[k].data(), o * inner, out, (o * in.length + k) * inner, inner);
        }
      }
      return new Value[] {Value.of(t, shape, out)};
    };
  }

  private static Kernel unpack(BindContext b) {
    long axisAttr = b.intAttr("axis", 0);
    long num = b.intAttr("num");
    return (in, ctx) -> {
      Value x = in[0];
      int r = x.rank();
      if (axisAttr < -r || axisAttr >= r) {
        throw new KernelException("axis = " + axisAttr + " not in [" + -r + ", " + r + ")");
      }
      int axis = (int) (axisAttr < 0 ? axisAttr + r : axisAttr);
      if (x.dim(axis) != num) {
        throw new KernelException(
            "Input shape axis "
                + axis
                + " must equal "
                + num
                + ", got shape "
                + Layout.shape(x.shape()));
      }
      long[] sizes = new long[(int) num];
      Arrays.fill(sizes, 1);
      Value[] parts = splitAlong(x, axis, sizes);
      long[] shape = new long[r - 1];
      for (int i = 0, j = 0; i < r; i++) {
        if (i != axis) {
          shape[j++] = x.dim(i);
        }
      }
      for (int k = 0; k < parts.length; k++) {
        parts[k] = parts[k].reshaped(shape);
      }
      return parts;
    };
  }

  /**
   * Cuts {@code x} along {@code axis} into consecutive pieces of the given sizes (which add up to
   * the dim).
   */
  static Value[] splitAlong(Value x, int axis, long[] sizes) {
    long[] s = x.shape();
    DType t = x.dtype();
    int outer = Layout.product(s, 0, axis);
    int inner = Layout.product(s, axis + 1, s.length);
    int dim = (int) s[axis];
    Value[] out = new Value[sizes.length];
    int offset = 0;
    for (int k = 0; k < sizes.length; k++) {
      long[] shape = s.clone();
      shape[axis] = sizes[k];
      int chunk = (int) sizes[k] * inner;
      Object data = Layout.allocate(t, outer * chunk);
      for (int o = 0; o < outer; o++) {
        Layout.copy(t, x.data(), (o * dim + offset) * inner, data, o * chunk, chunk);
      }
      out[k] = Value.of(t, shape, data);
      offset += (int) sizes[k];
    }
    return out;
  }

  private static int splitAxis(Value x, Value axisInput) {
    long a = Layout.scalar(axisInput, "split_dim");
    int r = x.rank();
    if (a < -r || a >= r) {
      throw new KernelException(
          "-input rank(-" + r + ") <= split_dim < input rank (" + r + "), but got " + a);
    }
    return (int) (a < 0 ? a + r : a);
  }

  private static Kernel split(BindContext b) {
    long num = b.intAttr("num_split");
    return (in, ctx) -> {
      Value x = in[1];
      int axis = splitAxis(x, in[0]);
      long dim = x.dim(axis);
      if (num <= 0 || dim % num != 0) {
        throw new KernelException(
            "Number of ways to split should evenly divide the split dimension, but got "
                + "split_dim "
                + axis
                + " (size = "
                + dim
                + ") and num_split "
                + num);
      }
      long[] sizes = new long[(int) num];
      Arrays.fill(sizes, dim / num);
      return splitAlong(x, axis, sizes);
    };
  }

  static Value[] splitV(Value x, Value sizesInput, Value axisInput) {
    int axis = splitAxis(x, axisInput);
    long[] sizes = Layout.vector(sizesInput, "size_splits");
    long dim = x.dim(axis);
    int unknown = -1;
    long known = 0;
    for (int i = 0; i < sizes.length; i++) {
      if (sizes[i] == -1) {
        if (unknown >= 0) {
          throw new KernelException("There can only be one -1 in the input.");
        }
        unknown = i;
      } else if (sizes[i] < 0) {
        throw new KernelException(
            "size_splits[" + i + "] = " + sizes[i] + " must be non-negative (or one -1)");
      } else {
        known += sizes[i];
      }
    }
    if (unknown < 0 ? known != dim : known > dim) {
      throw new KernelException(
          "Determined shape must either match input shape along split_dim exactly if fully "
              + "specified, or be less than the size of the input along split_dim if not fully specified.  Got: "
              + known
              + " for split_dim "
              + axis
              + " of size "
              + dim);
    }
    if (unknown >= 0) {
      sizes[unknown] = dim - known;
    }
    return splitAlong(x, axis, sizes);
  }

  static Value tile(Value x, Value multiplesInput) {
    long[] m = Layout.vector(multiplesInput, "multiples");
    int r = x.rank();
    if (m.length != r) {
      throw new KernelException(
          "Expected multiples argument to be a vector of length "
              + r
              + " but got length "
              + m.length);
    }
    int[] strides = Layout.strides(x.shape());
    long[] shape = new long[r];
    for (int i = 0; i < r; i++) {
      if (m[i] < 0) {
        throw new KernelException("Expected multiples[" + i + "] >= 0, but got " + m[i]);
      }
      shape[i] = Math.multiplyHigh(x.dim(i), m[i]) != 0 ? Long.MAX_VALUE : x.dim(i) * m[i];
    }
    Memory.reserve(x.dtype(), shape);
    int[][] tables = new int[r][];
    for (int i = 0; i < r; i++) {
      long dim = x.dim(i);
      tables[i] = new int[Math.toIntExact(shape[i])];
      for (int c = 0; c < tables[i].length; c++) {
        tables[i][c] = (int) (c % dim) * strides[i];
      }
    }
    return Layout.take(x, shape, Layout.walk(tables), null);
  }

  /** The [rank, 2] paddings (or crops) input as rows of (before, after), checked non-negative. */
  static long[][] paddings(Value p, int rank, String what) {
    if (p.rank() != 2 || p.dim(0) != rank || p.dim(1) != 2) {
      throw new KernelException(
          what + " must be a matrix of shape [" + rank + ",2], got " + Layout.shape(p.shape()));
    }
    long[][] out = new long[rank][2];
    for (int i = 0; i < rank; i++) {
      out[i][0] = p.longAt(2 * i);
      out[i][1] = p.longAt(2 * i + 1);
      if (out[i][0] < 0 || out[i][1] < 0) {
        throw new KernelException(what + " must be non-negative: " + out[i][0] + " " + out[i][1]);
      }
    }
    return out;
  }

  static Value pad(Value x, Value paddingsInput, Value constant) {
    int r = x.rank();
    long[][] p = paddings(paddingsInput, r, "paddings");
    if (constant != null && (constant.size() != 1 || constant.dtype() != x.dtype())) {
      throw new KernelException(
          "constant_values must be a scalar of the input's type, got " + constant);
    }
    int[] strides = Layout.strides(x.shape());
    long[] shape = new long[r];
    int[][] tables = new int[r][];
    for (int i = 0; i < r; i++) {
      long dim = x.dim(i);
      shape[i] = p[i][0] + dim + p[i][1];
    }
    Memory.reserve(x.dtype(), shape);
    for (int i = 0; i < r; i++) {
      long dim = x.dim(i);
      tables[i] = new int[Math.toIntExact(shape[i])];
      for (int c = 0; c < tables[i].length; c++) {
        long xi = c - p[i][0];
        tables[i][c] = xi < 0 || xi >= dim ? -1 : (int) xi * strides[i];
      }
    }
    return Layout.take(x, shape, Layout.walk(tables), constant == null ? null : constant.data());
  }

  private static Kernel mirrorPad(BindContext b) {
    String mode = b.stringAttr("mode", "");
    boolean reflect =
        switch (mode) {
          case "REFLECT" -> true;
          case "SYMMETRIC" -> false;
          default ->
              throw new KernelException("mode must be REFLECT or SYMMETRIC, not '" + mode + "'");
        };
    return (in, ctx) -> {
      Value x = in[0];
      int r = x.rank();
      long[][] p = paddings(in[1], r, "paddings");
      int[] strides = Layout.strides(x.shape());
      long[] shape = new long[r];
      int[][] tables = new int[r][];
      for (int i = 0; i < r; i++) {
        long dim = x.dim(i);
        long limit = reflect ? dim - 1 : dim;
        if (p[i][0] > limit || p[i][1] > limit) {
          throw new KernelException(
              "paddings "
                  + p[i][0]
                  + ", "
                  + p[i][1]
                  + " of dimension "
                  + i
                  + " must be at most "
                  + limit
                  + " for "
                  + mode
                  + " mode (the dimension is "
                  + dim
                  + ")");
        }
        shape[i] = p[i][0] + dim + p[i][1];
        tables[i] = new int[Math.toIntExact(shape[i])];
        for (int c = 0; c < tables[i].length; c++) {
          long xi = c - p[i][0];
          if (xi < 0) {
            xi = reflect ? -xi : -xi - 1;
          } else if (xi >= dim) {
            xi = reflect ? 2 * (dim - 1) - xi : 2 * dim - 1 - xi;
          }
          tables[i][c] = (int) xi * strides[i];
        }
      }
      return new Value[] {Layout.take(x, shape, Layout.walk(tables), null)};
    };
  }

  private static boolean[] reverseFlags(Value x, Value dims) {
    if (dims.rank() != 1 || dims.size() != x.rank()) {
      throw new KernelException(
          "'dims' must have the same number of values as 'input' has dimensions. 'input' has "
              + x.rank()
              + " dimensions, 'dims' has shape "
              + Layout.shape(dims.shape()));
    }
    boolean[] flags = new boolean[x.rank()];
    for (int i = 0; i < flags.length; i++) {
      flags[i] = dims.bytes()[i] != 0;
    }
    return flags;
  }

  private static boolean[] reverseAxes(Value x, Value axisInput) {
    long[] axes = Layout.vector(axisInput, "axis");
    int r = x.rank();
    boolean[] flags = new boolean[r];
    for (int i = 0; i < axes.length; i++) {
      if (axes[i] < -r || axes[i] >= r) {
        throw new KernelException(
            "'axis'[" + i + "] = " + axes[i] + " is out of valid range [" + -r + ", " + r + ")");
      }
      int a = (int) (axes[i] < 0 ? axes[i] + r : axes[i]);
      if (flags[a]) {
        throw new KernelException("axis " + a + " specified more than once.");
      }
      flags[a] = true;
    }
    return flags;
  }

  static Value reverse(Value x, boolean[] flags) {
    int[] strides = Layout.strides(x.shape());
    int[][] tables = new int[x.rank()][];
    for (int i = 0; i < tables.length; i++) {
      long dim = x.dim(i);
      tables[i] =
          flags[i]
              ? Layout.affine(dim, (dim - 1) * strides[i], -strides[i])
              : Layout.affine(dim, 0, strides[i]);
    }
    return Layout.take(x, x.shape(), Layout.walk(tables), null);
  }

  private static Kernel reverseSequence(BindContext b) {
    long seqAttr = b.intAttr("seq_dim");
    long batchAttr = b.intAttr("batch_dim", 0);
    return (in, ctx) -> {
      Value x = in[0];
      int r = x.rank();
      int seq = Layout.axis(seqAttr, r, "seq_dim");
      int batch = Layout.axis(batchAttr, r, "batch_dim");
      if (seq == batch) {
        throw new KernelException("seq_dim == batch_dim == " + seq);
      }
      long[] lengths = Layout.vector(in[1], "seq_lengths");
      if (lengths.length != x.dim(batch)) {
        throw new KernelException(
            "Length of seq_lengths != input.dims("
                + batch
                + "), ("
                + lengths.length
                + " vs. "
                + x.dim(batch)
                + ")");
      }
      for (int i = 0; i < lengths.length; i++) {
        if (lengths[i] < 0 || lengths[i] > x.dim(seq)) {
          throw new KernelException(
              "seq_lengths[" + i + "] = " + lengths[i] + " is not in [0, " + x.dim(seq) + "]");
        }
      }
      int[] strides = Layout.strides(x.shape());
      int seqStride = strides[seq];
      int seqDim = (int) x.dim(seq);
      int batchStride = strides[batch];
      int batchDim = (int) x.dim(batch);
      int[] from = new int[x.size()];
      for (int i = 0; i < from.length; i++) {
        int s = i / seqStride % seqDim;
        int len = (int) lengths[i / batchStride % batchDim];
        from[i] = s < len ? i + (len - 1 - 2 * s) * seqStride : i;
      }
      return new Value[] {Layout.take(x, x.shape(), from, null)};
    };
  }
}
