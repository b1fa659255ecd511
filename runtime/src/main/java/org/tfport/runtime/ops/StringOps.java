package org.tfport.runtime.ops;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * String ops seen in serving graphs: StringJoin, StringLength, Substr, StringToNumber, StringSplit,
 * AsString, StringToHashBucketFast and the regex replacements. Regexes are RE2 syntax in
 * TensorFlow; java.util.regex agrees on the common subset (classes, groups, anchors, repetition),
 * and RE2's rewrite references ({@code \1}) are translated.
 */
final class StringOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("StringJoin", StringOps::join);
    r.reference("StringLength", StringOps::length);
    r.reference("Substr", StringOps::substr);
    r.reference("StringToNumber", StringOps::toNumber);
    r.reference("StringSplit", StringOps::split);
    r.reference("StringToHashBucketFast", StringOps::hashBucketFast);
    r.reference("AsString", StringOps::asString);
    r.reference(
        "StaticRegexReplace",
        b -> {
          Pattern p = compile(b.stringAttr("pattern", ""));
          String rewrite = rewrite(b.stringAttr("rewrite", ""));
          boolean global = b.boolAttr("replace_global", true);
          return (in, ctx) -> new Value[] {replace(in[0], p, rewrite, global)};
        });
    r.reference(
        "RegexReplace",
        b -> {
          boolean global = b.boolAttr("replace_global", true);
          return (in, ctx) ->
              new Value[] {
                replace(
                    in[0],
                    compile(text(scalarString(in[1], "pattern"))),
                    rewrite(text(scalarString(in[2], "rewrite"))),
                    global)
              };
        });
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] scalarString(Value v, String what) {
    if (v.dtype() != DType.STRING || v.size() != 1) {
      throw new KernelException(what + " must be a scalar string, got " + v);
    }
    return v.strings()[0];
  }

  private static void checkStrings(Value v, String what) {
    if (v.dtype() != DType.STRING) {
      throw new KernelException(what + " must be a string tensor, got " + v);
    }
  }

  /**
   * Numbers and booleans as text: the attributes build a printf conversion (fill is its one flag),
   * booleans print as true/false whatever the attributes say.
   */
  private static Kernel asString(BindContext b) {
    DType t = b.typeAttr("T", null);
    if (t == null) {
      throw new KernelException("attribute 'T' is missing");
    }
    boolean real =
        t == DType.FLOAT32 || t == DType.FLOAT64 || t == DType.FLOAT16 || t == DType.BFLOAT16;
    boolean integer =
        switch (t) {
          case INT8, INT16, INT32, INT64, UINT8, UINT16 -> true;
          default -> false;
        };
    if (!real && !integer && t != DType.BOOL) {
      throw new KernelException("AsString of " + t.jsName() + " is not supported");
    }
    int precision = Math.toIntExact(b.intAttr("precision", -1));
    boolean scientific = b.boolAttr("scientific", false);
    boolean shortest = b.boolAttr("shortest", false);
    int width = Math.toIntExact(b.intAttr("width", -1));
    String fill = b.stringAttr("fill", "");
    if (scientific && shortest) {
      throw new KernelException("AsString cannot take both scientific and shortest");
    }
    if (!real && (precision > -1 || scientific || shortest)) {
      throw new KernelException(
          "AsString of " + t.jsName() + " takes no precision, scientific or shortest");
    }
    if (fill.length() > 1 || (fill.length() == 1 && " +-0#".indexOf(fill.charAt(0)) < 0)) {
      throw new KernelException(
          "AsString fill '" + fill + "' is not one of ' ', '+', '-', '0', '#'");
    }
    CFormat format =
        new CFormat(
            fill.isEmpty() ? 0 : fill.charAt(0),
            width,
            precision,
            shortest ? 'g' : scientific ? 'e' : real ? 'f' : 'd');
    return (in, ctx) -> {
      Value x = in[0];
      if (x.dtype() != t) {
        throw new KernelException("input is " + x.dtype().jsName() + ", not " + t.jsName());
      }
      byte[][] out = new byte[x.size()][];
      for (int i = 0; i < out.length; i++) {
        String s;
        if (t == DType.BOOL) {
          s = x.longAt(i) != 0 ? "true" : "false";
        } else if (real) {
          s = format.real(x.doubleAt(i), t != DType.FLOAT64);
        } else {
          s =
              format.integer(
                  java.math.BigInteger.valueOf(x.longAt(i)), t == DType.UINT8 || t == DType.UINT16);
        }
        out[i] = bytes(s);
      }
      return new Value[] {Value.of(DType.STRING, x.shape(), out)};
    };
  }

  /** Fingerprint64 of each string's bytes, taken as unsigned, modulo num_buckets. */
  private static Kernel hashBucketFast(BindContext b) {
    long buckets = b.intAttr("num_buckets", 0);
    if (buckets < 1) {
      throw new KernelException("num_buckets " + buckets + " is not positive");
    }
    return (in, ctx) -> {
      checkStrings(in[0], "input");
      byte[][] s = in[0].strings();
      long[] out = new long[s.length];
      for (int i = 0; i < s.length; i++) {
        out[i] = Long.remainderUnsigned(FarmHash.fingerprint64(s[i]), buckets);
      }
      return new Value[] {Value.longs(in[0].shape(), out)};
    };
  }

  private static Kernel join(BindContext b) {
    byte[] sep = bytes(b.stringAttr("separator", ""));
    return (in, ctx) -> {
      long[] shape = null;
      for (Value v : in) {
        checkStrings(v, "inputs");
        if (v.rank() > 0) {
          if (shape != null && !java.util.Arrays.equals(shape, v.shape())) {
            throw new KernelException(
                "Input shapes do not match: "
                    + Layout.shape(shape)
                    + " vs. "
                    + Layout.shape(v.shape()));
          }
          shape = v.shape();
        }
      }
      shape = shape == null ? new long[0] : shape;
      int n = (int) Value.elementCount(shape);
      byte[][] out = new byte[n][];
      java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
      for (int i = 0; i < n; i++) {
        buf.reset();
        for (int k = 0; k < in.length; k++) {
          if (k > 0) {
            buf.writeBytes(sep);
          }
          buf.writeBytes(in[k].strings()[in[k].rank() == 0 ? 0 : i]);
        }
        out[i] = buf.toByteArray();
      }
      return new Value[] {Value.of(DType.STRING, shape, out)};
    };
  }

  private static boolean utf8(BindContext b) {
    String unit = b.stringAttr("unit", "BYTE");
    if (!unit.equals("BYTE") && !unit.equals("UTF8_CHAR")) {
      throw new KernelException("unit must be BYTE or UTF8_CHAR, got " + unit);
    }
    return unit.equals("UTF8_CHAR");
  }

  /** Characters of UTF-8 text: bytes that do not continue a sequence (10xxxxxx). */
  private static int charCount(byte[] s) {
    int n = 0;
    for (byte c : s) {
      n += (c & 0xC0) != 0x80 ? 1 : 0;
    }
    return n;
  }

  private static Kernel length(BindContext b) {
    boolean chars = utf8(b);
    return (in, ctx) -> {
      checkStrings(in[0], "input");
      byte[][] s = in[0].strings();
      int[] out = new int[s.length];
      for (int i = 0; i < s.length; i++) {
        out[i] = chars ? charCount(s[i]) : s[i].length;
      }
      return new Value[] {Value.ints(in[0].shape(), out)};
    };
  }

  /** Byte offset of character {@code c} in UTF-8 {@code s} (its length when past the end). */
  private static int charOffset(byte[] s, long c) {
    long seen = -1;
    for (int i = 0; i < s.length; i++) {
      if ((s[i] & 0xC0) != 0x80 && ++seen == c) {
        return i;
      }
    }
    return s.length;
  }

  private static Kernel substr(BindContext b) {
    boolean chars = utf8(b);
    return (in, ctx) -> {
      Value x = in[0];
      checkStrings(x, "input");
      Value pos = in[1];
      Value len = in[2];
      if (pos.rank() != 0 && !java.util.Arrays.equals(pos.shape(), x.shape())
          || !java.util.Arrays.equals(pos.shape(), len.shape())) {
        throw new KernelException(
            "pos and len must be scalars or have the input's shape, got input "
                + x
                + ", pos "
                + pos
                + ", len "
                + len);
      }
      byte[][] s = x.strings();
      byte[][] out = new byte[s.length][];
      for (int i = 0; i < s.length; i++) {
        int at = pos.rank() == 0 ? 0 : i;
        long p = pos.longAt(at);
        long l = len.longAt(at);
        long size = chars ? charCount(s[i]) : s[i].length;
        if (p < 0) {
          p += size;
        }
        if (p < 0 || p > size) {
          throw new KernelException(
              "pos "
                  + pos.longAt(at)
                  + " out of range for string of length "
                  + size
                  + " at index "
                  + i);
        }
        long end = Math.min(size, p + Math.max(0, l));
        int from = chars ? charOffset(s[i], p) : (int) p;
        int to = chars ? charOffset(s[i], end) : (int) end;
        out[i] = java.util.Arrays.copyOfRange(s[i], from, to);
      }
      return new Value[] {Value.of(DType.STRING, x.shape(), out)};
    };
  }

  private static Kernel toNumber(BindContext b) {
    DType t = b.typeAttr("out_type", DType.FLOAT32);
    if (t != DType.FLOAT32 && t != DType.FLOAT64 && t != DType.INT32 && t != DType.INT64) {
      throw new KernelException("StringToNumber to " + t.jsName() + " is not supported");
    }
    return (in, ctx) -> {
      checkStrings(in[0], "string_tensor");
      byte[][] s = in[0].strings();
      Value out = Value.zeros(t, in[0].shape());
      for (int i = 0; i < s.length; i++) {
        String v = text(s[i]).strip();
        try {
          if ((t == DType.INT32 || t == DType.INT64) && v.startsWith("+")) {
            throw new NumberFormatException(v); // TensorFlow's integer parser takes no plus sign
          }
          switch (t) {
            case FLOAT32 -> out.floats()[i] = (float) parseReal(v);
            case FLOAT64 -> out.doubles()[i] = parseReal(v);
            case INT32 -> out.ints()[i] = Integer.parseInt(v);
            default -> out.longs()[i] = Long.parseLong(v);
          }
        } catch (NumberFormatException e) {
          throw new KernelException(
              "StringToNumberOp could not correctly convert string: " + text(s[i]));
        }
      }
      return new Value[] {out};
    };
  }

  /**
   * strtod's forms: decimal, exponent and unsigned hex integer notation, inf/infinity and nan in
   * any case; no Java suffixes.
   */
  private static double parseReal(String v) {
    String lower = v.toLowerCase(java.util.Locale.ROOT);
    String body = lower.startsWith("+") || lower.startsWith("-") ? lower.substring(1) : lower;
    double sign = lower.startsWith("-") ? -1 : 1;
    if (body.equals("inf") || body.equals("infinity")) {
      return sign * Double.POSITIVE_INFINITY;
    }
    if (body.equals("nan")) {
      return Double.NaN;
    }
    if (lower.matches("0x[0-9a-f]+")) {
      // TensorFlow takes hex integers as floats ("0x10" is 16) but not signed or fractional hex
      // (measured).
      return Double.parseDouble(lower + "p0");
    }
    if (!body.matches("(\\d+\\.?\\d*|\\.\\d+)(e[+-]?\\d+)?")) {
      throw new NumberFormatException(v);
    }
    return Double.parseDouble(v);
  }

  /**
   * StringSplit (v1): each string split on any byte of the delimiter (an empty delimiter splits
   * bytes).
   */
  private static Kernel split(BindContext b) {
    boolean skipEmpty = b.boolAttr("skip_empty", true);
    return (in, ctx) -> {
      Value x = in[0];
      checkStrings(x, "input");
      if (x.rank() != 1) {
        throw new KernelException("input must be a vector, got shape " + Layout.shape(x.shape()));
      }
      byte[] delim = scalarString(in[1], "delimiter");
      List<long[]> indices = new ArrayList<>();
      List<byte[]> values = new ArrayList<>();
      long widest = 0;
      byte[][] s = x.strings();
      for (int i = 0; i < s.length; i++) {
        List<byte[]> parts = new ArrayList<>();
        if (delim.length == 0) {
          // An empty delimiter splits into single bytes, UTF-8 sequences included, as TensorFlow
          // documents.
          for (int k = 0; k < s[i].length; k++) {
            parts.add(new byte[] {s[i][k]});
          }
        } else if (s[i].length > 0) {
          // An empty string has no tokens, even when empty tokens are kept.
          int start = 0;
          for (int k = 0; k <= s[i].length; k++) {
            if (k == s[i].length || contains(delim, s[i][k])) {
              if (k > start || !skipEmpty) {
                parts.add(java.util.Arrays.copyOfRange(s[i], start, k));
              }
              start = k + 1;
            }
          }
        }
        for (int j = 0; j < parts.size(); j++) {
          indices.add(new long[] {i, j});
          values.add(parts.get(j));
        }
        widest = Math.max(widest, parts.size());
      }
      long[] idx = new long[2 * indices.size()];
      for (int k = 0; k < indices.size(); k++) {
        idx[2 * k] = indices.get(k)[0];
        idx[2 * k + 1] = indices.get(k)[1];
      }
      return new Value[] {
        Value.longs(new long[] {indices.size(), 2}, idx),
        Value.of(DType.STRING, new long[] {values.size()}, values.toArray(byte[][]::new)),
        Value.longs(new long[] {2}, s.length, widest)
      };
    };
  }

  private static boolean contains(byte[] set, byte c) {
    for (byte d : set) {
      if (d == c) {
        return true;
      }
    }
    return false;
  }

  private static Pattern compile(String pattern) {
    try {
      return Pattern.compile(pattern);
    } catch (PatternSyntaxException e) {
      throw new KernelException("Invalid pattern: " + pattern + ", error: " + e.getDescription());
    }
  }

  /** RE2's rewrite string ({@code \0}..{@code \9}, {@code \\}) as a Java replacement. */
  private static String rewrite(String re2) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < re2.length(); i++) {
      char c = re2.charAt(i);
      if (c == '\\' && i + 1 < re2.length()) {
        char d = re2.charAt(++i);
        if (Character.isDigit(d)) {
          out.append('$').append(d);
        } else if (d == '\\') {
          out.append("\\\\");
        } else {
          throw new KernelException("Invalid rewrite pattern: " + re2);
        }
      } else if (c == '$') {
        out.append("\\$");
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static Value replace(Value x, Pattern p, String rewrite, boolean global) {
    checkStrings(x, "input");
    byte[][] s = x.strings();
    byte[][] out = new byte[s.length][];
    for (int i = 0; i < s.length; i++) {
      Matcher m = p.matcher(text(s[i]));
      out[i] = bytes(global ? m.replaceAll(rewrite) : m.replaceFirst(rewrite));
    }
    return Value.of(DType.STRING, x.shape(), out);
  }
}
