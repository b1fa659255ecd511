package org.tfport.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tfport.core.Tensor;

/**
 * Examples per second of {@link Trainer#fit} on the small CNN of the training note: 28x28x1, a 3x3
 * convolution with batch normalization, 2x2 max pooling, a 3x3 stride-2 convolution, a dense
 * softmax over 10 classes; Adam, batch 32. Run by hand: {@code java -cp ... SmallCnnSpeed [epochs]
 * [threads]}; one epoch warms up first.
 */
final class SmallCnnSpeed {
  private SmallCnnSpeed() {}

  public static void main(String[] args) throws Exception {
    int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 0;
    int n = 512;
    Path dir = Files.createTempDirectory("cnn-speed");
    Path h5 =
        new TestModels(61, 28, 28, 1)
            .conv("conv", 1, 8, 3, 1, "same", "relu")
            .batchNorm("bn", 8)
            .pool("MaxPooling2D", "pool")
            .conv("conv_1", 8, 16, 3, 2, "same", "relu")
            .flatten()
            .dense("dense", 7 * 7 * 16, 10, "softmax")
            .write(dir.resolve("cnn.h5"));
    Tensor x = TestModels.uniform(62, n, 28, 28, 1);
    Tensor y = TestModels.oneHot(n, 10, 3);
    Trainer.Settings s =
        Trainer.Settings.of("adam", "categorical_crossentropy")
            .withLearningRate(0.001)
            .withThreads(threads);
    try (Trainer t = Trainer.open(h5, s)) {
      t.fit(Map.of("x", x), y, new Trainer.FitOptions(1, 32, false, 0, 0, List.of()));
      long c0 = cpuNanos();
      long t0 = System.nanoTime();
      History h =
          t.fit(Map.of("x", x), y, new Trainer.FitOptions(epochs, 32, false, 0, 0, List.of()));
      double sec = (System.nanoTime() - t0) / 1e9;
      double cpu = (cpuNanos() - c0) / 1e9;
      System.out.printf(
          Locale.ROOT,
          "small CNN: %d examples x %d epochs in %.2f s = %.0f examples/s; process CPU %.2f s"
              + " = %.0f examples per CPU second (loss %s)%n",
          n,
          epochs,
          sec,
          n * epochs / sec,
          cpu,
          n * epochs / cpu,
          h.get("loss"));
    }
  }

  /** The process's CPU time (all threads: the runtime's workers, the collector, the compiler). */
  private static long cpuNanos() {
    return ProcessHandle.current().info().totalCpuDuration().orElseThrow().toNanos();
  }
}
