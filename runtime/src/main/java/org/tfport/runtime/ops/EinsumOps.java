package org.tfport.runtime.ops;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * Einsum over one or two operands: any labels, a label repeated within an operand (a diagonal),
 * ellipsis with broadcasting. As in TensorFlow's op (unlike its Python wrapper) the output must be
 * spelled out after "->". Computed directly: each output element sums the product of the operands
 * over every value of the contracted labels (in order of their first appearance, last label
 * fastest).
 */
final class EinsumOps implements OpFamily {
  /** Labels of ellipsis dimensions: ELLIPSIS + i for the i-th broadcast dimension. */
  private static final int ELLIPSIS = 1 << 16;

  @Override
  public void register(KernelRegistry r) {
    r.reference("Einsum", EinsumOps::bind);
  }

  private static Kernel bind(BindContext b) {
    DType t = Reals.type(b, "T", Reals.FLOATS);
    String equation = b.stringAttr("equation", null);
    if (equation == null) {
      throw new KernelException("attribute 'equation' is missing");
    }
    String eq = equation.replace(" ", "");
    int arrow = eq.indexOf("->");
    if (arrow < 0 || eq.indexOf("->", arrow + 1) >= 0) {
      throw new KernelException("equation '" + equation + "' does not have exactly one '->'");
    }
    String[] ins = eq.substring(0, arrow).split(",", -1);
    String out = eq.substring(arrow + 2);
    if (ins.length != b.inputCount() || ins.length > 2) {
      throw new KernelException(
          "equation '"
              + equation
              + "' has "
              + ins.length
              + " operands for "
              + b.inputCount()
              + " inputs; Einsum takes 1 or 2");
    }
    for (String s : ins) {
      check(s, equation);
    }
    check(out, equation);
    return (in, ctx) -> {
      for (Value v : in) {
        ConvOps.checkType(v, t, "operand");
      }
      int ellipsisRank = 0;
      for (int o = 0; o < ins.length; o++) {
        ellipsisRank = Math.max(ellipsisRank, ellipsisDims(ins[o], in[o], equation));
      }
      int[][] axisLabels = new int[ins.length][];
      for (int o = 0; o < ins.length; o++) {
        axisLabels[o] = labels(ins[o], ellipsisDims(ins[o], in[o], equation), ellipsisRank);
      }
      int[] outLabels = labels(out, out.contains("...") ? ellipsisRank : 0, ellipsisRank);
      Map<Integer, Long> sizes = new LinkedHashMap<>();
      for (int o = 0; o < ins.length; o++) {
        for (int a = 0; a < axisLabels[o].length; a++) {
          long d = in[o].dim(a);
          int label = axisLabels[o][a];
          Long s = sizes.get(label);
          if (s == null || s == 1 && label >= ELLIPSIS) {
            sizes.put(label, d);
          } else if (s != d && !(d == 1 && label >= ELLIPSIS)) {
            throw new KernelException(
                "equation '" + equation + "': label " + name(label) + " is " + s + " and " + d);
          }
        }
      }
      List<Integer> contracted = new ArrayList<>(sizes.keySet());
      long[] outShape = new long[outLabels.length];
      for (int i = 0; i < outLabels.length; i++) {
        if (!sizes.containsKey(outLabels[i]) || contracted.indexOf(outLabels[i]) < 0) {
          throw new KernelException(
              "equation '"
                  + equation
                  + "': output label "
                  + name(outLabels[i])
                  + " is repeated or in no operand");
        }
        contracted.remove(Integer.valueOf(outLabels[i]));
        outShape[i] = sizes.get(outLabels[i]);
      }
      int[] inner = contracted.stream().mapToInt(Integer::intValue).toArray();
      long[] innerShape = new long[inner.length];
      for (int i = 0; i < inner.length; i++) {
        innerShape[i] = sizes.get(inner[i]);
      }
      int[][] outerOffsets = new int[ins.length][];
      int[][] innerOffsets = new int[ins.length][];
      for (int o = 0; o < ins.length; o++) {
        outerOffsets[o] = offsets(in[o], axisLabels[o], outLabels, outShape);
        innerOffsets[o] = offsets(in[o], axisLabels[o], inner, innerShape);
      }
      int n = (int) Value.elementCount(outShape);
      Object result =
          t == DType.FLOAT32
              ? sumFloat(in, outerOffsets, innerOffsets, n)
              : sumDouble(in, outerOffsets, innerOffsets, n);
      return new Value[] {Value.of(t, outShape, result)};
    };
  }

