package org.tfport.formats.stablehlo;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.tfport.formats.stablehlo.Attr.ArrayAttr;
import org.tfport.formats.stablehlo.Attr.BoolAttr;
import org.tfport.formats.stablehlo.Attr.DenseArrayAttr;
import org.tfport.formats.stablehlo.Attr.DenseAttr;
import org.tfport.formats.stablehlo.Attr.DialectAttr;
import org.tfport.formats.stablehlo.Attr.DictAttr;
import org.tfport.formats.stablehlo.Attr.EnumAttr;
import org.tfport.formats.stablehlo.Attr.FloatAttr;
import org.tfport.formats.stablehlo.Attr.IntAttr;
import org.tfport.formats.stablehlo.Attr.RawAttr;
import org.tfport.formats.stablehlo.Attr.StrAttr;
import org.tfport.formats.stablehlo.Attr.SymAttr;
import org.tfport.formats.stablehlo.Attr.TypeAttr;
import org.tfport.formats.stablehlo.Attr.UnitAttr;

/** Types and attribute values in MLIR's builtin syntax. */
final class MlirAttrs {
  private static final Pattern SCALAR_TYPE =
      Pattern.compile("(i|ui|si|f)[0-9]+|bf16|tf32|index|f8E[0-9A-Za-z]+|f4E2M1FN|f6E[0-9A-Za-z]+");

  private MlirAttrs() {}

  static boolean isScalarType(String word) {
    return SCALAR_TYPE.matcher(word).matches() || word.startsWith("complex");
  }

  /** Whether a type starts next (so that {@code : type} after a number belongs to the number). */
  static boolean atScalarType(MlirCursor c) {
    int save = c.pos;
    try {
      return c.atWord() && isScalarType(c.word());
    } finally {
      c.pos = save;
    }
  }

  static MlirType type(MlirCursor c) {
    c.skipSpace();
    int start = c.pos;
    if (c.eat("!")) {
      c.word();
      if (c.peek() == '<') {
        c.expect("<");
        c.balanced('>');
      }
      return new MlirType(c.textFrom(start), null, null);
    }
    String word = c.word();
    if (word.equals("tensor")) {
      c.expect("<");
      String body = c.balanced('>');
      return tensorType("tensor<" + body + ">", body, c);
    }
    if (word.equals("complex")) {
      c.expect("<");
      c.balanced('>');
      return new MlirType(c.textFrom(start), c.textFrom(start), new long[0]);
    }
    if (c.peek() == '<') {
      c.expect("<");
      c.balanced('>');
      return new MlirType(c.textFrom(start), null, null);
    }
    if (isScalarType(word)) {
      return new MlirType(word, word, new long[0]);
    }
    return new MlirType(word, null, null);
  }

  private static MlirType tensorType(String text, String body, MlirCursor c) {
    int depth = 0;
    int end = body.length();
    for (int i = 0; i < body.length(); i++) {
      char ch = body.charAt(i);
      if (ch == '<') {
        depth++;
      } else if (ch == '>') {
        depth--;
      } else if (ch == ',' && depth == 0) {
        end = i;
        break;
      }
    }
    String shape = body.substring(0, end).strip();
    String canonical = "tensor<" + shape + ">";
    List<Long> dims = new ArrayList<>();
    int i = 0;
    while (i < shape.length()) {
      char ch = shape.charAt(i);
      if (ch == '*') {
        return new MlirType(canonical, null, null);
      }
      if (ch == '?' || Character.isDigit(ch)) {
        int j = i;
        while (j < shape.length()
            && (Character.isDigit(shape.charAt(j)) || shape.charAt(j) == '?')) {
          j++;
        }
        if (j >= shape.length() || shape.charAt(j) != 'x') {
          break;
        }
        String d = shape.substring(i, j);
        dims.add(d.equals("?") ? -1L : Long.parseLong(d));
        i = j + 1;
      } else {
        break;
      }
    }
    String element = shape.substring(i).strip();
    if (element.isEmpty()) {
      throw c.error("the tensor type " + text + " has no element type");
    }
    return new MlirType(canonical, element, dims.stream().mapToLong(Long::longValue).toArray());
  }

  /** {@code (T, ...) -> T} or {@code (T, ...) -> (T, ...)}: inputs then results. */
  static List<List<MlirType>> functionType(MlirCursor c) {
    List<MlirType> ins = typeList(c);
    c.expect("->");
    List<MlirType> outs;
    if (c.peek() == '(') {
      outs = typeList(c);
    } else {
      outs = List.of(type(c));
    }
    return List.of(ins, outs);
  }

  /** {@code (T, T)}, with attribute dictionaries after types skipped. */
  static List<MlirType> typeList(MlirCursor c) {
    c.expect("(");
    List<MlirType> out = new ArrayList<>();
    if (c.eat(")")) {
      return out;
    }
    do {
      out.add(type(c));
      if (c.peek() == '{') {
        c.expect("{");
        c.balanced('}');
      }
    } while (c.eat(","));
    c.expect(")");
    return out;
  }

  static Map<String, Attr> dict(MlirCursor c) {
    c.expect("{");
    Map<String, Attr> out = new LinkedHashMap<>();
    if (c.eat("}")) {
      return out;
    }
    do {
      String key = c.peek() == '"' ? c.string() : c.word();
      out.put(key, c.eat("=") ? attr(c) : new UnitAttr());
    } while (c.eat(","));
    c.expect("}");
    return out;
  }

