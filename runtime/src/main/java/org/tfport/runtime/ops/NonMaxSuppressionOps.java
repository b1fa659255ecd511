package org.tfport.runtime.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import org.tfport.core.DType;
import org.tfport.runtime.kernel.BindContext;
import org.tfport.runtime.kernel.Kernel;
import org.tfport.runtime.kernel.KernelException;
import org.tfport.runtime.kernel.KernelRegistry;
import org.tfport.runtime.kernel.OpFamily;
import org.tfport.runtime.kernel.Value;

/**
 * NonMaxSuppressionV2–V5 (detection models; TF.js uses V3–V5), greedy in TensorFlow's exact order:
 * candidates above score_threshold by descending score, lower index first on ties; a candidate is
 * dropped when its IoU with a selected box exceeds iou_threshold. With soft_nms_sigma &gt; 0 (V5)
 * overlaps instead decay the score by exp(−iou²/(2σ)) whatever iou_threshold, and a decayed
 * candidate still above score_threshold goes back in the queue. IoU and scores are computed in
 * float, as in TF.
 */
final class NonMaxSuppressionOps implements OpFamily {
  @Override
  public void register(KernelRegistry r) {
    r.reference("NonMaxSuppressionV2", b -> bind(b, 2));
    r.reference("NonMaxSuppressionV3", b -> bind(b, 3));
    r.reference("NonMaxSuppressionV4", b -> bind(b, 4));
    r.reference("NonMaxSuppressionV5", b -> bind(b, 5));
  }

  /**
   * A box in the queue; its score decays under soft NMS, and it is only compared with boxes
   * selected since.
   */
  private static final class Candidate {
    final int index;
    float score;
    int comparedUpTo;

    Candidate(int index, float score) {
      this.index = index;
      this.score = score;
    }
  }

  private static Kernel bind(BindContext b, int version) {
    boolean pad = version >= 4 && b.boolAttr("pad_to_max_output_size", false);
    return (in, ctx) -> {
      Value boxes = in[0];
      Value scores = in[1];
      if (boxes.rank() != 2 || boxes.dim(1) != 4) {
        throw new KernelException("boxes " + boxes + " is not [num_boxes, 4]");
      }
      int n = (int) boxes.dim(0);
      if (scores.rank() != 1 || scores.dim(0) != n) {
        throw new KernelException("scores " + scores + " is not a vector of " + n + " scores");
      }
      int maxOutput = (int) scalar(in[2], "max_output_size");
      float iouThreshold = (float) scalar(in[3], "iou_threshold");
      float scoreThreshold =
          version >= 3 ? (float) scalar(in[4], "score_threshold") : Float.NEGATIVE_INFINITY;
      float sigma = version == 5 ? (float) scalar(in[5], "soft_nms_sigma") : 0f;
      if (maxOutput < 0) {
        throw new KernelException("max_output_size " + maxOutput + " is negative");
      }
      if (!(iouThreshold >= 0 && iouThreshold <= 1)) {
        throw new KernelException("iou_threshold " + iouThreshold + " is not in [0, 1]");
      }
      if (sigma < 0) {
        throw new KernelException("soft_nms_sigma " + sigma + " is negative");
      }
      float[] box = floats(boxes);
      float[] score = floats(scores);
      float decay = sigma > 0 ? -0.5f / sigma : 0f;
      PriorityQueue<Candidate> queue =
          new PriorityQueue<>(
              (p, q) ->
                  p.score != q.score
                      ? Float.compare(q.score, p.score)
                      : Integer.compare(p.index, q.index));
      for (int i = 0; i < n; i++) {
        if (score[i] > scoreThreshold) {
          queue.add(new Candidate(i, score[i]));
        }
      }
      int limit = Math.min(maxOutput, n);
      List<Integer> selected = new ArrayList<>();
      List<Float> selectedScores = new ArrayList<>();
      while (selected.size() < limit && !queue.isEmpty()) {
        Candidate c = queue.poll();
        float original = c.score;
        boolean suppressed = false;
        // Newest selections first: overlapping boxes tend to have close scores.
        for (int j = selected.size() - 1; j >= c.comparedUpTo; j--) {
          float iou = iou(box, c.index, selected.get(j));
          if (decay == 0) {
            if (iou > iouThreshold) {
              suppressed = true;
              break;
            }
          } else {
            // Soft NMS never drops a box outright, and TF then ignores iou_threshold.
            c.score *= (float) Math.exp(decay * iou * iou);
            if (c.score <= scoreThreshold) {
              break;
            }
          }
        }
        c.comparedUpTo = selected.size();
        if (suppressed) {
          continue;
        }
        if (c.score == original) {
          selected.add(c.index);
          selectedScores.add(c.score);
        } else if (c.score > scoreThreshold) {
          queue.add(c);
        }
      }
      int valid = selected.size();
      int length = pad ? Math.max(maxOutput, valid) : valid;
      int[] indices = new int[length];
      float[] kept = new float[length];
      for (int i = 0; i < valid; i++) {
        indices[i] = selected.get(i);
        kept[i] = selectedScores.get(i);
      }
      Value indicesOut = Value.ints(new long[] {length}, indices);
      return switch (version) {
        case 4 -> new Value[] {indicesOut, Value.scalar(valid)};
        case 5 ->
            new Value[] {indicesOut, Value.floats(new long[] {length}, kept), Value.scalar(valid)};
        default -> new Value[] {indicesOut};
      };
    };
  }

  private static double scalar(Value v, String what) {
    if (v.size() != 1 || v.rank() > 1) {
      throw new KernelException(what + " " + v + " is not a scalar");
    }
    return v.doubleAt(0);
  }

  private static float[] floats(Value v) {
    if (v.dtype() == DType.FLOAT32) {
      return v.floats();
    }
    float[] out = new float[v.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) v.doubleAt(i);
    }
    return out;
  }

  /** Intersection over union of boxes i and j, corners in either order; 0 when either is empty. */
  private static float iou(float[] b, int i, int j) {
    float yminI = Math.min(b[4 * i], b[4 * i + 2]);
    float xminI = Math.min(b[4 * i + 1], b[4 * i + 3]);
    float ymaxI = Math.max(b[4 * i], b[4 * i + 2]);
    float xmaxI = Math.max(b[4 * i + 1], b[4 * i + 3]);
    float yminJ = Math.min(b[4 * j], b[4 * j + 2]);
    float xminJ = Math.min(b[4 * j + 1], b[4 * j + 3]);
    float ymaxJ = Math.max(b[4 * j], b[4 * j + 2]);
    float xmaxJ = Math.max(b[4 * j + 1], b[4 * j + 3]);
    float areaI = (ymaxI - yminI) * (xmaxI - xminI);
    float areaJ = (ymaxJ - yminJ) * (xmaxJ - xminJ);
    if (areaI <= 0 || areaJ <= 0) {
      return 0;
    }
    float h = Math.max(Math.min(ymaxI, ymaxJ) - Math.max(yminI, yminJ), 0f);
    float w = Math.max(Math.min(xmaxI, xmaxJ) - Math.max(xminI, xminJ), 0f);
    float intersection = h * w;
    return intersection / (areaI + areaJ - intersection);
  }
}