  private static void check(String subscripts, String equation) {
    String rest = subscripts.replaceFirst("\\.\\.\\.", "");
    for (char c : rest.toCharArray()) {
      if (!Character.isLetter(c)) {
        throw new KernelException(
            "equation '" + equation + "' has '" + c + "' in '" + subscripts + "'");
      }
    }
  }

  private static String name(int label) {
    return label >= ELLIPSIS
        ? "(ellipsis dim " + (label - ELLIPSIS) + ")"
        : String.valueOf((char) label);
  }

  /** How many dimensions an operand's ellipsis stands for. */
  private static int ellipsisDims(String subscripts, Value v, String equation) {
    int named = subscripts.replace("...", "").length();
    boolean ellipsis = subscripts.contains("...");
    if (ellipsis ? v.rank() < named : v.rank() != named) {
      throw new KernelException(
          "equation '" + equation + "': '" + subscripts + "' does not fit " + v);
    }
    return v.rank() - named;
  }

  /**
   * The label of each axis; an ellipsis of {@code dims} dimensions takes the last of the broadcast
   * labels.
   */
  private static int[] labels(String subscripts, int dims, int ellipsisRank) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < subscripts.length(); i++) {
      if (subscripts.startsWith("...", i)) {
        for (int e = 0; e < dims; e++) {
          out.add(ELLIPSIS + ellipsisRank - dims + e);
        }
        i += 2;
      } else {
        out.add((int) subscripts.charAt(i));
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * The operand's element offset for each point of the space spanned by {@code space} labels
   * (row-major); a label on several axes walks their diagonal, a broadcast axis of size 1 stays
   * put.
   */
  private static int[] offsets(Value v, int[] axisLabels, int[] space, long[] spaceShape) {
    int[] strides = new int[space.length];
    int stride = 1;
    for (int a = axisLabels.length - 1; a >= 0; a--) {
      for (int s = 0; s < space.length; s++) {
        if (space[s] == axisLabels[a] && v.dim(a) != 1) {
          strides[s] += stride;
        }
      }
      stride *= (int) v.dim(a);
    }
    int n = (int) Value.elementCount(spaceShape);
    int[] out = new int[n];
    int[] index = new int[space.length];
    int offset = 0;
    for (int q = 0; q < n; q++) {
      out[q] = offset;
      for (int a = space.length - 1; a >= 0; a--) {
        offset += strides[a];
        if (++index[a] < spaceShape[a]) {
          break;
        }
        offset -= strides[a] * index[a];
        index[a] = 0;
      }
    }
    return out;
  }

  private static float[] sumFloat(Value[] in, int[][] outer, int[][] inner, int n) {
    float[] out = new float[n];
    float[] x = in[0].floats();
    if (in.length == 1) {
      for (int i = 0; i < n; i++) {
        float acc = 0;
        for (int j = 0; j < inner[0].length; j++) {
          acc += x[outer[0][i] + inner[0][j]];
        }
        out[i] = acc;
      }
      return out;
    }
    float[] y = in[1].floats();
    for (int i = 0; i < n; i++) {
      float acc = 0;
      for (int j = 0; j < inner[0].length; j++) {
        acc += x[outer[0][i] + inner[0][j]] * y[outer[1][i] + inner[1][j]];
      }
      out[i] = acc;
    }
    return out;
  }

  private static double[] sumDouble(Value[] in, int[][] outer, int[][] inner, int n) {
    double[] out = new double[n];
    double[] x = in[0].doubles();
    if (in.length == 1) {
      for (int i = 0; i < n; i++) {
        double acc = 0;
        for (int j = 0; j < inner[0].length; j++) {
          acc += x[outer[0][i] + inner[0][j]];
        }
        out[i] = acc;
      }
      return out;
    }
    double[] y = in[1].doubles();
    for (int i = 0; i < n; i++) {
      double acc = 0;
      for (int j = 0; j < inner[0].length; j++) {
        acc += x[outer[0][i] + inner[0][j]] * y[outer[1][i] + inner[1][j]];
      }
      out[i] = acc;
    }
    return out;
  }
}
