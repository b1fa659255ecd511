package org.tfport.convert.tflite;

import static org.tfport.convert.tflite.NodeAttrs.*;
import static org.tfport.formats.tflite.TfliteBuiltin.*;
import static org.tfport.formats.tflite.TfliteOptionsType.*;

import java.util.List;
import java.util.Set;
import org.tfport.core.DType;
import org.tfport.core.graph.Node;

/**
 * Which TFLite lowering each TF op takes, grouped by family: ops with one builtin of their own go
 * through {@link Lowering}'s shared emitters, the others to their family's class. A lowering
 * returns false, before it emits anything, when an attribute or type has no exact TFLite
 * equivalent; {@link Lowering} then makes the op a Flex or custom op, or lists it as unsupported.
 */
final class LoweringDispatch {
  private final Lowering core;
  private final LowerNeuralNet neuralNet;
  private final LowerElementwise elementwise;
  private final LowerDataMovement dataMovement;
  private final LowerReductions reductions;
  private final LowerTensorLists tensorLists;
  private final LowerControlFlow controlFlow;

  LoweringDispatch(Lowering core) {
    this.core = core;
    this.neuralNet = new LowerNeuralNet(core);
    this.elementwise = new LowerElementwise(core);
    this.dataMovement = new LowerDataMovement(core);
    this.reductions = new LowerReductions(core);
    this.tensorLists = new LowerTensorLists(core);
    this.controlFlow = new LowerControlFlow(core);
  }

