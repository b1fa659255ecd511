package org.tfport.formats.mlir;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tfport.testkit.Corpus;

/**
 * The text {@link MlirBytecode#toGenericText} prints is read back by the project's StableHLO text
 * reader ({@code org.tfport.formats.stablehlo.StableHloText}, developed on its own branch: this
 * test is skipped until that class is on the class path) and yields the same operations in the same
 * order with the same operand and result counts.
 */
class GenericTextRoundTripTest {
  private static Method parse() {
    try {
      Class<?> c = Class.forName("org.tfport.formats.stablehlo.StableHloText");
      return c.getMethod("parse", String.class, String.class);
    } catch (ReflectiveOperationException e) {
      Assumptions.abort("the StableHLO text reader is not on the class path: " + e);
      return null;
    }
  }

  private static Object call(Object o, String method) throws Exception {
    return o.getClass().getMethod(method).invoke(o);
  }

  @SuppressWarnings("unchecked")
  private static void ops(Object region, List<String> out) throws Exception {
    for (Object op : (List<Object>) call(region, "ops")) {
      out.add(
          call(op, "name")
              + "/"
              + ((List<?>) call(op, "operands")).size()
              + "/"
              + ((List<?>) call(op, "results")).size());
      for (Object r : (List<Object>) call(op, "regions")) {
        ops(r, out);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "jax/jax_export_sin_dummy/module.mlirbc",
        "jax/jax_export_dynamic_top_k/module.mlirbc",
        "jax/jax_export_add_sdy_v1_13/module.mlirbc",
        "jax/stablehlo_vhlo_portable_artifact/stablehlo_legalize_to_vhlo.1_0_0.mlir.bc"
      })
  @SuppressWarnings("unchecked")
  void parserReadsWhatThePrinterWrites(String relative) throws Exception {
    Method parse = parse();
    Path p = Corpus.require(relative);
    MlirModule m = MlirBytecode.read(Files.readAllBytes(p), p.toString());
    String text = MlirBytecode.toGenericText(m);
    Object parsed = parse.invoke(null, text, p + " (printed)");
    List<String> theirs = new ArrayList<>();
    for (Object f : (List<Object>) call(parsed, "funcs")) {
      ops(call(f, "body"), theirs);
    }
    List<String> ours =
        MlirBytecode.toStablehlo(m).walk().stream()
            .filter(op -> op.name().startsWith("stablehlo.") || op.name().startsWith("func."))
            .filter(op -> !op.name().equals("func.func"))
            .map(op -> op.name() + "/" + op.operands().size() + "/" + op.results().size())
            .toList();
    assertThat(theirs).isEqualTo(ours).isNotEmpty();
  }
}
