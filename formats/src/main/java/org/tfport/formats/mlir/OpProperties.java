package org.tfport.formats.mlir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Native operation properties (bytecode version 5 and later). An op that was not registered when
 * written stores them as one dictionary attribute; a registered op stores its inherent attributes
 * in its own order, known here for the ops that JAX modules hold.
 */
final class OpProperties {
  private OpProperties() {}

  static List<MlirAttr.Named> read(
      ByteCursor c, String op, boolean registered, AttrTypeTable table) {
    List<MlirAttr.Named> out = new ArrayList<>();
    if (!registered) {
      MlirAttr a = table.attr(c, c.varInt());
      if (a instanceof MlirAttr.Dict d) {
        out.addAll(d.entries());
      } else {
        throw c.error("properties of unregistered " + op + " are not a dictionary: " + a);
      }
      return out;
    }
    switch (op) {
      case "builtin.module" -> {
        optional(c, table, "sym_name", out);
        optional(c, table, "sym_visibility", out);
      }
      // Shardy's ops (shardy ops.td); properties come sorted by attribute name.
      case "sdy.mesh" -> {
        required(c, table, "mesh", out);
        required(c, table, "sym_name", out);
      }
      case "sdy.sharding_constraint", "sdy.reshard" -> required(c, table, "sharding", out);
      case "sdy.manual_computation" -> {
        required(c, table, "in_shardings", out);
        required(c, table, "manual_axes", out);
        required(c, table, "out_shardings", out);
      }
      case "sdy.sharding_group" -> required(c, table, "group_id", out);
      case "sdy.constant" -> required(c, table, "value", out);
      case "sdy.named_computation" -> {
        optional(c, table, "in_shardings", out);
        required(c, table, "name", out);
        optional(c, table, "out_shardings", out);
      }
      default -> {
        List<String> names = op.startsWith("vhlo.") ? vhloAttributes(op.substring(5)) : null;
        if (names == null && op.startsWith("vhlo.")) {
          throw c.error(
              op
                  + " is not a VHLO operation tfport knows (the module was written by a"
                  + " newer StableHLO, or for a newer target version, than this reader's 1.x)");
        }
        if (names == null) {
          throw c.error(
              "properties of "
                  + op
                  + " are stored in its own encoding, which tfport does not"
                  + " decode");
        }
        for (String n : names) {
          required(c, table, n, out);
        }
      }
    }
    if (!c.atEnd()) {
      throw c.error("trailing bytes after the properties of " + op);
    }
    return out;
  }

  private static Map<String, List<String>> vhlo;

  /** VHLO op attribute names in the order of their encoded properties: sorted by name. */
  private static synchronized List<String> vhloAttributes(String op) {
    if (vhlo == null) {
      Map<String, List<String>> m = new HashMap<>();
      try (InputStream in = OpProperties.class.getResourceAsStream("vhlo-op-properties.txt")) {
        if (in == null) {
          throw new IllegalStateException("vhlo-op-properties.txt missing from the tfport jar");
        }
        for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
          if (line.isBlank() || line.startsWith("#")) {
            continue;
          }
          String[] f = line.strip().split(" ");
          m.put(f[0], List.of(f).subList(1, f.length));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      vhlo = m;
    }
    return vhlo.get(op);
  }

  private static void optional(
      ByteCursor c, AttrTypeTable table, String name, List<MlirAttr.Named> out) {
    long v = c.varInt();
    if ((v & 1) != 0) {
      out.add(new MlirAttr.Named(name, table.attr(c, v >>> 1)));
    }
  }

  private static void required(
      ByteCursor c, AttrTypeTable table, String name, List<MlirAttr.Named> out) {
    out.add(new MlirAttr.Named(name, table.attr(c, c.varInt())));
  }
}
