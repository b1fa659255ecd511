package org.tfport.formats.tflite;

import java.util.List;

/**
 * {@code SparsityParameters} of a sparse constant tensor (TACO-style, see schema.fbs): the order
 * the dimensions are traversed in, how block dimensions map to tensor dimensions, and per traversed
 * dimension either its dense size or CSR segments and indices.
 */
public record TfliteSparsity(
    List<Integer> traversalOrder, List<Integer> blockMap, List<Dimension> dimMetadata) {
  public TfliteSparsity {
    traversalOrder = List.copyOf(traversalOrder);
    blockMap = List.copyOf(blockMap);
    dimMetadata = List.copyOf(dimMetadata);
  }

  /**
   * {@code DimensionMetadata}; {@code format} 0 DENSE, 1 SPARSE_CSR. Segments/indices are null when
   * absent.
   */
  public record Dimension(
      int format, int denseSize, IndexVector arraySegments, IndexVector arrayIndices) {}

  /** {@code SparseIndexVector}: {@code type} 1 Int32Vector, 2 Uint16Vector, 3 Uint8Vector. */
  public record IndexVector(int type, List<Integer> values) {
    public IndexVector {
      if (type < 1 || type > 3) {
        throw new IllegalArgumentException("SparseIndexVector type must be 1..3, got " + type);
      }
      values = List.copyOf(values);
    }
  }
}
