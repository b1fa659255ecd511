package org.tfport.runtime.ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * The ops backward graphs use beside the per-op gradients: BiasAddGrad, the fused softmax
 * cross-entropies (loss and its gradient in one op), BroadcastGradientArgs (which axes a broadcast
 * operand's gradient sums over) and UnsortedSegmentSum (an embedding's gradient). Sums over many
 * elements are taken in double and rounded once, so a float32 result is within an ulp or two of
 * TensorFlow's (whose Eigen reductions add in another order).
 */
final class TrainingOps implements OpFamily {
  private static final Set<DType> INDEX = Set.of(DType.INT32, DType.INT64);

  @Override
  public void register(KernelRegistry r) {
    r.reference("BiasAddGrad", TrainingOps::biasAddGrad);
    r.reference("SoftmaxCrossEntropyWithLogits", TrainingOps::softmaxXent);
    r.reference("SparseSoftmaxCrossEntropyWithLogits", TrainingOps::sparseSoftmaxXent);
    r.reference("BroadcastGradientArgs", TrainingOps::broadcastGradientArgs);
    r.reference("UnsortedSegmentSum", TrainingOps::unsortedSegmentSum);
  }

  // ------------------------------------------------------------------ BiasAddGrad

  private static Kernel biasAddGrad(BindContext b) {
    DType t = Reals.type(b, "T", Reals.FLOATS);
    String format = b.stringAttr("data_format", "NHWC");
    if (!format.equals("NHWC") && !format.equals("NCHW")) {
      throw new KernelException("BiasAddGrad data_format " + format + " is not NHWC or NCHW");
    }
    boolean channelsFirst = format.equals("NCHW");
    return (in, ctx) -> {
      Value dy = in[0];
      Elements.check(dy, t, "out_backprop");
      if (dy.rank() < 2) {
        throw new KernelException("BiasAddGrad out_backprop " + dy + " has rank below 2");
      }
      // NCHW puts channels at axis 1 (after the batch) for any rank, as TensorFlow's kernel does.
      int axis = channelsFirst ? 1 : dy.rank() - 1;
      int channels = Math.toIntExact(dy.dim(axis));
      int inner = 1;
      for (int i = axis + 1; i < dy.rank(); i++) {
        inner = Math.multiplyExact(inner, Math.toIntExact(dy.dim(i)));
      }
      double[] x = Reals.read(dy);
      double[] sum = new double[channels];
      int outer = channels == 0 || inner == 0 ? 0 : x.length / (channels * inner);
      for (int o = 0; o < outer; o++) {
        for (int c = 0; c < channels; c++) {
          int base = (o * channels + c) * inner;
          double acc = 0;
          for (int k = 0; k < inner; k++) {
            acc += x[base + k];
          }
          sum[c] += acc;
        }
      }
      return new Value[] {Reals.write(t, new long[] {channels}, sum)};
    };
  }

  // ------------------------------------------------------------------ cross-entropies

  private static Kernel softmaxXent(BindContext b) {
    DType t = Reals.type(b, "T", Reals.FLOATS);
    return (in, ctx) -> {
      Value logits = in[0];
      Value labels = in[1];
      Elements.check(logits, t, "features");
      Elements.check(labels, t, "labels");
      if (logits.rank() != 2 || labels.rank() != 2) {
        throw new KernelException(
            "SoftmaxCrossEntropyWithLogits features "
                + logits
                + " and labels "
                + labels
                + " must both be [batch, classes]");
      }
      long[] shape = new long[2];
      for (int i = 0; i < 2; i++) {
        long a = logits.dim(i);
        long c = labels.dim(i);
        if (a != c && a != 1 && c != 1) {
          throw new KernelException(
              "SoftmaxCrossEntropyWithLogits features "
                  + logits
                  + " and labels "
                  + labels
                  + " do not broadcast");
        }
        shape[i] = a == 1 ? c : a;
      }
      int batch = Math.toIntExact(shape[0]);
      int classes = Math.toIntExact(shape[1]);
      double[] x = Reals.read(logits);
      double[] p = Reals.read(labels);
      double[] loss = new double[batch];
      double[] grad = new double[batch * classes];
      double[] row = new double[classes];
      double[] lab = new double[classes];
      for (int n = 0; n < batch; n++) {
        for (int c = 0; c < classes; c++) {
          row[c] = x[at(logits, n, c)];
          lab[c] = p[at(labels, n, c)];
        }
        double logSum = shiftAndLogSumExp(row);
        double l = 0;
        for (int c = 0; c < classes; c++) {
          l += lab[c] * (logSum - row[c]);
          grad[n * classes + c] = Math.exp(row[c] - logSum) - lab[c];
        }
        loss[n] = l;
      }
      return new Value[] {
        Reals.write(t, new long[] {batch}, loss), Reals.write(t, shape.clone(), grad)
      };
    };
  }

