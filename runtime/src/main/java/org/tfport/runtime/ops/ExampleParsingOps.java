package org.tfport.runtime.ops;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.TensorShape;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * {@code ParseExample} and {@code ParseExampleV2}: serialized {@code tf.Example} protos into dense,
 * sparse and ragged features, as serving signatures that take {@code tf.Example} inputs start.
 */
final class ExampleParsingOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("ParseExample", b -> parse(b, false));
    r.reference("ParseExampleV2", b -> parse(b, true));
  }

  private static Kernel parse(BindContext b, boolean v2) {
    List<DType> denseTypes = b.typesAttr("Tdense");
    List<DType> sparseTypes = b.typesAttr("sparse_types");
    List<DType> raggedTypes = v2 ? b.typesAttr("ragged_value_types") : List.of();
    List<DType> splitTypes = v2 ? b.typesAttr("ragged_split_types") : List.of();
    int nd = denseTypes.size();
    int ns = sparseTypes.size();
    int nr = raggedTypes.size();
    List<long[]> denseShapes = new ArrayList<>();
    if (b.attr("dense_shapes") instanceof AttrValue.ListAttr l) {
      for (TensorShape s : l.shape()) {
        if (s.unknownRank()) {
          throw new KernelException("dense_shapes must have known ranks");
        }
        denseShapes.add(s.dims());
      }
    }
    if (denseShapes.size() != nd) {
      throw new KernelException(
          "dense_shapes has " + denseShapes.size() + " shapes for " + nd + " dense features");
    }
    for (DType t : denseTypes) {
      checkType(t);
    }
    sparseTypes.forEach(ExampleParsingOps::checkType);
    raggedTypes.forEach(ExampleParsingOps::checkType);
    return (in, ctx) -> {
      Value serialized = in[0];
      if (serialized.dtype() != DType.STRING
          || serialized.rank() > 1
          || !v2 && serialized.rank() != 1) {
        throw new KernelException(
            "serialized must be a "
                + (v2 ? "scalar or " : "")
                + "vector of strings, got "
                + serialized);
      }
      boolean scalar = serialized.rank() == 0;
      String[] denseKeys;
      String[] sparseKeys;
      String[] raggedKeys;
      int defaultsAt;
      if (v2) {
        sparseKeys = keys(in[2], ns, "sparse_keys");
        denseKeys = keys(in[3], nd, "dense_keys");
        raggedKeys = keys(in[4], nr, "ragged_keys");
        defaultsAt = 5;
      } else {
        sparseKeys = new String[ns];
        for (int i = 0; i < ns; i++) {
          sparseKeys[i] = keys(in[2 + i], 1, "sparse_keys[" + i + "]")[0];
        }
        denseKeys = new String[nd];
        for (int i = 0; i < nd; i++) {
          denseKeys[i] = keys(in[2 + ns + i], 1, "dense_keys[" + i + "]")[0];
        }
        raggedKeys = new String[0];
        defaultsAt = 2 + ns + nd;
      }
      if (scalar && nr > 0) {
        throw new KernelException(
            "ragged features of a scalar serialized example are not supported by tfport");
      }
      byte[][] examples = serialized.strings();
      int batch = examples.length;
      List<Map<String, long[]>> parsed = new ArrayList<>(batch);
      for (byte[] e : examples) {
        parsed.add(ExampleProto.features(e));
      }
      Value[] out = new Value[3 * ns + nd + 2 * nr];
      for (int i = 0; i < ns; i++) {
        Value[] sparse = sparse(examples, parsed, sparseKeys[i], sparseTypes.get(i), scalar);
        out[i] = sparse[0];
        out[ns + i] = sparse[1];
        out[2 * ns + i] = sparse[2];
      }
      for (int i = 0; i < nd; i++) {
        out[3 * ns + i] =
            dense(
                examples,
                parsed,
                denseKeys[i],
                denseTypes.get(i),
                denseShapes.get(i),
                in[defaultsAt + i],
                scalar);
      }
      for (int i = 0; i < nr; i++) {
        Value[] ragged =
            ragged(examples, parsed, raggedKeys[i], raggedTypes.get(i), splitTypes.get(i));
        out[3 * ns + nd + i] = ragged[0];
        out[3 * ns + nd + nr + i] = ragged[1];
      }
      return out;
    };
  }

  private static void checkType(DType t) {
    if (t != DType.FLOAT32 && t != DType.INT64 && t != DType.STRING) {
      throw new KernelException(
          "tf.Example features are float32, int64 or string, not " + t.jsName());
    }
  }

  private static int kindOf(DType t) {
    return switch (t) {
      case FLOAT32 -> ExampleProto.FLOATS;
      case INT64 -> ExampleProto.INT64S;
      default -> ExampleProto.BYTES;
    };
  }

  private static String[] keys(Value v, int n, String what) {
    if (v.dtype() != DType.STRING || v.size() != n) {
      throw new KernelException(what + " must hold " + n + " strings, got " + v);
    }
    String[] out = new String[n];
    for (int i = 0; i < n; i++) {
      out[i] = new String(v.strings()[i], StandardCharsets.UTF_8);
    }
    return out;
  }

  /**
   * The feature {@code key} of example {@code e}, checked against {@code type}; null when absent.
   */
  private static ExampleProto.Feature lookup(
      byte[][] examples, List<Map<String, long[]>> parsed, int e, String key, DType type) {
    long[] bounds = parsed.get(e).get(key);
    if (bounds == null) {
      return null;
    }
    ExampleProto.Feature f = ExampleProto.feature(examples[e], bounds);
    if (f.kind() != 0 && f.kind() != kindOf(type)) {
      throw new KernelException(
          "Name: <unknown>, Key: "
              + key
              + ", Index: "
              + e
              + ".  Data types don't match. Data"
              + " type: "
              + ExampleProto.kindName(f.kind())
              + " but expected type: "
              + ExampleProto.kindName(kindOf(type)));
    }
    return f;
  }

  private static void copy(ExampleProto.Feature f, Object dst, int at) {
    switch (f.kind()) {
      case ExampleProto.FLOATS -> System.arraycopy(f.floats(), 0, dst, at, f.count());
      case ExampleProto.INT64S -> System.arraycopy(f.longs(), 0, dst, at, f.count());
      case ExampleProto.BYTES -> System.arraycopy(f.bytes(), 0, dst, at, f.count());
      default -> {}
    }
  }

  private static Value dense(
      byte[][] examples,
      List<Map<String, long[]>> parsed,
      String key,
      DType type,
      long[] shape,
      Value defaults,
      boolean scalar) {
    if (defaults.dtype() != type) {
      throw new KernelException(
          "dense_defaults for '" + key + "' is " + defaults + ", expected " + type.jsName());
    }
    int batch = examples.length;
    boolean variable = shape.length > 0 && shape[0] == -1;
    long[] rest = variable ? Arrays.copyOfRange(shape, 1, shape.length) : shape;
    for (long d : rest) {
      if (d < 0) {
        throw new KernelException(
            "dense_shapes for '"
                + key
                + "' "
                + Layout.shape(shape)
                + " may only leave its first dimension unknown");
      }
    }
    int stride = (int) Value.elementCount(rest);
    if (!variable && defaults.size() != 0 && defaults.size() != stride) {
      throw new KernelException(
          "dense_defaults for '"
              + key
              + "' has "
              + defaults.size()
              + " values, its shape "
              + Layout.shape(shape)
              + " needs "
              + stride);
    }
    if (variable && defaults.size() > 1) {
      throw new KernelException(
          "dense_defaults for variable-length '"
              + key
              + "' must be one padding value, got "
              + defaults);
    }
    ExampleProto.Feature[] found = new ExampleProto.Feature[batch];
    int maxRows = 0;
    for (int e = 0; e < batch; e++) {
      ExampleProto.Feature f = lookup(examples, parsed, e, key, type);
      found[e] = f;
      int count = f == null ? 0 : f.count();
      if (variable) {
        if (stride == 0 ? count != 0 : count % stride != 0) {
          throw new KernelException(
              "Name: <unknown>, Key: "
                  + key
                  + ", Index: "
                  + e
                  + ".  Number of values "
                  + count
                  + " is not a multiple of the row size "
                  + stride);
        }
        maxRows = Math.max(maxRows, stride == 0 ? 0 : count / stride);
      } else if (f == null || f.kind() == 0 && stride != 0) {
        if (defaults.size() == 0) {
          throw new KernelException(
              "Name: <unknown>, Feature: "
                  + key
                  + " (data type: "
                  + ExampleProto.kindName(kindOf(type))
                  + ") is required but could not be found.");
        }
        found[e] = null;
      } else if (count != stride) {
        throw new KernelException(
            "Name: <unknown>, Key: "
                + key
                + ", Index: "
                + e
                + ".  Number of "
                + ExampleProto.kindName(kindOf(type))
                + " values != expected.  Values size: "
                + count
                + " but output shape: "
                + Layout.shape(shape));
      }
    }
    long[] perExample = shape.clone();
    if (variable) {
      perExample[0] = maxRows;
    }
    int each = (int) Value.elementCount(perExample);
    long[] outShape = new long[perExample.length + (scalar ? 0 : 1)];
    if (!scalar) {
      outShape[0] = batch;
    }
    System.arraycopy(perExample, 0, outShape, scalar ? 0 : 1, perExample.length);
    Value out = Value.zeros(type, outShape);
    Object data = out.data();
    for (int e = 0; e < batch; e++) {
      int at = e * each;
      if (variable) {
        int filled = found[e] == null ? 0 : found[e].count();
        if (found[e] != null) {
          copy(found[e], data, at);
        }
        if (defaults.size() == 1) {
          for (int i = filled; i < each; i++) {
            System.arraycopy(defaults.data(), 0, data, at + i, 1);
          }
        }
      } else if (found[e] == null) {
        System.arraycopy(defaults.data(), 0, data, at, each);
      } else {
        copy(found[e], data, at);
      }
    }
    return out;
  }

  /** indices, values and dense shape of a sparse feature. */
  private static Value[] sparse(
      byte[][] examples, List<Map<String, long[]>> parsed, String key, DType type, boolean scalar) {
    int batch = examples.length;
    ExampleProto.Feature[] found = new ExampleProto.Feature[batch];
    int total = 0;
    int max = 0;
    for (int e = 0; e < batch; e++) {
      found[e] = lookup(examples, parsed, e, key, type);
      int count = found[e] == null ? 0 : found[e].count();
      total += count;
      max = Math.max(max, count);
    }
    int rank = scalar ? 1 : 2;
    long[] indices = new long[total * rank];
    Value values = Value.zeros(type, new long[] {total});
    int at = 0;
    for (int e = 0; e < batch; e++) {
      if (found[e] == null) {
        continue;
      }
      copy(found[e], values.data(), at);
      for (int j = 0; j < found[e].count(); j++, at++) {
        if (scalar) {
          indices[at] = j;
        } else {
          indices[2 * at] = e;
          indices[2 * at + 1] = j;
        }
      }
    }
    long[] dense = scalar ? new long[] {max} : new long[] {batch, max};
    return new Value[] {
      Value.longs(new long[] {total, rank}, indices), values, Value.longs(new long[] {rank}, dense)
    };
  }

  /** values and row splits of a ragged feature. */
  private static Value[] ragged(
      byte[][] examples,
      List<Map<String, long[]>> parsed,
      String key,
      DType type,
      DType splitType) {
    int batch = examples.length;
    ExampleProto.Feature[] found = new ExampleProto.Feature[batch];
    long[] splits = new long[batch + 1];
    for (int e = 0; e < batch; e++) {
      found[e] = lookup(examples, parsed, e, key, type);
      splits[e + 1] = splits[e] + (found[e] == null ? 0 : found[e].count());
    }
    Value values = Value.zeros(type, new long[] {splits[batch]});
    for (int e = 0; e < batch; e++) {
      if (found[e] != null) {
        copy(found[e], values.data(), (int) splits[e]);
      }
    }
    Value splitValue =
        splitType == DType.INT64
            ? Value.longs(new long[] {batch + 1}, splits)
            : Value.ints(
                new long[] {batch + 1}, Arrays.stream(splits).mapToInt(s -> (int) s).toArray());
    return new Value[] {values, splitValue};
  }
}
