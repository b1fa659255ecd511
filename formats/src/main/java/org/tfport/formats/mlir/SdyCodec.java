package org.tfport.formats.mlir;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Shardy's ({@code sdy}) attribute encodings (shardy's bytecode.td), decoded to their text form.
 * Sharding annotations do not change what a program computes; they are kept so that the printed
 * module says what the file says.
 */
final class SdyCodec {
  private SdyCodec() {}

  static MlirAttr attr(ByteCursor c, AttrTypeTable t) {
    long code = c.varInt();
    return new MlirAttr.Opaque(
        switch ((int) code) {
          case 0 -> "#sdy<manual_axes{" + join(t.attrList(c)) + "}>";
          case 1 -> MlirAttr.quote(t.string(c, c.varInt())) + "=" + c.signedVarInt();
          case 2 -> {
            String axes = join(t.attrList(c));
            List<Long> ids = AttrTypeTable.signedList(c);
            yield "#sdy.mesh<[" + axes + "]" + (ids.isEmpty() ? "" : ", device_ids=" + ids) + ">";
          }
          case 3 -> "(" + c.signedVarInt() + ")" + c.signedVarInt();
          case 4 -> {
            String name = MlirAttr.quote(t.string(c, c.varInt()));
            long v = c.varInt();
            yield (v & 1) != 0 ? name + ":" + t.attr(c, v >>> 1) : name;
          }
          case 5 -> {
            String axes = join(t.attrList(c));
            boolean closed = c.u8() != 0;
            long p = c.varInt();
            String open = closed ? "" : (axes.isEmpty() ? "?" : ", ?");
            yield "{" + axes + open + "}" + ((p & 1) != 0 ? "p" + (p >>> 1) : "");
          }
          case 6, 15, 17 -> {
            MlirAttr mesh = t.attr(c, c.varInt());
            String dims = join(t.attrList(c));
            String replicated = join(t.attrList(c));
            String unreduced = code == 6 ? "" : join(t.attrList(c));
            long op = code == 17 ? c.signedVarInt() : 0;
            String m = mesh.toString().replaceFirst("^#sdy\\.mesh", "mesh");
            yield "#sdy.sharding<"
                + m
                + ", ["
                + dims
                + "]"
                + (replicated.isEmpty() ? "" : ", replicated={" + replicated + "}")
                + (unreduced.isEmpty() ? "" : ", unreduced={" + unreduced + "}")
                + (code == 17 ? ", reduction=" + op : "")
                + ">";
          }
          case 7, 16 -> {
            List<String> s = new ArrayList<>();
            for (MlirAttr a : t.attrList(c)) {
              s.add(a.toString().replaceFirst("^#sdy\\.sharding", ""));
            }
            yield "#sdy.sharding_per_value<[" + String.join(", ", s) + "]>";
          }
          case 11 -> "{" + join(t.attrList(c)) + "}";
          case 12 -> "[" + join(t.attrList(c)) + "]";
          default ->
              throw c.error(
                  "sdy attribute code "
                      + code
                      + " is not decoded by tfport (sharding rules and"
                      + " collectives)");
        });
  }

  private static String join(List<MlirAttr> attrs) {
    return attrs.stream().map(String::valueOf).collect(Collectors.joining(", "));
  }
}
