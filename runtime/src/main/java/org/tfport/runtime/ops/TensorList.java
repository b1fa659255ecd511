package org.tfport.runtime.ops;

import java.util.Arrays;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.Value;

/**
 * The object behind a TensorList handle ({@code DT_VARIANT}). Immutable: every change makes a new
 * list (copying the item references, not the items), so a loop's earlier iterations and other
 * readers of a handle never see later writes.
 *
 * @param elementShape the declared element shape: -1 for an unknown dimension, null for an unknown
 *     rank
 * @param items the elements; null for one never set (read as zeros when its shape is known)
 * @param maxSize the most elements the list may hold, -1 for no bound
 */
record TensorList(DType dtype, long[] elementShape, Value[] items, int maxSize) {
  TensorList {
    elementShape = elementShape == null ? null : elementShape.clone();
    items = items.clone();
  }

  @Override
  public Value[] items() {
    return items.clone();
  }

  int size() {
    return items.length;
  }

  Value item(int i) {
    return items[i];
  }

  TensorList with(Value[] newItems) {
    return new TensorList(dtype, elementShape, newItems, maxSize);
  }

  TensorList set(int i, Value v) {
    Value[] copy = items.clone();
    copy[i] = v;
    return with(copy);
  }

  TensorList resized(int n) {
    return with(Arrays.copyOf(items, n));
  }

  /** Checks an item's type and its shape against the declared element shape. */
  void checkItem(Value v) {
    if (v.isHandle() || v.dtype() != dtype) {
      throw new KernelException("the list holds " + dtype.jsName() + " elements, got " + v);
    }
    if (!compatible(elementShape, v.shape())) {
      throw new KernelException(
          "the list's elements have shape "
              + shapeText(elementShape)
              + ", got "
              + Arrays.toString(v.shape()));
    }
  }

  /**
   * The two partial shapes merged (each known dimension from whichever knows it), or an error when
   * they differ.
   */
  static long[] merge(long[] a, long[] b) {
    if (a == null) {
      return b == null ? null : b.clone();
    }
    if (b == null) {
      return a.clone();
    }
    if (a.length != b.length) {
      throw new KernelException(
          "element shapes " + shapeText(a) + " and " + shapeText(b) + " differ in rank");
    }
    long[] out = new long[a.length];
    for (int i = 0; i < a.length; i++) {
      if (a[i] >= 0 && b[i] >= 0 && a[i] != b[i]) {
        throw new KernelException(
            "element shapes " + shapeText(a) + " and " + shapeText(b) + " are incompatible");
      }
      out[i] = a[i] >= 0 ? a[i] : b[i];
    }
    return out;
  }

  static boolean compatible(long[] partial, long[] shape) {
    if (partial == null) {
      return true;
    }
    if (partial.length != shape.length) {
      return false;
    }
    for (int i = 0; i < shape.length; i++) {
      if (partial[i] >= 0 && partial[i] != shape[i]) {
        return false;
      }
    }
    return true;
  }

  static boolean fullyDefined(long[] shape) {
    if (shape == null) {
      return false;
    }
    for (long d : shape) {
      if (d < 0) {
        return false;
      }
    }
    return true;
  }

  static String shapeText(long[] shape) {
    return shape == null ? "<unknown>" : Arrays.toString(shape);
  }

  /**
   * The shape every element of a dense result has: the declared shape merged with {@code
   * requested}, completed from the set items, which must all agree.
   */
  long[] denseElementShape(long[] requested, Value[] chosen) {
    long[] shape = merge(elementShape, requested);
    for (Value v : chosen) {
      if (v != null) {
        if (!compatible(shape, v.shape())) {
          throw new KernelException(
              "elements of shapes "
                  + shapeText(shape)
                  + " and "
                  + Arrays.toString(v.shape())
                  + " cannot be stacked");
        }
        shape = v.shape().clone();
      }
    }
    if (!fullyDefined(shape)) {
      throw new KernelException(
          "cannot read unset elements: the element shape "
              + shapeText(shape)
              + " is not fully defined");
    }
    return shape;
  }

  @Override
  public boolean equals(Object o) {
    return this == o;
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }

  @Override
  public String toString() {
    return "TensorList<" + dtype.jsName() + shapeText(elementShape) + ">[" + items.length + "]";
  }
}
