package org.tfport.core.graph;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** A {@code NameAttrList}: a function name with the attributes it is instantiated with. */
public record FuncRef(String name, Map<String, AttrValue> attrs) {
  public FuncRef {
    attrs = attrs == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(attrs));
  }

  public static FuncRef of(String name) {
    return new FuncRef(name, Map.of());
  }
}
