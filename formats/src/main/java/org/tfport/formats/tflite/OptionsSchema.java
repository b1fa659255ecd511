package org.tfport.formats.tflite;

import com.google.flatbuffers.FlatBufferBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The layout of every member of the {@code BuiltinOptions} union (types 1–126; the union is frozen
 * there, newer options go to {@code BuiltinOptions2}), restated from the current schema.fbs so that
 * any options table can be read into, and written back from, a name → value map without the
 * generated classes (which trust their offsets, lack the fields added after schema 0.4.4, and would
 * need one code path per table).
 *
 * <p>Each entry is {@code Name field:kind[=default] ...} in field-id order; {@code _} marks a
 * deprecated id that is skipped. Kinds: {@code z} bool, {@code b} byte (enums), {@code i} int32,
 * {@code u} uint32, {@code l} int64, {@code f} float32, {@code I} [int32], {@code F} [float32],
 * {@code s} string. Values in the map: Boolean, Integer (z/b/i), Long (u/l), Float, List&lt;Integer&gt;,
 * List&lt;Float&gt;, String; vectors and strings are null when absent.
 */
final class OptionsSchema {
  enum Kind { BOOL, BYTE, INT, UINT, LONG, FLOAT, INTS, FLOATS, STRING }

  record Field(String name, int id, Kind kind, long def) {}

  record Desc(int type, String name, List<Field> fields) {}

