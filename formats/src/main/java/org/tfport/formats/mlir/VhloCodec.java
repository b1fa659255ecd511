package org.tfport.formats.mlir;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * VHLO's bytecode encodings (StableHLO's VhloBytecode.cpp: a varint code, then the fields), decoded
 * straight to the builtin/StableHLO attribute or type each versioned one stands for.
 */
final class VhloCodec {
  private VhloCodec() {}

  private static final String[] COMPARISON_DIRECTION = {"EQ", "NE", "GE", "GT", "LE", "LT"};
  private static final String[] COMPARISON_TYPE = {
    "NOTYPE", "FLOAT", "TOTALORDER", "SIGNED", "UNSIGNED"
  };
  private static final String[] FFT_TYPE = {"FFT", "IFFT", "RFFT", "IRFFT"};
  private static final String[] PRECISION = {"DEFAULT", "HIGH", "HIGHEST"};
  private static final String[] RNG_ALGORITHM = {"DEFAULT", "THREE_FRY", "PHILOX"};
  private static final String[] RNG_DISTRIBUTION = {"", "UNIFORM", "NORMAL"};
  private static final String[] TRANSPOSE = {
    "TRANSPOSE_INVALID", "NO_TRANSPOSE", "TRANSPOSE", "ADJOINT"
  };
  private static final String[] ACCURACY_MODE = {"DEFAULT", "HIGHEST", "TOLERANCE"};

  /** The StableHLO enum attribute text, e.g. {@code #stablehlo<comparison_direction GE>}. */
  private static MlirAttr enumAttr(ByteCursor c, String kind, String[] names) {
    long v = c.varInt();
    if (v < 0 || v >= names.length || names[(int) v].isEmpty()) {
      throw c.error("VHLO " + kind + " value " + v + " is not defined");
    }
    return new MlirAttr.Opaque("#stablehlo<" + kind + " " + names[(int) v] + ">");
  }

