package org.tfport.formats.mlir;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Reads the MLIR bytecode container (mlir.llvm.org "MLIR Bytecode Format", versions 0 to 6): the
 * header, the string, dialect, attribute/type, resource and properties sections, and the IR section
 * with its regions, blocks and value numbering. Attribute and type payloads are decoded by {@link
 * AttrTypeTable}.
 */
final class BytecodeReader {
  static final int MAX_VERSION = 6;
  private static final String[] SECTIONS = {
    "string",
    "dialect",
    "attribute/type",
    "attribute/type offset",
    "IR",
    "resource",
    "resource offset",
    "dialect version",
    "properties"
  };
  private static final int STRING = 0;
  private static final int DIALECT = 1;
  private static final int ATTR_TYPE = 2;
  private static final int ATTR_TYPE_OFFSET = 3;
  private static final int IR = 4;
  private static final int RESOURCE = 5;
  private static final int RESOURCE_OFFSET = 6;
  private static final int DIALECT_VERSION = 7;
  private static final int PROPERTIES = 8;

  private static final int HAS_ATTRS = 0x01;
  private static final int HAS_RESULTS = 0x02;
  private static final int HAS_OPERANDS = 0x04;
  private static final int HAS_SUCCESSORS = 0x08;
  private static final int HAS_INLINE_REGIONS = 0x10;
  private static final int HAS_USE_LIST_ORDERS = 0x20;
  private static final int HAS_PROPERTIES = 0x40;

  private final byte[] bytes;
  private final String file;
  private long version;
  private final List<String> strings = new ArrayList<>();
  private final List<String> dialects = new ArrayList<>();
  private final List<OpName> opNames = new ArrayList<>();
  private final List<ByteCursor> properties = new ArrayList<>();
  private AttrTypeTable table;
  private final Deque<Scope> scopes = new ArrayDeque<>();
  private int nextValueId;
  private int unresolved;

  record OpName(String dialect, String name, Boolean registered) {
    String full() {
      return name.isEmpty() ? dialect : dialect + "." + name;
    }
  }

  /** Values visible in one isolated-from-above region, indexed as the writer numbered them. */
  private static final class Scope {
    final List<MlirValue> values = new ArrayList<>();
    final Deque<int[]> next = new ArrayDeque<>();
  }

  private BytecodeReader(byte[] bytes, String file) {
    this.bytes = bytes;
    this.file = file;
  }

  static MlirModule read(byte[] bytes, String file) {
    return new BytecodeReader(bytes, file).read();
  }

  private MlirModule read() {
    ByteCursor c = new ByteCursor(bytes, 0, bytes.length, file, "header");
    if (bytes.length < 4
        || bytes[0] != 'M'
        || bytes[1] != 'L'
        || (bytes[2] & 0xFF) != 0xEF
        || bytes[3] != 'R') {
      throw c.error("missing the magic number ML\\xEFR");
    }
    c.bytes(4);
    version = c.varInt();
    if (version < 0 || version > MAX_VERSION) {
      throw c.error(
          "bytecode version "
              + version
              + " is not supported (this reader knows 0 to "
              + MAX_VERSION
              + ")");
    }
    String producer = c.nullTerminated();
    ByteCursor[] sections = new ByteCursor[SECTIONS.length];
    while (!c.atEnd()) {
      int at = c.pos();
      ByteCursor.Section s = c.section(SECTIONS);
      if (sections[s.id()] != null) {
        throw new ByteCursor(bytes, at, bytes.length, file, "header")
            .error("second " + SECTIONS[s.id()] + " section");
      }
      sections[s.id()] = s.data();
    }
    for (int id : new int[] {STRING, DIALECT, ATTR_TYPE, ATTR_TYPE_OFFSET, IR}) {
      if (sections[id] == null) {
        throw c.error("no " + SECTIONS[id] + " section");
      }
    }
    readStrings(sections[STRING]);
    if (sections[PROPERTIES] != null) {
      readProperties(sections[PROPERTIES]);
    }
    readDialects(sections[DIALECT]);
    ResourceTable resources =
        ResourceTable.read(sections[RESOURCE], sections[RESOURCE_OFFSET], strings, dialects);
    table =
        new AttrTypeTable(
            sections[ATTR_TYPE], sections[ATTR_TYPE_OFFSET], dialects, strings, resources);
    List<MlirOp> ops = readIr(sections[IR]);
    return new MlirModule(version, producer, List.copyOf(dialects), ops);
  }

  private void readStrings(ByteCursor c) {
    int n = c.count("string count");
    long[] sizes = new long[n];
    for (int i = n - 1; i >= 0; i--) {
      sizes[i] = c.varInt();
    }
    for (int i = 0; i < n; i++) {
      if (sizes[i] < 1 || sizes[i] > c.remaining()) {
        throw c.error("string " + i + " of " + sizes[i] + " bytes exceeds the section");
      }
      ByteCursor s = c.sub((int) sizes[i], "string section");
      strings.add(s.nullTerminated());
      if (!s.atEnd()) {
        throw s.error("string " + i + " has bytes after its terminating zero");
      }
    }
    if (!c.atEnd()) {
      throw c.error("trailing bytes after the strings");
    }
  }

