package org.tfport.convert.keras;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.TensorFlow;
import org.tensorflow.proto.OpDef;
import org.tfport.core.graph.ArgDef;
import org.tfport.testkit.OracleTest;

/**
 * The output argument names {@link FunctionBodies} writes function bodies with are TensorFlow
 * 2.18's: every op it knows, checked against the op registry of TF Java 1.1.0 (name, and the
 * attribute that repeats it).
 */
@OracleTest
class FunctionBodiesTest {
  @Test
  void outputArgumentsAreTensorFlows() {
    Map<String, OpDef> registry = new HashMap<>();
    TensorFlow.registeredOpList().getOpList().forEach(o -> registry.put(o.getName(), o));
    List<String> wrong = new ArrayList<>();
    Map<String, List<ArgDef>> known = FunctionBodies.known();
    for (Map.Entry<String, List<ArgDef>> e : known.entrySet()) {
      OpDef op = registry.get(e.getKey());
      if (op == null) {
        wrong.add(e.getKey() + ": not a TensorFlow op");
        continue;
      }
      List<String> want =
          op.getOutputArgList().stream()
              .map(a -> a.getName() + "|" + a.getNumberAttr() + "|" + a.getTypeListAttr())
              .toList();
      List<String> got =
          e.getValue().stream()
              .map(a -> a.name() + "|" + a.numberAttr() + "|" + a.typeListAttr())
              .toList();
      if (!want.equals(got)) {
        wrong.add(e.getKey() + ": TensorFlow " + want + ", tfport " + got);
      }
    }
    System.out.println("function-body output names checked for " + known.size() + " ops");
    assertThat(wrong).isEmpty();
    assertThat(known).hasSizeGreaterThan(80);
  }
}
