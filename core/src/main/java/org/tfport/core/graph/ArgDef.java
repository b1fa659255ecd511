package org.tfport.core.graph;

/**
 * One input or output argument of an op or a function ({@code OpDef.ArgDef}). Exactly one way of
 * giving its type is set: a fixed {@code type}, a {@code typeAttr}, a {@code typeListAttr} (a list
 * of tensors), or a {@code typeAttr}/{@code type} repeated {@code numberAttr} times.
 */
public record ArgDef(
    String name, int type, String typeAttr, String numberAttr, String typeListAttr) {
  public ArgDef {
    typeAttr = typeAttr == null ? "" : typeAttr;
    numberAttr = numberAttr == null ? "" : numberAttr;
    typeListAttr = typeListAttr == null ? "" : typeListAttr;
  }

  public static ArgDef single(String name) {
    return new ArgDef(name, 0, "T", "", "");
  }

  public static ArgDef ofType(String name, int type) {
    return new ArgDef(name, type, "", "", "");
  }
}
