package org.tfport.testkit;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The real TFLite 2.18 interpreter (JavaCPP presets {@code org.bytedeco:tensorflow-lite}, C API) as
 * a test oracle: whether it accepts a {@code .tflite} file (it verifies the FlatBuffer, buffer
 * bounds, quantization parameters and op versions strictly), the model's inputs and outputs, and
 * its outputs for given inputs. Single-threaded, so runs are reproducible bit for bit; by default
 * with TFLite's builtin kernels and no delegate ({@link Kernels#BUILTIN}), or with the XNNPACK
 * delegate ({@link Kernels#XNNPACK}).
 *
 * <p>The interpreter runs in a child JVM ({@link TfliteWorker}, same classpath, started on first
 * use and kept for later calls), because some files make TFLite abort or segfault; such a crash, or
 * a hang of more than 5 minutes, becomes a rejection ({@link #load}) or an {@link
 * IllegalStateException} ({@link #run}) and the next call starts a fresh worker. The natives unpack
 * to {@code ~/.javacpp/cache} on first use. Error messages are the interpreter's printf format
 * strings without their arguments (a {@code va_list} cannot be formatted from Java), e.g. {@code
 * Didn't find op for builtin opcode '%s' version '%d'...}; the formatted text goes to stderr.
 */
public final class TfliteOracle {

  private TfliteOracle() {}

  // --------------------------------------------------------------------------------------- API
  // types

  /**
   * One tensor's description.
   *
   * @param dtype {@code float32}, {@code int8}, ... (see {@link Tensor})
   * @param shape the current dims (unknown dims show as 1 until the input is resized)
   */
  public record TensorInfo(String name, String dtype, int[] shape, float scale, int zeroPoint) {
    public TensorInfo {
      shape = shape.clone();
    }

    @Override
    public int[] shape() {
      return shape.clone();
    }

    @Override
    public String toString() {
      return name
          + " "
          + dtype
          + Arrays.toString(shape)
          + (scale != 0 ? " q(" + scale + ", " + zeroPoint + ")" : "");
    }
  }

  /**
   * What {@link #load} found.
   *
   * @param error null when accepted; else the interpreter's messages (format strings), one line
   */
  public record Load(
      boolean accepted,
      String error,
      List<TensorInfo> inputs,
      List<TensorInfo> outputs,
      List<String> signatureKeys) {
    public Load {
      inputs = List.copyOf(inputs);
      outputs = List.copyOf(outputs);
      signatureKeys = List.copyOf(signatureKeys);
    }
  }

  /**
   * A tensor's value: {@code dtype} one of {@code float32, float16, float64, int8, uint8, int16,
   * uint16, int32, uint32, int64, uint64, bool, string, complex64}, {@code data} its raw
   * little-endian bytes. Equality compares dtype, shape and bytes.
   */
  public record Tensor(String dtype, int[] shape, byte[] data) {
    public Tensor {
      Objects.requireNonNull(dtype, "dtype");
      shape = shape.clone();
      data = data.clone();
      int w = width(dtype);
      if (w > 0 && (long) w * elements(shape) != data.length) {
        throw new IllegalArgumentException(
            dtype
                + Arrays.toString(shape)
                + " needs "
                + w * elements(shape)
                + " bytes, got "
                + data.length);
      }
    }

    public static Tensor f32(int[] shape, float... values) {
      ByteBuffer b = le(values.length * 4);
      b.asFloatBuffer().put(values);
      return new Tensor("float32", shape, b.array());
    }

    public static Tensor i32(int[] shape, int... values) {
      ByteBuffer b = le(values.length * 4);
      b.asIntBuffer().put(values);
      return new Tensor("int32", shape, b.array());
    }

    public static Tensor i64(int[] shape, long... values) {
      ByteBuffer b = le(values.length * 8);
      b.asLongBuffer().put(values);
      return new Tensor("int64", shape, b.array());
    }

    public static Tensor i16(int[] shape, short... values) {
      ByteBuffer b = le(values.length * 2);
      b.asShortBuffer().put(values);
      return new Tensor("int16", shape, b.array());
    }

    public static Tensor i8(int[] shape, byte... values) {
      return new Tensor("int8", shape, values);
    }

    public static Tensor u8(int[] shape, byte... values) {
      return new Tensor("uint8", shape, values);
    }

    /**
     * A string tensor in TFLite's buffer layout: the element count (int32), count + 1 int32 byte
     * offsets from the buffer's start (the last one its total length), then the bytes.
     */
    public static Tensor strings(int[] shape, List<byte[]> values) {
      return new Tensor("string", shape, TfliteStrings.encode(shape, values));
    }

    public static Tensor bool(int[] shape, boolean... values) {
      byte[] b = new byte[values.length];
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) (values[i] ? 1 : 0);
      }
      return new Tensor("bool", shape, b);
    }

    @Override
    public int[] shape() {
      return shape.clone();
    }

    @Override
    public byte[] data() {
      return data.clone();
    }

    public int elementCount() {
      return (int) elements(shape);
    }

    /** The values widened to float (float16 decoded; int64 may round). */
    public float[] floats() {
      int n = elementCount();
      float[] out = new float[n];
      ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) {
        out[i] =
            switch (dtype) {
              case "float32" -> b.getFloat(4 * i);
              case "float64" -> (float) b.getDouble(8 * i);
              case "float16" -> Float.float16ToFloat(b.getShort(2 * i));
              default -> (float) longAt(b, i);
            };
      }
      return out;
    }

    /** Integer values (bool as 0/1, unsigned types zero-extended; floats truncated). */
    public long[] longs() {
      int n = elementCount();
      long[] out = new long[n];
      if (dtype.startsWith("float")) {
        float[] f = floats();
        for (int i = 0; i < n; i++) {
          out[i] = (long) f[i];
        }
        return out;
      }
      ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) {
        out[i] = longAt(b, i);
      }
      return out;
    }

    /**
     * The elements of a string tensor, decoded from TFLite's buffer layout (see {@link #strings}).
     *
     * @throws IllegalStateException when the buffer is not a valid layout for the shape
     */
    public List<byte[]> byteStrings() {
      if (!dtype.equals("string")) {
        throw new IllegalStateException("not a string tensor: " + dtype);
      }
      return TfliteStrings.decode(shape, data);
    }

    public int[] ints() {
      return Arrays.stream(longs()).mapToInt(l -> (int) l).toArray();
    }

    private long longAt(ByteBuffer b, int i) {
      return switch (dtype) {
        case "int8" -> b.get(i);
        case "uint8", "bool" -> Byte.toUnsignedLong(b.get(i));
        case "int16" -> b.getShort(2 * i);
        case "uint16" -> Short.toUnsignedLong(b.getShort(2 * i));
        case "int32" -> b.getInt(4 * i);
        case "uint32" -> Integer.toUnsignedLong(b.getInt(4 * i));
        case "int64", "uint64" -> b.getLong(8 * i);
        default -> throw new IllegalStateException("no integer view of " + dtype);
      };
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Tensor t
          && dtype.equals(t.dtype)
          && Arrays.equals(shape, t.shape)
          && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
      return Objects.hash(dtype, Arrays.hashCode(shape), Arrays.hashCode(data));
    }

    @Override
    public String toString() {
      return "Tensor[" + dtype + Arrays.toString(shape) + ", " + data.length + " bytes]";
    }
  }

  /** Which kernels the interpreter runs. */
  public enum Kernels {
    /**
     * TFLite's builtin kernels only ({@code BuiltinOpResolverWithoutDefaultDelegates}, the
     * optimized ones where TFLite has them), no delegate. This is also all the bytedeco build ever
     * ran: it links XNNPACK but applies no default delegate (its interpreter's outputs equal these
     * bit for bit, and never log XNNPACK's creation).
     */
    BUILTIN,
    /**
     * The XNNPACK delegate with its default options, as TFLite's Python and Android packages apply
     * it by default: it takes the ops it supports (float, and signed 8-bit), the builtin kernels
     * the rest; a graph it cannot take at all (dynamic shapes, ...) stays on the builtin kernels,
     * as with TFLite's default delegate.
     */
    XNNPACK
  }

  // -------------------------------------------------------------------------------------------
  // calls

  /**
   * Loads the model and reports whether the interpreter accepts it (creation and AllocateTensors,
   * which runs every op's Prepare), and its inputs, outputs and signature keys. A crash of the
   * interpreter counts as a rejection.
   */
  public static Load load(Path model) {
    return load(model, Kernels.BUILTIN);
  }

  /** {@link #load(Path)} with the given kernels. */
  public static synchronized Load load(Path model, Kernels kernels) {
    Reply r = call(TfliteWire.LOAD, kernels, model, List.of());
    if (r.crash != null) {
      return new Load(false, r.crash, List.of(), List.of(), List.of());
    }
    try {
      r.check();
      return TfliteWire.readLoad(r.in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Runs the model's default inputs and outputs (subgraph 0) on {@code inputs}, given in input
   * order. Inputs whose shape differs from the model's are resized first.
   *
   * @throws IllegalStateException when the interpreter rejects the model, a step fails or the
   *     interpreter crashes (the message says which)
   * @throws IllegalArgumentException when the inputs do not match the model's in count, dtype or
   *     size
   */
  public static List<Tensor> run(Path model, List<Tensor> inputs) {
    return run(model, inputs, Kernels.BUILTIN);
  }

  /** {@link #run(Path, List)} with the given kernels. */
  public static synchronized List<Tensor> run(Path model, List<Tensor> inputs, Kernels kernels) {
    Reply r = call(TfliteWire.RUN, kernels, model, List.of(inputs));
    if (r.crash != null) {
      throw new IllegalStateException(model + ": " + r.crash);
    }
    try {
      r.check();
      return TfliteWire.readTensors(r.in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Runs the model's default inputs and outputs once per element of {@code steps}, in order, on one
   * interpreter: what the model keeps between invocations (variable tensors, resource variables,
   * what CALL_ONCE initialized) carries from one step to the next. Throws as {@link #run} does.
   *
   * @return each step's outputs
   */
  public static synchronized List<List<Tensor>> runSequence(Path model, List<List<Tensor>> steps) {
    Reply r = call(TfliteWire.RUN_SEQUENCE, Kernels.BUILTIN, model, steps);
    if (r.crash != null) {
      throw new IllegalStateException(model + ": " + r.crash);
    }
    try {
      r.check();
      int n = r.in.readInt();
      List<List<Tensor>> out = new ArrayList<>(n);
      for (int k = 0; k < n; k++) {
        out.add(TfliteWire.readTensors(r.in));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ----------------------------------------------------------------------------------- child
  // process

  private static final Duration TIMEOUT = Duration.ofMinutes(5);
  private static Process worker;
  private static DataOutputStream toWorker;
  private static DataInputStream fromWorker;
  private static final ExecutorService READER =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "tflite-oracle-reader");
            t.setDaemon(true);
            return t;
          });

  /** A reply positioned after its status, or the reason the worker died. */
  private record Reply(DataInputStream in, int status, String message, String crash) {
    void check() {
      if (status == TfliteWire.ARGUMENT_ERROR) {
        throw new IllegalArgumentException(message);
      }
      if (status != TfliteWire.OK) {
        throw new IllegalStateException(message);
      }
    }
  }

  private static Reply call(int op, Kernels kernels, Path model, List<List<Tensor>> steps) {
    try {
      start();
      toWorker.writeInt(op);
      toWorker.writeInt(kernels.ordinal());
      toWorker.writeUTF(model.toAbsolutePath().toString());
      if (op == TfliteWire.RUN_SEQUENCE) {
        toWorker.writeInt(steps.size());
      }
      if (op != TfliteWire.LOAD) {
        for (List<Tensor> inputs : steps) {
          toWorker.writeInt(inputs.size());
          for (Tensor t : inputs) {
            TfliteWire.writeTensor(toWorker, t);
          }
        }
      }
      toWorker.flush();
      Future<Reply> f =
          READER.submit(
              () -> {
                int magic = fromWorker.readInt();
                if (magic != TfliteWire.MAGIC) {
                  throw new IOException(
                      "bad reply from the TFLite worker (0x" + Integer.toHexString(magic) + ")");
                }
                int status = fromWorker.readInt();
                String message = status == TfliteWire.OK ? null : fromWorker.readUTF();
                return new Reply(fromWorker, status, message, null);
              });
      return f.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      return new Reply(
          null, -1, null, died("did not answer within " + TIMEOUT.toMinutes() + " minutes"));
    } catch (ExecutionException | IOException e) {
      return new Reply(null, -1, null, died("crashed"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Reply(null, -1, null, died("was interrupted"));
    }
  }

  /**
   * Kills the worker after a crash or hang and says what happened; the next call starts a new one.
   */
  private static String died(String what) {
    Process p = worker;
    worker = null;
    p.destroyForcibly();
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    String code =
        p.isAlive()
            ? ""
            : " (exit code "
                + p.exitValue()
                + (p.exitValue() > 128 ? ", signal " + (p.exitValue() - 128) : "")
                + ")";
    return "the TFLite interpreter " + what + code;
  }

  private static void start() throws IOException {
    if (worker != null && worker.isAlive()) {
      return;
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // A crash report would otherwise land in the test's working directory (the module folder).
    String errorFile =
        Path.of(System.getProperty("java.io.tmpdir"), "tfport-tflite-worker-hs_err_%p.log")
            .toString();
    // Tests of a module run with its dependencies (JavaCPP among them) on the module path: the
    // worker needs both.
    String modulePath = System.getProperty("jdk.module.path");
    String classPath =
        System.getProperty("java.class.path")
            + (modulePath == null || modulePath.isEmpty()
                ? ""
                : System.getProperty("path.separator") + modulePath);
    List<String> cmd =
        List.of(
            java,
            "-Xmx2g",
            "--enable-native-access=ALL-UNNAMED",
            "-XX:ErrorFile=" + errorFile,
            "-cp",
            classPath,
            TfliteWorker.class.getName());
    // stderr is inherited: the interpreter's own messages (with their arguments filled in) show
    // there.
    worker = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    toWorker = new DataOutputStream(new BufferedOutputStream(worker.getOutputStream()));
    fromWorker = new DataInputStream(new BufferedInputStream(worker.getInputStream()));
    Process p = worker;
    Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
  }

  /**
   * Reproducible random inputs for a loaded model: floats in [-1, 1), integers over the whole range
   * of 8- and 16-bit types, int32/int64 in [0, 3) (small, because such inputs are often indices or
   * sizes), random booleans, strings of 0 to 8 bytes (lower-case letters and digits; an empty one
   * among them, since empty strings trip string kernels).
   *
   * @throws IllegalArgumentException for inputs that have no random form
   */
  public static List<Tensor> randomInputs(Load load, long seed) {
    Random rnd = new Random(seed);
    List<Tensor> out = new ArrayList<>();
    for (TensorInfo t : load.inputs()) {
      int n = (int) elements(t.shape());
      int[] shape = t.shape();
      out.add(
          switch (t.dtype()) {
            case "float32" -> {
              float[] v = new float[n];
              for (int i = 0; i < n; i++) {
                v[i] = rnd.nextFloat() * 2 - 1;
              }
              yield Tensor.f32(shape, v);
            }
            case "int8", "uint8" -> {
              byte[] v = new byte[n];
              rnd.nextBytes(v);
              yield new Tensor(t.dtype(), shape, v);
            }
            case "int16" -> {
              short[] v = new short[n];
              for (int i = 0; i < n; i++) {
                v[i] = (short) rnd.nextInt();
              }
              yield Tensor.i16(shape, v);
            }
            case "int32" -> Tensor.i32(shape, rnd.ints(n, 0, 3).toArray());
            case "int64" -> Tensor.i64(shape, rnd.longs(n, 0, 3).toArray());
            case "bool" -> {
              boolean[] v = new boolean[n];
              for (int i = 0; i < n; i++) {
                v[i] = rnd.nextBoolean();
              }
              yield Tensor.bool(shape, v);
            }
            case "string" -> {
              List<byte[]> v = new ArrayList<>(n);
              for (int i = 0; i < n; i++) {
                byte[] e = new byte[rnd.nextInt(9)];
                for (int j = 0; j < e.length; j++) {
                  e[j] = (byte) ALPHABET.charAt(rnd.nextInt(ALPHABET.length()));
                }
                v.add(e);
              }
              yield Tensor.strings(shape, v);
            }
            default ->
                throw new IllegalArgumentException(
                    "no random " + t.dtype() + " input for '" + t.name() + "'");
          });
    }
    return out;
  }

  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

  // -----------------------------------------------------------------------------------------
  // helpers

  /** The {@code TfLiteType} enum of the C API, by name. */
  static String dtypeName(int tfLiteType) {
    return switch (tfLiteType) {
      case 1 -> "float32";
      case 2 -> "int32";
      case 3 -> "uint8";
      case 4 -> "int64";
      case 5 -> "string";
      case 6 -> "bool";
      case 7 -> "int16";
      case 8 -> "complex64";
      case 9 -> "int8";
      case 10 -> "float16";
      case 11 -> "float64";
      case 12 -> "complex128";
      case 13 -> "uint64";
      case 14 -> "resource";
      case 15 -> "variant";
      case 16 -> "uint32";
      case 17 -> "uint16";
      case 18 -> "int4";
      case 19 -> "bfloat16";
      default -> "type" + tfLiteType;
    };
  }

  static int width(String dtype) {
    return switch (dtype) {
      case "float32", "int32", "uint32" -> 4;
      case "float16", "int16", "uint16", "bfloat16" -> 2;
      case "float64", "int64", "uint64", "complex64" -> 8;
      case "int8", "uint8", "bool" -> 1;
      case "complex128" -> 16;
      default -> 0;
    };
  }

  static long elements(int[] shape) {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  private static ByteBuffer le(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }
}
