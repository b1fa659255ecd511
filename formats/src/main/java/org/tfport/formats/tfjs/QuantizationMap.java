package org.tfport.formats.tfjs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.tfport.core.DType;
import org.tfport.core.TfportException.UsageException;

/**
 * Which weights get which quantization, built from the converter's {@code --quantize_float16},
 * {@code --quantize_uint8}, {@code --quantize_uint16} and the deprecated {@code
 * --quantization_bytes}. Each flag either lists fnmatch patterns over weight names or, given
 * without a value, is the fallthrough for every name no pattern matched. Only float32 weights are
 * ever quantized; the writer applies that rule, this map only answers by name.
 */
public final class QuantizationMap {
  /** Quantize nothing. */
  public static final QuantizationMap NONE = new QuantizationMap(Map.of(), null);

  private final Map<DType, List<String>> globs;
  private final Map<DType, List<Pattern>> patterns;
  private final DType fallthrough;

  private QuantizationMap(Map<DType, List<String>> globs, DType fallthrough) {
    this.globs = globs;
    this.fallthrough = fallthrough;
    Map<DType, List<Pattern>> p = new LinkedHashMap<>();
    globs.forEach((t, gs) -> p.put(t, gs.stream().map(Fnmatch::compile).toList()));
    this.patterns = p;
  }

  /**
   * Builds the map from the converter flags.
   *
   * @param float16 null when {@code --quantize_float16} is absent; empty or blank when it is given
   *     with no value (fallthrough: every weight no other pattern matched); otherwise
   *     comma-separated patterns
   * @param uint8 likewise for {@code --quantize_uint8}
   * @param uint16 likewise for {@code --quantize_uint16}
   * @param quantizationBytes the deprecated {@code --quantization_bytes} (1 = uint8, 2 = uint16 for
   *     every weight), or null; the caller prints its deprecation warning
   * @throws UsageException when the flags conflict: more than one fallthrough, or {@code
   *     --quantization_bytes} together with a {@code --quantize_*} flag, or a bad byte count
   */
  public static QuantizationMap fromFlags(
      String float16, String uint8, String uint16, Integer quantizationBytes) {
    if (quantizationBytes != null) {
      if (float16 != null || uint8 != null || uint16 != null) {
        throw new UsageException(
            "QuantizationMap.quantizationBytes cannot be combined with"
                + " QuantizationMap.float16/uint8/uint16 patterns; use only the patterns");
      }
      return switch (quantizationBytes) {
        case 1 -> all(DType.UINT8);
        case 2 -> all(DType.UINT16);
        default ->
            throw new UsageException(
                "QuantizationMap.quantizationBytes must be 1 or 2, got "
                    + quantizationBytes
                    + "; better, use QuantizationMap.uint8 or QuantizationMap.uint16");
      };
    }
    Map<DType, List<String>> globs = new LinkedHashMap<>();
    List<DType> fallthroughs = new ArrayList<>();
    addFlag(DType.FLOAT16, float16, globs, fallthroughs);
    addFlag(DType.UINT8, uint8, globs, fallthroughs);
    addFlag(DType.UINT16, uint16, globs, fallthroughs);
    if (fallthroughs.size() > 1) {
      throw new UsageException(
          "only one quantization flag may be given without patterns, but "
              + String.join(" and ", fallthroughs.stream().map(QuantizationMap::flag).toList())
              + " both are; give patterns (e.g. QuantizationMap.uint8 'conv*/kernel') to all but"
              + " one");
    }
    return new QuantizationMap(globs, fallthroughs.isEmpty() ? null : fallthroughs.get(0));
  }

  /** Quantizes every (float32) weight to {@code dtype}. */
  public static QuantizationMap all(DType dtype) {
    requireQuantDtype(dtype);
    return new QuantizationMap(Map.of(), dtype);
  }

  /** Quantizes the weights whose names match one of {@code globs} (fnmatch) to {@code dtype}. */
  public static QuantizationMap of(DType dtype, List<String> globs) {
    requireQuantDtype(dtype);
    return new QuantizationMap(Map.of(dtype, List.copyOf(globs)), null);
  }

  /** Every dtype some weight may be quantized to (by a pattern or as the fallthrough). */
  public java.util.Set<DType> dtypes() {
    java.util.Set<DType> all = new java.util.LinkedHashSet<>(globs.keySet());
    if (fallthrough != null) {
      all.add(fallthrough);
    }
    return all;
  }

  /**
   * The quantization dtype for a weight name, or null to store it unquantized.
   *
   * @throws UsageException when patterns of two different dtypes match the name
   */
  public DType resolve(String weightName) {
    DType found = null;
    for (Map.Entry<DType, List<Pattern>> e : patterns.entrySet()) {
      for (Pattern p : e.getValue()) {
        if (p.matcher(weightName).matches()) {
          if (found != null && found != e.getKey()) {
            throw new UsageException(
                "weight '"
                    + weightName
                    + "' matches both "
                    + flag(found)
                    + " and "
                    + flag(e.getKey())
                    + " patterns; a weight can have one quantization only, so narrow the"
                    + " patterns");
          }
          found = e.getKey();
        }
      }
    }
    return found != null ? found : fallthrough;
  }

  /**
   * The patterns that match none of {@code weightNames}, each as its option and pattern ({@code
   * QuantizationMap.float16 '*kernel'}): a pattern that quantizes nothing is most likely mistyped.
   */
  public List<String> unmatched(java.util.Collection<String> weightNames) {
    List<String> out = new java.util.ArrayList<>();
    for (Map.Entry<DType, List<Pattern>> e : patterns.entrySet()) {
      List<String> gs = globs.get(e.getKey());
      for (int i = 0; i < e.getValue().size(); i++) {
        Pattern p = e.getValue().get(i);
        if (weightNames.stream().noneMatch(n -> p.matcher(n).matches())) {
          out.add(flag(e.getKey()) + " '" + gs.get(i) + "'");
        }
      }
    }
    return out;
  }

  public boolean isEmpty() {
    return globs.isEmpty() && fallthrough == null;
  }

  @Override
  public String toString() {
    if (isEmpty()) {
      return "QuantizationMap[none]";
    }
    StringBuilder sb = new StringBuilder("QuantizationMap[");
    globs.forEach((t, g) -> sb.append(t.jsName()).append('=').append(g).append(' '));
    if (fallthrough != null) {
      sb.append(fallthrough.jsName()).append("=<rest>");
    }
    return sb.toString().strip() + "]";
  }

  private static void addFlag(
      DType t, String value, Map<DType, List<String>> globs, List<DType> fallthroughs) {
    if (value == null) {
      return;
    }
    if (value.isBlank()) {
      fallthroughs.add(t);
      return;
    }
    // Blanks around commas are dropped (the Python CLI never sees them, because it splits argv on
    // spaces).
    List<String> list = new ArrayList<>();
    for (String s : value.split(",", -1)) {
      list.add(s.strip());
    }
    globs.put(t, List.copyOf(list));
  }

  private static void requireQuantDtype(DType t) {
    if (t != DType.FLOAT16 && t != DType.UINT8 && t != DType.UINT16) {
      throw new IllegalArgumentException(
          "TF.js quantizes only to float16, uint8 or uint16, not " + t);
    }
  }

  private static String flag(DType t) {
    // The API name; the command line reports it as its --quantize_* flag.
    return "QuantizationMap." + t.jsName();
  }
}
