package org.tfport.runtime.stablehlo;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code array([...], dtype=float32)} texts of a numpy repr tuple, as JAX's back-compat test
 * data records inputs and expected outputs.
 */
final class NumpyRepr {
  private NumpyRepr() {}

  record Array(long[] shape, double[] values, String dtype) {}

  private static final Pattern ARRAY =
      Pattern.compile("array\\((.*?),\\s*dtype=(?:np\\.)?([a-z0-9]+)\\)", Pattern.DOTALL);

  static List<Array> parse(String repr) {
    List<Array> out = new ArrayList<>();
    Matcher m = ARRAY.matcher(repr);
    while (m.find()) {
      String body = m.group(1).strip();
      List<Long> shape = new ArrayList<>();
      List<Double> values = new ArrayList<>();
      int depth = 0;
      int maxDepth = 0;
      List<Integer> counts = new ArrayList<>();
      StringBuilder num = new StringBuilder();
      for (int i = 0; i <= body.length(); i++) {
        char c = i < body.length() ? body.charAt(i) : ',';
        if (c == '[') {
          depth++;
          if (depth > maxDepth) {
            maxDepth = depth;
            counts.add(0);
          }
        } else if (c == ']' || c == ',') {
          if (!num.isEmpty()) {
            values.add(Double.parseDouble(num.toString()));
            num.setLength(0);
            if (depth > 0) {
              counts.set(depth - 1, counts.get(depth - 1) + 1);
            }
          }
          if (c == ']') {
            depth--;
            if (depth > 0) {
              counts.set(depth - 1, counts.get(depth - 1) + 1);
            }
          }
        } else if (!Character.isWhitespace(c)) {
          num.append(c);
        }
      }
      // counts[d] counts every element seen at depth d+1; divide by the outer sizes.
      long outer = 1;
      for (int d = 0; d < maxDepth; d++) {
        long size = counts.get(d) / outer;
        shape.add(size);
        outer *= size;
      }
      out.add(
          new Array(
              shape.stream().mapToLong(Long::longValue).toArray(),
              values.stream().mapToDouble(Double::doubleValue).toArray(),
              m.group(2)));
    }
    return out;
  }
}
