package org.tfport.core.graph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One operation in a {@link Graph} or a function body: a {@code NodeDef}. Mutable, so passes can
 * rewrite in place; data inputs come first, then control inputs ({@code ^name}), as TensorFlow
 * requires.
 */
public final class Node {
  private String name;
  private String op;
  private final List<String> inputs;
  private String device;
  private final Map<String, AttrValue> attrs;

  public Node(
      String name, String op, List<String> inputs, String device, Map<String, AttrValue> attrs) {
    this.name = Objects.requireNonNull(name, "name");
    this.op = Objects.requireNonNull(op, "op");
    this.inputs = new ArrayList<>(inputs);
    this.device = device == null ? "" : device;
    this.attrs = new LinkedHashMap<>(attrs);
  }

  public Node(String name, String op, List<String> inputs) {
    this(name, op, inputs, "", Map.of());
  }

  public Node copy() {
    return new Node(name, op, inputs, device, attrs);
  }

  public String name() {
    return name;
  }

  /**
   * Renaming a node in a graph goes through {@link Graph#rename}, which also rewrites the
   * references.
   */
  void name(String newName) {
    this.name = newName;
  }

  public Node renamedCopy(String newName) {
    return new Node(newName, op, inputs, device, attrs);
  }

  public String op() {
    return op;
  }

  public void op(String newOp) {
    this.op = Objects.requireNonNull(newOp);
  }

  /** All inputs, data then control; the list is live. */
  public List<String> inputs() {
    return inputs;
  }

  public List<String> dataInputs() {
    return inputs.stream().filter(i -> !TensorRef.isControl(i)).toList();
  }

  public List<String> controlInputs() {
    return inputs.stream().filter(TensorRef::isControl).toList();
  }

  public String input(int i) {
    return dataInputs().get(i);
  }

  /** Replaces all inputs, putting control inputs last and dropping duplicate control inputs. */
  public void setInputs(List<String> newInputs) {
    List<String> data = new ArrayList<>();
    List<String> control = new ArrayList<>();
    for (String in : newInputs) {
      if (TensorRef.isControl(in)) {
        if (!control.contains(in)) {
          control.add(in);
        }
      } else {
        data.add(in);
      }
    }
    inputs.clear();
    inputs.addAll(data);
    inputs.addAll(control);
  }

  public String device() {
    return device;
  }

  public void device(String d) {
    this.device = d == null ? "" : d;
  }

  /** The attributes; the map is live. */
  public Map<String, AttrValue> attrs() {
    return attrs;
  }

  public AttrValue attr(String key) {
    return attrs.get(key);
  }

  public Node attr(String key, AttrValue value) {
    attrs.put(key, value);
    return this;
  }

  /** The type attribute {@code key}, or -1. */
  public int typeAttr(String key) {
    return attrs.get(key) instanceof AttrValue.Type t ? t.value() : -1;
  }

  public String stringAttr(String key) {
    return attrs.get(key) instanceof AttrValue.Str s ? s.string() : null;
  }

  public TensorValue tensorAttr(String key) {
    return attrs.get(key) instanceof AttrValue.TensorAttr t ? t.value() : null;
  }

  @Override
  public String toString() {
    return name + " = " + op + inputs;
  }
}
