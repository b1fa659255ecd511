package org.tfport.runtime.ops;

import org.tfport.runtime.ops.FixedPoint.Multiplier;

/**
 * A layer's {@link Requantizer} and, when its channels divide {@link #WIDTH} (8 of MobileNet V1
 * 0.25's first layers), a second one for {@code WIDTH / channels} output pixels at a time as one
 * row, the multipliers repeated: a row of 8 channels filled half a vector, and its per-row setup
 * cost as much as the arithmetic. Only for accumulators whose rows are contiguous.
 */
record NarrowRequantizer(Requantizer rq, Requantizer wide) {
  /** Channels of a wide row. */
  static final int WIDTH = 16;

  static NarrowRequantizer of(Multiplier[] m, int zeroPoint, int[] range) {
    Requantizer rq = Requantizer.of(m, zeroPoint, range);
    int oc = m.length;
    if (oc >= WIDTH || WIDTH % oc != 0) {
      return new NarrowRequantizer(rq, null);
    }
    Multiplier[] r = new Multiplier[WIDTH];
    for (int i = 0; i < WIDTH; i++) {
      r[i] = m[i % oc];
    }
    return new NarrowRequantizer(rq, Requantizer.of(r, zeroPoint, range));
  }

  /** The bias of a wide row (the first channels' values repeated), or null without one. */
  int[] wideBias(int[] bias) {
    if (wide == null) {
      return null;
    }
    int oc = rq.channels();
    int[] b = new int[WIDTH + IntMicrokernel.SLACK];
    for (int i = 0; i < WIDTH; i++) {
      b[i] = bias[i % oc];
    }
    return b;
  }

  /**
   * {@link IntMicrokernel#requantizeRows} of {@code rows} rows contiguous in {@code acc} (from 0)
   * and in {@code y}: whole wide rows first, the rest one at a time.
   */
  void rows(
      IntMicrokernel mk, int rows, int[] acc, int[] bias, int[] wideBias, byte[] y, int yOff) {
    int oc = rq.channels();
    int done = 0;
    if (wide != null) {
      int per = WIDTH / oc;
      int wideRows = rows / per;
      mk.requantizeRows(wide, wideRows, acc, 0, WIDTH, wideBias, y, yOff);
      done = wideRows * per;
    }
    if (done < rows) {
      mk.requantizeRows(rq, rows - done, acc, done * oc, oc, bias, y, yOff + done * oc);
    }
  }
}
