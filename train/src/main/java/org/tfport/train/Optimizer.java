package org.tfport.train;

import java.util.Locale;
import org.tfport.core.TfportException.UsageException;

/**
 * A gradient-descent update rule with TF.js 4.22's arithmetic and defaults (Keras' for AdamW, which
 * TF.js lacks): plain float loops over each variable's values, one {@link Slots} per variable.
 */
public abstract class Optimizer {
  /** TF.js' backend epsilon, the default of every rule's epsilon. */
  static final float EPSILON = 1e-7f;

  final float lr;
  /** Steps taken, counted from 1 at the first {@link #step()}. */
  int t;

  Optimizer(float lr) {
    this.lr = lr;
  }

  /** Per-variable state. */
  abstract static class Slots {
    abstract void update(float[] w, float[] g);
  }

  abstract Slots slots(int size);

  /** Called once before the updates of one training step. */
  void step() {
    t++;
  }

  public float learningRate() {
    return lr;
  }

  /**
   * The optimizer called {@code name} (Keras or TF.js spelling) with learning rate {@code lr}, or
   * the TF.js default rate when {@code lr} is NaN.
   */
  public static Optimizer of(String name, double lr) {
    String n = name.replace("_", "").toLowerCase(Locale.ROOT);
    return switch (n) {
      case "sgd" -> sgd(or(lr, 0.01), 0, false);
      case "momentum" -> sgd(or(lr, 0.01), 0.9f, false);
      case "adam" -> adam(or(lr, 0.001), 0.9f, 0.999f, EPSILON);
      case "adamw" -> adamW(or(lr, 0.001), 0.9f, 0.999f, EPSILON, 0.004f);
      case "rmsprop" -> rmsprop(or(lr, 0.001), 0.9f, 0, EPSILON);
      case "adagrad" -> adagrad(or(lr, 0.01), 0.1f);
      case "adadelta" -> adadelta(or(lr, 1.0), 0.95f, EPSILON);
      case "adamax" -> adamax(or(lr, 0.002), 0.9f, 0.999f, EPSILON);
      default ->
          throw new UsageException(
              "unknown optimizer '"
                  + name
                  + "'; use sgd, adam, adamw, rmsprop, adagrad, adadelta or adamax");
    };
  }

  private static float or(double lr, double dflt) {
    return (float) (Double.isNaN(lr) ? dflt : lr);
  }

  /** SGD; with momentum, TF.js' {@code accum = m·accum + g; w −= lr·accum} (Nesterov: lr·(g + m·accum)). */
  public static Optimizer sgd(float lr, float momentum, boolean nesterov) {
    return new Optimizer(lr) {
      @Override
      Slots slots(int size) {
        float[] accum = momentum == 0 ? null : new float[size];
        return new Slots() {
          @Override
          void update(float[] w, float[] g) {
            if (accum == null) {
              for (int i = 0; i < w.length; i++) {
                w[i] += -lr * g[i];
              }
              return;
            }
            for (int i = 0; i < w.length; i++) {
              accum[i] = momentum * accum[i] + g[i];
              w[i] += -lr * (nesterov ? g[i] + accum[i] * momentum : accum[i]);
            }
          }
        };
      }
    };
  }

  public static Optimizer adam(float lr, float beta1, float beta2, float eps) {
    return adamW(lr, beta1, beta2, eps, 0);
  }

