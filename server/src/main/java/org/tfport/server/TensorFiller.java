package org.tfport.server;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.runtime.TensorSpec;
import tools.jackson.databind.JsonNode;

/**
 * One input's JSON values written in C order into one buffer of its dtype, checking every list's
 * length and every leaf: its type, its range, and that a float or double holds it exactly.
 */
final class TensorFiller {
  private final TensorSpec spec;
  private final DType dtype;
  private final ByteBuffer buf;
  private final List<byte[]> strings = new ArrayList<>();

  TensorFiller(TensorSpec spec, DType dtype, long n) {
    this.spec = spec;
    this.dtype = dtype;
    if (dtype == DType.STRING) {
      this.buf = null;
    } else {
      if (dtype.byteSize() == 0 || n * dtype.byteSize() > Integer.MAX_VALUE - 8) {
        throw new HttpError(400, "input '" + spec.name() + "' is too large");
      }
      this.buf = ByteBuffer.allocate((int) (n * dtype.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
    }
  }

  void fill(JsonNode v, int level, long[] dims) {
    if (level == dims.length) {
      if (v.isArray()) {
        throw new HttpError(
            400,
            "input '"
                + spec.name()
                + "': a list found at level "
                + level
                + ", expecting a value (the tensor has rank "
                + dims.length
                + ")");
      }
      leaf(v);
      return;
    }
    if (!v.isArray()) {
      throw new HttpError(
          400,
          "input '"
              + spec.name()
              + "': value "
              + TensorJson.shortText(v)
              + " found at level "
              + level
              + ", expecting a list (the tensor has rank "
              + dims.length
              + ")");
    }
    if (v.size() != dims[level]) {
      throw new HttpError(
          400,
          "input '"
              + spec.name()
              + "': a list of "
              + v.size()
              + " at level "
              + level
              + ", expecting "
              + dims[level]
              + " (the lists are ragged)");
    }
    for (JsonNode e : v) {
      fill(e, level + 1, dims);
    }
  }

  private void leaf(JsonNode v) {
    switch (dtype) {
      case FLOAT32, FLOAT16, BFLOAT16 -> {
        double d = number(v);
        if (Double.isFinite(d)
            && (v.isIntegralNumber() && Math.abs(d) > (1 << 24) || Math.abs(d) > Float.MAX_VALUE)) {
          throw lossy(v, "float");
        }
        float f = (float) d;
        switch (dtype) {
          case FLOAT32 -> buf.putFloat(f);
          case FLOAT16 -> buf.putShort(Float.floatToFloat16(f));
          default -> buf.putShort((short) (Float.floatToRawIntBits(f) >>> 16));
        }
      }
      case FLOAT64 -> {
        double d = number(v);
        if (v.isIntegralNumber() && Math.abs(d) > (double) (1L << 53)) {
          throw lossy(v, "double");
        }
        buf.putDouble(d);
      }
      case INT8 -> buf.put((byte) integer(v, Byte.MIN_VALUE, Byte.MAX_VALUE));
      case UINT8, BOOL -> {
        if (dtype == DType.BOOL) {
          if (!v.isBoolean()) {
            throw typeError(v);
          }
          buf.put((byte) (v.booleanValue() ? 1 : 0));
        } else {
          buf.put((byte) integer(v, 0, 255));
        }
      }
      case INT16 -> buf.putShort((short) integer(v, Short.MIN_VALUE, Short.MAX_VALUE));
      case UINT16 -> buf.putShort((short) integer(v, 0, 65535));
      case INT32 -> buf.putInt((int) integer(v, Integer.MIN_VALUE, Integer.MAX_VALUE));
      case INT64 -> buf.putLong(integer(v, Long.MIN_VALUE, Long.MAX_VALUE));
      case STRING -> {
        if (TensorJson.isB64(v)) {
          try {
            strings.add(Base64.getDecoder().decode(v.get("b64").stringValue()));
          } catch (IllegalArgumentException e) {
            throw new HttpError(
                400,
                "input '" + spec.name() + "': unable to base64 decode " + TensorJson.shortText(v));
          }
        } else if (v.isString()) {
          strings.add(v.stringValue().getBytes(StandardCharsets.UTF_8));
        } else {
          throw typeError(v);
        }
      }
      default ->
          throw new HttpError(
              400,
              "input '" + spec.name() + "' is " + dtype.jsName() + ", which JSON cannot carry");
    }
  }

  private double number(JsonNode v) {
    if (!v.isNumber()) {
      throw typeError(v);
    }
    return v.doubleValue();
  }

  private long integer(JsonNode v, long min, long max) {
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw typeError(v);
    }
    long x = v.longValue();
    if (x < min || x > max) {
      throw new HttpError(
          400,
          "input '"
              + spec.name()
              + "': "
              + x
              + " is out of range for "
              + dtype.tfName()
              + " ("
              + min
              + ".."
              + max
              + ")");
    }
    return x;
  }

  private HttpError typeError(JsonNode v) {
    return new HttpError(
        400,
        "input '"
            + spec.name()
            + "': JSON value "
            + TensorJson.shortText(v)
            + " is not of expected type "
            + dtype.tfName());
  }

  private HttpError lossy(JsonNode v, String target) {
    return new HttpError(
        400,
        "input '"
            + spec.name()
            + "': cannot convert JSON value "
            + TensorJson.shortText(v)
            + " to "
            + target
            + " without loss of precision");
  }

  Tensor tensor(long[] dims) {
    if (dtype == DType.STRING) {
      int total = 0;
      for (byte[] s : strings) {
        total = Math.addExact(total, 4 + s.length);
      }
      ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
      for (byte[] s : strings) {
        b.putInt(s.length).put(s);
      }
      return new Tensor(DType.STRING, Shape.of(dims), b.flip());
    }
    return new Tensor(dtype, Shape.of(dims), buf.flip());
  }
}
