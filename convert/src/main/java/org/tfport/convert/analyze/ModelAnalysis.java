package org.tfport.convert.analyze;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tfport.core.Json;
import org.tfport.formats.tflite.TfliteAnalysis;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What {@code tfport analyze} reports about one model.
 *
 * @param format the input format ({@code tf_saved_model}, {@code tf_frozen_model}, {@code
 *     tfjs_graph_model}, {@code tfjs_layers_model}, {@code keras}, {@code tflite})
 * @param unit {@code op} or {@code layer}: what {@link #counts} counts
 * @param counts op type (or layer class) to how many nodes (layers) use it, most frequent first
 * @param targets per conversion target, what it supports
 * @param parameters elements of all weights (constants)
 * @param parameterBasis where {@link #parameters} was counted: the TF.js output, the frozen graph,
 *     the file
 * @param bytes bytes of all weights as stored now
 * @param estimates weight bytes after each quantization mode
 * @param tflite for a {@code .tflite} input, the file analyzer's report; else null
 */
public record ModelAnalysis(
    String source,
    String format,
    String unit,
    Map<String, Integer> counts,
    List<Target> targets,
    long parameters,
    String parameterBasis,
    long bytes,
    List<Estimate> estimates,
    TfliteAnalysis tflite) {
  public ModelAnalysis {
    counts = Collections.unmodifiableMap(new LinkedHashMap<>(counts));
    targets = List.copyOf(targets);
    estimates = List.copyOf(estimates);
  }

  /**
   * One target's verdict.
   *
   * @param supported op (layer class) to count, for those the target runs
   * @param unsupported op (layer class) to the node (layer) names that use it
   * @param note a caveat (e.g. why the target could not be checked), or null
   */
  public record Target(
      String name,
      Map<String, Integer> supported,
      Map<String, List<String>> unsupported,
      String note) {
    public Target {
      supported = Collections.unmodifiableMap(new LinkedHashMap<>(supported));
      unsupported = Collections.unmodifiableMap(new LinkedHashMap<>(unsupported));
    }

    public boolean ok() {
      return unsupported.isEmpty() && note == null;
    }
  }

  /** Weight bytes after quantizing with {@code mode} for {@code target}. */
  public record Estimate(String target, String mode, long bytes) {}

  public String toText() {
    StringBuilder sb = new StringBuilder();
    sb.append(source).append(" (").append(format).append(")\n");
    if (tflite != null) {
      // The file analyzer's report already lists operators, constants and the quantized sizes.
      sb.append(tflite.toText());
    } else {
      sb.append(unit.equals("op") ? "Ops" : "Layer classes")
          .append(" (")
          .append(counts.size())
          .append(" types, ")
          .append(counts.values().stream().mapToInt(Integer::intValue).sum())
          .append(' ')
          .append(unit)
          .append("s):\n");
      counts.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %-40s %6d%n", k, v)));
    }
    sb.append("Targets:\n");
    for (Target t : targets) {
      sb.append("  ").append(t.name()).append(": ");
      if (t.note() != null && t.supported().isEmpty() && t.unsupported().isEmpty()) {
        sb.append(t.note()).append('\n');
        continue;
      }
      sb.append(t.unsupported().isEmpty() ? "supported" : "NOT supported")
          .append(" (")
          .append(t.supported().size())
          .append(' ')
          .append(unit)
          .append(" types supported, ")
          .append(t.unsupported().size())
          .append(" not)")
          .append('\n');
      t.unsupported()
          .forEach(
              (op, nodes) ->
                  sb.append(
                      String.format(
                          Locale.ROOT,
                          "    unsupported %s x%d: %s%n",
                          op,
                          nodes.size(),
                          nodes.size() <= 5
                              ? String.join(", ", nodes)
                              : String.join(", ", nodes.subList(0, 5))
                                  + ", ... ("
                                  + (nodes.size() - 5)
                                  + " more)")));
      if (t.note() != null) {
        sb.append("    note: ").append(t.note()).append('\n');
      }
    }
    if (tflite != null) {
      return sb.toString();
    }
    sb.append(
        String.format(
            Locale.ROOT, "Parameters: %,d (%,d bytes; %s)%n", parameters, bytes, parameterBasis));
    sb.append("Weight bytes after quantization:\n");
    for (Estimate e : estimates) {
      sb.append(
          String.format(
              Locale.ROOT, "  %-8s %-22s %,14d bytes%n", e.target(), e.mode(), e.bytes()));
    }
    return sb.toString();
  }

  public ObjectNode toJson() {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("source", source);
    o.put("format", format);
    o.put("unit", unit);
    ObjectNode c = o.putObject("counts");
    counts.forEach(c::put);
    ArrayNode ts = o.putArray("targets");
    for (Target t : targets) {
      ObjectNode j = ts.addObject();
      j.put("name", t.name());
      j.put("ok", t.ok());
      ObjectNode s = j.putObject("supported");
      t.supported().forEach(s::put);
      ObjectNode u = j.putObject("unsupported");
      t.unsupported()
          .forEach(
              (k, v) -> {
                ArrayNode a = u.putArray(k);
                v.forEach(a::add);
              });
      if (t.note() != null) {
        j.put("note", t.note());
      }
    }
    o.put("parameters", parameters);
    o.put("parameterBasis", parameterBasis);
    o.put("bytes", bytes);
    ArrayNode es = o.putArray("quantization");
    for (Estimate e : estimates) {
      es.addObject().put("target", e.target()).put("mode", e.mode()).put("bytes", e.bytes());
    }
    if (tflite != null) {
      o.set("tflite", tflite.toJson());
    }
    return o;
  }
}
