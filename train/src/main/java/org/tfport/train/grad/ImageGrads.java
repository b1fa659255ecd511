package org.tfport.train.grad;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;
import org.tfport.core.graph.Node;

/**
 * Image resizes (UpSampling2D bilinear, Resizing): TensorFlow's fused gradient ops, which add each
 * resized pixel's gradient back into the pixels it was read from, with the forward op's corner
 * mode.
 */
final class ImageGrads {
  private static final AttrValue F32 = new AttrValue.Type(DataTypes.DT_FLOAT);

  private ImageGrads() {}

  static void register(Map<String, GradRule> r) {
    r.put(
        "ResizeBilinear",
        (g, n, dy) ->
            Arrays.asList(
                g.raw("ResizeBilinearGrad", List.of(dy.get(0), n.dataInputs().get(0)), modes(n)),
                null));
    r.put(
        "ResizeNearestNeighbor",
        (g, n, dy) -> {
          // The gradient op takes the original [height, width]; a batch of unknown size is fine.
          long[] sx = g.dims(n.dataInputs().get(0));
          if (sx.length != 4 || sx[1] < 0 || sx[2] < 0) {
            throw new UnsupportedModelException(
                n.name()
                    + " (ResizeNearestNeighbor): cannot differentiate a resize of an image of"
                    + " unknown height or width");
          }
          return Arrays.asList(
              g.raw(
                  "ResizeNearestNeighborGrad", List.of(dy.get(0), g.ints(sx[1], sx[2])), modes(n)),
              null);
        });
  }

  private static Map<String, AttrValue> modes(Node n) {
    if (n.attr("T") instanceof AttrValue.Type t && t.value() != DataTypes.DT_FLOAT) {
      throw new UnsupportedModelException(
          n.name()
              + " ("
              + n.op()
              + "): cannot differentiate a resize of non-float32 images; cast them to float32"
              + " before the resize");
    }
    return Map.of(
        "T",
        F32,
        "align_corners",
        flag(n, "align_corners"),
        "half_pixel_centers",
        flag(n, "half_pixel_centers"));
  }

  private static AttrValue flag(Node n, String key) {
    return new AttrValue.Bool(n.attr(key) instanceof AttrValue.Bool b && b.value());
  }
}
