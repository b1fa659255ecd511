package org.tfport.formats.mlir;

import java.util.List;

/**
 * One operation as stored: its name as the file spells it (for a portable artifact a VHLO name such
 * as {@code vhlo.add_v1}), operands, results, attributes (the attribute dictionary followed by the
 * native properties), regions (each a list of blocks), successor block indices within the parent
 * region, and location.
 */
public record MlirOp(
    String name,
    List<MlirValue> operands,
    List<MlirValue> results,
    List<MlirAttr.Named> attributes,
    List<List<MlirBlock>> regions,
    List<Integer> successors,
    MlirAttr location) {

  public MlirAttr attribute(String attrName) {
    for (MlirAttr.Named n : attributes) {
      if (n.name().equals(attrName)) {
        return n.value();
      }
    }
    return null;
  }

  public List<MlirType> resultTypes() {
    return results.stream().map(MlirValue::type).toList();
  }
}
