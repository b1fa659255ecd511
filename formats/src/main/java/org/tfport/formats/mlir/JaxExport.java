package org.tfport.formats.mlir;

import java.util.ArrayList;
import java.util.List;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;

/**
 * A {@code jax.export} serialization ({@code Exported.serialize()}): the FlatBuffer of JAX's {@code
 * jax/_src/export/serialization.fbs} (root table {@code Exported}) around the StableHLO portable
 * artifact. Only what running the module needs is read: names, platforms, the calling convention,
 * the abstract values of inputs and outputs, and the module bytes.
 *
 * @param serializationVersion the schema version JAX wrote (1 and up)
 * @param callingConventionVersion {@code mlir_module_serialization_version}: how the module's
 *     {@code main} takes its arguments (platform index, tokens), as XlaCallModule's version
 * @param inputs abstract values of the arguments (shapes may be symbolic, e.g. {@code "b"})
 * @param moduleKeptVarIdx which of the flattened arguments the module still takes
 */
public record JaxExport(
    int serializationVersion,
    String functionName,
    List<String> platforms,
    int callingConventionVersion,
    List<Aval> inputs,
    List<Aval> outputs,
    List<Integer> moduleKeptVarIdx,
    boolean usesGlobalConstants,
    List<String> orderedEffects,
    List<String> unorderedEffects,
    List<String> disabledChecks,
    long nrDevices,
    String jaxVersion,
    byte[] mlirModule) {

  /** An abstract value: dimension expressions (numbers or symbolic) and a JAX dtype name. */
  public record Aval(List<String> shape, String dtype) {}

  private static final String[] DTYPES = new String[30];

  static {
    String[] names = {
      "bool",
      "i8",
      "i16",
      "i32",
      "i64",
      "ui8",
      "ui16",
      "ui32",
      "ui64",
      "f16",
      "f32",
      "f64",
      "c64",
      "c128",
      "bf16",
      "i4",
      "ui4",
      "f8_e4m3b11fnuz",
      "f8_e4m3fn",
      "f8_e4m3fnuz",
      "f8_e5m2",
      "f8_e5m2fnuz",
      "f0",
      "f8_e4m3",
      "f8_e3m4",
      "f8_e8m0fnu",
      "f4_e2m1fn",
      "key_fry",
      "key_rbg",
      "key_unsafe_rbg"
    };
    System.arraycopy(names, 0, DTYPES, 0, names.length);
  }

  // Field ids of table Exported, in declaration order.
  private static final int SERIALIZATION_VERSION = 0;
  private static final int FUNCTION_NAME = 1;
  private static final int IN_AVALS = 3;
  private static final int OUT_AVALS = 5;
  private static final int NR_DEVICES_SHORT = 6;
  private static final int PLATFORMS = 9;
  private static final int ORDERED_EFFECTS = 10;
  private static final int UNORDERED_EFFECTS = 11;
  private static final int DISABLED_CHECKS = 12;
  private static final int MLIR_MODULE = 13;
  private static final int CALLING_CONVENTION = 14;
  private static final int KEPT_VAR_IDX = 15;
  private static final int USES_GLOBAL_CONSTANTS = 16;
  private static final int NR_DEVICES = 18;
  private static final int UNIQUE_AVALS = 19;
  private static final int IN_AVALS_IDXS = 22;
  private static final int OUT_AVALS_IDXS = 23;
  private static final int JAX_VERSION = 26;

  /**
   * Reads the wrapper; {@code fileName} names it in errors.
   *
   * @throws CorruptModelException when an offset or length points outside the file, or the module
   *     inside is not MLIR bytecode
   */
  public static JaxExport read(byte[] bytes, String fileName) {
    FlatTable t = FlatTable.root(bytes, fileName);
    byte[] module = t.bytes(MLIR_MODULE);
    if (module == null || !MlirBytecode.isBytecode(module)) {
      throw t.error(
          "mlir_module_serialized is " + (module == null ? "missing" : "not MLIR " + "bytecode"));
    }
    List<Aval> unique = new ArrayList<>();
    for (FlatTable a : t.tables(UNIQUE_AVALS)) {
      unique.add(aval(a));
    }
    List<Aval> in = avals(t, IN_AVALS, IN_AVALS_IDXS, unique);
    List<Aval> out = avals(t, OUT_AVALS, OUT_AVALS_IDXS, unique);
    List<String> disabled = new ArrayList<>();
    for (FlatTable d : t.tables(DISABLED_CHECKS)) {
      long kind = d.uint(0, 1, 0);
      String target = d.string(1);
      disabled.add(
          kind == 0 ? "platform" : kind == 1 ? "custom_call:" + target : "shape_assertions");
    }
    long nrDevices = t.uint(NR_DEVICES, 4, 0);
    if (nrDevices == 0) {
      nrDevices = t.sint(NR_DEVICES_SHORT, 2, 1);
    }
    return new JaxExport(
        (int) t.uint(SERIALIZATION_VERSION, 2, 0),
        t.string(FUNCTION_NAME),
        t.strings(PLATFORMS),
        (int) t.uint(CALLING_CONVENTION, 2, 0),
        in,
        out,
        t.uints(KEPT_VAR_IDX, 2).stream().map(Long::intValue).toList(),
        t.uint(USES_GLOBAL_CONSTANTS, 1, 0) != 0,
        effects(t, ORDERED_EFFECTS),
        effects(t, UNORDERED_EFFECTS),
        disabled,
        nrDevices,
        t.string(JAX_VERSION),
        module);
  }

  private static List<String> effects(FlatTable t, int id) {
    return t.tables(id).stream().map(e -> e.string(0)).toList();
  }

  private static List<Aval> avals(FlatTable t, int direct, int indices, List<Aval> unique) {
    List<Aval> out = new ArrayList<>();
    for (FlatTable a : t.tables(direct)) {
      out.add(aval(a));
    }
    if (out.isEmpty()) {
      for (long i : t.uints(indices, 4)) {
        if (i >= unique.size()) {
          throw t.error("abstract value index " + i + " out of range (have " + unique.size() + ")");
        }
        out.add(unique.get((int) i));
      }
    }
    return out;
  }

  private static Aval aval(FlatTable a) {
    long kind = a.uint(0, 1, 0);
    if (kind != 0) {
      throw new UnsupportedModelException(
          "jax.export abstract value of kind " + kind + " (a token) is not supported");
    }
    long d = a.uint(2, 1, 0);
    String dtype = d < DTYPES.length && DTYPES[(int) d] != null ? DTYPES[(int) d] : "dtype#" + d;
    return new Aval(a.strings(1), dtype);
  }

  /** The decoded module ({@code mlir_module_serialized}). */
  public MlirModule module(String fileName) {
    return MlirBytecode.read(mlirModule, fileName + " (mlir_module_serialized)");
  }
}
