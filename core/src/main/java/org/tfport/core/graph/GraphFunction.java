package org.tfport.core.graph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code FunctionDef} of the graph's library. Body inputs use the function form: an argument name
 * ({@code x}), {@code node:out_arg:idx}, or {@code ^node}.
 *
 * @param ret output argument name to the body tensor that produces it
 * @param controlRet control output name to body node
 * @param argAttrs per input argument, its attributes ({@code _user_specified_name}, ...); may be
 *     empty
 */
public record GraphFunction(
    String name,
    List<ArgDef> inputArgs,
    List<ArgDef> outputArgs,
    List<Node> nodes,
    Map<String, String> ret,
    Map<String, String> controlRet,
    Map<String, AttrValue> attrs,
    Map<Integer, Map<String, AttrValue>> argAttrs,
    boolean stateful) {
  public GraphFunction {
    inputArgs = List.copyOf(inputArgs);
    outputArgs = List.copyOf(outputArgs);
    nodes = new ArrayList<>(nodes);
    ret = new LinkedHashMap<>(ret);
    controlRet = new LinkedHashMap<>(controlRet);
    attrs = new LinkedHashMap<>(attrs);
    argAttrs = new LinkedHashMap<>(argAttrs);
  }

  public OpSignature asOp() {
    return new OpSignature(name, inputArgs, outputArgs, Map.of());
  }

  public Node node(String nodeName) {
    for (Node n : nodes) {
      if (n.name().equals(nodeName)) {
        return n;
      }
    }
    return null;
  }
}
