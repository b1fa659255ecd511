package org.tfport.formats.mlir;

/**
 * An SSA value: a block argument or an operation result. Ids are unique in the whole module and
 * given in order of definition, so the results of one operation have consecutive ids.
 */
public final class MlirValue {
  private int id = -1;
  private MlirType type;
  private int resultIndex;
  private int resultCount = 1;
  private boolean blockArgument;

  MlirValue() {}

  void define(int id, MlirType type, int resultIndex, int resultCount, boolean blockArgument) {
    this.id = id;
    this.type = type;
    this.resultIndex = resultIndex;
    this.resultCount = resultCount;
    this.blockArgument = blockArgument;
  }

  boolean isDefined() {
    return id >= 0;
  }

  public int id() {
    return id;
  }

  public MlirType type() {
    return type;
  }

  /** Position among its operation's results (0 for a block argument). */
  public int resultIndex() {
    return resultIndex;
  }

  /** How many results its operation has (1 for a block argument). */
  public int resultCount() {
    return resultCount;
  }

  public boolean isBlockArgument() {
    return blockArgument;
  }

  @Override
  public String toString() {
    return "%" + id + ":" + type;
  }
}
