package org.tfport.formats.stablehlo;

import java.util.Map;

/**
 * A function or block argument: its SSA name (with the {@code %}), type and attributes ({@code
 * jax.global_constant}, {@code jax.arg_info}, ...; empty for block arguments).
 */
public record Arg(String name, MlirType type, Map<String, Attr> attributes) {
  public Arg {
    attributes = Map.copyOf(attributes);
  }

  public Arg(String name, MlirType type) {
    this(name, type, Map.of());
  }

  /**
   * What {@code jax.global_constant} says the argument stands for ({@code _platform_index}, or a
   * dimension variable's name), or null: such arguments are filled in by the caller, not the user.
   */
  public String globalConstant() {
    return attributes.get("jax.global_constant") instanceof Attr.StrAttr s ? s.value() : null;
  }
}
