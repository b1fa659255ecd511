package org.tfport.formats.tflite;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * One {@code Operator}. Tensor indices refer to the enclosing subgraph; -1 marks an omitted
 * optional input. Custom options that a >2 GB file keeps outside the FlatBuffer are read into
 * {@code customOptions}.
 *
 * @param builtinOptions null for {@code BuiltinOptions.NONE}
 * @param customOptions null when absent; FlexBuffers when {@code customOptionsFormat} is 0
 */
public record TfliteOperator(
    int opcodeIndex,
    List<Integer> inputs,
    List<Integer> outputs,
    BuiltinOptions builtinOptions,
    ByteBuffer customOptions,
    int customOptionsFormat,
    List<Boolean> mutatingVariableInputs,
    List<Integer> intermediates) {
  public TfliteOperator {
    if (opcodeIndex < 0) {
      throw new IllegalArgumentException("opcode index must be >= 0, got " + opcodeIndex);
    }
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    customOptions = customOptions == null ? null : customOptions.slice().asReadOnlyBuffer();
    mutatingVariableInputs = List.copyOf(mutatingVariableInputs);
    intermediates = List.copyOf(intermediates);
  }

  /** A builtin op with options (or null). */
  public TfliteOperator(
      int opcodeIndex, List<Integer> inputs, List<Integer> outputs, BuiltinOptions options) {
    this(opcodeIndex, inputs, outputs, options, null, 0, List.of(), List.of());
  }

  @Override
  public ByteBuffer customOptions() {
    return customOptions == null ? null : customOptions.duplicate();
  }
}
