package org.tfport.testkit;

import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterAllocateTensors;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterCreateWithSelectedOps;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterDelete;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterGetInputTensor;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterGetInputTensorCount;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterGetOutputTensor;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterGetOutputTensorCount;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterGetSignatureCount;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterGetSignatureKey;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterInvoke;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterModifyGraphWithDelegate;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterOptionsCreate;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterOptionsDelete;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterOptionsSetErrorReporter;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterOptionsSetNumThreads;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterOptionsSetOpResolver;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteInterpreterResizeInputTensor;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteModelCreateFromFileWithErrorReporter;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteModelDelete;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteTensorByteSize;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteTensorCopyFromBuffer;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteTensorCopyToBuffer;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteTensorDim;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteTensorName;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteTensorNumDims;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteTensorQuantizationParams;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteTensorRealloc;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.TfLiteTensorType;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.kTfLiteApplicationError;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.kTfLiteDelegateError;
import static org.bytedeco.tensorflowlite.global.tensorflowlite.kTfLiteOk;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorflowlite.BuiltinOpResolverWithoutDefaultDelegates;
import org.bytedeco.tensorflowlite.Find_builtin_op_Pointer_int_int;
import org.bytedeco.tensorflowlite.Find_custom_op_Pointer_BytePointer_int;
import org.bytedeco.tensorflowlite.Reporter_Pointer_BytePointer_Pointer;
import org.bytedeco.tensorflowlite.TfLiteDelegate;
import org.bytedeco.tensorflowlite.TfLiteInterpreter;
import org.bytedeco.tensorflowlite.TfLiteInterpreterOptions;
import org.bytedeco.tensorflowlite.TfLiteModel;
import org.bytedeco.tensorflowlite.TfLiteOpaqueDelegateStruct;
import org.bytedeco.tensorflowlite.TfLiteQuantizationParams;
import org.bytedeco.tensorflowlite.TfLiteRegistration;
import org.bytedeco.tensorflowlite.TfLiteTensor;
import org.tfport.testkit.TfliteOracle.Kernels;
import org.tfport.testkit.TfliteOracle.Load;
import org.tfport.testkit.TfliteOracle.Tensor;
import org.tfport.testkit.TfliteOracle.TensorInfo;

/**
 * The native side of {@link TfliteOracle}: runs in a child JVM ({@link #main}) so that an
 * interpreter crash (some TFLM-only models abort or segfault inside TFLite) fails one call instead
 * of killing the test JVM. Requests and replies are framed binary on stdin/stdout (see {@link
 * TfliteOracle}).
 */
final class TfliteWorker {
  private static final List<String> MESSAGES = new ArrayList<>();
  private static Reporter_Pointer_BytePointer_Pointer reporter;

  private TfliteWorker() {}

