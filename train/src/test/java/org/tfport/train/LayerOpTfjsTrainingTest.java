package org.tfport.train;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.convert.Converter;
import org.tfport.formats.ModelFormat;
import org.tfport.testkit.OracleTest;

/**
 * The layers whose gradients LayerOpGradientCheckTest checks, trained by tfport and by TF.js 4.22
 * from the same weights and data, unshuffled, SGD: loss per epoch and final weights within 1e-4
 * relative after 3 epochs.
 *
 * <p>Not here, as TF.js cannot be the reference for them: UpSampling2D (TF.js 4.22's CPU
 * ResizeNearestNeighborGrad is wrong for a batch above 1: 1.06 off the sum of the copies' gradients
 * for [2, 6, 6, 1] doubled in height), ThresholdedReLU and ELU with alpha other than 1 (TF.js has
 * no gradient for Greater; no such ELU), Cropping1D (no such TF.js layer). LayerOpGradientCheckTest
 * checks those against finite differences.
 */
@OracleTest
class LayerOpTfjsTrainingTest {
  @TempDir Path dir;

  private static final List<TfjsTrainingTest.Case> SGD =
      List.of(
          new TfjsTrainingTest.Case(
              "sgd", 0.1, Loss.CATEGORICAL_CROSSENTROPY, "categoricalCrossentropy"));

  private void compare(TestModels m, String name, org.tfport.core.Tensor x) {
    Path h5 = m.write(dir.resolve(name + ".h5"));
    Path json = dir.resolve(name);
    Converter.from(h5).to(ModelFormat.TFJS_LAYERS_MODEL).convert(json);
    TfjsTrainingTest.compare(h5, json.resolve("model.json"), x, SGD);
  }

  @Test
  void croppingAndGlobalMaxPoolingTrainAsInTfjs() {
    compare(
        new TestModels(51, 7, 7, 2)
            .conv("conv", 2, 4, 2, 1, "valid", "tanh")
            .layer(
                "Cropping2D",
                "crop",
                "\"cropping\": [[1, 0], [0, 2]], \"data_format\": \"channels_last\"")
            .conv("conv_1", 4, 3, 2, 1, "valid", "tanh")
            .layer("GlobalMaxPooling2D", "gmp", "\"data_format\": \"channels_last\"")
            .dense("dense", 3, 3, "softmax"),
        "gmp",
        TestModels.uniform(52, TfjsTrainingTest.N, 7, 7, 2));
  }

  @Test
  void repeatVectorTrainsAsInTfjs() {
    compare(
        new TestModels(53, 4)
            .dense("dense", 4, 3, "tanh")
            .layer("RepeatVector", "rep", "\"n\": 4")
            .lstm("lstm", 3, 4)
            .dense("dense_1", 4, 3, "softmax"),
        "rep",
        TestModels.uniform(54, TfjsTrainingTest.N, 4));
  }

  @Test
  void maxPooling3dTrainsAsInTfjs() {
    compare(
        new TestModels(59, 4, 5, 5, 2)
            .layer(
                "Conv3D",
                "conv3d",
                "\"filters\": 3, \"kernel_size\": [2, 2, 2], \"strides\": [1, 1, 1],"
                    + " \"padding\": \"valid\", \"data_format\": \"channels_last\","
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
            .dense("dense", 12, 3, "softmax"),
        "max3d",
        TestModels.uniform(60, TfjsTrainingTest.N, 4, 5, 5, 2));
  }

  @Test
  void eluAndSeluTrainAsInTfjs() {
    compare(
        new TestModels(55, 4)
            .dense("dense", 4, 6, "linear")
            .layer("ELU", "elu", "\"alpha\": 1.0")
            .dense("dense_1", 6, 6, "selu")
            .dense("dense_2", 6, 3, "softmax"),
        "act",
        TestModels.uniform(56, TfjsTrainingTest.N, 4));
  }

  @Test
  void conv3dAndAveragePooling3dTrainAsInTfjs() {
    compare(
        new TestModels(57, 4, 5, 5, 2)
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
            .dense("dense", 6, 3, "softmax"),
        "c3d",
        TestModels.uniform(58, TfjsTrainingTest.N, 4, 5, 5, 2));
  }
}