  static MlirAttr attr(ByteCursor c, AttrTypeTable t) {
    long code = c.varInt();
    return switch ((int) code) {
      case 1 -> new MlirAttr.Array(t.attrList(c));
      case 2 -> {
        long v = c.varInt();
        if (v != 0 && v != 1) {
          throw c.error("VHLO boolean " + v);
        }
        yield new MlirAttr.Int(v, new MlirType.Scalar("i1"));
      }
      case 3 -> enumAttr(c, "comparison_direction", COMPARISON_DIRECTION);
      case 4 -> enumAttr(c, "comparison_type", COMPARISON_TYPE);
      case 5 -> {
        // StableHLO prints the custom_call api_version enum as its i32 value.
        long v = c.varInt();
        if (v > 4) {
          throw c.error("VHLO custom call api version " + v);
        }
        yield new MlirAttr.Int(v, new MlirType.Scalar("i32"));
      }
      case 6 -> {
        int n = c.count("dictionary size");
        List<MlirAttr.Named> entries = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          MlirAttr name = t.attr(c, c.varInt());
          MlirAttr value = t.attr(c, c.varInt());
          if (!(name instanceof MlirAttr.Str s)) {
            throw c.error("dictionary key is not a string: " + name);
          }
          entries.add(new MlirAttr.Named(s.value(), value));
        }
        yield new MlirAttr.Dict(entries);
      }
      case 7 -> enumAttr(c, "fft_type", FFT_TYPE);
      case 8 -> {
        MlirType type = t.type(c, c.varInt());
        yield new MlirAttr.Float(AttrTypeTable.apFloat(c, type), type);
      }
      case 9 -> {
        MlirType type = t.type(c, c.varInt());
        int bits = type.toString().equals("index") ? 64 : DenseElements.bitWidth(type);
        yield new MlirAttr.Int(AttrTypeTable.extend(AttrTypeTable.apInt(c, bits), type), type);
      }
      case 10 -> {
        List<Long> outIdx = AttrTypeTable.signedList(c);
        long operand = c.signedVarInt();
        List<Long> operandIdx = AttrTypeTable.signedList(c);
        yield new MlirAttr.Opaque(
            "#stablehlo.output_operand_alias<output_tuple_indices = "
                + outIdx
                + ", operand_index = "
                + operand
                + ", operand_tuple_indices = "
                + operandIdx
                + ">");
      }
      case 11 -> enumAttr(c, "precision", PRECISION);
      case 12 -> enumAttr(c, "rng_algorithm", RNG_ALGORITHM);
      case 13 -> enumAttr(c, "rng_distribution", RNG_DISTRIBUTION);
      case 14 -> new MlirAttr.Str(t.string(c, c.varInt()));
      case 15 -> {
        MlirType type = t.type(c, c.varInt());
        yield AttrTypeTable.dense(c, type, AttrTypeTable.blob(c));
      }
      case 16 -> enumAttr(c, "transpose", TRANSPOSE);
      case 17 -> new MlirAttr.TypeAttr(t.type(c, c.varInt()));
      case 18 ->
          new MlirAttr.Opaque(
              "#stablehlo.bounds<"
                  + AttrTypeTable.signedList(c).stream()
                      .map(b -> b == MlirType.DYNAMIC ? "?" : String.valueOf(b))
                      .collect(Collectors.joining(", "))
                  + ">");
      case 19 -> enumAttr(c, "result_accuracy_mode", ACCURACY_MODE);
      case 20 -> {
        double atol = AttrTypeTable.apFloat(c, new MlirType.Scalar("f64"));
        double rtol = AttrTypeTable.apFloat(c, new MlirType.Scalar("f64"));
        long ulps = c.signedVarInt();
        MlirAttr mode = t.attr(c, c.varInt());
        String m =
            mode.toString()
                .replace("#stablehlo<result_accuracy_mode ", "#stablehlo.")
                .replace(">", "");
        yield new MlirAttr.Opaque(
            "#stablehlo.result_accuracy<atol = "
                + atol
                + ", rtol = "
                + rtol
                + ", ulps = "
                + ulps
                + ", mode = #stablehlo.result_accuracy_mode<"
                + m.substring(m.lastIndexOf('.') + 1)
                + ">>");
      }
      case 21 -> {
        long pre = c.signedVarInt();
        long size = c.signedVarInt();
        yield new MlirAttr.Opaque("(" + pre + ")" + size);
      }
      case 22 -> {
        MlirAttr name = t.attr(c, c.varInt());
        boolean sub = c.varInt() != 0;
        String s = name instanceof MlirAttr.Str str ? str.value() : name.toString();
        yield new MlirAttr.Opaque(MlirAttr.quote(s) + (sub ? t.attr(c, c.varInt()) : ""));
      }
      case 23 ->
          new MlirAttr.Opaque(
              "#stablehlo.replica_group_mesh_axes<mesh = "
                  + t.attr(c, c.varInt())
                  + ", axes = "
                  + t.attr(c, c.varInt())
                  + ">");
      case 24 -> {
        MlirAttr name = t.attr(c, c.varInt());
        long size = c.signedVarInt();
        yield new MlirAttr.Opaque(name + "=" + size);
      }
      case 25 -> {
        MlirAttr axes = t.attr(c, c.varInt());
        long v = c.varInt();
        MlirAttr ids = (v & 1) != 0 ? t.attr(c, v >>> 1) : null;
        yield new MlirAttr.Opaque(
            "#sdy.mesh<" + axes + (ids == null ? "" : ", device_ids=" + ids) + ">");
      }
      default -> throw c.error("VHLO attribute code " + code + " is not supported");
    };
  }

  static MlirType type(ByteCursor c, AttrTypeTable t) {
    long code = c.varInt();
    return switch ((int) code) {
      case 0 -> scalar("i1");
      case 1 -> new MlirType.Complex(t.type(c, c.varInt()));
      case 2 -> scalar("bf16");
      case 3 -> scalar("f16");
      case 4 -> scalar("f32");
      case 5 -> scalar("f64");
      case 6 -> scalar("f8E4M3FN");
      case 7 -> scalar("f8E5M2");
      case 8 -> new MlirType.Function(t.typeList(c), t.typeList(c));
      case 9 -> scalar("index");
      case 10 -> scalar("i4");
      case 11 -> scalar("i8");
      case 12 -> scalar("i16");
      case 13 -> scalar("i32");
      case 14 -> scalar("i64");
      case 15 -> scalar("ui4");
      case 16 -> scalar("ui8");
      case 17 -> scalar("ui16");
      case 18 -> scalar("ui32");
      case 19 -> scalar("ui64");
      case 20 -> {
        List<Long> shape = AttrTypeTable.signedList(c);
        yield AttrTypeTable.tensor(c, shape, t.type(c, c.varInt()), null);
      }
      case 21 -> {
        MlirAttr enc = t.attr(c, c.varInt());
        List<Long> shape = AttrTypeTable.signedList(c);
        yield AttrTypeTable.tensor(c, shape, t.type(c, c.varInt()), enc);
      }
      case 22 -> new MlirType.Opaque("!stablehlo.token");
      case 23 -> new MlirType.Tuple(t.typeList(c));
      case 24 -> {
        long flags = c.varInt();
        MlirType storage = t.type(c, c.varInt());
        MlirType expressed = t.type(c, c.varInt());
        double scale = AttrTypeTable.apFloat(c, scalar("f64"));
        long zero = c.signedVarInt();
        long min = c.signedVarInt();
        long max = c.signedVarInt();
        String st = ((flags & 1) != 0 ? "i" : "u") + storage.toString().replaceAll("^u?i", "");
        yield new MlirType.Opaque(
            "!quant.uniform<"
                + st
                + "<"
                + min
                + ":"
                + max
                + ">:"
                + expressed
                + ", "
                + scale
                + ":"
                + zero
                + ">");
      }
      case 25 -> new MlirType.Unranked(t.type(c, c.varInt()));
      case 26 -> new MlirType.Opaque("!shape.witness");
      case 27 -> scalar("f8E4M3FNUZ");
      case 28 -> scalar("f8E5M2FNUZ");
      case 29 -> scalar("f8E4M3B11FNUZ");
      case 30 -> {
        long flags = c.varInt();
        MlirType storage = t.type(c, c.varInt());
        MlirType expressed = t.type(c, c.varInt());
        long axis = c.varInt();
        long min = c.signedVarInt();
        long max = c.signedVarInt();
        int n = c.count("scale count");
        List<Double> scales = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          scales.add(AttrTypeTable.apFloat(c, scalar("f64")));
        }
        int m = c.count("zero point count");
        if (m != n) {
          throw c.error(n + " scales but " + m + " zero points");
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
          b.append(i > 0 ? ", " : "").append(scales.get(i)).append(':').append(c.signedVarInt());
        }
        String st = ((flags & 1) != 0 ? "i" : "u") + storage.toString().replaceAll("^u?i", "");
        yield new MlirType.Opaque(
            "!quant.uniform<"
                + st
                + "<"
                + min
                + ":"
                + max
                + ">:"
                + expressed
                + ":"
                + axis
                + ", {"
                + b
                + "}>");
      }
      case 31 -> scalar("i2");
      case 32 -> scalar("ui2");
      case 33 -> scalar("none");
      case 34 -> scalar("tf32");
      case 35 -> scalar("f8E4M3");
      case 36 -> scalar("f8E3M4");
      case 37 -> scalar("f4E2M1FN");
      case 38 -> scalar("f6E2M3FN");
      case 39 -> scalar("f6E3M2FN");
      case 40 -> scalar("f8E8M0FNU");
      case 41 -> {
        List<Long> shape = AttrTypeTable.signedList(c);
        MlirType element = t.type(c, c.varInt());
        String dims =
            shape.stream()
                .map(d -> d == MlirType.DYNAMIC ? "?" : String.valueOf(d))
                .map(d -> d + "x")
                .collect(Collectors.joining());
        yield new MlirType.Opaque("memref<" + dims + element + ">");
      }
      case 42 ->
          new MlirType.Opaque(
              "!stablehlo.future<"
                  + t.typeList(c).stream().map(String::valueOf).collect(Collectors.joining(", "))
                  + ">");
      default -> throw c.error("VHLO type code " + code + " is not supported");
    };
  }

  private static MlirType scalar(String name) {
    return new MlirType.Scalar(name);
  }
}