  private static final String[] TABLES = {
      "Conv2DOptions padding:b stride_w:i stride_h:i fused_activation_function:b dilation_w_factor:i=1"
          + " dilation_h_factor:i=1 quantized_bias_type:b",
      "DepthwiseConv2DOptions padding:b stride_w:i stride_h:i depth_multiplier:i fused_activation_function:b"
          + " dilation_w_factor:i=1 dilation_h_factor:i=1",
      "ConcatEmbeddingsOptions num_channels:i num_columns_per_channel:I embedding_dim_per_channel:I",
      "LSHProjectionOptions type:b",
      "Pool2DOptions padding:b stride_w:i stride_h:i filter_width:i filter_height:i fused_activation_function:b",
      "SVDFOptions rank:i fused_activation_function:b asymmetric_quantize_inputs:z",
      "RNNOptions fused_activation_function:b asymmetric_quantize_inputs:z",
      "FullyConnectedOptions fused_activation_function:b weights_format:b keep_num_dims:z"
          + " asymmetric_quantize_inputs:z quantized_bias_type:b",
      "SoftmaxOptions beta:f",
      "ConcatenationOptions axis:i fused_activation_function:b",
      "AddOptions fused_activation_function:b pot_scale_int16:z=1",
      "L2NormOptions fused_activation_function:b",
      "LocalResponseNormalizationOptions radius:i bias:f alpha:f beta:f",
      "LSTMOptions fused_activation_function:b cell_clip:f proj_clip:f kernel_type:b asymmetric_quantize_inputs:z",
      "ResizeBilinearOptions _ _ align_corners:z half_pixel_centers:z",
      "CallOptions subgraph:u",
      "ReshapeOptions new_shape:I",
      "SkipGramOptions ngram_size:i max_skip_size:i include_all_ngrams:z",
      "SpaceToDepthOptions block_size:i",
      "EmbeddingLookupSparseOptions combiner:b",
      "MulOptions fused_activation_function:b",
      "PadOptions",
      "GatherOptions axis:i batch_dims:i",
      "BatchToSpaceNDOptions",
      "SpaceToBatchNDOptions",
      "TransposeOptions",
      "ReducerOptions keep_dims:z",
      "SubOptions fused_activation_function:b pot_scale_int16:z=1",
      "DivOptions fused_activation_function:b",
      "SqueezeOptions squeeze_dims:I",
      "SequenceRNNOptions time_major:z fused_activation_function:b asymmetric_quantize_inputs:z",
      "StridedSliceOptions begin_mask:i end_mask:i ellipsis_mask:i new_axis_mask:i shrink_axis_mask:i offset:z",
      "ExpOptions",
      "TopKV2Options",
      "SplitOptions num_splits:i",
      "LogSoftmaxOptions",
      "CastOptions in_data_type:b out_data_type:b",
      "DequantizeOptions",
      "MaximumMinimumOptions",
      "ArgMaxOptions output_type:b",
      "LessOptions",
      "NegOptions",
      "PadV2Options",
      "GreaterOptions",
      "GreaterEqualOptions",
      "LessEqualOptions",
      "SelectOptions",
      "SliceOptions",
      "TransposeConvOptions padding:b stride_w:i stride_h:i fused_activation_function:b quantized_bias_type:b",
      "SparseToDenseOptions validate_indices:z",
      "TileOptions",
      "ExpandDimsOptions",
      "EqualOptions",
      "NotEqualOptions",
      "ShapeOptions out_type:b",
      "PowOptions",
      "ArgMinOptions output_type:b",
      "FakeQuantOptions min:f max:f num_bits:i narrow_range:z",
      "PackOptions values_count:i axis:i",
      "LogicalOrOptions",
      "OneHotOptions axis:i",
      "LogicalAndOptions",
      "LogicalNotOptions",
      "UnpackOptions num:i axis:i",
      "FloorDivOptions",
      "SquareOptions",
      "ZerosLikeOptions",
      "FillOptions",
      "BidirectionalSequenceLSTMOptions fused_activation_function:b cell_clip:f proj_clip:f merge_outputs:z"
          + " time_major:z=1 asymmetric_quantize_inputs:z",
      "BidirectionalSequenceRNNOptions time_major:z fused_activation_function:b merge_outputs:z"
          + " asymmetric_quantize_inputs:z",
      "UnidirectionalSequenceLSTMOptions fused_activation_function:b cell_clip:f proj_clip:f time_major:z"
          + " asymmetric_quantize_inputs:z diagonal_recurrent_tensors:z",
      "FloorModOptions",
      "RangeOptions",
      "ResizeNearestNeighborOptions align_corners:z half_pixel_centers:z",
      "LeakyReluOptions alpha:f",
      "SquaredDifferenceOptions",
      "MirrorPadOptions mode:b",
      "AbsOptions",
      "SplitVOptions num_splits:i",
      "UniqueOptions idx_out_type:b=2",
      "ReverseV2Options",
      "AddNOptions",
      "GatherNdOptions",
      "CosOptions",
      "WhereOptions",
      "RankOptions",
      "ReverseSequenceOptions seq_dim:i batch_dim:i",
      "MatrixDiagOptions",
      "QuantizeOptions",
      "MatrixSetDiagOptions",
      "HardSwishOptions",
      "IfOptions then_subgraph_index:i else_subgraph_index:i",
      "WhileOptions cond_subgraph_index:i body_subgraph_index:i",
      "DepthToSpaceOptions block_size:i",
      "NonMaxSuppressionV4Options",
      "NonMaxSuppressionV5Options",
      "ScatterNdOptions",
      "SelectV2Options",
      "DensifyOptions",
      "SegmentSumOptions",
      "BatchMatMulOptions adj_x:z adj_y:z asymmetric_quantize_inputs:z",
      "CumsumOptions exclusive:z reverse:z",
      "CallOnceOptions init_subgraph_index:i",
      "BroadcastToOptions",
      "Rfft2dOptions",
      "Conv3DOptions padding:b stride_d:i stride_w:i stride_h:i fused_activation_function:b dilation_d_factor:i=1"
          + " dilation_w_factor:i=1 dilation_h_factor:i=1",
      "HashtableOptions table_id:i key_dtype:b value_dtype:b",
      "HashtableFindOptions",
      "HashtableImportOptions",
      "HashtableSizeOptions",
      "VarHandleOptions container:s shared_name:s",
      "ReadVariableOptions",
      "AssignVariableOptions",
      "RandomOptions seed:l seed2:l",
      "BucketizeOptions boundaries:F",
      "GeluOptions approximate:z",
      "DynamicUpdateSliceOptions",
      "UnsortedSegmentProdOptions",
      "UnsortedSegmentMaxOptions",
      "UnsortedSegmentMinOptions",
      "UnsortedSegmentSumOptions",
      "ATan2Options",
      "SignOptions",
      "BitcastOptions",
      "BitwiseXorOptions",
      "RightShiftOptions",
  };

