package org.tfport.runtime.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Value;
import org.tfport.runtime.ops.OracleCases.Tol;

/**
 * Gradient-kernel cases with several outputs, all run in one TensorFlow session and compared output
 * by output; the worst difference per op is kept for the report.
 */
final class GradCases {
  private final List<Case> cases = new ArrayList<>();
  private final OracleCases.Worst worst;

  record Case(
      String label,
      String op,
      Map<String, AttrValue> attrs,
      int outputs,
      Tol tol,
      Value... inputs) {}

  GradCases(OracleCases.Worst worst) {
    this.worst = worst;
  }

  void add(
      String label,
      String op,
      Map<String, AttrValue> attrs,
      int outputs,
      Tol tol,
      Value... inputs) {
    cases.add(new Case(label, op, attrs, outputs, tol, inputs));
  }

  int size() {
    return cases.size();
  }

  /** Runs every case both ways and asserts each output within its tolerance. */
  void check() {
    List<OpOracle.Call> calls = new ArrayList<>();
    for (Case c : cases) {
      calls.add(new OpOracle.Call(c.op(), c.attrs(), c.outputs(), c.inputs()));
    }
    List<List<Value>> expected = OpOracle.runTensorFlow(calls);
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      try {
        Value[] actual = OpOracle.runKernel(c.op(), c.attrs(), c.inputs());
        for (int o = 0; o < c.outputs(); o++) {
          String key =
              c.op() + (c.outputs() > 1 ? ":" + o : "") + " " + c.inputs()[0].dtype().jsName();
          worst.see(
              key,
              OracleCases.compare(
                  c.label() + " output " + o, actual[o], expected.get(i).get(o), c.tol()));
        }
      } catch (AssertionError | RuntimeException e) {
        failures.add(c.label() + ": " + String.valueOf(e.getMessage()).replace('\n', ' '));
      }
    }
    assertThat(failures).as(failures.size() + " of " + cases.size() + " cases differ").isEmpty();
  }
}
