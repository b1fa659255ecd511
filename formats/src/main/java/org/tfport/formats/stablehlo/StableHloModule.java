package org.tfport.formats.stablehlo;

import java.util.List;
import java.util.Optional;

/**
 * A parsed StableHLO module: its functions in file order. {@code name} is the module's symbol
 * ({@code jit_f}) or empty for a file of bare functions.
 */
public record StableHloModule(String name, String fileName, List<Func> funcs) {
  public StableHloModule {
    funcs = List.copyOf(funcs);
  }

  public Optional<Func> func(String name) {
    return funcs.stream().filter(f -> f.name().equals(name)).findFirst();
  }

  /**
   * The entry function: {@code main} when there is one, else the only public function, else the
   * first function.
   */
  public Optional<Func> entry() {
    Optional<Func> main = func("main");
    if (main.isPresent()) {
      return main;
    }
    List<Func> pub = funcs.stream().filter(f -> !f.visibility().equals("private")).toList();
    if (pub.size() == 1) {
      return Optional.of(pub.get(0));
    }
    return funcs.isEmpty() ? Optional.empty() : Optional.of(funcs.get(0));
  }
}