  /**
   * Adam with bias correction as TF.js computes it ({@code m/(1−β1ᵗ)}, {@code v/(1−β2ᵗ)}), and
   * Keras AdamW's decoupled decay {@code w −= lr·decay·w} first when {@code decay > 0}.
   */
  public static Optimizer adamW(float lr, float beta1, float beta2, float eps, float decay) {
    float[] acc = {1f, 1f};
    return new Optimizer(lr) {
      @Override
      void step() {
        super.step();
        acc[0] *= beta1;
        acc[1] *= beta2;
      }

      @Override
      Slots slots(int size) {
        float[] m = new float[size];
        float[] v = new float[size];
        return new Slots() {
          @Override
          void update(float[] w, float[] g) {
            float c1 = 1 - acc[0];
            float c2 = 1 - acc[1];
            for (int i = 0; i < w.length; i++) {
              if (decay > 0) {
                w[i] -= w[i] * decay * lr;
              }
              m[i] = beta1 * m[i] + (1 - beta1) * g[i];
              v[i] = beta2 * v[i] + (1 - beta2) * (g[i] * g[i]);
              float mh = m[i] / c1;
              float vh = v[i] / c2;
              w[i] += -lr * mh / ((float) Math.sqrt(vh) + eps);
            }
          }
        };
      }
    };
  }

  /** TF.js RMSprop: {@code ms = ρ·ms + (1−ρ)·g²; mom = μ·mom + lr·g/√(ms + ε); w −= mom}. */
  public static Optimizer rmsprop(float lr, float rho, float momentum, float eps) {
    return new Optimizer(lr) {
      @Override
      Slots slots(int size) {
        float[] ms = new float[size];
        float[] mom = new float[size];
        return new Slots() {
          @Override
          void update(float[] w, float[] g) {
            for (int i = 0; i < w.length; i++) {
              ms[i] = rho * ms[i] + (1 - rho) * (g[i] * g[i]);
              mom[i] = momentum * mom[i] + lr * g[i] / (float) Math.sqrt(ms[i] + eps);
              w[i] -= mom[i];
            }
          }
        };
      }
    };
  }

  /** TF.js Adagrad: accumulators start at {@code initial}; {@code w −= lr·g/√(acc + ε)}. */
  public static Optimizer adagrad(float lr, float initial) {
    return new Optimizer(lr) {
      @Override
      Slots slots(int size) {
        float[] acc = new float[size];
        java.util.Arrays.fill(acc, initial);
        return new Slots() {
          @Override
          void update(float[] w, float[] g) {
            for (int i = 0; i < w.length; i++) {
              acc[i] += g[i] * g[i];
              w[i] += -lr * g[i] / (float) Math.sqrt(acc[i] + EPSILON);
            }
          }
        };
      }
    };
  }

  /** TF.js Adadelta. */
  public static Optimizer adadelta(float lr, float rho, float eps) {
    return new Optimizer(lr) {
      @Override
      Slots slots(int size) {
        float[] ag = new float[size];
        float[] au = new float[size];
        return new Slots() {
          @Override
          void update(float[] w, float[] g) {
            for (int i = 0; i < w.length; i++) {
              ag[i] = rho * ag[i] + (1 - rho) * (g[i] * g[i]);
              float u = (float) Math.sqrt(au[i] + eps) / (float) Math.sqrt(ag[i] + eps) * g[i];
              au[i] = rho * au[i] + (1 - rho) * (u * u);
              w[i] += -lr * u;
            }
          }
        };
      }
    };
  }

  /** TF.js Adamax: {@code u = max(β2·u, |g|); w −= lr/(1−β1ᵗ) · m/(u + ε)}. */
  public static Optimizer adamax(float lr, float beta1, float beta2, float eps) {
    float[] acc = {1f};
    return new Optimizer(lr) {
      @Override
      void step() {
        super.step();
        acc[0] *= beta1;
      }

      @Override
      Slots slots(int size) {
        float[] m = new float[size];
        float[] u = new float[size];
        return new Slots() {
          @Override
          void update(float[] w, float[] g) {
            float rate = lr / (1 - acc[0]);
            for (int i = 0; i < w.length; i++) {
              m[i] = beta1 * m[i] + (1 - beta1) * g[i];
              u[i] = Math.max(beta2 * u[i], Math.abs(g[i]));
              w[i] += -rate * m[i] / (u[i] + eps);
            }
          }
        };
      }
    };
  }
}
