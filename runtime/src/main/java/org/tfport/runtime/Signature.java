package org.tfport.runtime;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.tfport.core.TfportException.UsageException;

/**
 * A named way to call a model (a SavedModel {@code SignatureDef}): which tensors to feed and which
 * to fetch, by the names callers use.
 */
public record Signature(String key, List<TensorSpec> inputs, List<TensorSpec> outputs) {
  /** The key TensorFlow serving uses when none is given. */
  public static final String DEFAULT_KEY = "serving_default";

  public Signature {
    Objects.requireNonNull(key, "key");
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    unique(key, "input", inputs);
    unique(key, "output", outputs);
    if (outputs.isEmpty()) {
      throw new UsageException("signature '" + key + "' has no outputs");
    }
  }

  private static void unique(String key, String kind, List<TensorSpec> specs) {
    Set<String> seen = new HashSet<>();
    for (TensorSpec s : specs) {
      if (!seen.add(s.name())) {
        throw new UsageException(
            "signature '" + key + "' names two " + kind + "s '" + s.name() + "'");
      }
    }
  }

  public List<String> inputNames() {
    return inputs.stream().map(TensorSpec::name).toList();
  }

  public List<String> outputNames() {
    return outputs.stream().map(TensorSpec::name).toList();
  }
}
