package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * TF1 TensorArrays ({@code TensorArrayV3} and friends). The handle is a loop invariant in TF1 loops
 * while the float "flow" scalar carries the ordering, so the array itself is mutable: each {@code
 * TensorArrayV3} run makes a new one, private to that run. Writes keep TensorFlow's rules: an index
 * is written once, a read may clear it.
 */
final class TensorArrayOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("TensorArrayV3", TensorArrayOps::create);
    r.reference(
        "TensorArrayWriteV3",
        b ->
            (in, ctx) -> {
              array(in[0]).write(index(in[1]), in[2]);
              return new Value[] {in[3]};
            });
    r.reference("TensorArrayReadV3", TensorArrayOps::read);
    r.reference("TensorArrayGatherV3", TensorArrayOps::gather);
    r.reference(
        "TensorArrayScatterV3",
        b ->
            (in, ctx) -> {
              scatter(array(in[0]), in[1], in[2]);
              return new Value[] {in[3]};
            });
    r.reference("TensorArrayConcatV3", TensorArrayOps::concat);
    r.reference(
        "TensorArraySplitV3",
        b ->
            (in, ctx) -> {
              split(array(in[0]), in[1], in[2]);
              return new Value[] {in[3]};
            });
    r.reference(
        "TensorArraySizeV3", b -> (in, ctx) -> new Value[] {Value.scalar(array(in[0]).size())});
    r.reference(
        "TensorArrayCloseV3",
        b ->
            (in, ctx) -> {
              array(in[0]);
              return new Value[0];
            });
  }

  /**
   * One TensorArray: elements (null = not written), and whether each was read since (for
   * clear_after_read).
   */
  static final class TensorArray {
    final DType dtype;
    final long[] elementShape;
    final boolean dynamicSize;
    final boolean clearAfterRead;
    final boolean identicalShapes;
    private Value[] items;
    private boolean[] cleared;

    TensorArray(
        DType dtype,
        long[] elementShape,
        int size,
        boolean dynamicSize,
        boolean clearAfterRead,
        boolean identicalShapes) {
      this.dtype = dtype;
      this.elementShape = elementShape;
      this.dynamicSize = dynamicSize;
      this.clearAfterRead = clearAfterRead;
      this.identicalShapes = identicalShapes;
      this.items = new Value[size];
      this.cleared = new boolean[size];
    }

    synchronized int size() {
      return items.length;
    }

    synchronized void write(int i, Value v) {
      if (v.isHandle() || v.dtype() != dtype) {
        throw new KernelException(
            "TensorArray dtype is " + dtype.jsName() + " but the value written is " + v);
      }
      if (i < 0) {
        throw new KernelException(
            "Tried to write to index "
                + i
                + " but array is not resizeable and size is: "
                + items.length);
      }
      if (i >= items.length) {
        if (!dynamicSize) {
          throw new KernelException(
              "Tried to write to index "
                  + i
                  + " but array is not resizeable and size is: "
                  + items.length);
        }
        items = Arrays.copyOf(items, i + 1);
        cleared = Arrays.copyOf(cleared, i + 1);
      }
      if (!TensorList.compatible(elementShape, v.shape())) {
        throw new KernelException(
            "Could not write to TensorArray index "
                + i
                + ": the element shape "
                + TensorList.shapeText(elementShape)
                + " is incompatible with the value's "
                + Layout.shape(v.shape()));
      }
      if (identicalShapes) {
        for (Value other : items) {
          if (other != null && !Arrays.equals(other.shape(), v.shape())) {
            throw new KernelException(
                "Could not write to TensorArray index "
                    + i
                    + ": identical_element_shapes is"
                    + " set and the value's shape "
                    + Layout.shape(v.shape())
                    + " differs from "
                    + Layout.shape(other.shape()));
          }
        }
      }
      if (items[i] != null || cleared[i]) {
        throw new KernelException(
            "Could not write to TensorArray index "
                + i
                + " because it has already been written to.");
      }
      items[i] = v;
    }

    /** Element {@code i}; zeros when never written and the element shape is known. */
    synchronized Value read(int i, long[] requestedShape) {
      if (i < 0 || i >= items.length) {
        throw new KernelException(
            "Tried to read from index " + i + " but array size is: " + items.length);
      }
      if (cleared[i]) {
        throw new KernelException(
            "Could not read index "
                + i
                + " twice because it was cleared after a previous"
                + " read (perhaps try setting clear_after_read = false?)");
      }
      Value v = items[i];
      if (v == null) {
        long[] shape = TensorList.merge(elementShape, requestedShape);
        shape = shape == null ? sameShapeAsWritten() : shape;
        if (shape == null || !TensorList.fullyDefined(shape)) {
          throw new KernelException(
              "Could not read from TensorArray index "
                  + i
                  + ".  Furthermore, the element"
                  + " shape is not fully defined: "
                  + TensorList.shapeText(shape));
        }
        return Value.zeros(dtype, shape);
      }
      if (clearAfterRead) {
        items[i] = null;
        cleared[i] = true;
      }
      return v;
    }

    private long[] sameShapeAsWritten() {
      for (Value v : items) {
        if (v != null) {
          return v.shape();
        }
      }
      return null;
    }
  }

  private static TensorArray array(Value v) {
    if (!v.isHandle() || !(v.data() instanceof TensorArray a)) {
      throw new KernelException("expected a TensorArray handle, got " + v);
    }
    return a;
  }

  private static int index(Value v) {
    return Math.toIntExact(Layout.scalar(v, "index"));
  }

  /** A shape attribute; null for an unknown rank, -1 for unknown dimensions. */
  private static long[] shapeAttr(BindContext b, String name) {
    if (b.attr(name) instanceof AttrValue.Shape s) {
      return s.value().unknownRank() ? null : s.value().dims();
    }
    return null;
  }

  private static Kernel create(BindContext b) {
    DType t = b.typeAttr("dtype");
    long[] shape = shapeAttr(b, "element_shape");
    boolean dynamic = b.boolAttr("dynamic_size", false);
    boolean clear = b.boolAttr("clear_after_read", true);
    boolean identical = b.boolAttr("identical_element_shapes", false);
    return (in, ctx) -> {
      long size = Layout.scalar(in[0], "size");
      if (size < 0) {
        throw new KernelException("Size should be >= 0, got " + size);
      }
      TensorArray a = new TensorArray(t, shape, Math.toIntExact(size), dynamic, clear, identical);
      return new Value[] {Value.handle(a), Value.scalar(0f)};
    };
  }

  private static Kernel read(BindContext b) {
    DType t = b.typeAttr("dtype");
    return (in, ctx) -> {
      TensorArray a = array(in[0]);
      checkType(a, t);
      return new Value[] {a.read(index(in[1]), null)};
    };
  }

  private static void checkType(TensorArray a, DType t) {
    if (a.dtype != t) {
      throw new KernelException(
          "TensorArray dtype is " + a.dtype.jsName() + " but Op requested dtype " + t.jsName());
    }
  }

  private static int width(DType t) {
    return t == DType.COMPLEX64 ? 2 : 1;
  }

  private static Kernel gather(BindContext b) {
    DType t = b.typeAttr("dtype");
    long[] requested = shapeAttr(b, "element_shape");
    return (in, ctx) -> {
      TensorArray a = array(in[0]);
      checkType(a, t);
      long[] idx = Layout.vector(in[1], "indices");
      Value[] items = new Value[idx.length];
      for (int k = 0; k < idx.length; k++) {
        items[k] = a.read(Math.toIntExact(idx[k]), requested);
        if (k > 0 && !Arrays.equals(items[k].shape(), items[0].shape())) {
          throw new KernelException(
              "TensorArray has inconsistent shapes.  Index 0 has shape: "
                  + Layout.shape(items[0].shape())
                  + " but index "
                  + k
                  + " has shape: "
                  + Layout.shape(items[k].shape()));
        }
      }
      long[] element =
          items.length > 0 ? items[0].shape() : TensorList.merge(a.elementShape, requested);
      if (element == null || !TensorList.fullyDefined(element)) {
        throw new KernelException(
            "TensorArray has size zero, but element shape "
                + TensorList.shapeText(element)
                + " is not fully defined. Currently only static shapes are supported when packing zero-size TensorArrays.");
      }
      long[] shape = new long[element.length + 1];
      shape[0] = items.length;
      System.arraycopy(element, 0, shape, 1, element.length);
      Value out = Value.zeros(t, shape);
      int row = (int) Value.elementCount(element) * width(t);
      for (int k = 0; k < items.length; k++) {
        System.arraycopy(items[k].data(), 0, out.data(), k * row, row);
      }
      return new Value[] {out};
    };
  }

  private static void scatter(TensorArray a, Value indices, Value value) {
    long[] idx = Layout.vector(indices, "indices");
    if (value.rank() < 1 || value.dim(0) != idx.length) {
      throw new KernelException(
          "Expected len(indices) == values.shape[0], but saw: "
              + idx.length
              + " vs. "
              + (value.rank() < 1 ? "a scalar" : value.dim(0)));
    }
    for (int k = 0; k < idx.length; k++) {
      a.write(
          Math.toIntExact(idx[k]),
          TensorListOps.rows(value, k, 1)
              .reshaped(Arrays.copyOfRange(value.shape(), 1, value.rank())));
    }
  }

  private static Kernel concat(BindContext b) {
    DType t = b.typeAttr("dtype");
    long[] rest = shapeAttr(b, "element_shape_except0");
    return (in, ctx) -> {
      TensorArray a = array(in[0]);
      checkType(a, t);
      int n = a.size();
      Value[] items = new Value[n];
      long[] lengths = new long[n];
      long total = 0;
      long[] tail = null;
      for (int i = 0; i < n; i++) {
        Value v;
        synchronized (a) {
          v = a.items[i];
          if (v == null) {
            throw new KernelException(
                "Could not read from TensorArray index "
                    + i
                    + " because it has not yet been written to.");
          }
        }
        if (v.rank() < 1) {
          throw new KernelException(
              "Concat saw a scalar shape at index " + i + " but requires at least vectors.");
        }
        long[] vt = Arrays.copyOfRange(v.shape(), 1, v.rank());
        if (tail != null && !Arrays.equals(tail, vt)) {
          throw new KernelException(
              "TensorArray has inconsistent shapes.  Index 0 has (excepting dimension 0) shape: "
                  + Layout.shape(tail)
                  + " but index "
                  + i
                  + " has (excepting dimension 0) shape: "
                  + Layout.shape(vt));
        }
        tail = vt;
        items[i] = a.read(i, null);
        lengths[i] = v.dim(0);
        total += lengths[i];
      }
      if (tail == null) {
        if (rest == null || !TensorList.fullyDefined(rest)) {
          throw new KernelException(
              "TensorArray has size zero, but element_shape_except0 "
                  + TensorList.shapeText(rest)
                  + " is not fully defined.");
        }
        tail = rest;
      }
      long[] shape = new long[tail.length + 1];
      shape[0] = total;
      System.arraycopy(tail, 0, shape, 1, tail.length);
      Value out = Value.zeros(t, shape);
      int at = 0;
      for (Value v : items) {
        int len = v.size() * width(t);
        System.arraycopy(v.data(), 0, out.data(), at, len);
        at += len;
      }
      return new Value[] {out, Value.longs(new long[] {n}, lengths)};
    };
  }

  private static void split(TensorArray a, Value value, Value lengthsValue) {
    long[] lengths = Layout.vector(lengthsValue, "lengths");
    if (value.rank() < 1) {
      throw new KernelException(
          "Expected value to be at least a vector, but received shape: "
              + Layout.shape(value.shape()));
    }
    long sum = 0;
    for (long l : lengths) {
      if (l < 0) {
        throw new KernelException("lengths must be non-negative, got " + Arrays.toString(lengths));
      }
      sum += l;
    }
    if (sum != value.dim(0)) {
      throw new KernelException(
          "Expected sum of lengths to be equal to values.shape[0], but sum of lengths is: "
              + sum
              + " and value's shape is: "
              + Layout.shape(value.shape()));
    }
    if (!a.dynamicSize && lengths.length != a.size()) {
      throw new KernelException(
          "TensorArray's size is not equal to the size of lengths ("
              + lengths.length
              + " vs. "
              + a.size()
              + "), and the TensorArray is not marked as dynamically resizeable");
    }
    long start = 0;
    for (int k = 0; k < lengths.length; k++) {
      Value piece = TensorListOps.rows(value, start, lengths[k]);
      a.write(k, piece);
      start += lengths[k];
    }
  }
}
