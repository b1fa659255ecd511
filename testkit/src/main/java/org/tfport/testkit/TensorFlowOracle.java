package org.tfport.testkit;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;
import org.tensorflow.types.family.TType;

/**
 * Real TensorFlow 2.18 (TF Java 1.1.0) as the reference: runs a SavedModel signature or a GraphDef
 * on values given as the TF.js oracle's inputs, so both runtimes see the same numbers.
 */
public final class TensorFlowOracle {
  private TensorFlowOracle() {}

  /** A value for one input: the data in TF.js form plus the TF type to feed TF with. */
  public record Feed(TfjsOracle.Input input, int tfType) {}

  /** Random values for a TF type and shape: floats in [-1, 1), small integers, bytes for uint8. */
  public static TfjsOracle.Input random(String name, long[] shape, int tfType, Random rnd) {
    int n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, (int) d);
    }
    switch (org.tfport.core.graph.DataTypes.base(tfType)) {
      case 1, 2, 19, 14 -> {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
          v[i] = rnd.nextFloat() * 2 - 1;
        }
        return TfjsOracle.Input.f32(name, shape, v);
      }
      case 4 -> {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
          v[i] = rnd.nextInt(256);
        }
        return TfjsOracle.Input.i32(name, shape, v);
      }
      case 10 -> {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
          v[i] = rnd.nextInt(2);
        }
        return TfjsOracle.Input.i32(name, shape, v);
      }
      default -> {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
          v[i] = rnd.nextInt(21) - 10;
        }
        return TfjsOracle.Input.i32(name, shape, v);
      }
    }
  }

  public static Tensor tensor(Feed f) {
    TfjsOracle.Input in = f.input();
    long[] shape = in.shape();
    int n = in.data() != null ? in.data().length : in.ints().length;
    int t = org.tfport.core.graph.DataTypes.base(f.tfType());
    Class<? extends TType> type;
    int width;
    switch (t) {
      case 1 -> {
        type = TFloat32.class;
        width = 4;
      }
      case 2 -> {
        type = TFloat64.class;
        width = 8;
      }
      case 3 -> {
        type = TInt32.class;
        width = 4;
      }
      case 9 -> {
        type = TInt64.class;
        width = 8;
      }
      case 4 -> {
        type = TUint8.class;
        width = 1;
      }
      case 10 -> {
        type = TBool.class;
        width = 1;
      }
      default -> throw new IllegalArgumentException("cannot feed TF type " + t);
    }
    ByteBuffer b = ByteBuffer.allocate(n * width).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      double v = in.data() != null ? in.data()[i] : in.ints()[i];
      switch (t) {
        case 1 -> b.putFloat((float) v);
        case 2 -> b.putDouble(v);
        case 3 -> b.putInt((int) v);
        case 9 -> b.putLong((long) v);
        default -> b.put((byte) v);
      }
    }
    return Tensor.of(type, Shape.of(shape), DataBuffers.of(b.array(), true, false));
  }

  /** An output as floats, whatever its type. */
  public static float[] floats(Tensor t) {
    int n = (int) t.shape().size();
    byte[] raw = new byte[(int) t.numBytes()];
    t.asRawTensor().data().read(raw);
    ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[n];
    DataType dt = t.dataType();
    for (int i = 0; i < n; i++) {
      out[i] =
          switch (dt) {
            case DT_FLOAT -> b.getFloat(4 * i);
            case DT_DOUBLE -> (float) b.getDouble(8 * i);
            case DT_INT32 -> b.getInt(4 * i);
            case DT_INT64 -> b.getLong(8 * i);
            case DT_UINT8 -> b.get(i) & 0xff;
            case DT_BOOL, DT_INT8 -> b.get(i);
            default -> throw new IllegalArgumentException("cannot read TF output of type " + dt);
          };
    }
    return out;
  }

  /**
   * Runs a SavedModel signature; inputs and outputs by signature key. TF Java checks every
   * signature when it loads a model, and some old TF1 files carry a broken one (half_plus_three's
   * regress signature says float for a string tensor); such a model is loaded from a temporary copy
   * that keeps only the signature run.
   */
  public static Map<String, float[]> runSavedModel(
      Path dir, String tags, String signature, Map<String, Feed> feeds) throws java.io.IOException {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    Map<String, Integer> types = new LinkedHashMap<>();
    feeds.forEach(
        (k, f) -> {
          shapes.put(k, f.input().shape());
          types.put(k, org.tfport.core.graph.DataTypes.base(f.tfType()));
        });
    return withFallback(
        dir, signature, shapes, types, d -> runSavedModelAsIs(d, tags, signature, feeds));
  }

  /**
   * Runs a SavedModel signature on tfport tensors (numbers, bools and strings, e.g. serialized
   * {@code tf.Example} protos from {@link ExampleFeeds}) and returns its outputs as tfport tensors,
   * string outputs (a classify signature's classes) included; broken signatures as {@link
   * #runSavedModel}.
   */
  public static Map<String, org.tfport.core.Tensor> runSignature(
      Path dir, String tags, String signature, Map<String, org.tfport.core.Tensor> feeds)
      throws java.io.IOException {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    Map<String, Integer> types = new LinkedHashMap<>();
    feeds.forEach(
        (k, v) -> {
          shapes.put(k, v.shape().dims());
          types.put(k, org.tfport.core.graph.DataTypes.fromDType(v.dtype()));
        });
    return withFallback(
        dir,
        signature,
        shapes,
        types,
        d -> {
          List<Tensor> owned = new ArrayList<>();
          try (SavedModelBundle b = SavedModelBundle.load(d.toString(), tags.split(","))) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            feeds.forEach(
                (k, v) -> {
                  Tensor t = toTf(v);
                  owned.add(t);
                  in.put(k, t);
                });
            Map<String, org.tfport.core.Tensor> out = new LinkedHashMap<>();
            try (Result r = b.function(signature).call(in)) {
              for (Map.Entry<String, Tensor> e : r) {
                out.put(e.getKey(), fromTf(e.getValue()));
              }
            }
            return out;
          } finally {
            owned.forEach(Tensor::close);
          }
        });
  }

  /**
   * Runs {@code run} on the folder; if TF Java refuses the signatures there, on a temporary copy
   * that keeps only {@code signature}, with the fed shapes and dtypes declared.
   */
  private static <R> R withFallback(
      Path dir,
      String signature,
      Map<String, long[]> shapes,
      Map<String, Integer> types,
      java.util.function.Function<Path, R> run)
      throws java.io.IOException {
    try {
      return run.apply(dir);
    } catch (IllegalArgumentException e) {
      Path copy = Files.createTempDirectory("tfport-savedmodel");
      try {
        copyTree(dir, copy);
        var sm =
            org.tensorflow.proto.SavedModel.parseFrom(
                Files.readAllBytes(dir.resolve("saved_model.pb")))
                .toBuilder();
        for (var mg : sm.getMetaGraphsBuilderList()) {
          var keep = mg.getSignatureDefMap().get(signature);
          mg.clearSignatureDef();
          if (keep != null) {
            // Also drop the declared shapes, which such files get wrong too (x declared [] for a
            // [-1, 1]).
            var b = keep.toBuilder();
            // TF Java reads an unknown rank as a scalar, so the fed shapes are declared instead.
            keep.getInputsMap()
                .forEach(
                    (k, v) -> {
                      var shape = org.tensorflow.proto.TensorShapeProto.newBuilder();
                      if (shapes.containsKey(k)) {
                        for (long d : shapes.get(k)) {
                          shape.addDim(
                              org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(d));
                        }
                      }
                      var info = v.toBuilder().setTensorShape(shape);
                      // half_plus_three's regress signature also says float for its string input.
                      if (types.containsKey(k)) {
                        info.setDtype(DataType.forNumber(types.get(k)));
                      }
                      b.putInputs(k, info.build());
                    });
            mg.putSignatureDef(signature, b.build());
          }
        }
        Files.write(copy.resolve("saved_model.pb"), sm.build().toByteArray());
        return run.apply(copy);
      } finally {
        try (var s = Files.walk(copy)) {
          s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
  }

  private static void copyTree(Path from, Path to) throws java.io.IOException {
    try (var s = Files.walk(from)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path dest = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(dest);
        } else {
          Files.copy(p, dest);
        }
      }
    }
  }

  /**
   * Runs a SavedModel signature as the files stand, without {@link #runSavedModel}'s fallback for
   * broken signatures: whatever TF Java refuses to load is thrown.
   */
  public static Map<String, float[]> runSavedModelAsIs(
      Path dir, String tags, String signature, Map<String, Feed> feeds) {
    List<Tensor> owned = new ArrayList<>();
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), tags.split(","))) {
      Map<String, Tensor> in = new LinkedHashMap<>();
      feeds.forEach(
          (k, f) -> {
            Tensor t = tensor(f);
            owned.add(t);
            in.put(k, t);
          });
      Map<String, float[]> out = new LinkedHashMap<>();
      try (Result r = b.function(signature).call(in)) {
        for (Map.Entry<String, Tensor> e : r) {
          out.put(e.getKey(), floats(e.getValue()));
        }
      }
      return out;
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /** Runs a GraphDef: feeds by node name, fetches by tensor name. */
  public static List<float[]> runGraphDef(Path pb, Map<String, Feed> feeds, List<String> fetches)
      throws Exception {
    GraphDef def = GraphDef.parseFrom(Files.readAllBytes(pb));
    List<Tensor> owned = new ArrayList<>();
    try (Graph g = new Graph();
        Session s = new Session(g)) {
      g.importGraphDef(def);
      Session.Runner r = s.runner();
      for (Map.Entry<String, Feed> e : feeds.entrySet()) {
        Tensor t = tensor(e.getValue());
        owned.add(t);
        r.feed(e.getKey(), t);
      }
      fetches.forEach(r::fetch);
      List<float[]> out = new ArrayList<>();
      try (Result res = r.run()) {
        for (int i = 0; i < fetches.size(); i++) {
          out.add(floats(res.get(i)));
        }
      }
      return out;
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /**
   * Runs a serialized GraphDef (the IR written by {@code GraphDefWriter}), feeding placeholders by
   * node name and fetching tensors by name; values in and out in tfport's own form.
   */
  public static List<org.tfport.core.Tensor> run(
      byte[] graphDef, Map<String, org.tfport.core.Tensor> feeds, List<String> fetches) {
    GraphDef def;
    try {
      def = GraphDef.parseFrom(graphDef);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(e);
    }
    List<Tensor> owned = new ArrayList<>();
    try (Graph tg = new Graph();
        Session s = new Session(tg)) {
      tg.importGraphDef(def);
      Session.Runner r = s.runner();
      feeds.forEach(
          (k, v) -> {
            Tensor t = toTf(v);
            owned.add(t);
            r.feed(k, t);
          });
      fetches.forEach(r::fetch);
      List<org.tfport.core.Tensor> out = new ArrayList<>();
      try (Result res = r.run()) {
        for (int i = 0; i < fetches.size(); i++) {
          out.add(fromTf(res.get(i)));
        }
      }
      return out;
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /** A tfport tensor as a TF Java tensor (numeric, bool and string types). */
  public static Tensor toTf(org.tfport.core.Tensor t) {
    if (t.dtype() == org.tfport.core.DType.STRING) {
      byte[][] values = t.toByteStrings().toArray(new byte[0][]);
      return TString.tensorOfBytes(Shape.of(t.shape().dims()), DataBuffers.ofObjects(values));
    }
    Class<? extends TType> type =
        switch (t.dtype()) {
          case FLOAT32 -> TFloat32.class;
          case FLOAT64 -> TFloat64.class;
          case INT32 -> TInt32.class;
          case INT64 -> TInt64.class;
          case BOOL -> TBool.class;
          case UINT8 -> TUint8.class;
          default -> throw new IllegalArgumentException("cannot feed " + t.dtype());
        };
    byte[] bytes = new byte[t.byteLength()];
    t.bytes().get(bytes);
    return Tensor.of(type, Shape.of(t.shape().dims()), DataBuffers.of(bytes, true, false));
  }

  /** A TF Java tensor as a tfport tensor (fixed-width types and strings). */
  public static org.tfport.core.Tensor fromTf(Tensor t) {
    if (t instanceof TString s) {
      List<byte[]> values = new ArrayList<>();
      s.asBytes().scalars().forEach(e -> values.add(e.getObject()));
      return ExampleFeeds.strings(t.shape().asArray(), values);
    }
    byte[] raw = new byte[(int) t.numBytes()];
    t.asRawTensor().data().read(raw);
    org.tfport.core.DType d = org.tfport.core.DType.fromTfName(t.dataType().name());
    return new org.tfport.core.Tensor(
        d,
        org.tfport.core.Shape.of(t.shape().asArray()),
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN));
  }
}
