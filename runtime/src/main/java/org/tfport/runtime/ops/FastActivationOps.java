package org.tfport.runtime.ops;

import org.tfport.core.DType;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.KernelRegistry.Mode;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Optimized float32 Relu and Relu6 left unfused (after an op Fusion does not fuse, or when the
 * pre-activation value is read elsewhere): one vector pass of {@link Math#max} / {@link Math#min}
 * through the micro-kernel, where the reference kernel calls a function object per element. Those
 * are the reference's values (−0 becomes +0, NaN stays NaN); other types run the reference kernel.
 */
final class FastActivationOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.optimized("Relu", b -> kernel(r.factory("Relu", Mode.REFERENCE).bind(b), Microkernel.RELU));
    r.optimized(
        "Relu6", b -> kernel(r.factory("Relu6", Mode.REFERENCE).bind(b), Microkernel.RELU6));
  }

  private static Kernel kernel(Kernel reference, int act) {
    Microkernel mk = FastKernels.microkernel();
    return (in, ctx) -> {
      Value x = in[0];
      if (x.dtype() != DType.FLOAT32) {
        return reference.run(in, ctx);
      }
      float[] y = x.floats().clone();
      mk.epilogue(y, 0, y.length, null, 0, null, act, null, 0f);
      return new Value[] {Value.of(DType.FLOAT32, x.shape().clone(), y)};
    };
  }
}
