package org.tfport.runtime.ops;

import static org.tfport.runtime.ops.ExactOracle.check;
import static org.tfport.runtime.ops.ExactOracle.rejects;
import static org.tfport.runtime.ops.ExactOracle.t;
import static org.tfport.runtime.ops.OpOracle.attrs;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.runtime.kernel.Value;
import org.tfport.testkit.OracleTest;

/**
 * ListDiff, UniqueV2, LowerBound/UpperBound, Bincount, DenseBincount, EnsureShape and FakeQuant
 * against TensorFlow; every comparison exact (FakeQuant is float32 step for step as TensorFlow, so
 * exact too).
 */
@OracleTest
class SetOpsTest {
  private final Random rnd = new Random(23);

  private Value smallInts(int lo, int hi, long... shape) {
    int[] v = new int[(int) Value.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = lo + rnd.nextInt(hi - lo);
    }
    return Value.ints(shape, v);
  }

  private Value coarseFloats(long... shape) {
    float[] v = new float[(int) Value.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = (rnd.nextInt(9) - 4) * 0.25f;
    }
    return Value.floats(shape, v);
  }

  @Test
  void listDiff() {
    for (DType idx : new DType[] {DType.INT32, DType.INT64}) {
      check(
          "ListDiff",
          attrs("T", t(DType.INT32), "out_idx", t(idx)),
          smallInts(0, 8, 20),
          smallInts(0, 8, 5));
    }
    check(
        "ListDiff",
        attrs("T", t(DType.FLOAT32), "out_idx", t(DType.INT32)),
        coarseFloats(15),
        coarseFloats(4));
    check(
        "ListDiff",
        attrs("T", t(DType.FLOAT32), "out_idx", t(DType.INT32)),
        Value.floats(new long[] {4}, 0f, -0f, Float.NaN, 1f),
        Value.floats(new long[] {2}, 0f, Float.NaN));
    check(
        "ListDiff",
        attrs("T", t(DType.INT32), "out_idx", t(DType.INT32)),
        smallInts(0, 3, 0),
        smallInts(0, 3, 2));
    check(
        "ListDiff",
        attrs("T", t(DType.INT64), "out_idx", t(DType.INT32)),
        Value.longs(new long[] {3}, 5, -1, 5),
        Value.longs(new long[] {0}));
  }

  @Test
  void uniqueV2AlongAxes() {
    Value x = smallInts(0, 2, 4, 5, 2);
    for (long axis : new long[] {0, 1, 2, -1, -3}) {
      for (DType idx : new DType[] {DType.INT32, DType.INT64}) {
        check(
            "UniqueV2",
            attrs("T", t(DType.INT32), "Taxis", t(DType.INT64), "out_idx", t(idx)),
            x,
            Value.longs(new long[] {1}, axis));
      }
    }
    check(
        "UniqueV2",
        attrs("T", t(DType.FLOAT32), "Taxis", t(DType.INT32), "out_idx", t(DType.INT32)),
        coarseFloats(12),
        Value.ints(new long[] {0}));
    check(
        "UniqueV2",
        attrs("T", t(DType.FLOAT32), "Taxis", t(DType.INT32), "out_idx", t(DType.INT32)),
        coarseFloats(6, 3),
        Value.ints(new long[] {1}, 0));
  }

  @Test
  void sortedSearch() {
    for (String op : new String[] {"LowerBound", "UpperBound"}) {
      for (DType out : new DType[] {DType.INT32, DType.INT64}) {
        Value sorted = Value.floats(new long[] {2, 6}, -1, 0, 0, 0.5f, 2, 2, -3, -3, -3, 1, 4, 9);
        check(op, attrs("T", t(DType.FLOAT32), "out_type", t(out)), sorted, coarseFloats(2, 9));
        Value ints = Value.ints(new long[] {1, 5}, 1, 3, 3, 5, 7);
        check(op, attrs("T", t(DType.INT32), "out_type", t(out)), ints, smallInts(0, 9, 1, 12));
        check(
            op,
            attrs("T", t(DType.INT32), "out_type", t(out)),
            Value.ints(new long[] {3, 0}),
            smallInts(0, 9, 3, 2));
      }
    }
  }

  @Test
  void bincount() {
    Value arr = smallInts(0, 7, 30);
    check("Bincount", attrs("T", t(DType.INT32)), arr, Value.scalar(5), Value.ints(new long[] {0}));
    check(
        "Bincount",
        attrs("T", t(DType.FLOAT32)),
        arr,
        Value.scalar(9),
        OpOracle.randomFloats(rnd, 30));
    check(
        "Bincount", attrs("T", t(DType.INT64)), arr, Value.scalar(0), Value.longs(new long[] {0}));
    check(
        "Bincount",
        attrs("T", t(DType.FLOAT64)),
        smallInts(0, 4, 0),
        Value.scalar(3),
        Value.doubles(new long[] {0}));
    rejects(
        "Bincount",
        attrs("T", t(DType.INT32)),
        "non-negative",
        Value.ints(new long[] {2}, 1, -1),
        Value.scalar(3),
        Value.ints(new long[] {0}));
  }