  private static final Desc[] DESCS = new Desc[TABLES.length + 1];

  static {
    for (int t = 1; t <= TABLES.length; t++) {
      String[] parts = TABLES[t - 1].split(" ");
      List<Field> fields = new ArrayList<>();
      for (int id = 1; id < parts.length; id++) {
        String p = parts[id];
        if (p.equals("_")) {
          continue;
        }
        int colon = p.indexOf(':');
        int eq = p.indexOf('=');
        String name = p.substring(0, colon);
        char k = p.charAt(colon + 1);
        long def = eq < 0 ? 0 : Long.parseLong(p.substring(eq + 1));
        Kind kind = switch (k) {
          case 'z' -> Kind.BOOL;
          case 'b' -> Kind.BYTE;
          case 'i' -> Kind.INT;
          case 'u' -> Kind.UINT;
          case 'l' -> Kind.LONG;
          case 'f' -> Kind.FLOAT;
          case 'I' -> Kind.INTS;
          case 'F' -> Kind.FLOATS;
          case 's' -> Kind.STRING;
          default -> throw new AssertionError(p);
        };
        fields.add(new Field(name, id - 1, kind, def));
      }
      DESCS[t] = new Desc(t, parts[0], List.copyOf(fields));
    }
  }

  private OptionsSchema() {}

  /** The highest union type id of {@code BuiltinOptions}. */
  static int maxType() {
    return TABLES.length;
  }

  /** The table layout of union member {@code type}, or null when the type is not in the union. */
  static Desc desc(int type) {
    return type >= 1 && type < DESCS.length ? DESCS[type] : null;
  }

  /** The options table's name ({@code Conv2DOptions}), or {@code BuiltinOptions#<n>}. */
  static String name(int type) {
    Desc d = desc(type);
    return d == null ? "BuiltinOptions#" + type : d.name();
  }

