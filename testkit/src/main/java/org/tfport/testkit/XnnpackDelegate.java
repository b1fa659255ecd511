package org.tfport.testkit;

import java.lang.invoke.MethodHandle;
import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.Optional;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorflowlite.TfLiteOpaqueDelegateStruct;
import org.bytedeco.tensorflowlite.global.tensorflowlite;

/**
 * TFLite's XNNPACK delegate, with its default options (single-threaded) for {@link
 * TfliteOracle.Kernels#XNNPACK}, or with a thread count for bench's timer. The bytedeco build links
 * XNNPACK but applies no default delegate and maps no Java function that creates one or its
 * options, so {@code TfLiteXNNPackDelegateOptionsDefault}, {@code TfLiteXNNPackDelegateCreate} and
 * {@code TfLiteXNNPackDelegateDelete} are called through the foreign function API, on the library
 * JavaCPP loaded. That API is reached reflectively: testkit compiles for Java 21, where it is a
 * preview, and runs on a JDK where it is final.
 */
public final class XnnpackDelegate {
  /**
   * {@code TfLiteXNNPackDelegateOptions} as TFLite 2.18 declares it in {@code
   * delegates/xnnpack/xnnpack_delegate.h}: int32 num_threads, uint32 flags, a weights-cache
   * pointer, bool handle_variable_ops, a weight-cache file path; 32 bytes, returned by value
   * through a caller-allocated buffer. num_threads (offset 0) and flags (offset 4) are written
   * here.
   */
  private static final long OPTIONS_BYTES = 32;

  /**
   * {@code TFLITE_XNNPACK_DELEGATE_FLAG_QS8 | TFLITE_XNNPACK_DELEGATE_FLAG_QU8}: XNNPACK's signed
   * and unsigned 8-bit kernels. TensorFlow's own TFLite builds (the pip package's interpreter) turn
   * both on in the options' defaults; this bytedeco build leaves the defaults' flags 0, which would
   * time integer models on TFLite's builtin kernels instead of the fastest CPU runtime.
   */
  private static final int QUANTIZED_FLAGS = 0x1 | 0x2;

  private static MethodHandle create;
  private static MethodHandle delete;
  private static MethodHandle optionsDefault;
  private static MethodHandle getOptions;
  private static MethodHandle setMinimumLogSeverity;
  private static Object nullSegment;
  private static Object intLayout;
  private static Class<?> intLayoutClass;
  private static Class<?> segmentClass;
  private static Class<?> arenaClass;

  private XnnpackDelegate() {}

  /** A new delegate; pass it to {@link #delete} after the interpreter that uses it is deleted. */
  static TfLiteOpaqueDelegateStruct create() {
    try {
      bind();
      return delegate(create.invoke(nullSegment));
    } catch (RuntimeException e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("cannot create TFLite's XNNPACK delegate: " + e, e);
    }
  }

  /**
   * A new delegate running on {@code threads} threads of its own pool; 1 (or less) means no pool,
   * as TFLite's default XNNPACK delegate does for one thread. Its signed and unsigned 8-bit kernels
   * are on ({@link #QUANTIZED_FLAGS}); the other options are those of {@code
   * TfLiteXNNPackDelegateOptionsDefault}. Pass it to {@link #delete} after the interpreter that
   * uses it is deleted.
   */
  public static TfLiteOpaqueDelegateStruct create(int threads) {
    try {
      bind();
      try (AutoCloseable arena = (AutoCloseable) arenaClass.getMethod("ofConfined").invoke(null)) {
        // The delegate copies its options, so they may live in a short arena.
        Object options = optionsDefault.invoke(arena);
        long size = (long) segmentClass.getMethod("byteSize").invoke(options);
        if (size != OPTIONS_BYTES) {
          throw new IllegalStateException("unexpected XNNPACK options size " + size);
        }
        setInt(options, 0, threads > 1 ? threads : 0);
        setInt(options, 4, getInt(options, 4) | QUANTIZED_FLAGS);
        return delegate(create.invoke(options));
      }
    } catch (RuntimeException e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("cannot create TFLite's XNNPACK delegate: " + e, e);
    }
  }

