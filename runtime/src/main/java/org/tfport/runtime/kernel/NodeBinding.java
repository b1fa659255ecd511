package org.tfport.runtime.kernel;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Node;

/**
 * The typed attribute half of a {@link BindContext}, over a node and its op's declared defaults;
 * what a node's inputs are known to be at plan time is left to the planner (or a test) that extends
 * it.
 */
public abstract class NodeBinding implements BindContext {
  private final Node node;
  private final Map<String, AttrValue> defaults;

  /**
   * @param defaults the op's declared attribute defaults (may be empty)
   */
  protected NodeBinding(Node node, Map<String, AttrValue> defaults) {
    this.node = node;
    this.defaults = defaults;
  }

  @Override
  public Node node() {
    return node;
  }

  @Override
  public int inputCount() {
    return node.dataInputs().size();
  }

  @Override
  public AttrValue attr(String name) {
    AttrValue v = node.attr(name);
    return v != null ? v : defaults.get(name);
  }

  private KernelException bad(String name, String want) {
    AttrValue v = attr(name);
    return new KernelException(
        v == null
            ? "attribute '" + name + "' is missing"
            : "attribute '" + name + "' is " + v + ", not " + want);
  }

  @Override
  public long intAttr(String name) {
    if (attr(name) instanceof AttrValue.Int i) {
      return i.value();
    }
    throw bad(name, "an int");
  }

  @Override
  public long intAttr(String name, long defaultValue) {
    return attr(name) == null ? defaultValue : intAttr(name);
  }

  @Override
  public float floatAttr(String name, float defaultValue) {
    return switch (attr(name)) {
      case null -> defaultValue;
      case AttrValue.Float f -> f.value();
      case AttrValue.Int i -> i.value();
      default -> throw bad(name, "a float");
    };
  }

  @Override
  public boolean boolAttr(String name, boolean defaultValue) {
    return switch (attr(name)) {
      case null -> defaultValue;
      case AttrValue.Bool b -> b.value();
      default -> throw bad(name, "a bool");
    };
  }

  @Override
  public String stringAttr(String name, String defaultValue) {
    return switch (attr(name)) {
      case null -> defaultValue;
      case AttrValue.Str s -> s.string();
      default -> throw bad(name, "a string");
    };
  }

  @Override
  public DType typeAttr(String name) {
    if (attr(name) instanceof AttrValue.Type t) {
      DType d = DataTypes.toDType(DataTypes.base(t.value()));
      if (d == null) {
        throw new KernelException(
            "attribute '"
                + name
                + "' is "
                + DataTypes.name(t.value())
                + ", a type tfport does not compute with");
      }
      return d;
    }
    throw bad(name, "a type");
  }

  @Override
  public DType typeAttr(String name, DType defaultValue) {
    return attr(name) == null ? defaultValue : typeAttr(name);
  }

  @Override
  public long[] intsAttr(String name, long[] defaultValue) {
    return switch (attr(name)) {
      case null -> defaultValue;
      case AttrValue.ListAttr l -> l.i().stream().mapToLong(Long::longValue).toArray();
      default -> throw bad(name, "a list of ints");
    };
  }

  @Override
  public float[] floatsAttr(String name, float[] defaultValue) {
    if (attr(name) == null) {
      return defaultValue;
    }
    if (attr(name) instanceof AttrValue.ListAttr l) {
      float[] out = new float[l.f().size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = l.f().get(i);
      }
      return out;
    }
    throw bad(name, "a list of floats");
  }

  @Override
  public List<String> stringsAttr(String name) {
    return switch (attr(name)) {
      case null -> List.of();
      case AttrValue.ListAttr l -> {
        List<String> out = new ArrayList<>();
        l.s().forEach(b -> out.add(new String(b, StandardCharsets.UTF_8)));
        yield out;
      }
      default -> throw bad(name, "a list of strings");
    };
  }

  @Override
  public List<DType> typesAttr(String name) {
    return switch (attr(name)) {
      case null -> List.of();
      case AttrValue.ListAttr l -> {
        List<DType> out = new ArrayList<>();
        for (int t : l.type()) {
          DType d = DataTypes.toDType(DataTypes.base(t));
          if (d == null) {
            throw new KernelException(
                "attribute '"
                    + name
                    + "' holds "
                    + DataTypes.name(t)
                    + ", a type tfport does not compute with");
          }
          out.add(d);
        }
        yield out;
      }
      default -> throw bad(name, "a list of types");
    };
  }

  @Override
  public Value tensorAttr(String name) {
    if (attr(name) instanceof AttrValue.TensorAttr t) {
      if (t.value().value() == null) {
        throw new KernelException(
            "attribute '"
                + name
                + "' holds a "
                + DataTypes.name(t.value().dtype())
                + " tensor, which tfport cannot hold");
      }
      return Values.fromTensor(t.value().value());
    }
    throw bad(name, "a tensor");
  }
}
