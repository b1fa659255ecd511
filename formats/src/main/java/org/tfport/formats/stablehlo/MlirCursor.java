package org.tfport.formats.stablehlo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tfport.core.TfportException;

/**
 * Reads MLIR text character by character: the syntax is context-sensitive ({@code 4x?xf32} inside a
 * tensor type, {@code ->} inside angle brackets), so the parser asks for what it expects next
 * rather than working from a token stream. Whitespace and {@code //} comments are skipped before
 * everything it reads.
 */
final class MlirCursor {
  private final String text;
  private final String fileName;
  private final int[] lineStarts;
  int pos;

  MlirCursor(String text, String fileName) {
    this.text = text;
    this.fileName = fileName;
    List<Integer> starts = new ArrayList<>();
    starts.add(0);
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) == '\n') {
        starts.add(i + 1);
      }
    }
    lineStarts = starts.stream().mapToInt(Integer::intValue).toArray();
  }

  String fileName() {
    return fileName;
  }

  int line() {
    return lineAt(pos);
  }

  int lineAt(int at) {
    int i = Arrays.binarySearch(lineStarts, at);
    return (i >= 0 ? i : -i - 2) + 1;
  }

  TfportException error(String what) {
    return new TfportException(
        fileName + ":" + line() + ": " + what + "; the StableHLO text cannot be read");
  }

  void skipSpace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (Character.isWhitespace(c)) {
        pos++;
      } else if (c == '/' && pos + 1 < text.length() && text.charAt(pos + 1) == '/') {
        while (pos < text.length() && text.charAt(pos) != '\n') {
          pos++;
        }
      } else {
        return;
      }
    }
  }

  boolean atEnd() {
    skipSpace();
    return pos >= text.length();
  }

  char peek() {
    skipSpace();
    return pos < text.length() ? text.charAt(pos) : '\0';
  }

  char peekAt(int ahead) {
    skipSpace();
    return pos + ahead < text.length() ? text.charAt(pos + ahead) : '\0';
  }

  /** Whether {@code s} comes next (a word only when not followed by more word characters). */
  boolean lookingAt(String s) {
    skipSpace();
    if (!text.startsWith(s, pos)) {
      return false;
    }
    if (isWordChar(s.charAt(s.length() - 1))) {
      int end = pos + s.length();
      return end >= text.length() || !isWordChar(text.charAt(end));
    }
    return true;
  }

  boolean eat(String s) {
    if (lookingAt(s)) {
      pos += s.length();
      return true;
    }
    return false;
  }

  void expect(String s) {
    if (!eat(s)) {
      throw error("expected '" + s + "' but found " + excerpt());
    }
  }

  String excerpt() {
    skipSpace();
    if (pos >= text.length()) {
      return "the end of the file";
    }
    int end = Math.min(text.length(), pos + 30);
    int nl = text.indexOf('\n', pos);
    if (nl >= 0 && nl < end) {
      end = nl;
    }
    return "'" + text.substring(pos, end) + "'";
  }

  static boolean isWordChar(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '.' || c == '$';
  }

  /** An identifier: letters, digits, {@code _ . $}. */
  String word() {
    skipSpace();
    int start = pos;
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (Character.isLetterOrDigit(c) || c == '_' || c == '.' || c == '$') {
        pos++;
      } else {
        break;
      }
    }
    if (start == pos) {
      throw error("expected a name but found " + excerpt());
    }
    return text.substring(start, pos);
  }

  boolean atWord() {
    char c = peek();
    return Character.isLetter(c) || c == '_';
  }

  /** {@code %name} or {@code %name#3}, with the {@code %}. */
  String valueName() {
    skipSpace();
    if (pos >= text.length() || text.charAt(pos) != '%') {
      throw error("expected a value (%name) but found " + excerpt());
    }
    int start = pos++;
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (Character.isLetterOrDigit(c) || c == '_' || c == '.' || c == '$' || c == '-') {
        pos++;
      } else if (c == '#' && pos + 1 < text.length() && Character.isDigit(text.charAt(pos + 1))) {
        pos++;
      } else {
        break;
      }
    }
    return text.substring(start, pos);
  }

  /** {@code @name} or {@code @"quoted name"}, without the {@code @}. */
  String symbol() {
    expect("@");
    if (peek() == '"') {
      return string();
    }
    int start = pos;
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (Character.isLetterOrDigit(c) || c == '_' || c == '.' || c == '$' || c == '-') {
        pos++;
      } else {
        break;
      }
    }
    return text.substring(start, pos);
  }

  String string() {
    skipSpace();
    if (peek() != '"') {
      throw error("expected a string but found " + excerpt());
    }
    StringBuilder b = new StringBuilder();
    pos++;
    while (pos < text.length() && text.charAt(pos) != '"') {
      char c = text.charAt(pos++);
      if (c == '\\' && pos < text.length()) {
        char n = text.charAt(pos++);
        switch (n) {
          case 'n' -> b.append('\n');
          case 't' -> b.append('\t');
          case '"', '\\' -> b.append(n);
          default -> {
            if (pos < text.length() && isHex(n) && isHex(text.charAt(pos))) {
              b.append((char) Integer.parseInt(text.substring(pos - 1, pos + 1), 16));
              pos++;
            } else {
              b.append(n);
            }
          }
        }
      } else {
        b.append(c);
      }
    }
    if (pos >= text.length()) {
      throw error("a string is not closed");
    }
    pos++;
    return b.toString();
  }

  private static boolean isHex(char c) {
    return Character.digit(c, 16) >= 0;
  }

  boolean atNumber() {
    char c = peek();
    return Character.isDigit(c) || ((c == '-' || c == '+') && Character.isDigit(peekAt(1)));
  }

  /** A number's text: integer, float with exponent, or {@code 0x} hex. */
  String number() {
    skipSpace();
    int start = pos;
    if (pos < text.length() && (text.charAt(pos) == '-' || text.charAt(pos) == '+')) {
      pos++;
    }
    if (text.startsWith("0x", pos) || text.startsWith("0X", pos)) {
      pos += 2;
      while (pos < text.length() && isHex(text.charAt(pos))) {
        pos++;
      }
      return text.substring(start, pos);
    }
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (Character.isDigit(c) || c == '.') {
        pos++;
      } else if ((c == 'e' || c == 'E')
          && pos + 1 < text.length()
          && (Character.isDigit(text.charAt(pos + 1))
              || text.charAt(pos + 1) == '-'
              || text.charAt(pos + 1) == '+')) {
        pos += 2;
      } else {
        break;
      }
    }
    if (start == pos) {
      throw error("expected a number but found " + excerpt());
    }
    return text.substring(start, pos);
  }

  /**
   * The text up to the bracket closing the one just read, nesting {@code ( [ { <} and stepping over
   * strings and {@code ->}; the closing bracket is consumed, not returned.
   */
  String balanced(char close) {
    int start = pos;
    int depth = 0;
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c == '"') {
        string();
        continue;
      }
      if (c == '-' && pos + 1 < text.length() && text.charAt(pos + 1) == '>') {
        pos += 2;
        continue;
      }
      if (depth == 0 && c == close) {
        String body = text.substring(start, pos);
        pos++;
        return body;
      }
      if (c == '(' || c == '[' || c == '{' || c == '<') {
        depth++;
      } else if (c == ')' || c == ']' || c == '}' || c == '>') {
        depth--;
      }
      pos++;
    }
    throw error("a '" + close + "' is missing");
  }

  /** The word just read by {@link #eat}. */
  String textBefore() {
    int end = pos;
    int start = end;
    while (start > 0 && isWordChar(text.charAt(start - 1))) {
      start--;
    }
    return text.substring(start, end);
  }

  String textFrom(int start) {
    return text.substring(start, pos).strip();
  }

  /** Skips {@code loc(...)} when it comes next. */
  void skipLocation() {
    if (lookingAt("loc") && peekAt(3) == '(') {
      eat("loc");
      expect("(");
      balanced(')');
    }
  }

  /** Skips the rest of the current line. */
  void skipLine() {
    while (pos < text.length() && text.charAt(pos) != '\n') {
      pos++;
    }
  }
}