  static Attr attr(MlirCursor c) {
    char ch = c.peek();
    int start = c.pos;
    switch (ch) {
      case '[' -> {
        c.expect("[");
        List<Attr> items = new ArrayList<>();
        if (!c.eat("]")) {
          do {
            items.add(attr(c));
          } while (c.eat(","));
          c.expect("]");
        }
        return new ArrayAttr(items);
      }
      case '{' -> {
        return new DictAttr(dict(c));
      }
      case '"' -> {
        return new StrAttr(c.string());
      }
      case '@' -> {
        String sym = c.symbol();
        while (c.eat("::")) {
          sym = sym + "::" + c.symbol();
        }
        return new SymAttr(sym);
      }
      case '#' -> {
        c.expect("#");
        String name = c.word();
        if (c.peek() != '<') {
          return new RawAttr("#" + name);
        }
        c.expect("<");
        String body = c.balanced('>').strip();
        if (!name.contains(".")) {
          String[] words = body.split("\\s+");
          return new EnumAttr(words[words.length - 1]);
        }
        return new DialectAttr(name, body);
      }
      case '<' -> {
        c.expect("<");
        return new RawAttr("<" + c.balanced('>') + ">");
      }
      case '!' -> {
        return new TypeAttr(type(c));
      }
      case '(' -> {
        c.expect("(");
        return new RawAttr("(" + c.balanced(')') + ")");
      }
      default -> {}
    }
    if (c.atNumber()) {
      String num = c.number();
      String type = null;
      if (c.peek() == ':' && c.peekAt(1) != ':') {
        int save = c.pos;
        c.expect(":");
        if (atScalarType(c)) {
          type = c.word();
        } else {
          c.pos = save;
        }
      }
      boolean isFloat =
          (type != null && DenseElements.isFloat(type))
              || (!num.startsWith("0x") && (num.contains(".") || num.contains("e")));
      if (isFloat) {
        return new FloatAttr(Double.parseDouble(num), type);
      }
      return new IntAttr(
          num.startsWith("0x") ? Long.parseUnsignedLong(num.substring(2), 16) : Long.parseLong(num),
          type);
    }
    String word = c.word();
    switch (word) {
      case "true" -> {
        return new BoolAttr(true);
      }
      case "false" -> {
        return new BoolAttr(false);
      }
      case "unit" -> {
        return new UnitAttr();
      }
      case "dense" -> {
        return new DenseAttr(dense(c));
      }
      case "array" -> {
        return denseArray(c);
      }
      case "tensor" -> {
        c.pos = start;
        return new TypeAttr(type(c));
      }
      default -> {}
    }
    if (c.peek() == '<') {
      c.expect("<");
      return new RawAttr(word + "<" + c.balanced('>') + ">");
    }
    if (word.equals("loc") && c.peek() == '(') {
      c.expect("(");
      return new RawAttr("loc(" + c.balanced(')') + ")");
    }
    if (isScalarType(word)) {
      return new TypeAttr(new MlirType(word, word, new long[0]));
    }
    return new EnumAttr(word);
  }

  private static Attr denseArray(MlirCursor c) {
    c.expect("<");
    String element = c.word();
    List<Long> values = new ArrayList<>();
    if (c.eat(":")) {
      do {
        if (c.eat("true")) {
          values.add(1L);
        } else if (c.eat("false")) {
          values.add(0L);
        } else {
          String n = c.number();
          values.add(
              n.contains(".") || n.contains("e")
                  ? (long) Double.parseDouble(n)
                  : Long.parseLong(n));
        }
      } while (c.eat(","));
    }
    c.expect(">");
    return new DenseArrayAttr(element, values.stream().mapToLong(Long::longValue).toArray());
  }

  /** After {@code dense}: {@code <...>} then its {@code : tensor<...>} type. */
  static DenseElements dense(MlirCursor c) {
    c.expect("<");
    List<String> literals = new ArrayList<>();
    byte[] hex = null;
    if (c.peek() == '"') {
      String s = c.string();
      if (!s.startsWith("0x") && !s.startsWith("0X")) {
        throw c.error("a dense string value that is not hex (" + abbreviate(s) + ")");
      }
      try {
        hex = HexFormat.of().parseHex(s.substring(2));
      } catch (IllegalArgumentException e) {
        throw c.error("a dense hex value with a character that is not a hex digit");
      }
    } else if (c.peek() != '>') {
      elements(c, literals);
    }
    c.expect(">");
    c.expect(":");
    MlirType type = type(c);
    if (!type.isTensor() || !type.isStatic()) {
      throw c.error("a dense value of type " + type + ", not a tensor of known shape");
    }
    DenseElements value = new DenseElements(type, literals, hex);
    long stored = value.storedCount();
    if (stored != 1 && stored != type.elementCount()) {
      throw c.error(
          "a dense value with "
              + stored
              + " elements for "
              + type
              + " ("
              + type.elementCount()
              + " elements)");
    }
    return value;
  }

  private static void elements(MlirCursor c, List<String> out) {
    if (c.eat("[")) {
      if (c.eat("]")) {
        return;
      }
      do {
        elements(c, out);
      } while (c.eat(","));
      c.expect("]");
    } else if (c.eat("(")) {
      out.add("(" + c.balanced(')') + ")");
    } else if (c.atNumber()) {
      out.add(c.number());
    } else {
      out.add(c.word());
    }
  }

  private static String abbreviate(String s) {
    return s.length() > 20 ? s.substring(0, 20) + "..." : s;
  }
}
