package org.tfport.formats.tflite;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.formats.tflite.BuiltinOptions.Activation;
import org.tfport.formats.tflite.BuiltinOptions.Padding;

/** Typed access to a normalized options field map (see {@link OptionsSchema#normalize}). */
record OptionFields(Map<String, Object> m) {
  /** Signals an enum value the typed records cannot hold. */
  static final class UnknownEnum extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UnknownEnum() {
      super(null, null, false, false);
    }
  }

  int i(String n) {
    return (Integer) m.get(n);
  }

  boolean z(String n) {
    return (Boolean) m.get(n);
  }

  float f(String n) {
    return (Float) m.get(n);
  }

  @SuppressWarnings("unchecked")
  List<Integer> ints(String n) {
    return (List<Integer>) m.get(n);
  }

  Padding pad(String n) {
    int v = i(n);
    if (v < 0 || v >= Padding.values().length) {
      throw new UnknownEnum();
    }
    return Padding.values()[v];
  }

  Activation act() {
    int v = i("fused_activation_function");
    if (v < 0 || v >= Activation.values().length) {
      throw new UnknownEnum();
    }
    return Activation.values()[v];
  }

  /** An unmodifiable map of name, value pairs in order, as the options records' fields give. */
  static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return java.util.Collections.unmodifiableMap(m);
  }
}
