package org.tfport.formats.stablehlo;

import java.util.List;

/**
 * A region of an op or function. StableHLO regions have one block; {@code args} are its block
 * arguments and {@code ops} its operations, the last a return.
 */
public record Region(List<Arg> args, List<Op> ops) {
  public Region {
    args = List.copyOf(args);
    ops = List.copyOf(ops);
  }
}