  /** The thread count the delegate was created with, read back from its own copy of the options. */
  public static int threads(TfLiteOpaqueDelegateStruct delegate) {
    try {
      bind();
      Object options =
          getOptions.invoke(
              segmentClass.getMethod("ofAddress", long.class).invoke(null, delegate.address()));
      if ((long) segmentClass.getMethod("address").invoke(options) == 0) {
        throw new IllegalStateException("TfLiteXNNPackDelegateGetOptions returned null");
      }
      Object sized = segmentClass.getMethod("reinterpret", long.class).invoke(options, 4L);
      return (int)
          segmentClass.getMethod("get", intLayoutClass, long.class).invoke(sized, intLayout, 0L);
    } catch (Throwable e) {
      throw new IllegalStateException("cannot read the XNNPACK delegate's options: " + e, e);
    }
  }

  /**
   * Makes TFLite log, on stderr, how many nodes each delegate replaced ("Replacing N out of M
   * node(s) with delegate (TfLiteXNNPackDelegate) node, ..."), for the whole process. TFLite logs
   * that line at VERBOSE severity, below its default minimum (INFO), and the C API has no call that
   * lowers the minimum, so {@code tflite::LoggerOptions::SetMinimumLogSeverity} is called by its
   * exported C++ name with TFLITE_LOG_VERBOSE (0).
   *
   * @return false when the library does not export that function (nothing is logged then)
   */
  public static boolean logReplacedNodes() {
    try {
      bind();
      if (setMinimumLogSeverity == null) {
        return false;
      }
      setMinimumLogSeverity.invoke(0);
      return true;
    } catch (Throwable e) {
      throw new IllegalStateException("cannot set TFLite's log severity: " + e, e);
    }
  }

  private static void setInt(Object segment, long offset, int value)
      throws ReflectiveOperationException {
    segmentClass
        .getMethod("set", intLayoutClass, long.class, int.class)
        .invoke(segment, intLayout, offset, value);
  }

  private static int getInt(Object segment, long offset) throws ReflectiveOperationException {
    return (int)
        segmentClass
            .getMethod("get", intLayoutClass, long.class)
            .invoke(segment, intLayout, offset);
  }

  private static TfLiteOpaqueDelegateStruct delegate(Object segment)
      throws ReflectiveOperationException {
    long address = (long) segmentClass.getMethod("address").invoke(segment);
    if (address == 0) {
      throw new IllegalStateException("TfLiteXNNPackDelegateCreate returned null");
    }
    return new TfLiteOpaqueDelegateStruct(at(address));
  }

  public static void delete(TfLiteOpaqueDelegateStruct delegate) {
    try {
      Object segment =
          segmentClass.getMethod("ofAddress", long.class).invoke(null, delegate.address());
      delete.invoke(segment);
    } catch (Throwable e) {
      throw new IllegalStateException("cannot delete TFLite's XNNPACK delegate: " + e, e);
    }
  }

  private static Pointer at(long nativeAddress) {
    return new Pointer() {
      {
        address = nativeAddress;
      }
    };
  }

