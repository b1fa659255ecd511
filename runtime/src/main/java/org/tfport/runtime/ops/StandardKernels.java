package org.tfport.runtime.ops;

import java.util.List;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;

/** Every op family tfport ships; a new family file adds itself to {@link #FAMILIES}. */
public final class StandardKernels {
  static final List<OpFamily> FAMILIES =
      List.of(
          new ControlFlowOps(),
          new TensorListOps(),
          new TableOps(),
          new ShapeOps(),
          new ArrayOps(),
          new SliceOps(),
          new ScatterOps(),
          new IndexOps(),
          new SpaceOps(),
          new ConvOps(),
          new ConvBackpropOps(),
          new ConvFilterGradOps(),
          new MatMulOps(),
          new FastConvOps(),
          new FastConvBackpropOps(),
          new FastMatMulOps(),
          new EinsumOps(),
          new PoolOps(),
          new MorphologyOps(),
          new RaggedOps(),
          new StringNGramOps(),
          new ImageTransformOps(),
          new FastPoolOps(),
          new FastPadOps(),
          new FastActivationOps(),
          new PoolGradOps(),
          new NormalizationOps(),
          new BatchNormGradOps(),
          new ImageOps(),
          new ResizeGradOps(),
          new NonMaxSuppressionOps(),
          new UnaryOps(),
          new ActivationGradOps(),
          new TrainingOps(),
          new CastOps(),
          new BinaryOps(),
          new SelectOps(),
          new ReductionOps(),
          new AxisOps(),
          new QuantizedConvOps(),
          new FastQuantizedOps(),
          new QuantizedOps(),
          new FastQuantizedAddOps(),
          new QuantizedActivationOps(),
          new RecurrentOps(),
          new QuantizedLstmOps(),
          new QuantizedResizeOps(),
          new VariableOps(),
          new ExampleParsingOps(),
          new TensorArrayOps(),
          new SetOps(),
          new FakeQuantOps(),
          new RandomOps(),
          new SpectralOps(),
          new StringOps(),
          new SparseOps());

  private static final KernelRegistry REGISTRY = KernelRegistry.of(FAMILIES);

  private StandardKernels() {}

  /** The registry of every standard kernel (immutable after class initialization). */
  public static KernelRegistry registry() {
    return REGISTRY;
  }
}