  /** The flat index of [n, c] in a rank-2 value that may broadcast along either axis. */
  private static int at(Value v, int n, int c) {
    int rows = (int) v.dim(0);
    int cols = (int) v.dim(1);
    return (rows == 1 ? 0 : n) * cols + (cols == 1 ? 0 : c);
  }

  /** Subtracts the row's maximum from every element and returns log Σ exp of the shifted row. */
  private static double shiftAndLogSumExp(double[] row) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : row) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (int c = 0; c < row.length; c++) {
      row[c] -= max;
      sum += Math.exp(row[c]);
    }
    return Math.log(sum);
  }

  private static Kernel sparseSoftmaxXent(BindContext b) {
    DType t = Reals.type(b, "T", Reals.FLOATS);
    DType tl = Elements.type(b, "Tlabels", INDEX);
    return (in, ctx) -> {
      Value logits = in[0];
      Value labels = in[1];
      Elements.check(logits, t, "features");
      Elements.check(labels, tl, "labels");
      if (logits.rank() != 2 || labels.rank() != 1 || labels.dim(0) != logits.dim(0)) {
        throw new KernelException(
            "SparseSoftmaxCrossEntropyWithLogits features "
                + logits
                + " must be [batch, classes] and labels "
                + labels
                + " [batch]");
      }
      int batch = Math.toIntExact(logits.dim(0));
      int classes = Math.toIntExact(logits.dim(1));
      double[] x = Reals.read(logits);
      double[] loss = new double[batch];
      double[] grad = new double[batch * classes];
      double[] row = new double[classes];
      for (int n = 0; n < batch; n++) {
        long label = labels.longAt(n);
        if (label < 0 || label >= classes) {
          throw new KernelException(
              "Received a label value of "
                  + label
                  + " which is outside the valid range of [0, "
                  + classes
                  + ")");
        }
        System.arraycopy(x, n * classes, row, 0, classes);
        double logSum = shiftAndLogSumExp(row);
        for (int c = 0; c < classes; c++) {
          grad[n * classes + c] = Math.exp(row[c] - logSum) - (c == label ? 1 : 0);
        }
        loss[n] = logSum - row[(int) label];
      }
      return new Value[] {
        Reals.write(t, new long[] {batch}, loss), Reals.write(t, logits.shape(), grad)
      };
    };
  }

  // ------------------------------------------------------------------ BroadcastGradientArgs

  private static Kernel broadcastGradientArgs(BindContext b) {
    DType t = Elements.type(b, "T", INDEX);
    return (in, ctx) -> {
      long[] s0 = shapeVector(in[0], t, "s0");
      long[] s1 = shapeVector(in[1], t, "s1");
      long[][] r = reductionAxes(s0, s1);
      return new Value[] {indices(t, r[0]), indices(t, r[1])};
    };
  }

  private static long[] shapeVector(Value v, DType t, String what) {
    Elements.check(v, t, what);
    if (v.rank() != 1) {
      throw new KernelException("BroadcastGradientArgs " + what + " " + v + " is not a vector");
    }
    return v.toLongArray();
  }

  /**
   * For each operand, the axes of the broadcast result its gradient sums over: those where the
   * operand (padded with leading ones) has size 1, axes where both have size 1 included, except
   * that equal shapes give no axes at all (TensorFlow's BCast takes that case first).
   */
  static long[][] reductionAxes(long[] s0, long[] s1) {
    int rank = Math.max(s0.length, s1.length);
    List<Long> r0 = new ArrayList<>();
    List<Long> r1 = new ArrayList<>();
    for (int i = 0; i < rank; i++) {
      long a = i < rank - s0.length ? 1 : s0[i - (rank - s0.length)];
      long c = i < rank - s1.length ? 1 : s1[i - (rank - s1.length)];
      if (a != c && a != 1 && c != 1) {
        throw new KernelException(
            "Incompatible shapes: " + Arrays.toString(s0) + " vs. " + Arrays.toString(s1));
      }
      if (Arrays.equals(s0, s1)) {
        continue;
      }
      if (a == 1) {
        r0.add((long) i);
      }
      if (c == 1) {
        r1.add((long) i);
      }
    }
    return new long[][] {
      r0.stream().mapToLong(Long::longValue).toArray(),
      r1.stream().mapToLong(Long::longValue).toArray()
    };
  }

  private static Value indices(DType t, long[] v) {
    long[] shape = {v.length};
    return t == DType.INT64
        ? Value.longs(shape, v)
        : Value.ints(shape, Arrays.stream(v).mapToInt(Math::toIntExact).toArray());
  }

  // ------------------------------------------------------------------ UnsortedSegmentSum

  private static Kernel unsortedSegmentSum(BindContext b) {
    DType t = Elements.type(b, "T", Set.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64));
    return (in, ctx) -> {
      Value data = in[0];
      Value ids = in[1];
      Elements.check(data, t, "data");
      if (!INDEX.contains(ids.dtype()) || !INDEX.contains(in[2].dtype()) || in[2].rank() != 0) {
        throw new KernelException(
            "UnsortedSegmentSum segment_ids "
                + ids
                + " and num_segments "
                + in[2]
                + " must be int32 or int64, num_segments a scalar");
      }
      long segments = in[2].longAt(0);
      if (segments < 0) {
        throw new KernelException("UnsortedSegmentSum num_segments " + segments + " is negative");
      }
      if (ids.rank() > data.rank()
          || !Arrays.equals(ids.shape(), Arrays.copyOf(data.shape(), ids.rank()))) {
        throw new KernelException(
            "UnsortedSegmentSum segment_ids " + ids + " is not a prefix of data " + data);
      }
      long[] shape = new long[data.rank() - ids.rank() + 1];
      shape[0] = segments;
      System.arraycopy(data.shape(), ids.rank(), shape, 1, shape.length - 1);
      Value out = Value.zeros(t, shape);
      int rows = ids.size();
      int inner = rows == 0 ? 0 : data.size() / rows;
      Object src = data.data();
      Object dst = out.data();
      // Rows are added in order, each in the element type, as TensorFlow's CPU kernel does; ids
      // below zero are dropped.
      for (int i = 0; i < rows; i++) {
        long s = ids.longAt(i);
        if (s < 0) {
          continue;
        }
        if (s >= segments) {
          throw new KernelException(
              "segment_ids[" + i + "] = " + s + " is out of range [0, " + segments + ")");
        }
        int from = i * inner;
        int to = (int) s * inner;
        switch (dst) {
          case float[] o -> {
            float[] x = (float[]) src;
            for (int k = 0; k < inner; k++) {
              o[to + k] += x[from + k];
            }
          }
          case double[] o -> {
            double[] x = (double[]) src;
            for (int k = 0; k < inner; k++) {
              o[to + k] += x[from + k];
            }
          }
          case int[] o -> {
            int[] x = (int[]) src;
            for (int k = 0; k < inner; k++) {
              o[to + k] += x[from + k];
            }
          }
          case long[] o -> {
            long[] x = (long[]) src;
            for (int k = 0; k < inner; k++) {
              o[to + k] += x[from + k];
            }
          }
          default -> throw new IllegalStateException("storage " + dst.getClass());
        }
      }
      return new Value[] {out};
    };
  }
}
