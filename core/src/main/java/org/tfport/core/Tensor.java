package org.tfport.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A named-free tensor value: dtype, shape and the elements in C order, little-endian. String
 * elements are stored the TF.js way, each a uint32 byte length followed by the bytes, so every
 * tensor is one byte run. The buffer may be a read-only view of a mapped file; it is never
 * modified.
 */
public record Tensor(DType dtype, Shape shape, ByteBuffer data) {
  public Tensor {
    if (!shape.isFullyKnown()) {
      throw new IllegalArgumentException("a tensor needs a fully known shape, got " + shape);
    }
    data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    if (dtype != DType.STRING && (long) data.remaining() != shape.size() * dtype.byteSize()) {
      throw new IllegalArgumentException(
          dtype.jsName()
              + shape
              + " needs "
              + shape.size() * dtype.byteSize()
              + " bytes, got "
              + data.remaining());
    }
  }

  public static Tensor ofFloats(Shape shape, float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return new Tensor(DType.FLOAT32, shape, b);
  }

  public static Tensor ofInts(Shape shape, int... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(values);
    return new Tensor(DType.INT32, shape, b);
  }

  public static Tensor ofStrings(Shape shape, List<String> values) {
    int n = 0;
    List<byte[]> enc = new ArrayList<>();
    for (String s : values) {
      byte[] e = s.getBytes(StandardCharsets.UTF_8);
      enc.add(e);
      n += 4 + e.length;
    }
    ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] e : enc) {
      b.putInt(e.length).put(e);
    }
    return new Tensor(DType.STRING, shape, b.flip());
  }

  /** Element count. */
  public long size() {
    return shape.size();
  }

  public int byteLength() {
    return data.remaining();
  }

  /** A read-only little-endian view of the bytes, positioned at 0. */
  public ByteBuffer bytes() {
    return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The elements widened or narrowed to float; for float32, float16, bfloat16, float64 and integer
   * types.
   */
  public float[] toFloatArray() {
    int n = Math.toIntExact(size());
    float[] out = new float[n];
    ByteBuffer b = bytes();
    for (int i = 0; i < n; i++) {
      out[i] =
          switch (dtype) {
            case FLOAT32 -> b.getFloat(i * 4);
            case FLOAT16 -> Float.float16ToFloat(b.getShort(i * 2));
            case BFLOAT16 -> Float.intBitsToFloat((b.getShort(i * 2) & 0xffff) << 16);
            case FLOAT64 -> (float) b.getDouble(i * 8);
            case INT8 -> b.get(i);
            case UINT8, BOOL -> b.get(i) & 0xff;
            case INT16 -> b.getShort(i * 2);
            case UINT16 -> b.getShort(i * 2) & 0xffff;
            case INT32 -> b.getInt(i * 4);
            case INT64 -> b.getLong(i * 8);
            default ->
                throw new UnsupportedOperationException(
                    "cannot read " + dtype.jsName() + " as float");
          };
    }
    return out;
  }

  public List<byte[]> toByteStrings() {
    if (dtype != DType.STRING) {
      throw new UnsupportedOperationException("not a string tensor: " + dtype.jsName());
    }
    ByteBuffer b = bytes();
    List<byte[]> out = new ArrayList<>();
    for (long i = 0; i < size(); i++) {
      int len = b.getInt();
      byte[] e = new byte[len];
      b.get(e);
      out.add(e);
    }
    return out;
  }

  @Override
  public String toString() {
    return "Tensor[" + dtype.jsName() + shape + ", " + data.remaining() + " bytes]";
  }
}
