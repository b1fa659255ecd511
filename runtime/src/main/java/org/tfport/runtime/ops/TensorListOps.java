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
 * TensorLists ({@code tf.TensorArray} in TF2 graphs): a handle to an immutable {@link TensorList};
 * every op that changes a list returns a new handle, which is how loops carry them.
 */
public final class TensorListOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("EmptyTensorList", TensorListOps::empty);
    r.reference("TensorListReserve", TensorListOps::reserve);
    r.reference("TensorListFromTensor", TensorListOps::fromTensor);
    r.reference("TensorListGetItem", TensorListOps::getItem);
    r.reference("TensorListSetItem", TensorListOps::setItem);
    r.reference("TensorListStack", TensorListOps::stack);
    r.reference("TensorListGather", TensorListOps::gather);
    r.reference(TensorListOps::scatter, "TensorListScatter", "TensorListScatterV2");
    r.reference("TensorListScatterIntoExistingList", TensorListOps::scatterIntoExisting);
    r.reference(
        "TensorListLength", node -> (in, ctx) -> new Value[] {Value.scalar(list(in[0]).size())});
    r.reference("TensorListElementShape", TensorListOps::elementShape);
    r.reference("TensorListPushBack", TensorListOps::pushBack);
    r.reference("TensorListPopBack", TensorListOps::popBack);
    r.reference(TensorListOps::concat, "TensorListConcat", "TensorListConcatV2");
    r.reference("TensorListSplit", TensorListOps::split);
    r.reference("TensorListResize", TensorListOps::resize);
  }

  static TensorList list(Value v) {
    if (!v.isHandle() || !(v.data() instanceof TensorList l)) {
      throw new KernelException("expected a TensorList, got " + v);
    }
    return l;
  }

  private static TensorList list(Value v, DType elementType) {
    TensorList l = list(v);
    if (l.dtype() != elementType) {
      throw new KernelException(
          "the list holds "
              + l.dtype().jsName()
              + " elements, the op reads "
              + elementType.jsName());
    }
    return l;
  }

  /**
   * An {@code element_shape} input: -1 as a scalar is an unknown rank, -1 in a vector an unknown
   * dimension.
   */
  static long[] shapeInput(Value v) {
    if (v.isHandle() || v.rank() > 1) {
      throw new KernelException("element_shape must be a scalar or a vector, got " + v);
    }
    if (v.rank() == 0) {
      if (v.longAt(0) != -1) {
        throw new KernelException(
            "a scalar element_shape must be -1 (unknown rank), got " + v.longAt(0));
      }
      return null;
    }
    long[] dims = v.toLongArray();
    for (long d : dims) {
      if (d < -1) {
        throw new KernelException(
            "element_shape " + Arrays.toString(dims) + " has a dimension below -1");
      }
    }
    return dims;
  }

  private static int intScalar(Value v, String what) {
    if (v.isHandle() || v.rank() != 0) {
      throw new KernelException(what + " must be a scalar, got " + v);
    }
    return Math.toIntExact(v.longAt(0));
  }

  private static int[] indexVector(Value v, String what) {
    if (v.isHandle() || v.rank() != 1) {
      throw new KernelException(what + " must be a vector, got " + v);
    }
    int[] out = new int[v.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = Math.toIntExact(v.longAt(i));
    }
    return out;
  }

  private static Value handle(TensorList l) {
    return Value.handle(l);
  }

  // ------------------------------------------------------------------ dense <-> items

  private static int elementWidth(DType t) {
    return t == DType.COMPLEX64 ? 2 : 1;
  }

  /** Rows {@code [start, start + count)} of {@code v} along its first dimension, as a new value. */
  static Value rows(Value v, long start, long count) {
    long[] shape = v.shape().clone();
    shape[0] = count;
    int rowSize =
        Math.toIntExact(Value.elementCount(Arrays.copyOfRange(shape, 1, shape.length)))
            * elementWidth(v.dtype());
    Value out = Value.zeros(v.dtype(), shape);
    System.arraycopy(
        v.data(),
        Math.toIntExact(start * rowSize),
        out.data(),
        0,
        Math.toIntExact(count * rowSize));
    return out;
  }

  /**
   * Stacks items (null = zeros) of one element shape into {@code [items.length] + elementShape}.
   */
  private static Value stackItems(DType t, long[] elementShape, Value[] items) {
    long[] shape = new long[elementShape.length + 1];
    shape[0] = items.length;
    System.arraycopy(elementShape, 0, shape, 1, elementShape.length);
    Value out = Value.zeros(t, shape);
    int rowSize = Math.toIntExact(Value.elementCount(elementShape)) * elementWidth(t);
    for (int i = 0; i < items.length; i++) {
      if (items[i] != null) {
        System.arraycopy(items[i].data(), 0, out.data(), i * rowSize, rowSize);
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ kernels

  private static Kernel empty(BindContext node) {
    DType t = node.typeAttr("element_dtype");
    return (in, ctx) -> {
      int max = intScalar(in[1], "max_num_elements");
      return new Value[] {handle(new TensorList(t, shapeInput(in[0]), new Value[0], max))};
    };
  }

  private static Kernel reserve(BindContext node) {
    DType t = node.typeAttr("element_dtype");
    return (in, ctx) -> {
      int n = intScalar(in[1], "num_elements");
      if (n < 0) {
        throw new KernelException("num_elements must be at least 0, got " + n);
      }
      // Each slot is a reference (8 bytes at most) before anything is stored in it.
      if (8L * n > Memory.heapLimit()) {
        throw new KernelException(
            "num_elements "
                + n
                + " needs "
                + Memory.human(8L * n)
                + " for the list's slots, and the JVM's heap is at most "
                + Memory.human(Memory.heapLimit())
                + "; "
                + Memory.REMEDY);
      }
      return new Value[] {handle(new TensorList(t, shapeInput(in[0]), new Value[n], -1))};
    };
  }

  /**
   * {@code XlaDynamicUpdateSlice} of {@code update}'s rows into a list: how TF1 TensorArray unstack
   * ({@code TensorArrayScatterV3} over a run of indices) reads once the TensorArray pass has made
   * the array a TensorList. Only the row index may be nonzero: every row is a whole element.
   */
  static Value updateRows(Value listHandle, Value update, Value startIndices) {
    TensorList l = list(listHandle);
    long[] start = startIndices.toLongArray();
    if (update.isHandle() || update.dtype() != l.dtype() || update.rank() < 1) {
      throw new KernelException(
          "rows written into a list of "
              + l.dtype().jsName()
              + " elements must be a "
              + l.dtype().jsName()
              + " tensor of rank 1 or more, got "
              + update);
    }
    if (start.length != update.rank()) {
      throw new KernelException(
          "one start index per dimension of the rows " + update + ", got " + start.length);
    }
    for (int d = 1; d < start.length; d++) {
      if (start[d] != 0) {
        throw new KernelException(
            "rows written into a list start at element 0 of each row, not at "
                + Arrays.toString(start));
      }
    }
    long[] rowShape = Arrays.copyOfRange(update.shape(), 1, update.rank());
    long n = update.dim(0);
    if (n > l.size()) {
      throw new KernelException(n + " rows do not fit in a list of " + l.size() + " elements");
    }
    // As XLA does, a start that would run past the end is moved back so the rows fit.
    int first = (int) Math.max(0, Math.min(start[0], l.size() - n));
    Value[] items = l.items();
    for (int i = 0; i < n; i++) {
      Value row = rows(update, i, 1).reshaped(rowShape);
      l.checkItem(row);
      items[first + i] = row;
    }
    return handle(l.with(items));
  }

  private static Kernel fromTensor(BindContext node) {
    DType t = node.typeAttr("element_dtype");
    return (in, ctx) -> {
      Value tensor = in[0];
      if (tensor.isHandle() || tensor.dtype() != t || tensor.rank() < 1) {
        throw new KernelException(
            "tensor must be a " + t.jsName() + " tensor of rank 1 or more, got " + tensor);
      }
      long[] declared = shapeInput(in[1]);
      long[] rowShape = Arrays.copyOfRange(tensor.shape(), 1, tensor.rank());
      if (!TensorList.compatible(declared, rowShape)) {
        throw new KernelException(
            "element_shape "
                + TensorList.shapeText(declared)
                + " does not match the rows "
                + Arrays.toString(rowShape)
                + " of the tensor");
      }
      Value[] items = new Value[(int) tensor.dim(0)];
      for (int i = 0; i < items.length; i++) {
        items[i] = rows(tensor, i, 1).reshaped(rowShape);
      }
      return new Value[] {handle(new TensorList(t, declared, items, -1))};
    };
  }

  private static Kernel getItem(BindContext node) {
    DType t = node.typeAttr("element_dtype");
    return (in, ctx) -> {
      TensorList l = list(in[0], t);
      int i = intScalar(in[1], "index");
      if (i < 0 || i >= l.size()) {
        throw new KernelException("index " + i + " is not in [0, " + l.size() + ")");
      }
      Value v = l.item(i);
      if (v == null) {
        long[] shape = TensorList.merge(l.elementShape(), shapeInput(in[2]));
        if (!TensorList.fullyDefined(shape)) {
          throw new KernelException(
              "element "
                  + i
                  + " was never set and the element shape "
                  + TensorList.shapeText(shape)
                  + " is not fully defined");
        }
        v = Value.zeros(t, shape);
      }
      return new Value[] {v};
    };
  }

  private static Kernel setItem(BindContext node) {
    DType t = node.typeAttr("element_dtype");
    boolean resize = node.boolAttr("resize_if_index_out_of_bounds", false);
    return (in, ctx) -> {
      TensorList l = list(in[0], t);
      int i = intScalar(in[1], "index");
      l.checkItem(in[2]);
      if (i < 0 || i >= l.size() && !resize) {
        throw new KernelException("index " + i + " is not in [0, " + l.size() + ")");
      }
      if (i >= l.size()) {
        l = l.resized(i + 1);
      }
      return new Value[] {handle(l.set(i, in[2]))};
    };
  }

  private static Kernel stack(BindContext node) {
    DType t = node.typeAttr("element_dtype");
    long expected = node.intAttr("num_elements", -1);
    return (in, ctx) -> {
      TensorList l = list(in[0], t);
      if (expected != -1 && expected != l.size()) {
        throw new KernelException(
            "the op expects a list of " + expected + " elements, the list has " + l.size());
      }
      Value[] items = l.items();
      return new Value[] {stackItems(t, l.denseElementShape(shapeInput(in[1]), items), items)};
    };
  }

  private static Kernel gather(BindContext node) {
    DType t = node.typeAttr("element_dtype");
    return (in, ctx) -> {
      TensorList l = list(in[0], t);
      int[] idx = indexVector(in[1], "indices");
      Value[] items = new Value[idx.length];
      for (int k = 0; k < idx.length; k++) {
        if (idx[k] < 0 || idx[k] >= l.size()) {
          throw new KernelException(
              "indices[" + k + "] = " + idx[k] + " is not in [0, " + l.size() + ")");
        }
        items[k] = l.item(idx[k]);
      }
      return new Value[] {stackItems(t, l.denseElementShape(shapeInput(in[2]), items), items)};
    };
  }

  /**
   * Rows of {@code tensor} placed at {@code indices} of {@code items} (already sized to hold them).
   */
  private static void place(TensorList shapeOwner, Value tensor, int[] idx, Value[] items) {
    if (tensor.isHandle() || tensor.rank() < 1 || tensor.dim(0) != idx.length) {
      throw new KernelException(
          "tensor must have one row per index (" + idx.length + "), got " + tensor);
    }
    long[] rowShape = Arrays.copyOfRange(tensor.shape(), 1, tensor.rank());
    for (int k = 0; k < idx.length; k++) {
      if (idx[k] < 0) {
        throw new KernelException("indices[" + k + "] = " + idx[k] + " is negative");
      }
      Value row = rows(tensor, k, 1).reshaped(rowShape);
      shapeOwner.checkItem(row);
      items[idx[k]] = row;
    }
  }

  private static int maxPlusOne(int[] idx) {
    int n = 0;
    for (int i : idx) {
      n = Math.max(n, i + 1);
    }
    return n;
  }

  private static Kernel scatter(BindContext node) {
    boolean v2 = node.op().equals("TensorListScatterV2");
    return (in, ctx) -> {
      Value tensor = in[0];
      if (tensor.isHandle()) {
        throw new KernelException("tensor must be a tensor, got " + tensor);
      }
      int[] idx = indexVector(in[1], "indices");
      int n = maxPlusOne(idx);
      if (v2) {
        int requested = intScalar(in[3], "num_elements");
        if (requested != -1) {
          if (requested < n) {
            throw new KernelException(
                "num_elements " + requested + " is too small for index " + (n - 1));
          }
          n = requested;
        }
      }
      TensorList l = new TensorList(tensor.dtype(), shapeInput(in[2]), new Value[n], -1);
      Value[] items = new Value[n];
      place(l, tensor, idx, items);
      return new Value[] {handle(l.with(items))};
    };
  }

  private static Kernel scatterIntoExisting(BindContext node) {
    return (in, ctx) -> {
      TensorList l = list(in[0]);
      int[] idx = indexVector(in[2], "indices");
      Value[] items = Arrays.copyOf(l.items(), Math.max(l.size(), maxPlusOne(idx)));
      place(l, in[1], idx, items);
      return new Value[] {handle(l.with(items))};
    };
  }

  private static Kernel elementShape(BindContext node) {
    DType t = node.typeAttr("shape_type", DType.INT32);
    if (t != DType.INT32 && t != DType.INT64) {
      throw new KernelException("shape_type must be int32 or int64, got " + t.jsName());
    }
    return (in, ctx) -> {
      long[] s = list(in[0]).elementShape();
      long[] dims = s == null ? new long[] {-1} : s;
      long[] shape = s == null ? new long[0] : new long[] {s.length};
      if (t == DType.INT64) {
        return new Value[] {Value.longs(shape, dims.clone())};
      }
      int[] v = new int[dims.length];
      for (int i = 0; i < v.length; i++) {
        v[i] = (int) dims[i];
      }
      return new Value[] {Value.ints(shape, v)};
    };
  }

  private static Kernel pushBack(BindContext node) {
    DType t = node.typeAttr("element_dtype");
    return (in, ctx) -> {
      TensorList l = list(in[0], t);
      l.checkItem(in[1]);
      if (l.maxSize() >= 0 && l.size() >= l.maxSize()) {
        throw new KernelException("cannot push onto a full list of " + l.maxSize() + " elements");
      }
      Value[] items = Arrays.copyOf(l.items(), l.size() + 1);
      items[l.size()] = in[1];
      return new Value[] {handle(l.with(items))};
    };
  }

  private static Kernel popBack(BindContext node) {
    DType t = node.typeAttr("element_dtype");
    return (in, ctx) -> {
      TensorList l = list(in[0], t);
      if (l.size() == 0) {
        throw new KernelException("cannot pop from an empty list");
      }
      Value v = l.item(l.size() - 1);
      if (v == null) {
        long[] shape = TensorList.merge(l.elementShape(), shapeInput(in[1]));
        if (!TensorList.fullyDefined(shape)) {
          throw new KernelException(
              "the last element was never set and the element shape "
                  + TensorList.shapeText(shape)
                  + " is not fully defined");
        }
        v = Value.zeros(t, shape);
      }
      return new Value[] {handle(l.resized(l.size() - 1)), v};
    };
  }

  private static Kernel concat(BindContext node) {
    DType t = node.typeAttr("element_dtype");
    boolean v2 = node.op().equals("TensorListConcatV2");
    long[] attrShape =
        !v2
                && node.attr("element_shape") instanceof org.tfport.core.graph.AttrValue.Shape s
                && !s.value().unknownRank()
            ? s.value().dims()
            : null;
    return (in, ctx) -> {
      TensorList l = list(in[0], t);
      long[] requested = v2 ? shapeInput(in[1]) : attrShape;
      long[] shape = TensorList.merge(l.elementShape(), requested);
      long[] leading = v2 ? in[2].toLongArray() : new long[0];
      Value[] items = l.items();
      long[] lengths = new long[items.length];
      long[] rest = null;
      for (int i = 0; i < items.length; i++) {
        Value v = items[i];
        if (v == null) {
          long first =
              shape != null && shape.length > 0 && shape[0] >= 0
                  ? shape[0]
                  : i < leading.length ? leading[i] : -1;
          long[] full = shape == null ? null : shape.clone();
          if (full != null && full.length > 0) {
            full[0] = first;
          }
          if (!TensorList.fullyDefined(full) || full.length == 0) {
            throw new KernelException(
                "element "
                    + i
                    + " was never set and its shape "
                    + TensorList.shapeText(full)
                    + " is not fully defined");
          }
          v = Value.zeros(t, full);
          items[i] = v;
        }
        if (v.rank() < 1) {
          throw new KernelException("cannot concatenate scalars: element " + i + " has shape []");
        }
        long[] tail = Arrays.copyOfRange(v.shape(), 1, v.rank());
        if (rest != null && !Arrays.equals(rest, tail)) {
          throw new KernelException(
              "element "
                  + i
                  + " has shape "
                  + Arrays.toString(v.shape())
                  + "; all elements must agree after the first dimension "
                  + Arrays.toString(rest));
        }
        rest = tail;
        lengths[i] = v.dim(0);
      }
      if (rest == null) {
        if (shape == null
            || shape.length == 0
            || !TensorList.fullyDefined(Arrays.copyOfRange(shape, 1, shape.length))) {
          throw new KernelException(
              "cannot concatenate an empty list whose element shape "
                  + TensorList.shapeText(shape)
                  + " is not known after the first dimension");
        }
        rest = Arrays.copyOfRange(shape, 1, shape.length);
      }
      long total = 0;
      for (long n : lengths) {
        total += n;
      }
      long[] outShape = new long[rest.length + 1];
      outShape[0] = total;
      System.arraycopy(rest, 0, outShape, 1, rest.length);
      Value out = Value.zeros(t, outShape);
      int at = 0;
      for (Value v : items) {
        int n = v.size() * elementWidth(t);
        System.arraycopy(v.data(), 0, out.data(), at, n);
        at += n;
      }
      return new Value[] {out, Value.longs(new long[] {lengths.length}, lengths)};
    };
  }

  private static Kernel split(BindContext node) {
    DType t = node.typeAttr("element_dtype");
    return (in, ctx) -> {
      Value tensor = in[0];
      if (tensor.isHandle() || tensor.dtype() != t || tensor.rank() < 1) {
        throw new KernelException(
            "tensor must be a " + t.jsName() + " tensor of rank 1 or more, got " + tensor);
      }
      long[] declared = shapeInput(in[1]);
      long[] lengths = in[2].toLongArray();
      long sum = 0;
      Value[] items = new Value[lengths.length];
      for (int i = 0; i < lengths.length; i++) {
        if (lengths[i] < 0) {
          throw new KernelException("lengths[" + i + "] = " + lengths[i] + " is negative");
        }
        if (sum + lengths[i] > tensor.dim(0)) {
          break;
        }
        items[i] = rows(tensor, sum, lengths[i]);
        sum += lengths[i];
      }
      if (sum != tensor.dim(0) || Arrays.asList(items).contains(null)) {
        throw new KernelException(
            "lengths "
                + Arrays.toString(lengths)
                + " do not add up to the tensor's first"
                + " dimension "
                + tensor.dim(0));
      }
      return new Value[] {handle(new TensorList(t, declared, items, -1))};
    };
  }

  private static Kernel resize(BindContext node) {
    return (in, ctx) -> {
      TensorList l = list(in[0]);
      int n = intScalar(in[1], "size");
      if (n < 0) {
        throw new KernelException("size must be at least 0, got " + n);
      }
      return new Value[] {handle(l.resized(n))};
    };
  }
}
