package org.tfport.runtime.kernel;

import java.util.List;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.Node;

/** What a {@link KernelFactory} may know about its node when the plan is made. */
public interface BindContext {
  Node node();

  default String op() {
    return node().op();
  }

  /** Number of data inputs. */
  int inputCount();

  /** The value of data input {@code i} when it is a constant of the plan (a weight), else null. */
  Value constantInput(int i);

  /**
   * The kernel keeps constant input {@code i} in a form of its own (a packed copy) and accepts null
   * for that input when it runs: a plan whose every reader of that constant said so does not keep
   * the value, so the weight is held once.
   */
  default void keepsConstant(int i) {}

  /** The dtype of data input {@code i} when known at plan time, else null. */
  DType inputType(int i);

  /**
   * The shape of data input {@code i} when known at plan time (-1 for unknown dimensions), else
   * null.
   */
  long[] inputShape(int i);

  /** The attribute, with the op's registered default filled in, or null when absent. */
  AttrValue attr(String name);

  default boolean hasAttr(String name) {
    return attr(name) != null;
  }

  // Typed attribute access; each throws KernelException naming the attribute when it is missing or
  // of another kind.
  long intAttr(String name);

  long intAttr(String name, long defaultValue);

  float floatAttr(String name, float defaultValue);

  boolean boolAttr(String name, boolean defaultValue);

  String stringAttr(String name, String defaultValue);

  /** A type attribute ({@code T}, {@code DstT}, ...). */
  DType typeAttr(String name);

  DType typeAttr(String name, DType defaultValue);

  long[] intsAttr(String name, long[] defaultValue);

  float[] floatsAttr(String name, float[] defaultValue);

  List<String> stringsAttr(String name);

  List<DType> typesAttr(String name);

  /** The constant tensor attribute ({@code Const.value}). */
  Value tensorAttr(String name);

  /**
   * The library function named by a function attribute ({@code body}, {@code then_branch}, {@code
   * f}), compiled.
   */
  Function function(String attrName);

  /**
   * The library functions named by a list-of-functions attribute ({@code branches} of {@code
   * Case}), compiled, in order. Contexts without a function library (single-op tests) refuse.
   */
  default List<Function> functions(String attrName) {
    throw new KernelException(
        "attribute '" + attrName + "' names functions, and this context has no library");
  }

  /**
   * A library function compiled as a callable subplan (loop bodies, branches, called functions).
   */
  interface Function {
    String name();

    int inputCount();

    int outputCount();

    /** Runs the function on {@code args} in the caller's run. */
    Value[] call(Value[] args, RunContext context);
  }
}
