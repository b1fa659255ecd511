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
 * TFLite's XNNPACK delegate with its default options (single-threaded), for {@link
 * TfliteOracle.Kernels#XNNPACK}. The bytedeco build links XNNPACK but applies no default delegate
 * and maps no Java function that creates one, so {@code TfLiteXNNPackDelegateCreate} and {@code
 * TfLiteXNNPackDelegateDelete} are called through the foreign function API, on the library JavaCPP
 * loaded. That API is reached reflectively: testkit compiles for Java 21, where it is a preview,
 * and runs on a JDK where it is final.
 */
final class XnnpackDelegate {
  private static MethodHandle create;
  private static MethodHandle delete;
  private static Object nullSegment;
  private static Class<?> segmentClass;

  private XnnpackDelegate() {}

  /** A new delegate; pass it to {@link #delete} after the interpreter that uses it is deleted. */
  static TfLiteOpaqueDelegateStruct create() {
    try {
      bind();
      Object segment = create.invoke(nullSegment);
      long address = (long) segmentClass.getMethod("address").invoke(segment);
      if (address == 0) {
        throw new IllegalStateException("TfLiteXNNPackDelegateCreate returned null");
      }
      return new TfLiteOpaqueDelegateStruct(at(address));
    } catch (RuntimeException e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("cannot create TFLite's XNNPACK delegate: " + e, e);
    }
  }

  static void delete(TfLiteOpaqueDelegateStruct delegate) {
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
    if (create != null) {
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
    nullSegment = segmentClass.getField("NULL").get(null);
    Object lookup =
        lookupClass
            .getMethod("libraryLookup", Path.class, arena)
            .invoke(null, library, arena.getMethod("global").invoke(null));
    Object address = Class.forName("java.lang.foreign.ValueLayout").getField("ADDRESS").get(null);
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
  }

  private static Object symbol(Class<?> lookupClass, Object lookup, String name)
      throws ReflectiveOperationException {
    Optional<?> s = (Optional<?>) lookupClass.getMethod("find", String.class).invoke(lookup, name);
    return s.orElseThrow(() -> new IllegalStateException(name + " is not in TFLite's library"));
  }
}
