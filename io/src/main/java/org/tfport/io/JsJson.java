package org.tfport.io;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * {@code JSON.stringify} as a JavaScript engine writes it, so byte counts and uploaded model.json
 * bodies match TF.js exactly: every number is a double printed by ECMAScript's Number::toString
 * (shortest round-trip digits, {@code 1e+21} style exponents, no {@code .0}), NaN and infinities
 * become {@code null}, strings escape only what the spec escapes, and integer-like keys come first
 * in ascending order as they do in JavaScript objects.
 */
final class JsJson {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private JsJson() {}

  static String stringify(JsonNode node) {
    StringBuilder sb = new StringBuilder();
    write(node, sb);
    return sb.toString();
  }

  private static void write(JsonNode n, StringBuilder sb) {
    if (n == null || n.isNull() || n.isMissingNode()) {
      sb.append("null");
    } else if (n.isObject()) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<String, JsonNode> e : ordered(n)) {
        if (e.getValue().isMissingNode()) {
          continue;
        }
        if (!first) {
          sb.append(',');
        }
        first = false;
        quote(e.getKey(), sb);
        sb.append(':');
        write(e.getValue(), sb);
      }
      sb.append('}');
    } else if (n.isArray()) {
      sb.append('[');
      for (int i = 0; i < n.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        write(n.get(i), sb);
      }
      sb.append(']');
    } else if (n.isBoolean()) {
      sb.append(n.booleanValue());
    } else if (n.isNumber()) {
      sb.append(number(n.doubleValue()));
    } else if (n.isString()) {
      quote(n.stringValue(), sb);
    } else if (n.isBinary()) {
      quote(java.util.Base64.getEncoder().encodeToString(n.binaryValue()), sb);
    } else {
      quote(n.asString(), sb);
    }
  }

  /** JavaScript property order: array-index keys ascending, then the rest in insertion order. */
  private static List<Map.Entry<String, JsonNode>> ordered(JsonNode obj) {
    List<Map.Entry<String, JsonNode>> indices = new ArrayList<>();
    List<Map.Entry<String, JsonNode>> rest = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : obj.properties()) {
      (arrayIndex(e.getKey()) >= 0 ? indices : rest).add(e);
    }
    if (indices.isEmpty()) {
      return rest;
    }
    indices.sort((a, b) -> Long.compare(arrayIndex(a.getKey()), arrayIndex(b.getKey())));
    indices.addAll(rest);
    return indices;
  }

  /** The key's value as an array index (canonical decimal below 2^32 - 1), or -1. */
  static long arrayIndex(String k) {
    int len = k.length();
    if (len == 0 || len > 10 || (len > 1 && k.charAt(0) == '0')) {
      return -1;
    }
    long v = 0;
    for (int i = 0; i < len; i++) {
      char c = k.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v < 0xFFFFFFFFL ? v : -1;
  }

  /** ECMAScript Number::toString(10), from Java's shortest round-trip digits (JDK 19+). */
  static String number(double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      return "null";
    }
    if (d == 0) {
      return "0";
    }
    String sign = d < 0 ? "-" : "";
    String j = Double.toString(Math.abs(d));
    int e = 0;
    int ePos = j.indexOf('E');
    if (ePos >= 0) {
      e = Integer.parseInt(j.substring(ePos + 1));
      j = j.substring(0, ePos);
    }
    int dot = j.indexOf('.');
    String intPart = dot < 0 ? j : j.substring(0, dot);
    String frac = dot < 0 ? "" : j.substring(dot + 1);
    String digits = intPart + frac;
    int n = intPart.length() + e;
    int lead = 0;
    while (lead < digits.length() - 1 && digits.charAt(lead) == '0') {
      lead++;
    }
    digits = digits.substring(lead);
    n -= lead;
    int end = digits.length();
    while (end > 1 && digits.charAt(end - 1) == '0') {
      end--;
    }
    digits = digits.substring(0, end);
    int k = digits.length();
    if (k == 2) {
      // Java keeps two digits where one also round-trips (4.9E-324); JavaScript takes the shortest.
      double abs = Math.abs(d);
      java.math.BigDecimal exact = new java.math.BigDecimal(abs);
      java.math.BigDecimal bestDist = null;
      int first = digits.charAt(0) - '0';
      for (int c = first; c <= first + 1; c++) {
        int cd = c == 10 ? 1 : c;
        int cn = c == 10 ? n + 1 : n;
        java.math.BigDecimal v = java.math.BigDecimal.valueOf(cd).scaleByPowerOfTen(cn - 1);
        if (v.doubleValue() == abs) {
          java.math.BigDecimal dist = v.subtract(exact).abs();
          if (bestDist == null || dist.compareTo(bestDist) < 0) {
            bestDist = dist;
            digits = Integer.toString(cd);
            n = cn;
            k = 1;
          }
        }
      }
    }
    StringBuilder sb = new StringBuilder(sign);
    if (k <= n && n <= 21) {
      sb.append(digits).append("0".repeat(n - k));
    } else if (0 < n && n <= 21) {
      sb.append(digits, 0, n).append('.').append(digits, n, k);
    } else if (-6 < n && n <= 0) {
      sb.append("0.").append("0".repeat(-n)).append(digits);
    } else {
      int exp = n - 1;
      sb.append(digits.charAt(0));
      if (k > 1) {
        sb.append('.').append(digits, 1, k);
      }
      sb.append('e').append(exp < 0 ? '-' : '+').append(Math.abs(exp));
    }
    return sb.toString();
  }

  private static void quote(String s, StringBuilder sb) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          boolean lone =
              Character.isSurrogate(c)
                  && !(Character.isHighSurrogate(c)
                      && i + 1 < s.length()
                      && Character.isLowSurrogate(s.charAt(i + 1)));
          if (c < 0x20 || lone) {
            sb.append("\\u")
                .append(HEX[c >> 12])
                .append(HEX[(c >> 8) & 15])
                .append(HEX[(c >> 4) & 15])
                .append(HEX[c & 15]);
          } else if (Character.isHighSurrogate(c)) {
            sb.append(c).append(s.charAt(++i));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
