package org.tfport.convert.tflite;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/** TensorFlow 2.18 (TF Java) as the reference: float32 / int32 / int64 feeds, outputs as floats. */
final class TfRef {
  private TfRef() {}

  /** A fed value: float data (or ints), shape and TF dtype code (1 float, 3 int32, 9 int64). */
  record Feed(long[] shape, float[] data, int tfType) {}

  static Tensor tensor(Feed f) {
    int n = f.data().length;
    int width = f.tfType() == 9 ? 8 : 4;
    ByteBuffer b = ByteBuffer.allocate(n * width).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : f.data()) {
      switch (f.tfType()) {
        case 3 -> b.putInt((int) v);
        case 9 -> b.putLong((long) v);
        default -> b.putFloat(v);
      }
    }
    var type = switch (f.tfType()) {
      case 3 -> TInt32.class;
      case 9 -> TInt64.class;
      default -> TFloat32.class;
    };
    return Tensor.of(type, Shape.of(f.shape()), DataBuffers.of(b.array(), true, false));
  }

  static float[] floats(Tensor t) {
    int n = (int) t.shape().size();
    byte[] raw = new byte[(int) t.numBytes()];
    t.asRawTensor().data().read(raw);
    ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = switch (t.dataType()) {
        case DT_FLOAT -> b.getFloat(4 * i);
        case DT_DOUBLE -> (float) b.getDouble(8 * i);
        case DT_INT32 -> b.getInt(4 * i);
        case DT_INT64 -> b.getLong(8 * i);
        case DT_UINT8 -> b.get(i) & 0xff;
        default -> b.get(i);
      };
    }
    return out;
  }

  static Map<String, float[]> runSavedModel(Path dir, String signature, Map<String, Feed> feeds) {
    List<Tensor> owned = new ArrayList<>();
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve")) {
      Map<String, Tensor> in = new LinkedHashMap<>();
      feeds.forEach((k, f) -> {
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

  static List<float[]> runGraphDef(Path pb, Map<String, Feed> feeds, List<String> fetches) throws Exception {
    GraphDef def = GraphDef.parseFrom(Files.readAllBytes(pb));
    List<Tensor> owned = new ArrayList<>();
    try (Graph g = new Graph(); Session s = new Session(g)) {
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
}
