package org.tfport.train;

import java.util.Locale;
import org.tfport.core.TfportException.UsageException;

/**
 * A metric computed per batch in Java from the predictions and targets, its epoch value the mean
 * over samples (batches weighted by their size), as TF.js logs it.
 */
public enum Metric {
  BINARY_ACCURACY("binary_accuracy"),
  CATEGORICAL_ACCURACY("categorical_accuracy"),
  SPARSE_CATEGORICAL_ACCURACY("sparse_categorical_accuracy"),
  MSE("mse"),
  MAE("mae");

  private final String key;

  Metric(String key) {
    this.key = key;
  }

  /** The name in the history and progress lines. */
  public String key() {
    return key;
  }

  /**
   * A metric by Keras or TF.js name; {@code accuracy}/{@code acc} becomes the accuracy that fits
   * {@code loss} and an output of {@code classes} values, as both libraries resolve it.
   */
  public static Metric of(String name, Loss loss, long classes) {
    String n = name.replace("_", "").toLowerCase(Locale.ROOT);
    return switch (n) {
      case "accuracy", "acc" -> {
        if (loss == Loss.SPARSE_CATEGORICAL_CROSSENTROPY) {
          yield SPARSE_CATEGORICAL_ACCURACY;
        }
        yield classes == 1 || loss == Loss.BINARY_CROSSENTROPY
            ? BINARY_ACCURACY
            : CATEGORICAL_ACCURACY;
      }
      case "binaryaccuracy" -> BINARY_ACCURACY;
      case "categoricalaccuracy" -> CATEGORICAL_ACCURACY;
      case "sparsecategoricalaccuracy" -> SPARSE_CATEGORICAL_ACCURACY;
      case "mse", "meansquarederror" -> MSE;
      case "mae", "meanabsoluteerror" -> MAE;
      default ->
          throw new UsageException(
              "unknown metric '"
                  + name
                  + "'; use accuracy, binary_accuracy, categorical_accuracy,"
                  + " sparse_categorical_accuracy, mse or mae");
    };
  }

  /**
   * The batch's summed per-sample value (divide by the sample count for the mean).
   *
   * @param pred {@code samples × classes} predictions, row-major
   * @param y targets: as {@code pred}, or one class index per sample for the sparse metric
   */
  double sum(float[] pred, float[] y, int samples) {
    int classes = pred.length / samples;
    double total = 0;
    for (int s = 0; s < samples; s++) {
      int o = s * classes;
      switch (this) {
        case BINARY_ACCURACY -> {
          double hits = 0;
          for (int c = 0; c < classes; c++) {
            hits += ((pred[o + c] > 0.5f ? 1f : 0f) == y[o + c]) ? 1 : 0;
          }
          total += hits / classes;
        }
        case CATEGORICAL_ACCURACY ->
            total += argmax(pred, o, classes) == argmax(y, o, classes) ? 1 : 0;
        case SPARSE_CATEGORICAL_ACCURACY ->
            total += argmax(pred, o, classes) == (int) Math.floor(y[s]) ? 1 : 0;
        case MSE, MAE -> {
          double acc = 0;
          for (int c = 0; c < classes; c++) {
            double d = (double) pred[o + c] - y[o + c];
            acc += this == MSE ? d * d : Math.abs(d);
          }
          total += acc / classes;
        }
      }
    }
    return total;
  }

  private static int argmax(float[] v, int o, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) {
      if (v[o + i] > v[o + best]) {
        best = i;
      }
    }
    return best;
  }
}
