package org.tfport.testkit;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.tfport.testkit.TfliteOracle.Load;
import org.tfport.testkit.TfliteOracle.Tensor;
import org.tfport.testkit.TfliteOracle.TensorInfo;

/**
 * The framing between {@link TfliteOracle} and its child JVM ({@link TfliteWorker}): a request is
 * the operation, the kernels to run with ({@link TfliteOracle.Kernels} ordinal), the model path
 * and, for a run, the inputs; a reply is {@link #MAGIC}, a status and the payload or a message.
 */
final class TfliteWire {
  static final int MAGIC = 0x54464f31;
  static final int LOAD = 1;
  static final int RUN = 2;
  static final int RUN_SEQUENCE = 3;
  static final int OK = 0;
  static final int STATE_ERROR = 1;
  static final int ARGUMENT_ERROR = 2;

  private TfliteWire() {}

  static void writeTensor(DataOutputStream out, Tensor t) throws IOException {
    out.writeUTF(t.dtype());
    out.writeInt(t.shape().length);
    for (int d : t.shape()) {
      out.writeInt(d);
    }
    out.writeInt(t.data().length);
    out.write(t.data());
  }

  static Tensor readTensor(DataInputStream in) throws IOException {
    String dtype = in.readUTF();
    int[] shape = new int[in.readInt()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = in.readInt();
    }
    byte[] data = new byte[in.readInt()];
    in.readFully(data);
    return new Tensor(dtype, shape, data);
  }

  static void writeLoad(DataOutputStream out, Load l) throws IOException {
    out.writeBoolean(l.accepted());
    out.writeBoolean(l.error() != null);
    if (l.error() != null) {
      out.writeUTF(clip(l.error()));
    }
    for (List<TensorInfo> infos : List.of(l.inputs(), l.outputs())) {
      out.writeInt(infos.size());
      for (TensorInfo t : infos) {
        out.writeBoolean(t.name() != null);
        if (t.name() != null) {
          out.writeUTF(clip(t.name()));
        }
        out.writeUTF(t.dtype());
        out.writeInt(t.shape().length);
        for (int d : t.shape()) {
          out.writeInt(d);
        }
        out.writeFloat(t.scale());
        out.writeInt(t.zeroPoint());
      }
    }
    out.writeInt(l.signatureKeys().size());
    for (String k : l.signatureKeys()) {
      out.writeUTF(clip(k));
    }
  }

  static Load readLoad(DataInputStream in) throws IOException {
    boolean accepted = in.readBoolean();
    String error = in.readBoolean() ? in.readUTF() : null;
    List<List<TensorInfo>> lists = new ArrayList<>();
    for (int k = 0; k < 2; k++) {
      int n = in.readInt();
      List<TensorInfo> infos = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        String name = in.readBoolean() ? in.readUTF() : null;
        String dtype = in.readUTF();
        int[] shape = new int[in.readInt()];
        for (int d = 0; d < shape.length; d++) {
          shape[d] = in.readInt();
        }
        infos.add(new TensorInfo(name, dtype, shape, in.readFloat(), in.readInt()));
      }
      lists.add(infos);
    }
    int n = in.readInt();
    List<String> keys = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      keys.add(in.readUTF());
    }
    return new Load(accepted, error, lists.get(0), lists.get(1), keys);
  }

  /** {@link DataOutputStream#writeUTF} takes at most 64 KiB. */
  static String clip(String s) {
    return s.length() > 16000 ? s.substring(0, 16000) + "..." : s;
  }

  static List<Tensor> readTensors(DataInputStream in) throws IOException {
    int n = in.readInt();
    List<Tensor> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(readTensor(in));
    }
    return out;
  }
}
