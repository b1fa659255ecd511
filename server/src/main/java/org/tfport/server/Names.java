package org.tfport.server;

import java.io.ByteArrayOutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Path segments and names from requests. The raw request path is split on {@code /} before any
 * decoding, so {@code %2F} and {@code %2e%2e} cannot smuggle a separator or a parent reference past
 * the split; each segment is then decoded strictly and checked on its own.
 */
final class Names {
  /** Model names: what a folder name can safely be on any file system, and no dot at the start. */
  private static final Pattern MODEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  /** Weight file names in a manifest, after an optional leading {@code ./}. */
  private static final Pattern FILE = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,254}");

  private Names() {}

  /**
   * The decoded segments of a raw path; empty segments (doubled or trailing slashes) are dropped.
   */
  static List<String> segments(String rawPath) {
    List<String> out = new ArrayList<>();
    for (String s : rawPath.split("/", -1)) {
      if (!s.isEmpty()) {
        out.add(decode(s));
      }
    }
    return out;
  }

  static String decode(String seg) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int i = 0; i < seg.length(); i++) {
      char c = seg.charAt(i);
      if (c == '%') {
        if (i + 2 >= seg.length()
            || Character.digit(seg.charAt(i + 1), 16) < 0
            || Character.digit(seg.charAt(i + 2), 16) < 0) {
          throw new HttpError(400, "bad percent-encoding in path segment '" + printable(seg) + "'");
        }
        b.write(
            Character.digit(seg.charAt(i + 1), 16) * 16 + Character.digit(seg.charAt(i + 2), 16));
        i += 2;
      } else if (c < 0x80) {
        b.write(c);
      } else {
        byte[] u = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        b.write(u, 0, u.length);
      }
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(b.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      throw new HttpError(400, "path segment '" + printable(seg) + "' is not UTF-8");
    }
  }

  /** Checks a model name, saying exactly what is wrong with a bad one. */
  static String model(String name) {
    if (name.equals(".") || name.contains("..")) {
      throw new HttpError(400, "model name '" + printable(name) + "' may not contain '..'");
    }
    if (name.indexOf('/') >= 0 || name.indexOf('\\') >= 0) {
      throw new HttpError(400, "model name '" + printable(name) + "' may not contain '/' or '\\'");
    }
    for (int i = 0; i < name.length(); i++) {
      if (Character.isISOControl(name.charAt(i))) {
        throw new HttpError(
            400, "model name '" + printable(name) + "' may not contain control characters");
      }
    }
    if (!MODEL.matcher(name).matches()) {
      throw new HttpError(
          400,
          "model name '"
              + printable(name)
              + "' must be 1-128 letters, digits, '.', '_'"
              + " or '-', starting with a letter or digit");
    }
    return name;
  }

  /** A manifest path as a plain file name in the version folder, or null when it cannot be one. */
  static String weightFile(String manifestPath) {
    String p = manifestPath.startsWith("./") ? manifestPath.substring(2) : manifestPath;
    if (!FILE.matcher(p).matches() || p.contains("..") || p.equals("model.json")) {
      return null;
    }
    return p;
  }

  /** A served file name inside a version: a manifest-style name, never a hidden file. */
  static boolean servable(String file) {
    return file.equals("model.json") || weightFile(file) != null && file.equals(weightFile(file));
  }

  /**
   * The text with control characters shown as {@code \\uXXXX}, so messages stay one printable line.
   */
  static String printable(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length() && i < 200; i++) {
      char c = s.charAt(i);
      if (Character.isISOControl(c)) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