  @Test
  void denseBincount() {
    for (boolean binary : new boolean[] {false, true}) {
      AttrValue bin = new AttrValue.Bool(binary);
      check(
          "DenseBincount",
          attrs("Tidx", t(DType.INT32), "T", t(DType.FLOAT32), "binary_output", bin),
          smallInts(0, 6, 3, 8),
          Value.scalar(5),
          OpOracle.randomFloats(rnd, 3, 8));
      check(
          "DenseBincount",
          attrs("Tidx", t(DType.INT64), "T", t(DType.INT32), "binary_output", bin),
          Value.longs(new long[] {6}, 0, 3, 3, 1, 9, 3),
          Value.longs(new long[0], 4L),
          Value.ints(new long[] {0}));
      check(
          "DenseBincount",
          attrs("Tidx", t(DType.INT32), "T", t(DType.INT64), "binary_output", bin),
          smallInts(0, 4, 10),
          Value.scalar(4),
          Value.longs(new long[] {0}));
    }
  }

  @Test
  void ensureShape() {
    Value x = coarseFloats(2, 3);
    check(
        "EnsureShape",
        attrs(
            "T",
            t(DType.FLOAT32),
            "shape",
            new AttrValue.Shape(org.tfport.core.graph.TensorShape.of(-1, 3))),
        x);
    rejects(
        "EnsureShape",
        attrs(
            "T",
            t(DType.FLOAT32),
            "shape",
            new AttrValue.Shape(org.tfport.core.graph.TensorShape.of(3, -1))),
        "is not compatible with expected shape",
        x);
  }

  @Test
  void fakeQuant() {
    Value x = OpOracle.randomFloats(rnd, 4, 50);
    float[] xs = x.floats();
    for (int i = 0; i < xs.length; i++) {
      xs[i] *= 8;
    }
    float[][] ranges = {{-6, 6}, {-1.3f, 2.7f}, {0.2f, 5}, {-4, -0.5f}, {0, 0}};
    for (float[] r : ranges) {
      for (int bits : new int[] {8, 4, 16}) {
        for (boolean narrow : new boolean[] {false, true}) {
          Value min = Value.scalar(r[0]);
          Value max = Value.scalar(r[1]);
          Value minMax = Value.floats(new long[] {50}, new float[50]);
          check(
              "FakeQuantWithMinMaxVars",
              attrs(
                  "num_bits", new AttrValue.Int(bits), "narrow_range", new AttrValue.Bool(narrow)),
              x,
              min,
              max);
          if (r[0] < r[1]) {
            check(
                "FakeQuantWithMinMaxArgs",
                attrs(
                    "num_bits",
                    new AttrValue.Int(bits),
                    "narrow_range",
                    new AttrValue.Bool(narrow),
                    "min",
                    new AttrValue.Float(r[0]),
                    "max",
                    new AttrValue.Float(r[1])),
                x);
          }
          float[] lo = minMax.floats();
          float[] hi = new float[50];
          for (int c = 0; c < 50; c++) {
            lo[c] = r[0] - c * 0.05f;
            hi[c] = r[1] + c * 0.03f;
          }
          check(
              "FakeQuantWithMinMaxVarsPerChannel",
              attrs(
                  "num_bits", new AttrValue.Int(bits), "narrow_range", new AttrValue.Bool(narrow)),
              x,
              minMax,
              Value.floats(new long[] {50}, hi));
        }
      }
    }
  }

  @Test
  void xlaDynamicUpdateSliceClampsStarts() {
    Value x = Value.floats(new long[] {3, 4}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    Value u = Value.floats(new long[] {2, 2}, -1, -2, -3, -4);
    // Start (2, 3) is clamped to (1, 2) so the 2x2 block fits.
    Value y = SliceOps.dynamicUpdateSlice(x, u, Value.ints(new long[] {2}, 2, 3));
    ExactOracle.assertSame(
        "clamped", y, Value.floats(new long[] {3, 4}, 0, 1, 2, 3, 4, 5, -1, -2, 8, 9, -3, -4));
    Value z = SliceOps.dynamicUpdateSlice(x, u, Value.ints(new long[] {2}, -5, 1));
    ExactOracle.assertSame(
        "negative", z, Value.floats(new long[] {3, 4}, 0, -1, -2, 3, 4, -3, -4, 7, 8, 9, 10, 11));
  }
}
