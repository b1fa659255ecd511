package org.tfport.formats.mlir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Maps VHLO operations back to the StableHLO (and func) operations they version, as StableHLO's
 * VHLO-to-StableHLO legalization defines them: names without the version suffix, flattened
 * dimension numbers folded back into {@code #stablehlo.conv/dot/gather/scatter}, 1-D index tensors
 * as {@code array<i64: ...>}, and attributes equal to their StableHLO default dropped.
 */
final class VhloToStablehlo {
  private VhloToStablehlo() {}

  private static final MlirType I64 = new MlirType.Scalar("i64");
  private static final MlirType I1 = new MlirType.Scalar("i1");

  static List<MlirOp> convert(List<MlirOp> ops, String parent) {
    List<MlirOp> out = new ArrayList<>(ops.size());
    for (MlirOp op : ops) {
      out.add(convert(op, parent));
    }
    return out;
  }

  static MlirOp convert(MlirOp op, String parent) {
    String name = stablehloName(op.name(), parent);
    List<List<MlirBlock>> regions = new ArrayList<>();
    for (List<MlirBlock> region : op.regions()) {
      List<MlirBlock> blocks = new ArrayList<>();
      for (MlirBlock b : region) {
        blocks.add(new MlirBlock(b.arguments(), convert(b.operations(), name)));
      }
      regions.add(blocks);
    }
    List<MlirAttr.Named> attrs =
        op.name().startsWith("vhlo.") ? attributes(op, name) : op.attributes();
    return new MlirOp(
        name, op.operands(), op.results(), attrs, regions, op.successors(), op.location());
  }

  /** {@code vhlo.add_v1} is {@code stablehlo.add}; functions, calls and returns are func's. */
  static String stablehloName(String vhlo, String parent) {
    if (!vhlo.startsWith("vhlo.")) {
      return vhlo;
    }
    String base = vhlo.substring(5).replaceFirst("_v[0-9]+$", "");
    return switch (base) {
      case "func" -> "func.func";
      case "call" -> "func.call";
      case "return" -> "func.func".equals(parent) ? "func.return" : "stablehlo.return";
      default -> "stablehlo." + base;
    };
  }

  private static List<MlirAttr.Named> attributes(MlirOp op, String name) {
    List<MlirAttr.Named> in = op.attributes();
    List<MlirAttr.Named> out = new ArrayList<>();
    String base = name.substring(name.indexOf('.') + 1);
    Set<String> folded = Set.of();
    switch (base) {
      case "convolution", "dynamic_conv" -> {
        out.add(named("dimension_numbers", conv(op)));
        folded =
            Set.of(
                "input_batch_dimension",
                "input_feature_dimension",
                "input_spatial_dimensions",
                "kernel_input_feature_dimension",
                "kernel_output_feature_dimension",
                "kernel_spatial_dimensions",
                "output_batch_dimension",
                "output_feature_dimension",
                "output_spatial_dimensions");
      }
      case "dot_general" -> {
        out.add(
            named(
                "dot_dimension_numbers",
                dims(
                    op,
                    "#stablehlo.dot",
                    "lhs_batching_dimensions",
                    "rhs_batching_dimensions",
                    "lhs_contracting_dimensions",
                    "rhs_contracting_dimensions")));
        MlirAttr lhsType = op.attribute("lhs_precision_type");
        if (lhsType != null && !lhsType.toString().equals("none")) {
          out.add(
              named(
                  "algorithm",
                  new MlirAttr.Opaque(
                      "#stablehlo.dot_algorithm<"
                          + "lhs_precision_type = "
                          + lhsType
                          + ", rhs_precision_type = "
                          + op.attribute("rhs_precision_type")
                          + ", accumulation_type = "
                          + op.attribute("accumulation_type")
                          + ", lhs_component_count = "
                          + intValue(op.attribute("lhs_component_count"))
                          + ", rhs_component_count = "
                          + intValue(op.attribute("rhs_component_count"))
                          + ", num_primitive_operations = "
                          + intValue(op.attribute("num_primitive_operations"))
                          + ", allow_imprecise_accumulation = "
                          + op.attribute("allow_imprecise_accumulation")
                          + ">")));
        }
        folded =
            Set.of(
                "lhs_batching_dimensions",
                "rhs_batching_dimensions",
                "lhs_contracting_dimensions",
                "rhs_contracting_dimensions",
                "lhs_precision_type",
                "rhs_precision_type",
                "accumulation_type",
                "lhs_component_count",
                "rhs_component_count",
                "num_primitive_operations",
                "allow_imprecise_accumulation");
      }
      case "gather", "dynamic_gather" -> {
        out.add(
            named(
                "dimension_numbers",
                dims(
                    op,
                    "#stablehlo.gather",
                    "offset_dims",
                    "collapsed_slice_dims",
                    "operand_batching_dims",
                    "start_indices_batching_dims",
                    "start_index_map",
                    "index_vector_dim")));
        folded =
            Set.of(
                "offset_dims",
                "collapsed_slice_dims",
                "operand_batching_dims",
                "start_indices_batching_dims",
                "start_index_map",
                "index_vector_dim");
      }
      case "scatter" -> {
        out.add(
            named(
                "scatter_dimension_numbers",
                dims(
                    op,
                    "#stablehlo.scatter",
                    "update_window_dims",
                    "inserted_window_dims",
                    "input_batching_dims",
                    "scatter_indices_batching_dims",
                    "scatter_dims_to_operand_dims",
                    "index_vector_dim")));
        folded =
            Set.of(
                "update_window_dims",
                "inserted_window_dims",
                "input_batching_dims",
                "scatter_indices_batching_dims",
                "scatter_dims_to_operand_dims",
                "index_vector_dim");
      }
      case "send", "recv" -> {
        out.add(
            named(
                "channel_handle",
                channel(
                    intValue(op.attribute("channel_id")), intValue(op.attribute("channel_type")))));
        folded = Set.of("channel_id", "channel_type");
      }
      default -> {}
    }
    for (MlirAttr.Named a : in) {
      if (folded.contains(a.name()) || isDefault(base, a.name(), a.value(), op)) {
        continue;
      }
      out.add(special(base, a));
    }
    out.sort(Comparator.comparing(MlirAttr.Named::name));
    return out;
  }

  private static MlirAttr.Named named(String n, MlirAttr v) {
    return new MlirAttr.Named(n, v);
  }

  /** Attribute values whose StableHLO form differs from what VHLO stores. */
  private static MlirAttr.Named special(String op, MlirAttr.Named a) {
    String n = a.name();
    MlirAttr v = a.value();
    boolean i64Array =
        switch (op) {
          case "fft" -> n.equals("fft_length");
          case "broadcast" -> n.equals("broadcast_sizes");
          case "dynamic_slice", "gather" -> n.equals("slice_sizes");
          case "reverse", "map", "reduce" -> n.equals("dimensions");
          case "transpose" -> n.equals("permutation");
          case "pad" ->
              Set.of("edge_padding_low", "edge_padding_high", "interior_padding").contains(n);
          case "slice" -> Set.of("start_indices", "limit_indices", "strides").contains(n);
          case "broadcast_in_dim" -> n.equals("broadcast_dimensions");
          case "dynamic_broadcast_in_dim" ->
              Set.of(
                      "broadcast_dimensions",
                      "known_expanding_dimensions",
                      "known_nonexpanding_dimensions")
                  .contains(n);
          case "select_and_scatter" -> Set.of("window_dimensions", "window_strides").contains(n);
          case "reduce_window" ->
              Set.of("window_dimensions", "window_strides", "base_dilations", "window_dilations")
                  .contains(n);
          case "convolution", "dynamic_conv" ->
              Set.of("lhs_dilation", "rhs_dilation", "window_strides").contains(n);
          default -> false;
        };
    if (i64Array && v instanceof MlirAttr.Dense d) {
      return named(n, denseArray(d, I64));
    }
    if ((op.equals("convolution") || op.equals("dynamic_conv"))
        && n.equals("window_reversal")
        && v instanceof MlirAttr.Dense d) {
      return named(n, denseArray(d, I1));
    }
    if ((op.equals("call") && n.equals("callee"))
        || (op.equals("composite") && n.equals("decomposition"))) {
      return named(n, symbol(v));
    }
    if (op.equals("custom_call")
        && n.equals("called_computations")
        && v instanceof MlirAttr.Array arr) {
      return named(
          n, new MlirAttr.Array(arr.elements().stream().map(VhloToStablehlo::symbol).toList()));
    }
    if (n.equals("channel_id") && v instanceof MlirAttr.Int i) {
      return named("channel_handle", channel(i.value(), 0));
    }
    if (Set.of("use_global_device_ids", "has_dynamic_root").contains(n)) {
      return named(n, new MlirAttr.Unit());
    }
    return a;
  }

  private static MlirAttr channel(long handle, long type) {
    return new MlirAttr.Opaque(
        "#stablehlo.channel_handle<handle = " + handle + ", type = " + type + ">");
  }

  private static MlirAttr symbol(MlirAttr v) {
    return v instanceof MlirAttr.Str s ? new MlirAttr.SymbolRef(s.value(), List.of()) : v;
  }

  private static MlirAttr denseArray(MlirAttr.Dense d, MlirType element) {
    DenseElements e = d.elements();
    int w = element == I64 ? 8 : 1;
    ByteBuffer b = ByteBuffer.allocate((int) e.count() * w).order(ByteOrder.LITTLE_ENDIAN);
    for (long i = 0; i < e.count(); i++) {
      if (w == 8) {
        b.putLong(e.getLong(i));
      } else {
        b.put((byte) (e.getLong(i) != 0 ? 1 : 0));
      }
    }
    return new MlirAttr.DenseArray(element, e.count(), b.array());
  }

  /** VHLO stores every attribute; StableHLO leaves out the ones at their default value. */
  private static boolean isDefault(String op, String n, MlirAttr v, MlirOp whole) {
    String t = v.toString();
    boolean falseBool = v instanceof MlirAttr.Int i && i.isBool() && i.value() == 0;
    boolean emptyArray = v instanceof MlirAttr.Array a && a.elements().isEmpty();
    return switch (n) {
      case "sym_visibility" -> op.equals("func") && t.equals("\"\"");
      case "arg_attrs", "res_attrs" -> op.equals("func") && emptyArray;
      case "compare_type" -> t.equals("#stablehlo<comparison_type NOTYPE>");
      case "precision_config" ->
          v instanceof MlirAttr.Array a
              && a.elements().stream()
                  .allMatch(e -> e.toString().equals("#stablehlo<precision DEFAULT>"));
      case "window_strides", "lhs_dilation", "rhs_dilation", "base_dilations", "window_dilations" ->
          splat(v, 1);
      case "padding" -> splat(v, 0);
      case "window_reversal" -> splat(v, 0);
      case "has_side_effect",
          "indices_are_sorted",
          "unique_indices",
          "is_host_transfer",
          "lower",
          "is_stable",
          "use_global_device_ids",
          "has_dynamic_root" ->
          falseBool;
      case "backend_config" ->
          op.equals("custom_call")
              && (t.equals("\"\"") || (v instanceof MlirAttr.Dict d && d.entries().isEmpty()));
      case "api_version" ->
          op.equals("custom_call") && v instanceof MlirAttr.Int i && i.value() == 1;
      case "called_computations", "output_operand_aliases", "result_tilings", "layout" ->
          emptyArray;
      case "operand_layouts", "result_layouts" ->
          emptyArray
              && isEmptyArray(whole.attribute("operand_layouts"))
              && isEmptyArray(whole.attribute("result_layouts"));
      case "known_expanding_dimensions", "known_nonexpanding_dimensions", "source_target_pairs" ->
          v instanceof MlirAttr.Dense d && d.elements().count() == 0;
      case "infeed_config", "outfeed_config" -> t.equals("\"\"");
      case "version" -> op.equals("composite") && v instanceof MlirAttr.Int i && i.value() == 0;
      case "composite_attributes" -> v instanceof MlirAttr.Dict d && d.entries().isEmpty();
      case "dimension" -> op.equals("sort") && v instanceof MlirAttr.Int i && i.value() == -1;
      case "channel_id" -> v instanceof MlirAttr.Int i && i.value() == 0;
      case "result_accuracy" ->
          t.startsWith(
              "#stablehlo.result_accuracy<atol = 0.0, rtol = 0.0,"
                  + " ulps = 0, mode = #stablehlo.result_accuracy_mode<DEFAULT>");
      default -> false;
    };
  }

  private static boolean isEmptyArray(MlirAttr a) {
    return a instanceof MlirAttr.Array arr && arr.elements().isEmpty();
  }

  private static boolean splat(MlirAttr v, long value) {
    if (!(v instanceof MlirAttr.Dense d)) {
      return false;
    }
    DenseElements e = d.elements();
    for (long i = 0; i < e.count(); i++) {
      if (e.getLong(i) != value) {
        return false;
      }
    }
    return true;
  }

  static List<Long> ints(MlirOp op, String name) {
    MlirAttr a = op.attribute(name);
    List<Long> out = new ArrayList<>();
    if (a instanceof MlirAttr.Dense d) {
      DenseElements e = d.elements();
      for (long i = 0; i < e.count(); i++) {
        out.add(e.getLong(i));
      }
    } else if (a instanceof MlirAttr.Int i) {
      out.add(i.value());
    } else if (a != null) {
      throw new org.tfport.core.TfportException.CorruptModelException(
          op.name() + " attribute " + name + " is " + a + ", expected integers");
    }
    return out;
  }

  private static long intValue(MlirAttr a) {
    return a instanceof MlirAttr.Int i ? i.value() : 0;
  }

  /** {@code #stablehlo.dot<...>} and friends: empty lists are left out, as StableHLO prints. */
  private static MlirAttr dims(MlirOp op, String kind, String... fields) {
    List<String> parts = new ArrayList<>();
    for (String f : fields) {
      if (f.equals("index_vector_dim")) {
        parts.add(f + " = " + intValue(op.attribute(f)));
        continue;
      }
      List<Long> v = ints(op, f);
      if (!v.isEmpty()) {
        parts.add(f + " = " + v);
      }
    }
    return new MlirAttr.Opaque(kind + "<" + String.join(", ", parts) + ">");
  }

  /** {@code #stablehlo.conv<[b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f]>}. */
  private static MlirAttr conv(MlirOp op) {
    String in =
        layout(
            op,
            "input_batch_dimension",
            "b",
            "input_feature_dimension",
            "f",
            "input_spatial_dimensions");
    String kernel =
        layout(
            op,
            "kernel_input_feature_dimension",
            "i",
            "kernel_output_feature_dimension",
            "o",
            "kernel_spatial_dimensions");
    String out =
        layout(
            op,
            "output_batch_dimension",
            "b",
            "output_feature_dimension",
            "f",
            "output_spatial_dimensions");
    return new MlirAttr.Opaque("#stablehlo.conv<" + in + "x" + kernel + "->" + out + ">");
  }

  private static String layout(
      MlirOp op, String first, String firstName, String second, String secondName, String spatial) {
    List<Long> sp = ints(op, spatial);
    String[] slots = new String[sp.size() + 2];
    place(op, slots, intValue(op.attribute(first)), firstName);
    place(op, slots, intValue(op.attribute(second)), secondName);
    for (int i = 0; i < sp.size(); i++) {
      place(op, slots, sp.get(i), Integer.toString(i));
    }
    return java.util.Arrays.stream(slots).collect(Collectors.joining(", ", "[", "]"));
  }

  private static void place(MlirOp op, String[] slots, long at, String what) {
    if (at < 0 || at >= slots.length || slots[(int) at] != null) {
      throw new org.tfport.core.TfportException.CorruptModelException(
          op.name() + " has inconsistent convolution dimension numbers (dimension " + at + ")");
    }
    slots[(int) at] = what;
  }
}
