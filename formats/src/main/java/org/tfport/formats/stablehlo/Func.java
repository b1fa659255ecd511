package org.tfport.formats.stablehlo;

import java.util.List;

/** A {@code func.func}: {@code visibility} is {@code public}, {@code private} or empty. */
public record Func(
    String name,
    String visibility,
    List<Arg> args,
    List<MlirType> resultTypes,
    List<String> resultNames,
    Region body,
    int line) {
  public Func {
    args = List.copyOf(args);
    resultTypes = List.copyOf(resultTypes);
    resultNames = List.copyOf(resultNames);
  }
}