  public static void main(String[] args) throws IOException {
    DataInputStream in =
        new DataInputStream(new BufferedInputStream(new FileInputStream(FileDescriptor.in)));
    // The protocol owns fd 1; anything Java code prints goes to stderr.
    DataOutputStream out =
        new DataOutputStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)));
    System.setOut(System.err);
    while (true) {
      int op;
      try {
        op = in.readInt();
      } catch (EOFException e) {
        return;
      }
      Kernels kernels = Kernels.values()[in.readInt()];
      Path model = Path.of(in.readUTF());
      List<List<Tensor>> steps = new ArrayList<>();
      int count = op == TfliteWire.RUN ? 1 : op == TfliteWire.RUN_SEQUENCE ? in.readInt() : 0;
      for (int k = 0; k < count; k++) {
        List<Tensor> inputs = new ArrayList<>();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
          inputs.add(TfliteWire.readTensor(in));
        }
        steps.add(inputs);
      }
      out.writeInt(TfliteWire.MAGIC);
      try {
        if (op == TfliteWire.LOAD) {
          Load l = load(model, kernels);
          out.writeInt(TfliteWire.OK);
          TfliteWire.writeLoad(out, l);
        } else {
          List<List<Tensor>> r = run(model, steps, kernels);
          out.writeInt(TfliteWire.OK);
          if (op == TfliteWire.RUN_SEQUENCE) {
            out.writeInt(r.size());
          }
          for (List<Tensor> step : r) {
            out.writeInt(step.size());
            for (Tensor t : step) {
              TfliteWire.writeTensor(out, t);
            }
          }
        }
      } catch (IllegalArgumentException e) {
        out.writeInt(TfliteWire.ARGUMENT_ERROR);
        out.writeUTF(TfliteWire.clip(e.getMessage()));
      } catch (RuntimeException e) {
        out.writeInt(TfliteWire.STATE_ERROR);
        out.writeUTF(TfliteWire.clip(String.valueOf(e.getMessage())));
      }
      out.flush();
    }
  }

  /** Loads the model and reports whether the interpreter accepts it, and its inputs and outputs. */
  static Load load(Path model, Kernels kernels) {
    try (Session s = Session.open(model, kernels)) {
      if (s.error != null) {
        return new Load(false, s.error, List.of(), List.of(), List.of());
      }
      List<TensorInfo> in = new ArrayList<>();
      for (int i = 0; i < TfLiteInterpreterGetInputTensorCount(s.interpreter); i++) {
        in.add(info(TfLiteInterpreterGetInputTensor(s.interpreter, i)));
      }
      List<TensorInfo> out = new ArrayList<>();
      for (int i = 0; i < TfLiteInterpreterGetOutputTensorCount(s.interpreter); i++) {
        out.add(info(TfLiteInterpreterGetOutputTensor(s.interpreter, i)));
      }
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < TfLiteInterpreterGetSignatureCount(s.interpreter); i++) {
        keys.add(TfLiteInterpreterGetSignatureKey(s.interpreter, i).getString());
      }
      // Allocation runs every op's Prepare, which is where many invalid models are caught.
      if (!s.allocate()) {
        return new Load(false, "AllocateTensors failed: " + s.messages(), in, out, keys);
      }
      return new Load(true, null, in, out, keys);
    }
  }

  /**
   * Runs the model's default inputs and outputs (subgraph 0) on {@code inputs}, given in input
   * order. Inputs whose shape differs from the model's are resized first.
   *
   * @throws IllegalStateException when the interpreter rejects the model or a step fails (the
   *     message says which)
   * @throws IllegalArgumentException when the inputs do not match the model's in count or dtype
   */
  static List<List<Tensor>> run(Path model, List<List<Tensor>> steps, Kernels kernels) {
    try (Session s = Session.open(model, kernels)) {
      if (s.error != null) {
        throw new IllegalStateException(model + ": rejected by TFLite: " + s.error);
      }
      List<List<Tensor>> out = new ArrayList<>();
      for (List<Tensor> inputs : steps) {
        out.add(invoke(model, s, inputs, out.isEmpty()));
      }
      return out;
    }
  }

  /**
   * One invocation of the session's interpreter; tensors are allocated on the first one and after a
   * resize only, since allocating resets the state a model keeps between invocations.
   */
  private static List<Tensor> invoke(Path model, Session s, List<Tensor> inputs, boolean first) {
    TfLiteInterpreter it = s.interpreter;
    boolean allocate = first;
    int n = TfLiteInterpreterGetInputTensorCount(it);
    if (n != inputs.size()) {
      throw new IllegalArgumentException(model + " has " + n + " inputs, got " + inputs.size());
    }
    for (int i = 0; i < n; i++) {
      TensorInfo info = info(TfLiteInterpreterGetInputTensor(it, i));
      Tensor x = inputs.get(i);
      if (!info.dtype().equals(x.dtype())) {
        throw new IllegalArgumentException(
            model
                + " input "
                + i
                + " '"
                + info.name()
                + "' is "
                + info.dtype()
                + ", got "
                + x.dtype());
      }
      if (!Arrays.equals(info.shape(), x.shape())) {
        int[] dims = x.shape();
        allocate = true;
        if (TfLiteInterpreterResizeInputTensor(it, i, dims, dims.length) != kTfLiteOk) {
          throw new IllegalStateException(
              model
                  + ": cannot resize input "
                  + i
                  + " to "
                  + Arrays.toString(dims)
                  + ": "
                  + s.messages());
        }
      }
    }
    if (allocate && !s.allocate()) {
      throw new IllegalStateException(model + ": AllocateTensors failed: " + s.messages());
    }
    for (int i = 0; i < n; i++) {
      TfLiteTensor t = TfLiteInterpreterGetInputTensor(it, i);
      byte[] d = inputs.get(i).data();
      // String tensors are dynamic: AllocateTensors leaves them unallocated, their size is the
      // encoded buffer's, and the tensor must own a buffer of that size before the copy (which
      // checks the sizes are equal). Realloc does nothing to arena tensors.
      if (inputs.get(i).dtype().equals("string") && TfLiteTensorRealloc(d.length, t) != kTfLiteOk) {
        throw new IllegalStateException(
            model + ": cannot allocate string input " + i + ": " + s.messages());
      }
      long want = TfLiteTensorByteSize(t);
      if (want != d.length) {
        throw new IllegalArgumentException(
            model + " input " + i + " takes " + want + " bytes, got " + d.length);
      }
      try (BytePointer p = new BytePointer(Math.max(1, d.length))) {
        p.put(d);
        if (TfLiteTensorCopyFromBuffer(t, p, d.length) != kTfLiteOk) {
          throw new IllegalStateException(model + ": cannot set input " + i + ": " + s.messages());
        }
      }
    }
    if (TfLiteInterpreterInvoke(it) != kTfLiteOk) {
      throw new IllegalStateException(model + ": Invoke failed: " + s.messages());
    }
    List<Tensor> out = new ArrayList<>();
    for (int i = 0; i < TfLiteInterpreterGetOutputTensorCount(it); i++) {
      TfLiteTensor t = TfLiteInterpreterGetOutputTensor(it, i);
      TensorInfo info = info(t);
      int size = (int) TfLiteTensorByteSize(t);
      byte[] d = new byte[size];
      try (BytePointer p = new BytePointer(Math.max(1, size))) {
        if (size > 0 && TfLiteTensorCopyToBuffer(t, p, size) != kTfLiteOk) {
          throw new IllegalStateException(
              model + ": cannot read output " + i + ": " + s.messages());
        }
        p.get(d);
      }
      out.add(new Tensor(info.dtype(), info.shape(), d));
    }
    return out;
  }

  /** The interpreter's objects for one call, deleted in reverse order. */
  private static final class Session implements AutoCloseable {
    TfLiteModel model;
    TfLiteInterpreterOptions options;
    TfLiteInterpreter interpreter;
    TfLiteOpaqueDelegateStruct delegate;
    Kernels kernels;
    String error;

    static Session open(Path file, Kernels kernels) {
      Session s = new Session();
      MESSAGES.clear();
      if (!Files.isRegularFile(file)) {
        s.error = file + " does not exist";
        return s;
      }
      try (BytePointer path = new BytePointer(file.toAbsolutePath().toString())) {
        s.model = TfLiteModelCreateFromFileWithErrorReporter(path, reporter(), null);
      }
      if (isNull(s.model)) {
        s.error = "TfLiteModelCreateFromFile failed: " + s.messages();
        return s;
      }
      s.options = TfLiteInterpreterOptionsCreate();
      TfLiteInterpreterOptionsSetNumThreads(s.options, 1);
      TfLiteInterpreterOptionsSetErrorReporter(s.options, reporter(), null);
      // With op-resolver callbacks set, the C API builds the interpreter from them alone, and a
      // callback resolver brings no default delegate.
      Builtins.install(s.options);
      s.interpreter = TfLiteInterpreterCreateWithSelectedOps(s.model, s.options);
      s.kernels = kernels;
      if (isNull(s.interpreter)) {
        s.error = "TfLiteInterpreterCreate failed: " + s.messages();
      }
      return s;
    }

    /**
     * Allocates the tensors, first applying the XNNPACK delegate in that mode. TFLite applies its
     * default delegate the same way, on the first allocation (after inputs are resized), and keeps
     * the builtin kernels when the delegate cannot take the graph.
     */
    boolean allocate() {
      if (kernels == Kernels.XNNPACK && delegate == null) {
        delegate = XnnpackDelegate.create();
        int status =
            TfLiteInterpreterModifyGraphWithDelegate(interpreter, new TfLiteDelegate(delegate));
        if (status != kTfLiteOk
            && status != kTfLiteDelegateError
            && status != kTfLiteApplicationError) {
          MESSAGES.add(0, "applying the XNNPACK delegate failed");
          return false;
        }
      }
      return TfLiteInterpreterAllocateTensors(interpreter) == kTfLiteOk;
    }

    String messages() {
      // The same check often fires once per tensor; once is enough to read.
      return MESSAGES.isEmpty()
          ? "(no message)"
          : String.join(" | ", new java.util.LinkedHashSet<>(MESSAGES)).replace('\n', ' ');
    }

    @Override
    public void close() {
      if (!isNull(interpreter)) {
        TfLiteInterpreterDelete(interpreter);
      }
      if (!isNull(delegate)) {
        XnnpackDelegate.delete(delegate);
      }
      if (!isNull(options)) {
        TfLiteInterpreterOptionsDelete(options);
      }
      if (!isNull(model)) {
        TfLiteModelDelete(model);
      }
    }
  }

  /**
   * TFLite's builtin kernels without its default delegates, handed to the C API as op-resolver
   * callbacks. Kept in static fields: the native side holds the resolver and the thunks for as long
   * as interpreters use them.
   */
  private static final class Builtins {
    private static BuiltinOpResolverWithoutDefaultDelegates resolver;
    private static FindBuiltin findBuiltin;
    private static FindCustom findCustom;

    static void install(TfLiteInterpreterOptions options) {
      if (resolver == null) {
        resolver = new BuiltinOpResolverWithoutDefaultDelegates();
        findBuiltin = new FindBuiltin();
        findCustom = new FindCustom();
      }
      TfLiteInterpreterOptionsSetOpResolver(options, findBuiltin, findCustom, null);
    }

    private static final class FindBuiltin extends Find_builtin_op_Pointer_int_int {
      @Override
      public TfLiteRegistration call(Pointer userData, int op, int version) {
        return resolver.FindOp(op, version);
      }
    }

    private static final class FindCustom extends Find_custom_op_Pointer_BytePointer_int {
      @Override
      public TfLiteRegistration call(Pointer userData, BytePointer op, int version) {
        return resolver.FindOp(op, version);
      }
    }
  }

  private static Reporter_Pointer_BytePointer_Pointer reporter() {
    if (reporter == null) {
      // Kept in a static field: the native side holds the thunk for as long as models use it.
      reporter =
          new Reporter_Pointer_BytePointer_Pointer() {
            @Override
            public void call(Pointer userData, BytePointer format, Pointer args) {
              MESSAGES.add(format == null || format.isNull() ? "?" : format.getString().strip());
            }
          };
    }
    return reporter;
  }

  private static boolean isNull(Pointer p) {
    return p == null || p.isNull();
  }

  private static TensorInfo info(TfLiteTensor t) {
    int rank = TfLiteTensorNumDims(t);
    int[] dims = new int[Math.max(rank, 0)];
    for (int d = 0; d < dims.length; d++) {
      dims[d] = TfLiteTensorDim(t, d);
    }
    TfLiteQuantizationParams q = TfLiteTensorQuantizationParams(t);
    BytePointer name = TfLiteTensorName(t);
    return new TensorInfo(
        isNull(name) ? null : name.getString(),
        TfliteOracle.dtypeName(TfLiteTensorType(t)),
        dims,
        q.scale(),
        q.zero_point());
  }
}
