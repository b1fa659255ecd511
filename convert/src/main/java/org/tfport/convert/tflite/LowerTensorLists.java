package org.tfport.convert.tflite;

import static org.tfport.convert.tflite.Lowering.ref;
import static org.tfport.convert.tflite.NodeAttrs.longs;
import static org.tfport.formats.tflite.TfliteBuiltin.*;
import static org.tfport.formats.tflite.TfliteOptionsType.*;

import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.Tensor;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Node;
import org.tfport.formats.tflite.TfliteType;

/**
 * The lowering of TensorLists (a TF2 loop's TensorArray), held as the dense tensor {@code [length,
 * element...]}: reserving makes zeros, reading an item gathers row {@code index} (in {@link
 * Lowering}), setting one is DYNAMIC_UPDATE_SLICE at {@code [index, 0, ...]}, and stacking is the
 * tensor itself; and TF1 TensorArrays' XLA dynamic update slice.
 */
final class LowerTensorLists {
  private final Lowering core;
  private final ModelBuilder.Sub sub;

  LowerTensorLists(Lowering core) {
    this.core = core;
    this.sub = core.sub;
  }

  /**
   * A TensorList (a TF2 loop's TensorArray) is held as the dense tensor {@code [length,
   * element...]}: reserving makes zeros, reading an item gathers row {@code index}, setting one is
   * DYNAMIC_UPDATE_SLICE at {@code [index, 0, ...]}, and stacking is the tensor itself. Needs the
   * element shape to be known.
   */
  boolean reserve(Node n) {
    Tensor shape = core.constant(n.input(0));
    if (shape == null) {
      return false;
    }
    long[] elem = longs(shape);
    int[] dims = new int[elem.length + 1];
    // An unknown element dimension (a Keras loop's batch) starts as 1 and is marked -1 in the shape
    // signature;
    // the first write broadcasts the list to the items' real shape (setItem).
    int[] signature = null;
    for (int i = 0; i < elem.length; i++) {
      if (elem[i] < 0) {
        if (signature == null) {
          signature = new int[dims.length];
        }
        signature[i + 1] = -1;
        dims[i + 1] = 1;
      } else {
        dims[i + 1] = (int) elem[i];
      }
    }
    if (signature != null) {
      for (int i = 0; i < dims.length; i++) {
        signature[i] = signature[i] < 0 ? -1 : dims[i];
      }
    }
    int dt = core.dtypeOf(ref(n.name(), 0));
    DType type = DataTypes.toDType(dt);
    if (type == null || type.byteSize() <= 0) {
      return false;
    }
    Tensor count = core.constant(n.input(1));
    if (count != null) {
      dims[0] = (int) longs(count)[0];
      long size = (long) type.byteSize();
      for (int d : dims) {
        size *= d;
      }
      if (dims[0] < 0 || size > 64L << 20) {
        return false;
      }
      int t = sub.constant(n.name(), TfliteType.of(type), dims, new byte[(int) size]);
      sub.t(t).signature = signature;
      core.tensors.put(ref(n.name(), 0), t);
      return true;
    }
    // A length known only at run time: FILL([length, element...], 0), unknown element dimensions 1
    // as above.
    Integer len = core.int32(n, n.input(1), 1);
    if (len == null) {
      return false;
    }
    int lenVec =
        sub.add(new ModelBuilder.T(n.name() + "/length", TfliteType.INT32, new int[] {1}, null));
    sub.op(RESHAPE, NONE, List.of(len, sub.constInts(n.name() + "/one", 1)), List.of(lenVec));
    int[] tail = java.util.Arrays.copyOfRange(dims, 1, dims.length);
    int fullShape =
        sub.add(
            new ModelBuilder.T(
                n.name() + "/shape", TfliteType.INT32, new int[] {dims.length}, null));
    sub.op(
            CONCATENATION,
            CONCATENATION_OPTIONS,
            List.of(lenVec, sub.constInts(n.name() + "/element_shape", tail)),
            List.of(fullShape))
        .opt("axis", 0)
        .opt("fused_activation_function", 0);
    int zero =
        sub.constant(
            n.name() + "/zero", TfliteType.of(type), new int[0], new byte[type.byteSize()]);
    ModelBuilder.Op o = core.simple(n, FILL, NONE, List.of(fullShape, zero));
    // Shape inference knows no TensorList: declare [-1, element...], so a loop carrying the list
    // knows its rank.
    ModelBuilder.T out = sub.t(o.outputs.get(0));
    out.shape = dims.clone();
    out.shape[0] = 1;
    out.signature = signature != null ? signature : dims.clone();
    out.signature[0] = -1;
    out.hasRank = true;
    return true;
  }

