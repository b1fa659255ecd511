package org.tfport.formats.mlir;

import java.util.List;

/** A block: its arguments and its operations. */
public record MlirBlock(List<MlirValue> arguments, List<MlirOp> operations) {}
