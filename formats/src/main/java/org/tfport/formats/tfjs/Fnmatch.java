package org.tfport.formats.tfjs;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Python's {@code fnmatch} as the converter applies it to weight names: {@code *} matches any run
 * of characters including {@code /}, {@code ?} one character, {@code [...]} and {@code [!...]} a
 * class with ranges. Matching is case-sensitive, as on the POSIX systems the converter usually runs
 * on.
 */
final class Fnmatch {
  private Fnmatch() {}

  static boolean matches(String glob, String name) {
    return compile(glob).matcher(name).matches();
  }

  static Pattern compile(String glob) {
    StringBuilder re = new StringBuilder();
    int[] cps = glob.codePoints().toArray();
    int n = cps.length;
    int i = 0;
    while (i < n) {
      int c = cps[i++];
      if (c == '*') {
        // Runs of stars mean the same as one, and one .* keeps the regex from backtracking
        // exponentially.
        while (i < n && cps[i] == '*') {
          i++;
        }
        re.append(".*");
      } else if (c == '?') {
        re.append('.');
      } else if (c == '[') {
        int j = i;
        if (j < n && cps[j] == '!') {
          j++;
        }
        // A ']' right after '[' or '[!' is a member, not the end of the class.
        if (j < n && cps[j] == ']') {
          j++;
        }
        while (j < n && cps[j] != ']') {
          j++;
        }
        if (j >= n) {
          // No closing bracket: Python takes the '[' literally.
          appendLiteral(re, '[');
        } else {
          appendClass(re, cps, i, j);
          i = j + 1;
        }
      } else {
        appendLiteral(re, c);
      }
    }
    return Pattern.compile(re.toString(), Pattern.DOTALL);
  }

  /** The class body is cps[from, to): an optional '!', then members and lo-hi ranges. */
  private static void appendClass(StringBuilder re, int[] cps, int from, int to) {
    boolean negate = from < to && cps[from] == '!';
    int p = negate ? from + 1 : from;
    List<int[]> ranges = new ArrayList<>();
    while (p < to) {
      if (p + 2 < to && cps[p + 1] == '-') {
        // Python drops a reversed range such as z-a rather than failing on it; it matches nothing.
        if (cps[p] <= cps[p + 2]) {
          ranges.add(new int[] {cps[p], cps[p + 2]});
        }
        p += 3;
      } else {
        ranges.add(new int[] {cps[p], cps[p]});
        p++;
      }
    }
    if (ranges.isEmpty()) {
      re.append(negate ? "." : "(?!)");
      return;
    }
    re.append(negate ? "[^" : "[");
    for (int[] r : ranges) {
      re.append("\\x{").append(Integer.toHexString(r[0])).append('}');
      if (r[1] != r[0]) {
        re.append("-\\x{").append(Integer.toHexString(r[1])).append('}');
      }
    }
    re.append(']');
  }

  private static void appendLiteral(StringBuilder re, int cp) {
    re.append("\\x{").append(Integer.toHexString(cp)).append('}');
  }
}
