package org.tfport.formats.mlir;

import java.util.ArrayList;
import java.util.List;

/**
 * The resource sections: external resource groups (skipped) and dialect resources, whose blobs back
 * {@code dense_resource} constants. A handle in an attribute is an index into the dialect resources
 * in file order.
 */
final class ResourceTable {
  private static final int BLOB = 0;

  record Resource(String dialect, String key, int kind, ByteCursor data) {}

  private final List<Resource> resources;

  private ResourceTable(List<Resource> resources) {
    this.resources = resources;
  }

  static ResourceTable read(
      ByteCursor data, ByteCursor offsets, List<String> strings, List<String> dialects) {
    List<Resource> out = new ArrayList<>();
    if (data == null && offsets == null) {
      return new ResourceTable(out);
    }
    if (data == null || offsets == null) {
      ByteCursor c = data != null ? data : offsets;
      throw c.error("resource and resource offset sections must come together");
    }
    int external = offsets.count("external resource group count");
    for (int g = 0; g < external; g++) {
      offsets.index(strings.size(), "resource group key string");
      group(offsets, data, strings, null, null);
    }
    while (!offsets.atEnd()) {
      String dialect = dialects.get(offsets.index(dialects.size(), "resource dialect"));
      group(offsets, data, strings, dialect, out);
    }
    return new ResourceTable(out);
  }

  private static void group(
      ByteCursor offsets,
      ByteCursor data,
      List<String> strings,
      String dialect,
      List<Resource> out) {
    int n = offsets.count("resource count");
    for (int i = 0; i < n; i++) {
      String key = strings.get(offsets.index(strings.size(), "resource key string"));
      int size = (int) Math.min(Integer.MAX_VALUE, offsets.varInt());
      int kind = offsets.u8();
      if (size > data.remaining()) {
        throw data.error("resource '" + key + "' of " + size + " bytes exceeds the section");
      }
      ByteCursor entry = data.sub(size, "resource '" + key + "'");
      if (out != null) {
        out.add(new Resource(dialect, key, kind, entry));
      }
    }
  }

  /** The bytes of the blob resource at handle {@code index}. */
  byte[] blob(ByteCursor from, long index) {
    if (index < 0 || index >= resources.size()) {
      throw from.error(
          "resource handle " + index + " out of range (have " + resources.size() + ")");
    }
    Resource r = resources.get((int) index);
    if (r.kind() != BLOB) {
      throw from.error("resource '" + r.key() + "' is not a blob");
    }
    ByteCursor c =
        r.data()
            .at(
                r.data().pos(),
                r.data().pos() + r.data().remaining(),
                "resource '" + r.key() + "'");
    long alignment = c.varInt();
    int size = c.length("blob size");
    c.alignTo(alignment);
    return c.bytes(size);
  }

  String key(long index) {
    return resources.get((int) index).key();
  }
}
