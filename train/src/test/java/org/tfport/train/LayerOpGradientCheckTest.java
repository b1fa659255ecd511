package org.tfport.train;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.graph.keras.KerasTraining;

/**
 * Gradients through the ops the corpus audit found without a rule (GlobalMaxPooling's Max,
 * Cropping's StridedSlice, UpSampling's and RepeatVector's Tile, Conv3D, AveragePooling3D, the
 * Select of ELU and thresholded ReLUs, SELU, bilinear UpSampling's ResizeBilinear, GELU's Erf)
 * against central finite differences of the same graph's loss.
 */
class LayerOpGradientCheckTest {
  @TempDir Path dir;

  private static final int N = 6;

  @Test
  void globalMaxPoolingGradientsMatchFiniteDifferences() {
    Path h5 =
        new TestModels(31, 6, 6, 2)
            .conv("conv", 2, 4, 3, 1, "valid", "tanh")
            .layer("GlobalMaxPooling2D", "gmp", "\"data_format\": \"channels_last\"")
            .dense("dense", 4, 3, "softmax")
            .write(dir.resolve("gmp.h5"));
    // A step that moves another position to the maximum is a kink: skipped as for MaxPooling.
    GradientCheckTest.check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(32, N, 6, 6, 2),
        TestModels.oneHot(N, 3, 1),
        KerasTraining.Options.defaults(),
        1e-3f,
        true);
  }

  @Test
  void croppingAndUpSamplingGradientsMatchFiniteDifferences() {
    // 6x6x2 → conv 5x5x3 → crop ((1, 0), (0, 2)) 4x3x3 → upsample (2, 1) 8x3x3 → dense.
    Path h5 =
        new TestModels(33, 6, 6, 2)
            .conv("conv", 2, 3, 2, 1, "valid", "tanh")
            .layer(
                "Cropping2D",
                "crop",
                "\"cropping\": [[1, 0], [0, 2]], \"data_format\": \"channels_last\"")
            .layer(
                "UpSampling2D",
                "up",
                "\"size\": [2, 1], \"data_format\": \"channels_last\", \"interpolation\": \"nearest\"")
            .flatten()
            .dense("dense", 72, 3, "softmax")
            .write(dir.resolve("crop.h5"));
    GradientCheckTest.check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(34, N, 6, 6, 2),
        TestModels.oneHot(N, 3, 2),
        KerasTraining.Options.defaults());
  }

  @Test
  void repeatVectorAndCropping1dGradientsMatchFiniteDifferences() {
    Path h5 =
        new TestModels(35, 4)
            .dense("dense", 4, 3, "tanh")
            .layer("RepeatVector", "rep", "\"n\": 4")
            .layer("Cropping1D", "crop", "\"cropping\": [1, 1]")
            .lstm("lstm", 3, 3)
            .dense("dense_1", 3, 3, "softmax")
            .write(dir.resolve("rep.h5"));
    GradientCheckTest.check(
        h5,
        Loss.SPARSE_CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(36, N, 4),
        TestModels.classIds(N, 3, 0),
        KerasTraining.Options.defaults());
  }

  @Test
  void conv3dAndAveragePooling3dGradientsMatchFiniteDifferences() {
    // 5x5x3x2 → 2x2x2 stride (1, 2, 2) SAME → 5x3x2x3 → average 2x2x2 VALID → 2x1x1x3 (the last
    // depth row, height row and width column left out: their gradient is zero).
    Path h5 =
        new TestModels(37, 5, 5, 3, 2)
            .layer(
                "Conv3D",
                "conv3d",
                "\"filters\": 3, \"kernel_size\": [2, 2, 2], \"strides\": [1, 2, 2],"
                    + " \"padding\": \"same\", \"data_format\": \"channels_last\","
                    + " \"dilation_rate\": [1, 1, 1], \"activation\": \"tanh\", \"use_bias\": true",
                "kernel",
                new long[] {2, 2, 2, 2, 3},
                "bias",
                new long[] {3})
            .layer(
                "AveragePooling3D",
                "avg",
                "\"pool_size\": [2, 2, 2], \"strides\": [2, 2, 2], \"padding\": \"valid\","
                    + " \"data_format\": \"channels_last\"")
            .flatten()
            .dense("dense", 6, 3, "softmax")
            .write(dir.resolve("c3d.h5"));
    GradientCheckTest.check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(38, N, 5, 5, 3, 2),
        TestModels.oneHot(N, 3, 0),
        KerasTraining.Options.defaults());
  }

  @Test
  void maxPooling3dGradientsMatchFiniteDifferences() {
    // 5x5x3x2 → conv 5x3x2x3 → max 2x2x2 VALID → 2x1x1x3 (a left-out row, column, depth).
    Path h5 =
        new TestModels(41, 5, 5, 3, 2)
            .layer(
                "Conv3D",
                "conv3d",
                "\"filters\": 3, \"kernel_size\": [2, 2, 2], \"strides\": [1, 2, 2],"
                    + " \"padding\": \"same\", \"data_format\": \"channels_last\","
                    + " \"dilation_rate\": [1, 1, 1], \"activation\": \"tanh\", \"use_bias\": true",
                "kernel",
                new long[] {2, 2, 2, 2, 3},
                "bias",
                new long[] {3})
            .layer(
                "MaxPooling3D",
                "max",
                "\"pool_size\": [2, 2, 2], \"strides\": [2, 2, 2], \"padding\": \"valid\","
                    + " \"data_format\": \"channels_last\"")
            .flatten()
            .dense("dense", 6, 3, "softmax")
            .write(dir.resolve("max3d.h5"));
    GradientCheckTest.check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(42, N, 5, 5, 3, 2),
        TestModels.oneHot(N, 3, 1),
        KerasTraining.Options.defaults(),
        1e-3f,
        true);
  }

  /**
   * Attention's scores and weighted values are batched products of two batch-sized operands; a
   * Dense on a sequence multiplies a batch by a rank-2 kernel, broadcast over the batch.
   */
  @Test
  void attentionGradientsMatchFiniteDifferences() {
    Path h5 =
        new TestModels(43, 4, 3)
            .dense("q", 3, 3, "tanh")
            .dense("v", 3, 3, "tanh")
            .from("input")
            .layer(
                "Attention",
                "att",
                "\"use_scale\": true, \"score_mode\": \"dot\"",
                "scale",
                new long[0])
            .from("q", "v")
            .flatten()
            .dense("dense", 12, 3, "softmax")
            .writeFunctional(dir.resolve("att.h5"), "dense");
    GradientCheckTest.check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(44, N, 4, 3),
        TestModels.oneHot(N, 3, 2),
        KerasTraining.Options.defaults());
  }

  @Test
  void eluThresholdedReluAndSeluGradientsMatchFiniteDifferences() {
    Path h5 =
        new TestModels(39, 4)
            .dense("dense", 4, 6, "linear")
            .layer("ELU", "elu", "\"alpha\": 0.7")
            .dense("dense_1", 6, 6, "selu")
            .layer(
                "ReLU", "relu", "\"max_value\": 0.6, \"negative_slope\": 0.1, \"threshold\": -0.2")
            .dense("dense_2", 6, 6, "linear")
            .layer("ThresholdedReLU", "thr", "\"theta\": 0.1")
            .dense("dense_3", 6, 3, "softmax")
            .write(dir.resolve("act.h5"));
    GradientCheckTest.check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(40, N, 4),
        TestModels.oneHot(N, 3, 1),
        KerasTraining.Options.defaults(),
        1e-3f,
        true);
  }

  @Test
  void bilinearUpSamplingAndGeluGradientsMatchFiniteDifferences() {
    // 5x5x2 → conv 4x4x3 (gelu: Erf) → bilinear upsample (2, 3) 8x12x3 → dense. Keras's bilinear
    // UpSampling2D is ResizeBilinear with half-pixel centres.
    Path h5 =
        new TestModels(45, 5, 5, 2)
            .conv("conv", 2, 3, 2, 1, "valid", "gelu")
            .layer(
                "UpSampling2D",
                "up",
                "\"size\": [2, 3], \"data_format\": \"channels_last\","
                    + " \"interpolation\": \"bilinear\"")
            .flatten()
            .dense("dense", 288, 3, "softmax")
            .write(dir.resolve("bilinear.h5"));
    GradientCheckTest.check(
        h5,
        Loss.CATEGORICAL_CROSSENTROPY,
        TestModels.uniform(46, N, 5, 5, 2),
        TestModels.oneHot(N, 3, 1),
        KerasTraining.Options.defaults());
  }
}
