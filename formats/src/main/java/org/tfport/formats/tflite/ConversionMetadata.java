package org.tfport.formats.tflite;

import com.google.flatbuffers.FlatBufferBuilder;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code CONVERSION_METADATA} blob the Python converter stores (schema {@code
 * conversion_metadata.fbs}): a FlatBuffer without file identifier, root {@code
 * ConversionMetadata{environment, options}}.
 *
 * @param apiVersion 2 for the TF2 converter API, 1 for V1
 * @param modelType 0 NONE, 1 TF_SAVED_MODEL, 2 KERAS_MODEL, 3 TF_CONCRETE_FUNCTIONS, 4
 *     TF_GRAPH_DEF, 5 TF_SESSION, 6 JAX, 7 PYTORCH
 * @param modelHash 0 when unset (newer field)
 * @param optimizationModes 1001 PTQ_FLOAT16, 1002 PTQ_DYNAMIC_RANGE, 1003 PTQ_FULL_INTEGER, 1004
 *     PTQ_INT16, 2000 QUANTIZATION_AWARE_TRAINING, 3001–3003 sparsity
 */
public record ConversionMetadata(
    String tensorflowVersion,
    long apiVersion,
    int modelType,
    long modelHash,
    List<Integer> optimizationModes,
    boolean allowCustomOps,
    boolean enableSelectTfOps,
    boolean forceSelectTfOps,
    List<List<Long>> sparsityBlockSizes) {
  public static final int MODEL_TYPE_TF_SAVED_MODEL = 1;
  public static final int MODEL_TYPE_KERAS_MODEL = 2;
  public static final int MODEL_TYPE_TF_GRAPH_DEF = 4;
  public static final int PTQ_FLOAT16 = 1001;
  public static final int PTQ_DYNAMIC_RANGE = 1002;
  public static final int PTQ_FULL_INTEGER = 1003;
  public static final int PTQ_INT16 = 1004;

  public ConversionMetadata {
    optimizationModes = List.copyOf(optimizationModes);
    sparsityBlockSizes = sparsityBlockSizes.stream().map(List::copyOf).toList();
  }

  /** Environment and modes only. */
  public ConversionMetadata(
      String tensorflowVersion, int modelType, List<Integer> optimizationModes) {
    this(tensorflowVersion, 2, modelType, 0, optimizationModes, false, false, false, List.of());
  }

  /** The FlatBuffer bytes. */
  public byte[] encode() {
    FlatBufferBuilder b = new FlatBufferBuilder(128);
    int version = tensorflowVersion == null ? 0 : b.createString(tensorflowVersion);
    b.startTable(4);
    b.addLong(3, modelHash, 0);
    if (version != 0) {
      b.addOffset(0, version, 0);
    }
    b.addInt(1, (int) apiVersion, 0);
    b.addInt(2, modelType, 0);
    int env = b.endTable();

    int modes = 0;
    if (!optimizationModes.isEmpty()) {
      b.startVector(4, optimizationModes.size(), 4);
      for (int i = optimizationModes.size() - 1; i >= 0; i--) {
        b.addInt(optimizationModes.get(i));
      }
      modes = b.endVector();
    }
    int blocks = 0;
    if (!sparsityBlockSizes.isEmpty()) {
      int[] tables = new int[sparsityBlockSizes.size()];
      for (int i = 0; i < tables.length; i++) {
        List<Long> v = sparsityBlockSizes.get(i);
        b.startVector(4, v.size(), 4);
        for (int j = v.size() - 1; j >= 0; j--) {
          b.addInt((int) (long) v.get(j));
        }
        int vec = b.endVector();
        b.startTable(1);
        b.addOffset(0, vec, 0);
        tables[i] = b.endTable();
      }
      blocks = b.createVectorOfTables(tables);
    }
    b.startTable(5);
    if (modes != 0) {
      b.addOffset(0, modes, 0);
    }
    if (blocks != 0) {
      b.addOffset(4, blocks, 0);
    }
    b.addBoolean(1, allowCustomOps, false);
    b.addBoolean(2, enableSelectTfOps, false);
    b.addBoolean(3, forceSelectTfOps, false);
    int options = b.endTable();

    b.startTable(2);
    b.addOffset(0, env, 0);
    b.addOffset(1, options, 0);
    b.finish(b.endTable());
    return b.sizedByteArray();
  }

  /**
   * Parses the blob.
   *
   * @param where names the file for error messages
   * @throws org.tfport.core.TfportException.CorruptModelException when the bytes are not a valid
   *     table
   */
  public static ConversionMetadata decode(ByteBuffer data, String where) {
    FbReader r = new FbReader(data, where);
    FbReader.Table root = r.root("CONVERSION_METADATA");
    FbReader.Table env = root.table(0, "environment", "CONVERSION_METADATA environment");
    FbReader.Table opt = root.table(1, "options", "CONVERSION_METADATA options");
    String tfVersion = env == null ? null : env.string(0, "tensorflow_version");
    long api = env == null ? 0 : env.u32(1, 0, "api_version");
    int type = env == null ? 0 : env.i32(2, 0, "model_type");
    long hash = env == null ? 0 : env.i64(3, 0, "model_hash");
    List<Integer> modes = new ArrayList<>();
    List<List<Long>> blocks = new ArrayList<>();
    boolean custom = false;
    boolean select = false;
    boolean force = false;
    if (opt != null) {
      int[] m = opt.ints(0, "model_optimization_modes");
      if (m != null) {
        for (int x : m) {
          modes.add(x);
        }
      }
      custom = opt.bool(1, false, "allow_custom_ops");
      select = opt.bool(2, false, "enable_select_tf_ops");
      force = opt.bool(3, false, "force_select_tf_ops");
      FbReader.Vec v = opt.tables(4, "sparsity_block_sizes");
      for (int i = 0; v != null && i < v.length(); i++) {
        FbReader.Table t =
            opt.tableAt(v, i, "sparsity_block_sizes", "CONVERSION_METADATA sparsity_block_sizes");
        int[] vals = t.ints(0, "values");
        List<Long> l = new ArrayList<>();
        for (int j = 0; vals != null && j < vals.length; j++) {
          l.add(Integer.toUnsignedLong(vals[j]));
        }
        blocks.add(l);
      }
    }
    return new ConversionMetadata(tfVersion, api, type, hash, modes, custom, select, force, blocks);
  }
}
