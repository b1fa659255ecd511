package org.tfport.formats.tflite;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tfport.core.Json;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What {@link TfliteAnalyzer} found in a {@code .tflite} model: op counts, constants by type, and
 * the file size each post-training quantization mode would roughly give. {@link #toText()} and
 * {@link #toJson()} are the two renderings the CLI prints.
 *
 * @param fileBytes size of the file (FlatBuffer plus anything appended)
 * @param builtinOps builtin op name → count, most frequent first
 * @param customOps custom op name → count (Flex ops excluded)
 * @param flexOps TensorFlow op name (without the Flex prefix) → count
 * @param constants per tensor type: constant tensors, their elements and bytes (shared buffers
 *     counted once)
 * @param estimates "current" first, then the quantization modes
 */
public record TfliteAnalysis(
    String name,
    long fileBytes,
    String description,
    String minRuntimeVersion,
    int subgraphs,
    int operators,
    int tensors,
    Map<String, Integer> builtinOps,
    Map<String, Integer> customOps,
    Map<String, Integer> flexOps,
    Map<String, TypeStats> constants,
    long parameters,
    long constantBytes,
    List<Io> inputs,
    List<Io> outputs,
    List<String> signatureKeys,
    List<String> metadata,
    String metadataName,
    List<SizeEstimate> estimates) {
  public TfliteAnalysis {
    builtinOps = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(builtinOps));
    customOps = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(customOps));
    flexOps = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(flexOps));
    constants = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(constants));
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    signatureKeys = List.copyOf(signatureKeys);
    metadata = List.copyOf(metadata);
    estimates = List.copyOf(estimates);
  }

  /** Constant tensors of one type. */
  public record TypeStats(int tensors, long elements, long bytes) {}

  /** A subgraph-0 input or output; {@code shape} uses -1 for dims unknown until run time. */
  public record Io(String name, String type, List<Integer> shape) {}

  /**
   * An estimated file size.
   *
   * @param mode {@code current}, {@code float16}, {@code dynamic_range_int8}, {@code full_int8},
   *     {@code int16x8}
   * @param basis how it was estimated, one line
   */
  public record SizeEstimate(String mode, long bytes, String basis) {}

  /** The builtin and custom op count. */
  public int opTypes() {
    return builtinOps.size() + customOps.size() + flexOps.size();
  }

  public String toText() {
    StringBuilder sb = new StringBuilder();
    sb.append(name)
        .append(": ")
        .append(String.format(Locale.ROOT, "%,d", fileBytes))
        .append(" bytes");
    if (description != null) {
      sb.append(", \"").append(description).append('"');
    }
    sb.append('\n');
    sb.append(
        String.format(
            Locale.ROOT,
            "  %d subgraph(s), %d operators, %d tensors%n",
            subgraphs,
            operators,
            tensors));
    if (minRuntimeVersion != null) {
      sb.append("  min runtime version: ")
          .append(minRuntimeVersion.isEmpty() ? "(unset)" : minRuntimeVersion)
          .append('\n');
    }
    if (!signatureKeys.isEmpty()) {
      sb.append("  signatures: ").append(String.join(", ", signatureKeys)).append('\n');
    }
    if (!metadata.isEmpty()) {
      sb.append("  metadata: ").append(String.join(", ", metadata));
      if (metadataName != null) {
        sb.append(" (model metadata: \"").append(metadataName).append("\")");
      }
      sb.append('\n');
    }
    for (Io io : inputs) {
      sb.append("  input  ")
          .append(io.name())
          .append(' ')
          .append(io.type())
          .append(io.shape())
          .append('\n');
    }
    for (Io io : outputs) {
      sb.append("  output ")
          .append(io.name())
          .append(' ')
          .append(io.type())
          .append(io.shape())
          .append('\n');
    }
    sb.append("Operators:\n");
    builtinOps.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %-34s %6d%n", k, v)));
    customOps.forEach(
        (k, v) -> sb.append(String.format(Locale.ROOT, "  %-34s %6d  (custom)%n", k, v)));
    flexOps.forEach(
        (k, v) ->
            sb.append(
                String.format(
                    Locale.ROOT,
                    "  %-34s %6d  (Flex: needs the select TF ops" + " delegate)%n",
                    k,
                    v)));
    sb.append(
        String.format(
            Locale.ROOT, "Constants: %,d parameters, %,d bytes%n", parameters, constantBytes));
    constants.forEach(
        (k, v) ->
            sb.append(
                String.format(
                    Locale.ROOT,
                    "  %-10s %5d tensors %,14d values %,14d bytes%n",
                    k,
                    v.tensors(),
                    v.elements(),
                    v.bytes())));
    sb.append("Estimated size after quantization:\n");
    for (SizeEstimate e : estimates) {
      sb.append(
          String.format(Locale.ROOT, "  %-20s %,14d bytes  %s%n", e.mode(), e.bytes(), e.basis()));
    }
    return sb.toString();
  }

  public ObjectNode toJson() {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("name", name);
    o.put("fileBytes", fileBytes);
    o.put("description", description);
    o.put("minRuntimeVersion", minRuntimeVersion);
    o.put("subgraphs", subgraphs);
    o.put("operators", operators);
    o.put("tensors", tensors);
    ObjectNode ops = o.putObject("ops");
    builtinOps.forEach(ops.putObject("builtin")::put);
    customOps.forEach(ops.putObject("custom")::put);
    flexOps.forEach(ops.putObject("flex")::put);
    ObjectNode c = o.putObject("constants");
    c.put("parameters", parameters);
    c.put("bytes", constantBytes);
    ObjectNode byType = c.putObject("byType");
    constants.forEach(
        (k, v) -> {
          ObjectNode t = byType.putObject(k);
          t.put("tensors", v.tensors());
          t.put("elements", v.elements());
          t.put("bytes", v.bytes());
        });
    io(o.putArray("inputs"), inputs);
    io(o.putArray("outputs"), outputs);
    ArrayNode sigs = o.putArray("signatures");
    signatureKeys.forEach(sigs::add);
    ArrayNode md = o.putArray("metadata");
    metadata.forEach(md::add);
    o.put("modelMetadataName", metadataName);
    ArrayNode est = o.putArray("estimates");
    for (SizeEstimate e : estimates) {
      ObjectNode n = est.addObject();
      n.put("mode", e.mode());
      n.put("bytes", e.bytes());
      n.put("basis", e.basis());
    }
    return o;
  }

  private static void io(ArrayNode a, List<Io> ios) {
    for (Io io : ios) {
      ObjectNode n = a.addObject();
      n.put("name", io.name());
      n.put("type", io.type());
      ArrayNode s = n.putArray("shape");
      io.shape().forEach(s::add);
    }
  }
}