  boolean setItem(Node n) {
    int list = core.in(n, 0);
    ModelBuilder.T lt = sub.t(list);
    if (!lt.hasRank) {
      return false;
    }
    int rank = lt.shape.length;
    Integer index = core.int32(n, n.input(1), 1);
    if (index == null) {
      return false;
    }
    int[] itemShape = new int[rank];
    itemShape[0] = 1;
    System.arraycopy(lt.shape, 1, itemShape, 1, rank - 1);
    int[] itemSignature = lt.signature == null ? null : lt.signature.clone();
    if (itemSignature != null) {
      itemSignature[0] = 1;
    }
    int item = sub.add(new ModelBuilder.T(n.name() + "/item", lt.type, itemShape, itemSignature));
    int axis = sub.constant(n.name() + "/axis", TfliteType.INT32, new int[0], new byte[4]);
    sub.op(EXPAND_DIMS, EXPAND_DIMS_OPTIONS, List.of(core.in(n, 2), axis), List.of(item));
    if (lt.signature != null
        && java.util.Arrays.stream(lt.signature).skip(1).anyMatch(d -> d < 0)) {
      // Element dimensions unknown when the list was made: grow it to [length] + the item's shape.
      // Broadcasting
      // a list that already has that shape copies it unchanged; the first write turns the 1s into
      // real sizes.
      int itemShape2 =
          sub.add(
              new ModelBuilder.T(
                  n.name() + "/item_dims", TfliteType.INT32, new int[] {rank - 1}, null));
      sub.op(SHAPE, SHAPE_OPTIONS, List.of(core.in(n, 2)), List.of(itemShape2)).opt("out_type", 2);
      int listDims =
          sub.add(
              new ModelBuilder.T(
                  n.name() + "/list_dims", TfliteType.INT32, new int[] {rank}, null));
      sub.op(SHAPE, SHAPE_OPTIONS, List.of(list), List.of(listDims)).opt("out_type", 2);
      int length =
          sub.add(new ModelBuilder.T(n.name() + "/length", TfliteType.INT32, new int[] {1}, null));
      sub.op(
          SLICE,
          NONE,
          List.of(
              listDims,
              sub.constInts(n.name() + "/begin", 0),
              sub.constInts(n.name() + "/size", 1)),
          List.of(length));
      int target =
          sub.add(
              new ModelBuilder.T(n.name() + "/target", TfliteType.INT32, new int[] {rank}, null));
      sub.op(CONCATENATION, CONCATENATION_OPTIONS, List.of(length, itemShape2), List.of(target))
          .opt("axis", 0)
          .opt("fused_activation_function", 0);
      ModelBuilder.T grownT =
          new ModelBuilder.T(n.name() + "/grown", lt.type, lt.shape.clone(), lt.signature.clone());
      int grown = sub.add(grownT);
      sub.op(BROADCAST_TO, NONE, List.of(list, target), List.of(grown));
      list = grown;
    }
    int indexVec =
        sub.add(new ModelBuilder.T(n.name() + "/index", TfliteType.INT32, new int[] {1}, null));
    sub.op(RESHAPE, NONE, List.of(index, sub.constInts(n.name() + "/one", 1)), List.of(indexVec));
    int start =
        sub.add(new ModelBuilder.T(n.name() + "/start", TfliteType.INT32, new int[] {rank}, null));
    sub.op(
            CONCATENATION,
            CONCATENATION_OPTIONS,
            List.of(indexVec, sub.constInts(n.name() + "/zeros", new int[rank - 1])),
            List.of(start))
        .opt("axis", 0)
        .opt("fused_activation_function", 0);
    ModelBuilder.Op o = sub.op(DYNAMIC_UPDATE_SLICE, NONE, List.of(list, item, start), List.of());
    o.tfName = n.name();
    int out = core.output(n, 0);
    // The list keeps its shape: declare it, since shape inference knows nothing of TensorLists.
    sub.t(out).shape = lt.shape.clone();
    sub.t(out).signature = lt.signature == null ? null : lt.signature.clone();
    sub.t(out).hasRank = true;
    o.outputs.add(out);
    return true;
  }

  /**
   * {@code XlaDynamicUpdateSlice(x, update, begin)} (a TF1 TensorArray's unstack, see TensorArrays)
   * as DYNAMIC_UPDATE_SLICE; both clamp {@code begin} so the update fits. The result keeps x's
   * shape, which shape inference cannot tell when x is a TensorList's dense array.
   */
  boolean dynamicUpdateSlice(Node n) {
    Integer begin = core.int32(n, n.input(2), 2);
    if (begin == null) {
      return false;
    }
    int x = core.in(n, 0);
    ModelBuilder.Op o =
        core.simple(n, DYNAMIC_UPDATE_SLICE, NONE, List.of(x, core.in(n, 1), begin));
    keepShape(x, o.outputs.get(0));
    return true;
  }

  /**
   * Declares tensor {@code to} with {@code from}'s shape and shape signature, when {@code from} has
   * a rank.
   */
  private void keepShape(int from, int to) {
    ModelBuilder.T f = sub.t(from);
    if (f.hasRank) {
      ModelBuilder.T t = sub.t(to);
      t.shape = f.shape.clone();
      t.signature = f.signature == null ? null : f.signature.clone();
      t.hasRank = true;
    }
  }
}
