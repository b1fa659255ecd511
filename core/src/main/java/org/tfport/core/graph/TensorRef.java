package org.tfport.core.graph;

/**
 * One input string of a node in a graph: {@code node} or {@code node:2} for a tensor, {@code ^node}
 * for a control dependency. (Inside function bodies inputs read {@code node:out_arg:idx}; those are
 * rewritten to this form when a function is inlined.)
 */
public record TensorRef(String node, int index, boolean control) {
  public static TensorRef parse(String input) {
    if (input.startsWith("^")) {
      return new TensorRef(input.substring(1), -1, true);
    }
    int colon = input.lastIndexOf(':');
    if (colon > 0) {
      String tail = input.substring(colon + 1);
      if (!tail.isEmpty() && tail.chars().allMatch(Character::isDigit) && tail.length() < 10) {
        return new TensorRef(input.substring(0, colon), Integer.parseInt(tail), false);
      }
    }
    return new TensorRef(input, 0, false);
  }

  public static TensorRef of(String node, int index) {
    return new TensorRef(node, index, false);
  }

  /** The node name an input string refers to, with any {@code ^} and {@code :n} removed. */
  public static String nodeOf(String input) {
    return parse(input).node();
  }

  public static boolean isControl(String input) {
    return input.startsWith("^");
  }

  /**
   * {@code node}, {@code node:1} or {@code ^node}: output 0 is written without its index, as TF
   * does.
   */
  @Override
  public String toString() {
    return control ? "^" + node : index == 0 ? node : node + ":" + index;
  }

  /** Always with the index ({@code node:0}), as signatures write tensor names. */
  public String tensorName() {
    return node + ":" + Math.max(index, 0);
  }
}
