package org.tfport.convert.keras;

import tools.jackson.databind.JsonNode;

/**
 * The Keras layer classes TF.js layers 4.22 deserializes ({@link TfjsLayerClasses}), for the
 * analyzer.
 */
public final class TfjsLayerSupport {
  private TfjsLayerSupport() {}

  /**
   * Also true for classes {@link KerasToTfjs} rewrites into ones TF.js has (SpatialDropout2D/3D to
   * Dropout).
   */
  public static boolean supports(String className) {
    return className.equals("SpatialDropout2D")
        || className.equals("SpatialDropout3D")
        || TfjsLayerClasses.SUPPORTED.contains(
            TfjsLayerClasses.RENAMES.getOrDefault(className, className));
  }

  /**
   * A setting of a supported class that TF.js rejects, as the converter words it ({@code "alpha 0.5
   * (TF.js supports only 1.0)"}), or null; ReLUs the converter turns into LeakyReLU are fine.
   */
  public static String unsupportedSetting(String className, JsonNode config) {
    if (TfjsLayerClasses.isLeakyRelu(className, config)) {
      return null;
    }
    return TfjsLayerClasses.unsupportedSetting(className, config);
  }
}
