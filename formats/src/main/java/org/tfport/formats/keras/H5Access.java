package org.tfport.formats.keras;

import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Node;
import io.jhdf.api.dataset.ContiguousDataset;
import io.jhdf.object.datatype.DataType;
import io.jhdf.object.datatype.FixedPoint;
import io.jhdf.object.datatype.FloatingPoint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.Limits;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;

/** Reads the attribute and dataset forms h5py writes for Keras, turning jhdf's errors into ours. */
final class H5Access {
  private H5Access() {}

  /** A scalar string attribute (vlen or fixed-length, str or bytes), or null when absent. */
  static String stringAttr(Path file, Node node, String name) {
    Attribute a = attr(file, node, name);
    if (a == null) {
      return null;
    }
    Object d = data(file, node, a);
    if (d instanceof String s) {
      return s;
    }
    if (d instanceof String[] arr && arr.length == 1) {
      return arr[0];
    }
    if (d instanceof byte[] b) {
      return new String(b, StandardCharsets.UTF_8);
    }
    throw new CorruptModelException(
        file
            + ": attribute '"
            + name
            + "' of "
            + node.getPath()
            + " is not a string ("
            + d.getClass().getSimpleName()
            + "); the file was not written by Keras");
  }

  /**
   * A list-of-strings attribute such as {@code layer_names}, joined back together when Keras split
   * it into {@code layer_names0}, {@code layer_names1}, ... because it outgrew the HDF5 object
   * header. Returns null when neither form is present.
   */
  static List<String> stringListAttr(Path file, Node node, String name) {
    if (attr(file, node, name) != null) {
      return toStrings(file, node, name, data(file, node, attr(file, node, name)));
    }
    if (attr(file, node, name + "0") == null) {
      return null;
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; attr(file, node, name + i) != null; i++) {
      out.addAll(toStrings(file, node, name + i, data(file, node, attr(file, node, name + i))));
    }
    return out;
  }

  private static List<String> toStrings(Path file, Node node, String name, Object d) {
    List<String> out = new ArrayList<>();
    if (d == null) {
      // jhdf reads h5py's empty (null-dataspace) attribute as null: no names.
      return out;
    }
    if (d instanceof String s) {
      out.add(s);
    } else if (d instanceof String[] arr) {
      for (String s : arr) {
        out.add(s);
      }
    } else if (d instanceof double[] arr && arr.length == 0) {
      // h5py stores an empty name list as a 0-length float64 array.
    } else if (d != null && d.getClass().isArray() && java.lang.reflect.Array.getLength(d) == 0) {
      // Any other empty array means no names as well.
    } else {
      throw new CorruptModelException(
          file
              + ": attribute '"
              + name
              + "' of "
              + node.getPath()
              + " is not a list of names ("
              + (d == null ? "null" : d.getClass().getSimpleName())
              + "); the file was not written by Keras");
    }
    return out;
  }