  /** The map a table with every field absent reads as. */
  static Map<String, Object> defaults(int type) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Field f : desc(type).fields()) {
      m.put(f.name(), defaultValue(f));
    }
    return Collections.unmodifiableMap(m);
  }

  private static Object defaultValue(Field f) {
    return switch (f.kind()) {
      case BOOL -> f.def() != 0;
      case BYTE, INT -> (int) f.def();
      case UINT, LONG -> f.def();
      case FLOAT -> (float) f.def();
      case INTS, FLOATS, STRING -> null;
    };
  }

  static Map<String, Object> read(FbReader.Table t, Desc d) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Field f : d.fields()) {
      String n = f.name();
      Object v = switch (f.kind()) {
        case BOOL -> t.bool(f.id(), f.def() != 0, n);
        case BYTE -> t.i8(f.id(), (int) f.def(), n);
        case INT -> t.i32(f.id(), (int) f.def(), n);
        case UINT -> t.u32(f.id(), f.def(), n);
        case LONG -> t.i64(f.id(), f.def(), n);
        case FLOAT -> t.f32(f.id(), f.def(), n);
        case INTS -> boxed(t.ints(f.id(), n));
        case FLOATS -> {
          float[] a = t.floats(f.id(), n);
          if (a == null) {
            yield null;
          }
          List<Float> l = new ArrayList<>(a.length);
          for (float x : a) {
            l.add(x);
          }
          yield List.copyOf(l);
        }
        case STRING -> t.string(f.id(), n);
      };
      m.put(n, v);
    }
    return Collections.unmodifiableMap(m);
  }

  private static List<Integer> boxed(int[] a) {
    return a == null ? null : Arrays.stream(a).boxed().toList();
  }

  /**
   * Checks that {@code values} has exactly the fields of {@code type} with values of the right Java
   * types and returns an unmodifiable copy in field order.
   */
  static Map<String, Object> normalize(int type, Map<String, Object> values) {
    Desc d = desc(type);
    if (d == null) {
      throw new IllegalArgumentException("builtin options type " + type + " is not in the BuiltinOptions union (1.."
          + maxType() + ")");
    }
    Map<String, Object> m = new LinkedHashMap<>();
    for (Field f : d.fields()) {
      Object v = values.containsKey(f.name()) ? values.get(f.name()) : defaultValue(f);
      boolean ok = switch (f.kind()) {
        case BOOL -> v instanceof Boolean;
        case BYTE -> v instanceof Integer i && i >= Byte.MIN_VALUE && i <= Byte.MAX_VALUE;
        case INT -> v instanceof Integer;
        case UINT -> v instanceof Long l && l >= 0 && l <= 0xFFFFFFFFL;
        case LONG -> v instanceof Long;
        case FLOAT -> v instanceof Float;
        case INTS -> v == null || v instanceof List<?> l && l.stream().allMatch(Integer.class::isInstance);
        case FLOATS -> v == null || v instanceof List<?> l && l.stream().allMatch(Float.class::isInstance);
        case STRING -> v == null || v instanceof String;
      };
      if (!ok) {
        throw new IllegalArgumentException(d.name() + "." + f.name() + " must be a " + f.kind() + " value, got "
            + (v == null ? "null" : v.getClass().getSimpleName() + " " + v));
      }
      m.put(f.name(), v instanceof List<?> l ? List.copyOf(l) : v);
    }
    for (String k : values.keySet()) {
      if (!m.containsKey(k)) {
        throw new IllegalArgumentException(d.name() + " has no field '" + k + "'; fields: " + m.keySet());
      }
    }
    return Collections.unmodifiableMap(m);
  }

  /** Writes the table; {@code values} must have passed {@link #normalize}. */
  @SuppressWarnings("unchecked")
  static int write(FlatBufferBuilder b, int type, Map<String, Object> values) {
    Desc d = desc(type);
    int[] offsets = new int[d.fields().size()];
    // Offsets (vectors, strings) must be built before the table is started.
    for (int i = 0; i < offsets.length; i++) {
      Field f = d.fields().get(i);
      Object v = values.get(f.name());
      if (v == null) {
        continue;
      }
      switch (f.kind()) {
        case INTS -> {
          List<Integer> l = (List<Integer>) v;
          b.startVector(4, l.size(), 4);
          for (int j = l.size() - 1; j >= 0; j--) {
            b.addInt(l.get(j));
          }
          offsets[i] = b.endVector();
        }
        case FLOATS -> {
          List<Float> l = (List<Float>) v;
          b.startVector(4, l.size(), 4);
          for (int j = l.size() - 1; j >= 0; j--) {
            b.addFloat(l.get(j));
          }
          offsets[i] = b.endVector();
        }
        case STRING -> offsets[i] = b.createString((String) v);
        default -> { }
      }
    }
    int maxId = d.fields().isEmpty() ? -1 : d.fields().get(d.fields().size() - 1).id();
    b.startTable(maxId + 1);
    // Widest first, as flatc does, so the inline part packs without padding.
    for (int pass = 0; pass < 3; pass++) {
      for (int i = 0; i < offsets.length; i++) {
        Field f = d.fields().get(i);
        Object v = values.get(f.name());
        int width = switch (f.kind()) {
          case LONG -> 8;
          case BOOL, BYTE -> 1;
          default -> 4;
        };
        if ((pass == 0) != (width == 8) || (pass == 2) != (width == 1)) {
          continue;
        }
        switch (f.kind()) {
          case BOOL -> b.addBoolean(f.id(), (Boolean) v, f.def() != 0);
          case BYTE -> b.addByte(f.id(), (byte) (int) (Integer) v, (int) f.def());
          case INT -> b.addInt(f.id(), (Integer) v, (int) f.def());
          case UINT -> b.addInt(f.id(), (int) (long) (Long) v, (int) f.def());
          case LONG -> b.addLong(f.id(), (Long) v, f.def());
          case FLOAT -> b.addFloat(f.id(), (Float) v, f.def());
          case INTS, FLOATS, STRING -> {
            if (v != null) {
              b.addOffset(f.id(), offsets[i], 0);
            }
          }
        }
      }
    }
    return b.endTable();
  }
}
