package org.tfport.formats.stablehlo;

import java.util.List;
import java.util.Map;

/**
 * One operation, in the generic form whichever syntax it was written in: {@code name} like {@code
 * stablehlo.add} ({@code func.return} and {@code func.call} for {@code return}/{@code call}),
 * attributes under their generic names ({@code comparison_direction}, {@code broadcast_dimensions},
 * ...), {@code results} one SSA name per result ({@code %0#1} for the second of {@code %0:2}).
 * {@code line} is the 1-based line of the op in its file.
 */
public record Op(
    List<String> results,
    String name,
    List<String> operands,
    Map<String, Attr> attributes,
    List<Region> regions,
    List<MlirType> operandTypes,
    List<MlirType> resultTypes,
    int line) {

  public Op {
    results = List.copyOf(results);
    operands = List.copyOf(operands);
    attributes = Map.copyOf(attributes);
    regions = List.copyOf(regions);
    operandTypes = List.copyOf(operandTypes);
    resultTypes = List.copyOf(resultTypes);
  }

  public Attr attr(String key) {
    return attributes.get(key);
  }

  /** The op name without the dialect: {@code add} for {@code stablehlo.add}. */
  public String shortName() {
    int dot = name.indexOf('.');
    return dot < 0 ? name : name.substring(dot + 1);
  }
}
