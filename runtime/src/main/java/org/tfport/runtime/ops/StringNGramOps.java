package org.tfport.runtime.ops;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * StringNGrams: the n-grams of each row of a ragged string tensor (flat tokens plus row splits),
 * padded on both sides, for every requested width in turn; the result is ragged again.
 */
final class StringNGramOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("StringNGrams", StringNGramOps::bind);
  }

  /** The attributes; {@code padWidth} −1 pads each width by width − 1. */
  private record Spec(
      byte[] separator,
      long[] widths,
      byte[] leftPad,
      byte[] rightPad,
      int padWidth,
      boolean preserveShort) {
    int padFor(int width) {
      return Math.min(padWidth < 0 ? width - 1 : padWidth, width - 1);
    }

    int count(int length, int width) {
      return Math.max(0, length + 2 * padFor(width) - width + 1);
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static Kernel bind(BindContext b) {
    DType splitsType = RaggedOps.splitsType(b);
    long[] widths = b.intsAttr("ngram_widths", new long[0]);
    for (long w : widths) {
      if (w <= 0) {
        throw new KernelException("ngram_widths must contain positive values, got " + w);
      }
    }
    Spec spec =
        new Spec(
            utf8(b.stringAttr("separator", " ")),
            widths,
            utf8(b.stringAttr("left_pad", "")),
            utf8(b.stringAttr("right_pad", "")),
            Math.toIntExact(b.intAttr("pad_width", 0)),
            b.boolAttr("preserve_short_sequences", false));
    return (in, ctx) -> {
      Value data = in[0];
      if (data.dtype() != DType.STRING || data.shape().length != 1) {
        throw new KernelException("data must be a string vector, got " + data);
      }
      byte[][] tokens = data.strings();
      long[] splits = Layout.vector(in[1], "data_splits");
      checkSplits(splits, tokens.length);
      int rows = Math.max(splits.length - 1, 0);
      long[] out = new long[splits.length];
      for (int i = 0; i < rows; i++) {
        int length = (int) (splits[i + 1] - splits[i]);
        long n = 0;
        for (long w : widths) {
          n += spec.count(length, (int) w);
        }
        if (spec.preserveShort() && length > 0 && n == 0) {
          n = 1;
        }
        out[i + 1] = out[i] + n;
        if (out[i + 1] > Integer.MAX_VALUE - 8) {
          throw new KernelException("StringNGrams would produce more than 2^31 n-grams");
        }
      }
      byte[][] grams = new byte[rows == 0 ? 0 : (int) out[rows]][];
      for (int i = 0; i < rows; i++) {
        int start = (int) splits[i];
        int length = (int) (splits[i + 1] - splits[i]);
        int at = (int) out[i];
        for (long w : widths) {
          int n = spec.count(length, (int) w);
          ngrams(spec, tokens, start, grams, at, n, (int) w);
          at += n;
        }
        if (spec.preserveShort() && at == out[i] && length > 0) {
          // With a fixed pad width a short row yields nothing; it then becomes one n-gram of
          // the whole row and its padding.
          ngrams(spec, tokens, start, grams, at, 1, length + 2 * spec.padWidth());
        }
      }
      return new Value[] {
        Value.of(DType.STRING, new long[] {grams.length}, grams), RaggedOps.splits(splitsType, out)
      };
    };
  }

  private static void checkSplits(long[] splits, int size) {
    if (splits.length == 0) {
      return;
    }
    if (splits[0] != 0) {
      throw new KernelException("First split value must be 0, got " + splits[0]);
    }
    for (int i = 1; i < splits.length; i++) {
      if (splits[i] < splits[i - 1] || splits[i] > size) {
        throw new KernelException(
            "Invalid split value "
                + splits[i]
                + ", must be in ["
                + splits[i - 1]
                + ", "
                + size
                + "]");
      }
    }
    if (splits[splits.length - 1] != size) {
      throw new KernelException(
          "Last split value must be data size. Expected "
              + size
              + ", got "
              + splits[splits.length - 1]);
    }
  }

  /**
   * Writes {@code count} n-grams of {@code width} over the row starting at {@code start}. Pads and
   * tokens are joined by the separator, never leaving two separators in a row or one at an end.
   */
  private static void ngrams(
      Spec spec, byte[][] tokens, int start, byte[][] out, int at, int count, int width) {
    int pad = spec.padFor(width);
    for (int k = 0; k < count; k++) {
      int left = Math.max(0, pad - k);
      int right = Math.max(0, pad - (count - (k + 1)));
      int num = width - (left + right);
      int first = left > 0 ? 0 : k - pad;
      ByteArrayOutputStream g = new ByteArrayOutputStream();
      for (int n = 0; n < left; n++) {
        g.writeBytes(spec.leftPad());
        g.writeBytes(spec.separator());
      }
      for (int n = 0; n < num - 1; n++) {
        g.writeBytes(tokens[start + first + n]);
        g.writeBytes(spec.separator());
      }
      if (num > 0) {
        g.writeBytes(tokens[start + first + num - 1]);
        for (int n = 0; n < right; n++) {
          g.writeBytes(spec.separator());
          g.writeBytes(spec.rightPad());
        }
      } else {
        for (int n = 0; n < right - 1; n++) {
          g.writeBytes(spec.rightPad());
          g.writeBytes(spec.separator());
        }
        g.writeBytes(spec.rightPad());
      }
      out[at + k] = g.toByteArray();
    }
  }
}