  private void readProperties(ByteCursor c) {
    if (c.atEnd()) {
      return;
    }
    int n = c.count("properties count");
    for (int i = 0; i < n; i++) {
      int size = c.length("properties entry size");
      properties.add(c.sub(size, "properties entry " + i));
    }
    if (!c.atEnd()) {
      throw c.error("trailing bytes after the properties entries");
    }
  }

  private void readDialects(ByteCursor c) {
    int n = c.count("dialect count");
    for (int i = 0; i < n; i++) {
      if (version < 1) {
        dialects.add(strings.get(c.index(strings.size(), "dialect name string")));
        continue;
      }
      long v = c.varInt();
      long nameIdx = v >>> 1;
      if (nameIdx >= strings.size()) {
        throw c.error("dialect name string " + nameIdx + " out of range");
      }
      dialects.add(strings.get((int) nameIdx));
      if ((v & 1) != 0) {
        ByteCursor.Section s = c.section(SECTIONS);
        if (s.id() != DIALECT_VERSION) {
          throw c.error("expected a dialect version section, found " + SECTIONS[s.id()]);
        }
      }
    }
    if (version >= 4) {
      c.varInt(); // the total number of op names, a reservation hint
    }
    while (!c.atEnd()) {
      String dialect = dialects.get(c.index(dialects.size(), "dialect"));
      int count = c.count("op name count");
      for (int i = 0; i < count; i++) {
        if (version < 5) {
          opNames.add(new OpName(dialect, strings.get(c.index(strings.size(), "op name")), null));
        } else {
          long v = c.varInt();
          if ((v >>> 1) >= strings.size()) {
            throw c.error("op name string " + (v >>> 1) + " out of range");
          }
          opNames.add(new OpName(dialect, strings.get((int) (v >>> 1)), (v & 1) != 0));
        }
      }
    }
  }

  private List<MlirOp> readIr(ByteCursor c) {
    Scope top = new Scope();
    scopes.push(top);
    top.next.push(new int[] {0});
    List<MlirOp> ops = readBlock(c, false).operations();
    if (!c.atEnd()) {
      throw c.error("trailing bytes after the top-level operations");
    }
    if (unresolved > 0) {
      throw c.error(unresolved + " operand(s) refer to values that are never defined");
    }
    return ops;
  }

  private List<MlirBlock> readRegion(ByteCursor c) {
    int numBlocks = c.count("block count");
    if (numBlocks == 0) {
      return List.of();
    }
    long numValues = c.varInt();
    if (numValues < 0 || numValues > c.remaining() * 8L + 64) {
      throw c.error("region value count " + numValues + " is not plausible");
    }
    Scope scope = scopes.peek();
    scope.next.push(new int[] {scope.values.size()});
    for (long i = 0; i < numValues; i++) {
      scope.values.add(null);
    }
    List<MlirBlock> blocks = new ArrayList<>();
    for (int b = 0; b < numBlocks; b++) {
      blocks.add(readBlock(c, true));
    }
    for (long i = 0; i < numValues; i++) {
      scope.values.remove(scope.values.size() - 1);
    }
    scope.next.pop();
    return blocks;
  }

  private MlirBlock readBlock(ByteCursor c, boolean inRegion) {
    long header = c.varInt();
    long numOps = header >>> 1;
    boolean hasArgs = (header & 1) != 0;
    if (numOps > c.remaining()) {
      throw c.error("block claims " + numOps + " operations");
    }
    List<MlirValue> args = new ArrayList<>();
    if (hasArgs) {
      int numArgs = c.count("block argument count");
      for (int i = 0; i < numArgs; i++) {
        MlirType type;
        if (version >= 4) {
          long v = c.varInt();
          type = table.type(c, v >>> 1);
          if ((v & 1) != 0) {
            table.attr(c, c.varInt());
          }
        } else {
          type = table.type(c, c.varInt());
          table.attr(c, c.varInt());
        }
        MlirValue v = define(c);
        v.define(nextValueId++, type, 0, 1, true);
        args.add(v);
      }
      if (version >= 3 && c.u8() != 0) {
        skipUseListOrders(c, numArgs);
      }
    }
    List<MlirOp> ops = new ArrayList<>();
    for (long i = 0; i < numOps; i++) {
      ops.add(readOp(c));
    }
    return new MlirBlock(List.copyOf(args), ops);
  }

