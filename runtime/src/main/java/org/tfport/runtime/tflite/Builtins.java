package org.tfport.runtime.tflite;

import static org.tfport.runtime.tflite.ImportAttrs.i;
import static org.tfport.runtime.tflite.ImportAttrs.type;

import com.google.flatbuffers.FlexBuffers;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.FuncRef;
import org.tfport.formats.graphdef.ProtoGraphs;
import org.tfport.formats.tflite.BuiltinOptions;
import org.tfport.formats.tflite.TfliteBuiltin;
import org.tfport.formats.tflite.TfliteOperatorCode;
import org.tfport.runtime.tflite.SubgraphImport.Refusal;

/**
 * Which IR ops an operator becomes: the builtin families ({@link NnBuiltins}, {@link
 * ArrayBuiltins}), control flow ({@code WHILE}/{@code IF} over library functions made from their
 * subgraphs), Flex ops (the TensorFlow node their options carry) and custom ops (a node named after
 * the custom code, which runs when a kernel is registered under that name).
 */
final class Builtins {
  private Builtins() {}

  /** Emits the operator's nodes; false when tfport has no mapping for it. */
  static boolean map(SubgraphImport s) {
    if (s.code.isCustom()) {
      if (s.code.customCode() == null) {
        throw new Refusal("a CUSTOM operator without a custom code");
      }
      if (s.code.isFlex()) {
        flex(s);
      } else {
        custom(s);
      }
      return true;
    }
    TfliteBuiltin builtin = s.builtin();
    return switch (builtin) {
      case WHILE -> {
        loop(s);
        yield true;
      }
      case IF -> {
        branch(s);
        yield true;
      }
      default ->
          NnBuiltins.map(s, builtin)
              || ArrayBuiltins.map(s, builtin)
              || RecurrentBuiltins.map(s, builtin)
              || StateBuiltins.map(s, builtin);
    };
  }

  private static List<String> refs(SubgraphImport s, List<Integer> tensors) {
    List<String> out = new ArrayList<>();
    for (int t : tensors) {
      if (t < 0) {
        throw new Refusal("an input is omitted");
      }
      out.add(s.ref(t));
    }
    return out;
  }

  private static AttrValue types(SubgraphImport s, List<Integer> tensors) {
    List<Integer> out = new ArrayList<>();
    for (int t : tensors) {
      out.add(DataTypes.fromDType(s.dtypeOf(t)));
    }
    return AttrValue.ListAttr.ofTypes(out);
  }

  private static AttrValue func(String name) {
    return new AttrValue.Func(FuncRef.of(name));
  }

  private static void loop(SubgraphImport s) {
    var o = s.options(BuiltinOptions.While.class);
    if (o == null) {
      throw new Refusal("it has no WhileOptions");
    }
    if (s.op.outputs().size() != s.op.inputs().size()) {
      throw new Refusal(
          "it carries "
              + s.op.inputs().size()
              + " values but has "
              + s.op.outputs().size()
              + " outputs");
    }
    String cond = s.importer.function(o.condSubgraphIndex());
    String body = s.importer.function(o.bodySubgraphIndex());
    ArrayBuiltins.outputs(
        s,
        s.node(
            "While",
            s.base + "/While",
            refs(s, s.op.inputs()),
            "T",
            types(s, s.op.inputs()),
            "cond",
            func(cond),
            "body",
            func(body),
            "parallel_iterations",
            i(10)));
  }

  private static void branch(SubgraphImport s) {
    var o = s.options(BuiltinOptions.If.class);
    if (o == null) {
      throw new Refusal("it has no IfOptions");
    }
    if (s.op.inputs().isEmpty()) {
      throw new Refusal("it has no condition input");
    }
    String then = s.importer.function(o.thenSubgraphIndex());
    String otherwise = s.importer.function(o.elseSubgraphIndex());
    List<Integer> args = s.op.inputs().subList(1, s.op.inputs().size());
    ArrayBuiltins.outputs(
        s,
        s.node(
            "If",
            s.base + "/If",
            refs(s, s.op.inputs()),
            "Tcond",
            type(s.dtypeOf(s.op.inputs().get(0))),
            "Tin",
            types(s, args),
            "Tout",
            types(s, s.op.outputs()),
            "then_branch",
            func(then),
            "else_branch",
            func(otherwise)));
  }

  /**
   * A custom op: a node whose op is the custom code, its FlexBuffer options kept as an attribute.
   */
  private static void custom(SubgraphImport s) {
    String op = s.code.customCode();
    if (!s.importer.hasKernel(op)) {
      throw new Refusal("custom op '" + op + "' has no kernel registered under that name");
    }
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    ByteBuffer options = s.op.customOptions();
    if (options != null) {
      byte[] b = new byte[options.remaining()];
      options.get(b);
      attrs.put("_tflite_custom_options", new AttrValue.Str(b));
    }
    ArrayBuiltins.outputs(s, s.node(op, s.base + "/" + op, refs(s, s.op.inputs()), attrs));
  }

  /**
   * A Flex op carries a TensorFlow NodeDef in its options (a FlexBuffer vector [op name, serialized
   * NodeDef]): the node is that op with those attributes, reading the operator's inputs.
   */
  private static void flex(SubgraphImport s) {
    String code = s.code.customCode();
    String tfOp = code.substring(TfliteOperatorCode.FLEX_PREFIX.length());
    if (!s.importer.hasKernel(tfOp)) {
      throw new Refusal(
          "Flex op '"
              + code
              + "' needs TensorFlow's '"
              + tfOp
              + "', which has no kernel in tfport");
    }
    org.tensorflow.proto.NodeDef def = nodeDef(s, code);
    Map<String, AttrValue> attrs = new LinkedHashMap<>();
    def.getAttrMap()
        .forEach((k, v) -> attrs.put(k, ProtoGraphs.attr(v, s.importer.source, def.getName(), k)));
    String op = def.getOp().isEmpty() ? tfOp : def.getOp();
    ArrayBuiltins.outputs(s, s.node(op, s.base + "/" + op, refs(s, s.op.inputs()), attrs));
  }

  private static org.tensorflow.proto.NodeDef nodeDef(SubgraphImport s, String code) {
    ByteBuffer options = s.op.customOptions();
    String bad =
        "Flex op '"
            + code
            + "' has damaged custom options (expected a FlexBuffer [op name, NodeDef])";
    if (options == null || options.remaining() < 3) {
      throw new Refusal(bad);
    }
    try {
      FlexBuffers.Vector v =
          FlexBuffers.getRoot(options.slice().order(java.nio.ByteOrder.LITTLE_ENDIAN)).asVector();
      if (v.size() < 2) {
        throw new Refusal(bad);
      }
      byte[] def = v.get(1).asBlob().getBytes();
      return org.tensorflow.proto.NodeDef.parseFrom(def);
    } catch (com.google.protobuf.InvalidProtocolBufferException | RuntimeException e) {
      if (e instanceof Refusal r) {
        throw r;
      }
      throw new Refusal(bad);
    }
  }
}