  /**
   * Opens an HDF5 file from its bytes mapped into memory: jhdf then reads every structure as a
   * slice of the file, so a damaged length or size ends in an exception rather than a heap buffer
   * of whatever size the file claims (found by fuzzing). Files over 2 GiB, which one mapping cannot
   * hold, are read through a channel.
   */
  static HdfFile open(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size <= Integer.MAX_VALUE) {
        return HdfFile.fromByteBuffer(ch.map(FileChannel.MapMode.READ_ONLY, 0, size));
      }
    }
    return new HdfFile(file);
  }

  /**
   * What jhdf's failure says about the file. jhdf follows object header continuations and links by
   * recursion, so a file whose structures point back at each other overflows the stack rather than
   * ending in an exception (found by fuzzing): that is a damaged file too, and the stack is unwound
   * by the time it is caught.
   */
  static String why(Throwable e) {
    return e instanceof StackOverflowError
        ? "its structures refer to each other in a loop"
        : e.getMessage();
  }

  static Attribute attr(Path file, Node node, String name) {
    try {
      return node.getAttributes().get(name);
    } catch (RuntimeException | StackOverflowError e) {
      // jhdf reports a damaged file as any runtime exception (IllegalStateException,
      // BufferUnderflowException, ...), from wherever it notices.
      throw new CorruptModelException(
          file
              + ": cannot read the attributes of "
              + node.getPath()
              + ": "
              + H5Access.why(e)
              + "; the file is damaged",
          e);
    }
  }

  private static Object data(Path file, Node node, Attribute a) {
    try {
      return a.getData();
    } catch (RuntimeException | StackOverflowError e) {
      // jhdf reports a damaged file as any runtime exception (IllegalStateException,
      // BufferUnderflowException, ...), from wherever it notices.
      throw new CorruptModelException(
          file
              + ": cannot read attribute '"
              + a.getName()
              + "' of "
              + node.getPath()
              + ": "
              + H5Access.why(e)
              + "; the file is damaged",
          e);
    }
  }

  /** The dtype a dataset's HDF5 type maps to. */
  static DType dtype(Path file, Dataset ds) {
    DataType t = ds.getDataType();
    if (t instanceof FloatingPoint) {
      return switch (t.getSize()) {
        case 2 -> DType.FLOAT16;
        case 4 -> DType.FLOAT32;
        case 8 -> DType.FLOAT64;
        default -> throw unsupportedType(file, ds, t.getSize() + "-byte float");
      };
    }
    if (t instanceof FixedPoint fp) {
      boolean signed = fp.isSigned();
      return switch (t.getSize()) {
        case 1 -> signed ? DType.INT8 : DType.UINT8;
        case 2 -> signed ? DType.INT16 : DType.UINT16;
        case 4 -> signed ? DType.INT32 : DType.INT64; // uint32 widens to int64 losslessly
        case 8 -> DType.INT64;
        default -> throw unsupportedType(file, ds, t.getSize() + "-byte integer");
      };
    }
    throw unsupportedType(file, ds, t.getClass().getSimpleName());
  }

  private static UnsupportedModelException unsupportedType(Path file, Dataset ds, String what) {
    return new UnsupportedModelException(
        file
            + ": weight "
            + ds.getPath()
            + " has element type "
            + what
            + ", which no TensorFlow weight uses; re-save the model with float32 weights");
  }

  static Shape shape(Dataset ds) {
    return ds.isScalar() ? Shape.SCALAR : Shape.of(ds.getDimensionsAsLong());
  }

  /**
   * Reads a dataset's elements as a little-endian tensor, without copying when the layout allows.
   */
  static Tensor read(Path file, Dataset ds) {
    try {
      DType dtype = dtype(file, ds);
      Shape shape = shape(ds);
      long n = shape.size();
      long bytes = Math.multiplyExact(n, (long) dtype.byteSize());
      if (n == 0) {
        return new Tensor(dtype, shape, ByteBuffer.allocate(0));
      }
      ByteOrder order =
          ds.getDataType() instanceof FloatingPoint f
              ? f.getByteOrder()
              : ((FixedPoint) ds.getDataType()).getByteOrder();
      if (ds instanceof ContiguousDataset c
          && ds.getFilters().isEmpty()
          && !(dtype == DType.INT64 && ds.getDataType().getSize() == 4)) {
        ByteBuffer raw = c.getBuffer();
        if (raw.remaining() < bytes) {
          throw new CorruptModelException(
              file
                  + ": weight "
                  + ds.getPath()
                  + " "
                  + shape
                  + " needs "
                  + bytes
                  + " bytes but the file holds "
                  + raw.remaining()
                  + "; the file is truncated");
        }
        raw = raw.slice(raw.position(), (int) bytes);
        if (order == ByteOrder.LITTLE_ENDIAN) {
          return new Tensor(dtype, shape, raw);
        }
        return new Tensor(dtype, shape, swap(raw, dtype.byteSize()));
      }
      // Chunked and compressed data cannot be checked against the file's size (a few KB of
      // deflate can claim gigabytes), so the ceiling alone bounds what jhdf will allocate.
      Limits.allocation(
          n,
          Math.max(dtype.byteSize(), ds.getDataType().getSize()),
          file + ": weight " + ds.getPath());
      return new Tensor(dtype, shape, fromFlat(ds.getDataFlat(), dtype, (int) bytes));
    } catch (TfportException e) {
      throw e;
    } catch (RuntimeException | StackOverflowError e) {
      // jhdf reports a damaged file as any runtime exception (IllegalStateException,
      // BufferUnderflowException, ...), from wherever it notices.
      throw new CorruptModelException(
          file
              + ": cannot read weight "
              + ds.getPath()
              + ": "
              + H5Access.why(e)
              + "; the file is damaged or truncated",
          e);
    }
  }

  private static ByteBuffer swap(ByteBuffer be, int width) {
    ByteBuffer out = ByteBuffer.allocate(be.remaining());
    byte[] tmp = new byte[width];
    ByteBuffer src = be.duplicate();
    while (src.remaining() >= width) {
      src.get(tmp);
      for (int i = width - 1; i >= 0; i--) {
        out.put(tmp[i]);
      }
    }
    return out.flip();
  }

  private static ByteBuffer fromFlat(Object flat, DType dtype, int bytes) {
    ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    switch (flat) {
      case float[] f -> {
        if (dtype == DType.FLOAT16) {
          for (float v : f) {
            b.putShort(Float.floatToFloat16(v));
          }
        } else {
          b.asFloatBuffer().put(f);
        }
      }
      case double[] d -> b.asDoubleBuffer().put(d);
      case int[] i -> {
        if (dtype == DType.INT64) {
          for (int v : i) {
            b.putLong(Integer.toUnsignedLong(v));
          }
        } else if (dtype == DType.UINT16) {
          for (int v : i) {
            b.putShort((short) v);
          }
        } else {
          b.asIntBuffer().put(i);
        }
      }
      case long[] l -> {
        if (dtype == DType.INT32) {
          for (long v : l) {
            b.putInt((int) v);
          }
        } else {
          b.asLongBuffer().put(l);
        }
      }
      case short[] s -> {
        if (dtype == DType.UINT8) {
          for (short v : s) {
            b.put((byte) v);
          }
        } else {
          b.asShortBuffer().put(s);
        }
      }
      case byte[] by -> b.put(by);
      default ->
          throw new IllegalArgumentException("unexpected data " + flat.getClass().getSimpleName());
    }
    b.position(0);
    return b;
  }
}