  private static synchronized void bind() throws ReflectiveOperationException {
    if (optionsDefault != null) {
      return;
    }
    Path library = Path.of(Loader.load(tensorflowlite.class));
    Class<?> arena = Class.forName("java.lang.foreign.Arena");
    Class<?> lookupClass = Class.forName("java.lang.foreign.SymbolLookup");
    Class<?> layout = Class.forName("java.lang.foreign.MemoryLayout");
    Class<?> descriptor = Class.forName("java.lang.foreign.FunctionDescriptor");
    Class<?> linkerClass = Class.forName("java.lang.foreign.Linker");
    Class<?> option = Class.forName("java.lang.foreign.Linker$Option");
    segmentClass = Class.forName("java.lang.foreign.MemorySegment");
    arenaClass = arena;
    intLayoutClass = Class.forName("java.lang.foreign.ValueLayout$OfInt");
    nullSegment = segmentClass.getField("NULL").get(null);
    Object lookup =
        lookupClass
            .getMethod("libraryLookup", Path.class, arena)
            .invoke(null, library, arena.getMethod("global").invoke(null));
    Class<?> valueLayout = Class.forName("java.lang.foreign.ValueLayout");
    Object address = valueLayout.getField("ADDRESS").get(null);
    intLayout = valueLayout.getField("JAVA_INT").get(null);
    Object addressArg = Array.newInstance(layout, 1);
    Array.set(addressArg, 0, address);
    Object linker = linkerClass.getMethod("nativeLinker").invoke(null);
    var downcall =
        linkerClass.getMethod("downcallHandle", segmentClass, descriptor, option.arrayType());
    Object noOptions = Array.newInstance(option, 0);
    create =
        (MethodHandle)
            downcall.invoke(
                linker,
                symbol(lookupClass, lookup, "TfLiteXNNPackDelegateCreate"),
                descriptor
                    .getMethod("of", layout, layout.arrayType())
                    .invoke(null, address, addressArg),
                noOptions);
    delete =
        (MethodHandle)
            downcall.invoke(
                linker,
                symbol(lookupClass, lookup, "TfLiteXNNPackDelegateDelete"),
                descriptor.getMethod("ofVoid", layout.arrayType()).invoke(null, addressArg),
                noOptions);
    getOptions =
        (MethodHandle)
            downcall.invoke(
                linker,
                symbol(lookupClass, lookup, "TfLiteXNNPackDelegateGetOptions"),
                descriptor
                    .getMethod("of", layout, layout.arrayType())
                    .invoke(null, address, addressArg),
                noOptions);
    Optional<?> severity =
        (Optional<?>)
            lookupClass
                .getMethod("find", String.class)
                .invoke(
                    lookup, "_ZN6tflite13LoggerOptions21SetMinimumLogSeverityENS_11LogSeverityE");
    if (severity.isPresent()) {
      Object intArg = Array.newInstance(layout, 1);
      Array.set(intArg, 0, intLayout);
      setMinimumLogSeverity =
          (MethodHandle)
              downcall.invoke(
                  linker,
                  severity.get(),
                  descriptor.getMethod("ofVoid", layout.arrayType()).invoke(null, intArg),
                  noOptions);
    }
    // Only the size and alignment of the returned struct matter to the call (over 16 bytes, so it
    // comes back through a buffer the handle allocates from its first argument): the bool and its
    // padding are one 8-byte slot here.
    Object optionsLayout =
        layout
            .getMethod("structLayout", layout.arrayType())
            .invoke(
                null, (Object) layouts(layout, intLayout, intLayout, address, address, address));
    optionsDefault =
        (MethodHandle)
            downcall.invoke(
                linker,
                symbol(lookupClass, lookup, "TfLiteXNNPackDelegateOptionsDefault"),
                descriptor
                    .getMethod("of", layout, layout.arrayType())
                    .invoke(null, optionsLayout, Array.newInstance(layout, 0)),
                noOptions);
  }

  private static Object layouts(Class<?> layout, Object... elements) {
    Object array = Array.newInstance(layout, elements.length);
    for (int i = 0; i < elements.length; i++) {
      Array.set(array, i, elements[i]);
    }
    return array;
  }

  private static Object symbol(Class<?> lookupClass, Object lookup, String name)
      throws ReflectiveOperationException {
    Optional<?> s = (Optional<?>) lookupClass.getMethod("find", String.class).invoke(lookup, name);
    return s.orElseThrow(() -> new IllegalStateException(name + " is not in TFLite's library"));
  }
}
