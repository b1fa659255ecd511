package org.tfport.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleDescriptor.Requires;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The runtime's module descriptor as packaged: what it exports and provides, and that the Vector
 * API is optional (the scalar kernels run without it).
 */
class ModuleDescriptorTest {
  @Test
  void exportsTheApiProvidesFoldingAndNeedsNoVectorModule() throws IOException {
    ModuleDescriptor d;
    try (InputStream in = Model.class.getResourceAsStream("/module-info.class")) {
      assertThat(in).as("module-info.class in the runtime's classes").isNotNull();
      d = ModuleDescriptor.read(in);
    }
    assertThat(d.name()).isEqualTo("org.tfport.runtime");
    assertThat(
            d.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet()))
        .isEqualTo(
            Set.of("org.tfport.runtime", "org.tfport.runtime.kernel", "org.tfport.runtime.tflite"));
    assertThat(d.provides())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.service()).isEqualTo("org.tfport.graph.optimize.ConstantEvaluator");
              assertThat(p.providers()).containsExactly("org.tfport.runtime.fold.KernelFolding");
            });
    Requires vector =
        d.requires().stream()
            .filter(r -> r.name().equals("jdk.incubator.vector"))
            .findFirst()
            .orElseThrow();
    assertThat(vector.modifiers()).contains(Requires.Modifier.STATIC);
  }
}
