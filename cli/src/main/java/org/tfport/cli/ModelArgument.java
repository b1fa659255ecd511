package org.tfport.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.tfport.graph.GraphOptions;
import org.tfport.runtime.LoadOptions;
import org.tfport.runtime.Model;

/**
 * The MODEL argument of the commands that run a model ({@code predict}, {@code benchmark}) and the
 * flags that choose what of it to load, read one way so the commands load the same model from the
 * same words.
 */
final class ModelArgument {
  private ModelArgument() {}

  /**
   * @param signatureName {@code --signature_name}, or null for the default signature
   * @param tags {@code --saved_model_tags}, comma-separated, or null for {@code serve}
   * @param outputNodeNames {@code --output_node_names}, comma-separated, or null for the model's
   *     own outputs
   */
  static LoadOptions options(String signatureName, String tags, String outputNodeNames) {
    List<String> outputs =
        outputNodeNames == null
            ? List.of()
            : Arrays.stream(outputNodeNames.split(","))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .toList();
    // predict and benchmark run the default plans only: the model need not keep the weights as
    // read from its files next to the plans' own copy.
    return new LoadOptions(signatureName, GraphOptions.parseTags(tags), outputs)
        .withSourceWeightsDropped(true);
  }

  /**
   * A URL ({@code file://}, {@code http(s)://}) goes through the io handlers; else a path. Then a
   * full collection: loading leaves the file's bytes, the parsed graph and the weights before
   * packing as garbage, often promoted already, and the runs that follow would otherwise grow the
   * heap past it; collected now, the heap can shrink to what the plans hold (the launcher's heap
   * free-ratio options) before the runs add their buffers and the JIT its compilations; {@link
   * OldGenerationGuard} keeps the runs from growing it for good.
   */
  static Model load(String model, LoadOptions options) {
    Model m =
        model.contains("://") ? Model.loadUrl(model, options) : Model.load(Path.of(model), options);
    System.gc();
    OldGenerationGuard.install();
    return m;
  }
}
