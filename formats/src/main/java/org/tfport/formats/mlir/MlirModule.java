package org.tfport.formats.mlir;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A decoded MLIR bytecode file: format version, producer string (for a portable artifact {@code
 * StableHLO_v1.0.0}), the dialects it names with their encoded versions, and the top-level
 * operations (normally one {@code builtin.module}).
 */
public record MlirModule(
    long bytecodeVersion, String producer, List<String> dialects, List<MlirOp> operations) {

  /** Every operation in pre-order (an operation before the ones in its regions). */
  public List<MlirOp> walk() {
    List<MlirOp> out = new ArrayList<>();
    walk(operations, out::add);
    return out;
  }

  private static void walk(List<MlirOp> ops, Consumer<MlirOp> visit) {
    for (MlirOp op : ops) {
      visit.accept(op);
      for (List<MlirBlock> region : op.regions()) {
        for (MlirBlock block : region) {
          walk(block.operations(), visit);
        }
      }
    }
  }
}
