package org.tfport.formats.savedmodel;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** One {@code SignatureDef}: keyed inputs and outputs, in key order. */
public record SignatureInfo(
    String key,
    String methodName,
    Map<String, TensorInfo> inputs,
    Map<String, TensorInfo> outputs) {
  public SignatureInfo {
    inputs = Collections.unmodifiableMap(new LinkedHashMap<>(inputs));
    outputs = Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
  }
}