  private MlirOp readOp(ByteCursor c) {
    int at = c.pos();
    OpName opName = opNames.get(c.index(opNames.size(), "operation name"));
    String name = opName.full();
    int mask = c.u8();
    MlirAttr location = table.attr(c, c.varInt());
    List<MlirAttr.Named> attrs = new ArrayList<>();
    if ((mask & HAS_ATTRS) != 0) {
      MlirAttr dict = table.attr(c, c.varInt());
      if (!(dict instanceof MlirAttr.Dict d)) {
        throw c.error("attributes of " + name + " are not a dictionary: " + dict);
      }
      attrs.addAll(d.entries());
    }
    if ((mask & HAS_PROPERTIES) != 0) {
      if (opName.registered() == null) {
        throw c.error(name + " has properties in bytecode version " + version);
      }
      int idx = c.index(properties.size(), "properties entry");
      ByteCursor p = properties.get(idx);
      ByteCursor blob = p.at(p.pos(), p.pos() + p.remaining(), p.section());
      attrs.addAll(OpProperties.read(blob, name, opName.registered(), table));
    }
    List<MlirType> resultTypes = new ArrayList<>();
    if ((mask & HAS_RESULTS) != 0) {
      int n = c.count("result count");
      for (int i = 0; i < n; i++) {
        resultTypes.add(table.type(c, c.varInt()));
      }
    }
    List<MlirValue> operands = new ArrayList<>();
    if ((mask & HAS_OPERANDS) != 0) {
      int n = c.count("operand count");
      for (int i = 0; i < n; i++) {
        operands.add(operand(c));
      }
    }
    List<Integer> successors = new ArrayList<>();
    if ((mask & HAS_SUCCESSORS) != 0) {
      int n = c.count("successor count");
      for (int i = 0; i < n; i++) {
        successors.add((int) c.varInt());
      }
    }
    if (version >= 3 && (mask & HAS_USE_LIST_ORDERS) != 0) {
      skipUseListOrders(c, resultTypes.size());
    }
    List<MlirValue> results = new ArrayList<>();
    for (int i = 0; i < resultTypes.size(); i++) {
      MlirValue v = define(c);
      v.define(nextValueId++, resultTypes.get(i), i, resultTypes.size(), false);
      results.add(v);
    }
    List<List<MlirBlock>> regions = new ArrayList<>();
    if ((mask & HAS_INLINE_REGIONS) != 0) {
      long v = c.varInt();
      long numRegions = v >>> 1;
      boolean isolated = (v & 1) != 0;
      if (numRegions > c.remaining()) {
        throw c.error(name + " claims " + numRegions + " regions");
      }
      ByteCursor rc = c;
      if (isolated && version >= 2) {
        ByteCursor.Section s = c.section(SECTIONS);
        if (s.id() != IR) {
          throw c.error(
              "regions of " + name + " should be an IR section, found " + SECTIONS[s.id()]);
        }
        rc = s.data();
      }
      if (isolated) {
        scopes.push(new Scope());
      }
      for (long i = 0; i < numRegions; i++) {
        regions.add(readRegion(rc));
      }
      if (isolated) {
        scopes.pop();
        if (rc != c && !rc.atEnd()) {
          throw rc.error("trailing bytes after the regions of " + name);
        }
      }
    }
    if (successors.stream().anyMatch(s -> s < 0)) {
      throw new ByteCursor(bytes, at, bytes.length, file, "IR section")
          .error("negative successor in " + name);
    }
    return new MlirOp(name, operands, results, attrs, regions, successors, location);
  }

  private MlirValue operand(ByteCursor c) {
    Scope scope = scopes.peek();
    int idx = c.index(scope.values.size(), "value");
    MlirValue v = scope.values.get(idx);
    if (v == null) {
      v = new MlirValue();
      scope.values.set(idx, v);
      unresolved++;
    }
    return v;
  }

  /** The slot for the next value the current region defines; fills a forward reference. */
  private MlirValue define(ByteCursor c) {
    Scope scope = scopes.peek();
    int[] next = scope.next.peek();
    if (next == null || next[0] >= scope.values.size()) {
      throw c.error("more values defined than the region declared");
    }
    MlirValue v = scope.values.get(next[0]);
    if (v == null) {
      v = new MlirValue();
      scope.values.set(next[0], v);
    } else if (!v.isDefined()) {
      unresolved--;
    } else {
      throw c.error("value " + next[0] + " defined twice");
    }
    next[0]++;
    return v;
  }

  /** Use-list orders only matter to in-memory use chains, not to the program: read past them. */
  private static void skipUseListOrders(ByteCursor c, int rangeSize) {
    long n = rangeSize > 1 ? c.varInt() : 1;
    if (n > c.remaining()) {
      throw c.error("use-list order count " + n);
    }
    for (long i = 0; i < n; i++) {
      if (rangeSize > 1) {
        c.varInt();
      }
      long m = c.varInt() >>> 1;
      if (m > c.remaining()) {
        throw c.error("use-list length " + m);
      }
      for (long k = 0; k < m; k++) {
        c.varInt();
      }
    }
  }
}
