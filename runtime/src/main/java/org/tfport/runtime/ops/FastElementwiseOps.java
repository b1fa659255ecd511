package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelFactory;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.RunContext;
import org.tfport.runtime.kernel.Value;

/**
 * Optimized float32 AddV2, Add, Sub, Mul and Prelu (through the micro-kernel's branch-free loop)
 * for the shapes real models use (residual adds of equal shapes, a per-channel or scalar second
 * operand): one loop per op, which the JIT vectorizes, where the reference kernel calls one shared
 * function object per element through a general broadcast walk. Each element is the same float
 * operation as in the reference ({@link BinaryOps}), so results are bit for bit the same; any other
 * shape or type runs the reference kernel, bound alongside.
 */
final class FastElementwiseOps {
  private enum Op {
    ADD,
    SUB,
    MUL,
    PRELU
  }

  private FastElementwiseOps() {}

  /**
   * Registers the optimized kernel of {@code op} over its {@code reference} factory when this class
   * has one for it ({@link BinaryOps} calls it for each op it registers).
   */
  static void register(KernelRegistry r, String op, KernelFactory reference) {
    Op kind =
        switch (op) {
          case "AddV2", "Add" -> Op.ADD;
          case "Sub" -> Op.SUB;
          case "Mul" -> Op.MUL;
          case "Prelu" -> Op.PRELU;
          default -> null;
        };
    if (kind != null) {
      r.optimized(op, b -> kernel(reference.bind(b), kind, FastKernels.microkernel()));
    }
  }

  private static Kernel kernel(Kernel reference, Op kind, Microkernel mk) {
    return (in, ctx) -> run(reference, kind, mk, in, ctx);
  }

  private static Value[] run(Kernel reference, Op op, Microkernel mk, Value[] in, RunContext ctx) {
    Value x = in[0];
    Value y = in[1];
    if (x.dtype() != DType.FLOAT32 || y.dtype() != DType.FLOAT32 || y.rank() > x.rank()) {
      return reference.run(in, ctx);
    }
    long[] shape = x.shape();
    int n = x.size();
    float[] xs = x.floats();
    float[] ys = y.floats();
    float[] z = FastKernels.floats(ctx, n);
    if (Arrays.equals(shape, y.shape())) {
      if (op == Op.PRELU) {
        mk.prelu(xs, 0, ys, 0, z, 0, n);
      } else {
        same(op, xs, ys, z);
      }
    } else if (y.size() == 1) {
      if (op == Op.PRELU) {
        mk.leakyRelu(xs, 0, ys[0], z, 0, n);
      } else {
        scalar(op, xs, ys[0], z);
      }
    } else if (perChannel(shape, y.shape())) {
      if (op == Op.PRELU) {
        for (int o = 0; o < n; o += ys.length) {
          mk.prelu(xs, o, ys, 0, z, o, ys.length);
        }
      } else {
        channels(op, xs, ys, z);
      }
    } else {
      FastKernels.giveBack(ctx, z);
      return reference.run(in, ctx);
    }
    return new Value[] {Value.of(DType.FLOAT32, shape.clone(), z)};
  }

  /** Whether {@code y} is one value per last-axis entry of {@code x}: all its other dims are 1. */
  private static boolean perChannel(long[] x, long[] y) {
    if (x.length == 0 || y.length == 0 || y[y.length - 1] != x[x.length - 1]) {
      return false;
    }
    for (int i = 0; i < y.length - 1; i++) {
      if (y[i] != 1) {
        return false;
      }
    }
    return true;
  }

  private static void same(Op op, float[] x, float[] y, float[] z) {
    switch (op) {
      case ADD -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = x[i] + y[i];
        }
      }
      case SUB -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = x[i] - y[i];
        }
      }
      case MUL -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = x[i] * y[i];
        }
      }
    }
  }

  private static void scalar(Op op, float[] x, float y, float[] z) {
    switch (op) {
      case ADD -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = x[i] + y;
        }
      }
      case SUB -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = x[i] - y;
        }
      }
      case MUL -> {
        for (int i = 0; i < z.length; i++) {
          z[i] = x[i] * y;
        }
      }
    }
  }

  private static void channels(Op op, float[] x, float[] y, float[] z) {
    int c = y.length;
    for (int o = 0; o < z.length; o += c) {
      switch (op) {
        case ADD -> {
          for (int k = 0; k < c; k++) {
            z[o + k] = x[o + k] + y[k];
          }
        }
        case SUB -> {
          for (int k = 0; k < c; k++) {
            z[o + k] = x[o + k] - y[k];
          }
        }
        case MUL -> {
          for (int k = 0; k < c; k++) {
            z[o + k] = x[o + k] * y[k];
          }
        }
      }
    }
  }
}
