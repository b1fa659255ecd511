package org.tfport.graph.keras;

import org.tfport.core.graph.DataTypes;

/**
 * A Keras tensor while the graph is built: the graph tensor that holds it and its static shape as
 * Keras knows it, -1 for an unknown dimension (always the batch).
 */
record KT(String ref, long[] shape, int dtype) {
  static final int FLOAT = DataTypes.DT_FLOAT;
  static final int INT32 = DataTypes.fromDType(org.tfport.core.DType.INT32);
  static final int BOOL = DataTypes.fromDType(org.tfport.core.DType.BOOL);

  KT {
    shape = shape.clone();
  }

  static KT f32(String ref, long[] shape) {
    return new KT(ref, shape, DataTypes.DT_FLOAT);
  }

  KT with(String newRef, long[] newShape) {
    return new KT(newRef, newShape, dtype);
  }

  int rank() {
    return shape.length;
  }

  long dim(int axis) {
    return shape[axis < 0 ? shape.length + axis : axis];
  }

  /** How many dimensions are unknown. */
  int unknownDims() {
    int n = 0;
    for (long d : shape) {
      n += d < 0 ? 1 : 0;
    }
    return n;
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }
}
