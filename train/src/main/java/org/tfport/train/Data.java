package org.tfport.train;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.runtime.TensorSpec;

/**
 * Training data checked against the model's inputs and outputs, and cut into batches of rows.
 *
 * @param xs per model input
 * @param ys per model output, its targets
 */
record Data(List<Tensor> xs, List<Tensor> ys, int samples) {
  /** What one model output is trained against. */
  record Target(String name, long[] predShape, boolean sparse) {}

  /**
   * Matches {@code x} to the inputs and {@code y} to the outputs by name (one unnamed array feeds a
   * model of one input, or trains a model of one output), and checks every shape and dtype;
   * floating data is read as float32.
   *
   * @throws TfportException naming the input or output whose data does not fit
   */
  static Data of(
      String source,
      List<TensorSpec> inputs,
      Map<String, Tensor> x,
      Map<String, Tensor> y,
      List<Target> targets) {
    Map<String, Tensor> byName = byName(source, "input", x, names(inputs));
    List<Tensor> xs = new ArrayList<>();
    long n = -1;
    for (TensorSpec in : inputs) {
      Tensor t = byName.get(in.name());
      if (t == null) {
        throw new UsageException(source + ": no data for the model input '" + in.name() + "'");
      }
      long[] want = in.shape();
      long[] got = t.shape().dims();
      if (!fits(want, got)) {
        throw new TfportException(
            source
                + ": input '"
                + in.name()
                + "' expects shape "
                + text(want)
                + " but the data has "
                + text(got));
      }
      if (in.dtype() == DType.FLOAT32 && t.dtype() != DType.FLOAT32) {
        if (t.dtype() == DType.STRING || t.dtype() == DType.BOOL) {
          throw new TfportException(
              source
                  + ": input '"
                  + in.name()
                  + "' is float32 but the data is "
                  + t.dtype().jsName());
        }
        t = Tensor.ofFloats(t.shape(), t.toFloatArray());
      } else if (in.dtype() == DType.INT32 && t.dtype() != DType.INT32) {
        if (t.dtype() != DType.INT64
            && t.dtype() != DType.INT16
            && t.dtype() != DType.INT8
            && t.dtype() != DType.UINT8) {
          throw new TfportException(
              source
                  + ": input '"
                  + in.name()
                  + "' is int32 but the data is "
                  + t.dtype().jsName());
        }
        float[] f = t.toFloatArray();
        int[] v = new int[f.length];
        for (int i = 0; i < v.length; i++) {
          v[i] = (int) f[i];
        }
        t = Tensor.ofInts(t.shape(), v);
      }
      if (n >= 0 && got[0] != n) {
        throw new TfportException(
            source + ": input '" + in.name() + "' has " + got[0] + " samples, other inputs " + n);
      }
      n = got[0];
      xs.add(t);
    }
    Map<String, Tensor> yByName =
        byName(source, "output", y, targets.stream().map(Target::name).toList());
    List<Tensor> ys = new ArrayList<>();
    for (Target t : targets) {
      Tensor yt = yByName.get(t.name());
      if (yt == null) {
        throw new UsageException(source + ": no targets for the model output '" + t.name() + "'");
      }
      ys.add(target(source, targets.size() > 1 ? " of output '" + t.name() + "'" : "", yt, t, n));
    }
    return new Data(xs, ys, Math.toIntExact(n));
  }

  private static List<String> names(List<TensorSpec> inputs) {
    return inputs.stream().map(TensorSpec::name).toList();
  }

  /** {@code given} keyed by the model's names; one unnamed array stands for the only name. */
  private static Map<String, Tensor> byName(
      String source, String what, Map<String, Tensor> given, List<String> names) {
    Map<String, Tensor> byName = new LinkedHashMap<>(given);
    if (names.size() == 1 && byName.size() == 1 && !byName.containsKey(names.get(0))) {
      Tensor only = byName.values().iterator().next();
      byName.clear();
      byName.put(names.get(0), only);
    }
    for (String k : byName.keySet()) {
      if (k.isEmpty()) {
        throw new UsageException(
            source
                + ": the model has "
                + names.size()
                + " "
                + what
                + "s; name the data of each: "
                + names);
      }
      if (!names.contains(k)) {
        throw new UsageException(
            source + ": the model has no " + what + " '" + k + "'; its " + what + "s are " + names);
      }
    }
    return byName;
  }

  /** One output's targets checked against its prediction, as float32. */
  private static Tensor target(String source, String of, Tensor y, Target t, long n) {
    long[] yd = y.shape().dims();
    if (y.dtype() == DType.STRING || yd.length == 0 || yd[0] != n) {
      throw new TfportException(
          source
              + ": the targets"
              + of
              + " have shape "
              + text(yd)
              + " but the inputs hold "
              + n
              + " samples");
    }
    if (t.sparse()) {
      if (y.size() != n) {
        throw new TfportException(
            source
                + ": sparse targets"
                + of
                + " need one class index per sample, got shape "
                + text(yd));
      }
    } else {
      long[] want = t.predShape().clone();
      want[0] = -1;
      if (!fits(want, yd)) {
        throw new TfportException(
            source
                + ": the targets"
                + of
                + " have shape "
                + text(yd)
                + " but the model's output is "
                + text(want)
                + (want[want.length - 1] > 1 && yd.length == 1
                    ? " (class indices need loss sparse_categorical_crossentropy)"
                    : ""));
      }
    }
    Tensor yf = y.dtype() == DType.FLOAT32 ? y : Tensor.ofFloats(y.shape(), y.toFloatArray());
    if (t.sparse()) {
      yf = new Tensor(DType.FLOAT32, Shape.of(n), yf.data());
    }
    return yf;
  }

  private static boolean fits(long[] want, long[] got) {
    if (want == null) {
      return true;
    }
    if (want.length != got.length) {
      return false;
    }
    for (int i = 0; i < want.length; i++) {
      if (want[i] >= 0 && want[i] != got[i]) {
        return false;
      }
    }
    return true;
  }

  static String text(long[] s) {
    StringBuilder b = new StringBuilder("(");
    for (int i = 0; i < s.length; i++) {
      b.append(i > 0 ? ", " : "").append(s[i] < 0 ? "None" : Long.toString(s[i]));
    }
    return b.append(s.length == 1 ? ",)" : ")").toString();
  }

  /** Rows {@code rows} of {@code t}, in that order. */
  static Tensor rows(Tensor t, int[] rows, int from, int to) {
    long[] d = t.shape().dims();
    int rowBytes = Math.toIntExact(t.byteLength() / Math.max(d[0], 1));
    ByteBuffer src = t.bytes();
    ByteBuffer out = ByteBuffer.allocate(rowBytes * (to - from)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = from; i < to; i++) {
      ByteBuffer r = src.duplicate();
      r.position(rows[i] * rowBytes).limit(rows[i] * rowBytes + rowBytes);
      out.put(r);
    }
    out.flip();
    d[0] = to - from;
    return new Tensor(t.dtype(), Shape.of(d), out);
  }

  /** The samples {@code [from, to)} of every array, as a new data set. */
  Data slice(int from, int to) {
    int[] idx = new int[samples];
    for (int i = 0; i < samples; i++) {
      idx[i] = i;
    }
    List<Tensor> x = new ArrayList<>();
    for (Tensor t : xs) {
      x.add(rows(t, idx, from, to));
    }
    List<Tensor> y = new ArrayList<>();
    for (Tensor t : ys) {
      y.add(rows(t, idx, from, to));
    }
    return new Data(x, y, to - from);
  }
}