  /** Lowers {@code n} by its TF op; false leaves it to the fallback. */
  boolean lower(Node n) {
    return switch (n.op()) {
      case "Identity",
          "Snapshot",
          "StopGradient",
          "PreventGradient",
          "EnsureShape",
          "CheckNumerics" ->
          core.alias(n);
      // one builtin each
      case "BiasAdd", "Add", "AddV2" -> core.binary(n, ADD, ADD_OPTIONS, true);
      case "Sub" -> core.binary(n, SUB, SUB_OPTIONS, true);
      case "Mul" -> core.binary(n, MUL, MUL_OPTIONS, true);
      case "RealDiv", "Div" -> core.isFloat(n) && core.binary(n, DIV, DIV_OPTIONS, true);
      case "Maximum" -> core.binary(n, MAXIMUM, NONE, false);
      case "Minimum" -> core.binary(n, MINIMUM, NONE, false);
      case "SquaredDifference" -> core.binary(n, SQUARED_DIFFERENCE, NONE, false);
      case "Pow" -> core.binary(n, POW, NONE, false);
      case "Less" -> core.binary(n, LESS, NONE, false);
      case "Greater" -> core.binary(n, GREATER, NONE, false);
      case "LessEqual" -> core.binary(n, LESS_EQUAL, NONE, false);
      case "GreaterEqual" -> core.binary(n, GREATER_EQUAL, NONE, false);
      case "Equal" -> core.binary(n, EQUAL, NONE, false);
      case "NotEqual" -> core.binary(n, NOT_EQUAL, NONE, false);
      case "LogicalAnd" -> core.binary(n, LOGICAL_AND, NONE, false);
      case "LogicalOr" -> core.binary(n, LOGICAL_OR, NONE, false);
      case "FloorDiv" -> core.binary(n, FLOOR_DIV, NONE, false);
      case "FloorMod" -> core.binary(n, FLOOR_MOD, NONE, false);
      case "Relu" -> core.unary(n, RELU, NONE);
      case "Relu6" -> core.unary(n, RELU6, NONE);
      case "Elu" -> core.unary(n, ELU, NONE);
      case "Tanh" -> core.unary(n, TANH, NONE);
      case "Sigmoid" -> core.unary(n, LOGISTIC, NONE);
      case "Exp" -> core.unary(n, EXP, EXP_OPTIONS);
      case "Log" -> core.unary(n, LOG, NONE);
      case "Sqrt" -> core.unary(n, SQRT, NONE);
      case "Rsqrt" -> core.unary(n, RSQRT, NONE);
      case "Square" -> core.unary(n, SQUARE, SQUARE_OPTIONS);
      case "Neg" -> core.unary(n, NEG, NEG_OPTIONS);
      case "Abs" -> core.unary(n, ABS, NONE);
      case "Floor" -> core.unary(n, FLOOR, NONE);
      case "LogicalNot" -> core.unary(n, LOGICAL_NOT, NONE);
      case "ZerosLike" -> core.unary(n, ZEROS_LIKE, NONE);
      case "Sin" -> core.unary(n, SIN, NONE);
      case "Cos" -> core.unary(n, COS, NONE);
      case "Ceil" -> core.unary(n, CEIL, NONE);
      case "Round" -> core.unary(n, ROUND, NONE);
      case "Sign" -> core.unary(n, SIGN, NONE);
      case "Softmax" ->
          core.simple(n, SOFTMAX, SOFTMAX_OPTIONS, List.of(core.in(n, 0))).opt("beta", 1.0f)
              != null;
      case "LogSoftmax" ->
          core.simple(n, LOG_SOFTMAX, LOG_SOFTMAX_OPTIONS, List.of(core.in(n, 0))) != null;
      case "LeakyRelu" ->
          core.simple(n, LEAKY_RELU, LEAKY_RELU_OPTIONS, List.of(core.in(n, 0)))
                  .opt("alpha", floatAttr(n, "alpha", 0.2f))
              != null;
      // TF.js's Prelu (alpha broadcast against x), as TFLite's PRELU.
      case "Prelu" ->
          core.isFloat(n)
              && core.simple(n, PRELU, NONE, List.of(core.in(n, 0), core.in(n, 1))) != null;
      case "Cast" -> core.simple(n, CAST, NONE, List.of(core.in(n, 0))) != null;
      case "Shape" ->
          core.simple(n, SHAPE, SHAPE_OPTIONS, List.of(core.in(n, 0)))
                  .opt(
                      "out_type",
                      core.dtypeOf(Lowering.ref(n.name(), 0)) == DType.INT64.tfEnum() ? 4 : 2)
              != null;
      case "Rank" -> core.simple(n, RANK, NONE, List.of(core.in(n, 0))) != null;
      case "SelectV2" ->
          core.simple(
                  n,
                  SELECT_V2,
                  SELECT_V2_OPTIONS,
                  List.of(core.in(n, 0), core.in(n, 1), core.in(n, 2)))
              != null;
      case "ExpandDims" -> core.withConstInts(n, EXPAND_DIMS, EXPAND_DIMS_OPTIONS, 1);
      case "Transpose" -> core.withConstInts(n, TRANSPOSE, NONE, 1);
      case "Tile" -> core.withConstInts(n, TILE, NONE, 1);
      case "Slice" -> core.constIntInputs(n, SLICE, NONE, Set.of(1, 2));
      case "Pad" -> core.constIntInputs(n, PAD, PAD_OPTIONS, Set.of(1));
      case "PadV2" -> core.constIntInputs(n, PADV2, PADV2_OPTIONS, Set.of(1));
      case "Fill" -> core.constIntInputs(n, FILL, NONE, Set.of(0));
      case "SpaceToBatchND" -> core.constIntInputs(n, SPACE_TO_BATCH_ND, NONE, Set.of(1, 2));
      case "BatchToSpaceND" -> core.constIntInputs(n, BATCH_TO_SPACE_ND, NONE, Set.of(1, 2));
      // neural-network layers
      case "Conv2D" -> neuralNet.conv(n, false);
      case "DepthwiseConv2dNative" -> neuralNet.conv(n, true);
      case "Conv2DBackpropInput" -> neuralNet.transposeConv(n);
      case "Conv3D" -> neuralNet.conv3d(n);
      case "MatMul" -> neuralNet.matmul(n);
      case "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3" -> neuralNet.batchMatmul(n);
      case "MaxPool", "AvgPool" -> neuralNet.pool(n);
      case "MaxPool3D", "AvgPool3D" -> neuralNet.pool3d(n);
      case "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3" -> neuralNet.batchNorm(n);
      case "LRN" -> neuralNet.lrn(n);
      // element-wise ops without a builtin of their own
      case "OnesLike" -> elementwise.onesLike(n);
      case "AddN" -> elementwise.addN(n);
      case "ClipByValue" -> elementwise.clipByValue(n);
      case "Reciprocal", "Inv" -> core.isFloat(n) && elementwise.reciprocal(n);
      case "Softplus" -> core.isFloat(n) && elementwise.softplus(n);
      case "Selu" -> core.isFloat(n) && elementwise.selu(n);
      case "Softsign" -> core.isFloat(n) && elementwise.softsign(n);
      case "Log1p" -> core.isFloat(n) && elementwise.log1p(n);
      case "Expm1" -> core.isFloat(n) && elementwise.expm1(n);
      // data movement
      case "Reshape" -> dataMovement.reshape(n);
      case "Squeeze" -> dataMovement.squeeze(n);
      case "ConcatV2" -> dataMovement.concat(n);
      case "Pack" -> dataMovement.pack(n);
      case "Unpack" -> dataMovement.unpack(n);
      case "Split" -> dataMovement.split(n);
      case "SplitV" -> dataMovement.splitV(n);
      case "StridedSlice" -> dataMovement.stridedSlice(n);
      case "GatherV2" -> dataMovement.gather(n);
      case "GatherNd" -> dataMovement.gatherNd(n);
      case "ScatterNd" -> dataMovement.scatterNd(n);
      case "ReverseV2" -> dataMovement.reverse(n);
      case "Range" -> dataMovement.range(n);
      case "BroadcastTo" -> dataMovement.broadcastTo(n);
      case "Select" -> dataMovement.selectV1(n);
      case "MirrorPad" -> dataMovement.mirrorPad(n);
      case "DepthToSpace", "SpaceToDepth" -> dataMovement.depthSpace(n);
      case "OneHot" -> dataMovement.oneHot(n);
      case "ResizeBilinear" -> dataMovement.resize(n, true);
      case "ResizeNearestNeighbor" -> dataMovement.resize(n, false);
      case "IdentityN" -> dataMovement.identityN(n);
      // reductions and searches
      case "Mean" -> reductions.reduce(n, MEAN);
      case "Sum" -> reductions.reduce(n, SUM);
      case "Max" -> reductions.reduce(n, REDUCE_MAX);
      case "Min" -> reductions.reduce(n, REDUCE_MIN);
      case "Prod" -> reductions.reduce(n, REDUCE_PROD);
      case "ArgMax" -> reductions.argMax(n);
      case "ArgMin" -> reductions.argMin(n);
      case "TopKV2" -> reductions.topK(n);
      case "Cumsum" -> reductions.cumsum(n);
      case "Where" -> reductions.where(n);
      case "Size" -> reductions.size(n);
      // TensorLists
      case "TensorListReserve" -> tensorLists.reserve(n);
      case "TensorListFromTensor", "TensorListStack" -> core.alias(n);
      case "TensorListGetItem" ->
          core.simple(n, GATHER, GATHER_OPTIONS, List.of(core.in(n, 0), core.in(n, 1)))
                  .opt("axis", 0)
                  .opt("batch_dims", 0)
              != null;
      case "TensorListSetItem" -> tensorLists.setItem(n);
      case "XlaDynamicUpdateSlice" -> tensorLists.dynamicUpdateSlice(n);
      // control flow
      case "While", "StatelessWhile" -> controlFlow.lower(n, true);
      case "If", "StatelessIf" -> controlFlow.lower(n, false);
      default -> false;
    };
  }
}
