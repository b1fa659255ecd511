package org.tfport.runtime.ops;

import java.util.Set;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Hash tables (vocabularies, label maps). A table lives in the session under its {@code
 * shared_name} (else its node's name), so a model initializer can fill it and every later run reads
 * it, as TensorFlow's resource manager and TF.js's {@code modelInitializer} do.
 */
public final class TableOps implements OpFamily {
  private static final Set<DType> KEY_TYPES = Set.of(DType.STRING, DType.INT64, DType.INT32);
  private static final Set<DType> VALUE_TYPES =
      Set.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64, DType.STRING, DType.BOOL);

  @Override
  public void register(KernelRegistry r) {
    r.reference(node -> table(node, false), "HashTable", "HashTableV2");
    r.reference(node -> table(node, true), "MutableHashTable", "MutableHashTableV2");
    r.reference(
        node ->
            (in, ctx) -> {
              table(in[0]).initialize(in[1], in[2]);
              return new Value[0];
            },
        "InitializeTable",
        "InitializeTableV2");
    r.reference(
        node ->
            (in, ctx) -> {
              table(in[0]).importValues(in[1], in[2]);
              return new Value[0];
            },
        "LookupTableImport",
        "LookupTableImportV2");
    r.reference(
        node ->
            (in, ctx) -> {
              table(in[0]).insert(in[1], in[2]);
              return new Value[0];
            },
        "LookupTableInsert",
        "LookupTableInsertV2");
    r.reference(
        node -> (in, ctx) -> new Value[] {table(in[0]).find(in[1], in[2])},
        "LookupTableFind",
        "LookupTableFindV2");
    r.reference(
        node -> (in, ctx) -> new Value[] {Value.longs(new long[0], table(in[0]).size())},
        "LookupTableSize",
        "LookupTableSizeV2");
  }

  static LookupTable table(Value v) {
    if (!v.isHandle() || !(v.data() instanceof LookupTable t)) {
      throw new KernelException("expected a table handle, got " + v);
    }
    return t;
  }

  private static Kernel table(BindContext node, boolean mutable) {
    DType keys = node.typeAttr("key_dtype");
    DType values = node.typeAttr("value_dtype");
    if (!KEY_TYPES.contains(keys)) {
      throw new KernelException(
          "tables with " + keys.jsName() + " keys are not supported (string, int64, int32)");
    }
    if (!VALUE_TYPES.contains(values)) {
      throw new KernelException("tables with " + values.jsName() + " values are not supported");
    }
    String shared = node.stringAttr("shared_name", "");
    String key = "table:" + (shared.isEmpty() ? node.node().name() : shared);
    return (in, ctx) -> {
      LookupTable t = ctx.sessionState(key, () -> new LookupTable(keys, values, mutable));
      if (t.keyType() != keys || t.valueType() != values || t.mutable() != mutable) {
        throw new KernelException(
            "the session already holds table '"
                + key.substring(6)
                + "' as "
                + t
                + ", not with "
                + keys.jsName()
                + " keys and "
                + values.jsName()
                + " values");
      }
      return new Value[] {Value.handle(t)};
    };
  }
}
