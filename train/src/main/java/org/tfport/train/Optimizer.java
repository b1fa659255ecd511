package org.tfport.train;

import java.util.Locale;
import org.tfport.core.TfportException.UsageException;

/**
 * A gradient-descent update rule with TF.js 4.22's arithmetic and defaults (Keras' for AdamW, which
 * TF.js lacks): plain float loops over each variable's values, one {@link Slots} per variable.
 */
public abstract class Optimizer {
  /** TF.js' backend epsilon, the default of every rule's epsilon. */
  static final double EPSILON = 1e-7;

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
      case "momentum" -> sgd(or(lr, 0.01), 0.9, false);
      case "adam" -> adam(or(lr, 0.001), 0.9, 0.999, EPSILON);
      case "adamw" -> adamW(or(lr, 0.001), 0.9, 0.999, EPSILON, 0.004);
      case "rmsprop" -> rmsprop(or(lr, 0.001), 0.9, 0, EPSILON);
      case "adagrad" -> adagrad(or(lr, 0.01), 0.1);
      case "adadelta" -> adadelta(or(lr, 1.0), 0.95, EPSILON);
      case "adamax" -> adamax(or(lr, 0.002), 0.9, 0.999, EPSILON);
      default ->
          throw new UsageException(
              "unknown optimizer '"
                  + name
                  + "'; use sgd, adam, adamw, rmsprop, adagrad, adadelta or adamax");
    };
  }

  private static double or(double lr, double dflt) {
    return Double.isNaN(lr) ? dflt : lr;
  }

  /**
   * SGD; with momentum, TF.js' {@code accum = m·accum + g; w −= lr·accum} (Nesterov: lr·(g +
   * m·accum)).
   */
  public static Optimizer sgd(double rate, double momentumD, boolean nesterov) {
    float lr = (float) rate;
    float momentum = (float) momentumD;
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

  public static Optimizer adam(double lr, double beta1, double beta2, double eps) {
    return adam(lr, beta1, beta2, eps, 0, false);
  }

  /**
   * Keras' AdamW (TF.js has none), as Keras 2.11+ and 3 compute it: the decoupled decay {@code w −=
   * w·decay·lr} first, then {@code m += (g − m)·(1−β1)}, {@code v += (g² − v)·(1−β2)}, {@code w −=
   * m·α/(√v + ε)} with {@code α = lr·√(1−β2ᵗ)/(1−β1ᵗ)}; every trainable weight decays, biases too
   * (Keras excludes none by default).
   */
  public static Optimizer adamW(
      double rate, double beta1D, double beta2D, double epsD, double decayD) {
    return adam(rate, beta1D, beta2D, epsD, decayD, true);
  }

  /**
   * Adam with TF.js' bias correction ({@code m/(1−β1ᵗ)}, {@code v/(1−β2ᵗ)}, ε added to the
   * corrected root), or with {@code keras} Keras' (folded into the rate, ε added to √v).
   */
  private static Optimizer adam(
      double rate, double beta1D, double beta2D, double epsD, double decayD, boolean keras) {
    float lr = (float) rate;
    float beta1 = (float) beta1D;
    float beta2 = (float) beta2D;
    float eps = (float) epsD;
    float decay = (float) decayD;
    // TF.js computes 1 − β in double before it meets float32 tensors.
    float ob1 = (float) (1 - beta1D);
    float ob2 = (float) (1 - beta2D);
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
            float alpha = lr * (float) Math.sqrt(c2) / c1;
            for (int i = 0; i < w.length; i++) {
              if (keras) {
                w[i] -= w[i] * decay * lr;
                m[i] += (g[i] - m[i]) * ob1;
                v[i] += (g[i] * g[i] - v[i]) * ob2;
                w[i] -= m[i] * alpha / ((float) Math.sqrt(v[i]) + eps);
                continue;
              }
              m[i] = beta1 * m[i] + ob1 * g[i];
              v[i] = beta2 * v[i] + ob2 * (g[i] * g[i]);
              float mh = m[i] / c1;
              float vh = v[i] / c2;
              w[i] += mh / ((float) Math.sqrt(vh) + eps) * -lr;
            }
          }
        };
      }
    };
  }

  /** TF.js RMSprop: {@code ms = ρ·ms + (1−ρ)·g²; mom = μ·mom + lr·g/√(ms + ε); w −= mom}. */
  public static Optimizer rmsprop(double rate, double rhoD, double momentumD, double epsD) {
    float lr = (float) rate;
    float rho = (float) rhoD;
    float orho = (float) (1 - rhoD);
    float momentum = (float) momentumD;
    float eps = (float) epsD;
    return new Optimizer(lr) {
      @Override
      Slots slots(int size) {
        float[] ms = new float[size];
        float[] mom = new float[size];
        return new Slots() {
          @Override
          void update(float[] w, float[] g) {
            for (int i = 0; i < w.length; i++) {
              ms[i] = rho * ms[i] + orho * (g[i] * g[i]);
              mom[i] = momentum * mom[i] + lr * g[i] / (float) Math.sqrt(ms[i] + eps);
              w[i] -= mom[i];
            }
          }
        };
      }
    };
  }

  /** TF.js Adagrad: accumulators start at {@code initial}; {@code w −= lr·g/√(acc + ε)}. */
  public static Optimizer adagrad(double rate, double initialD) {
    float lr = (float) rate;
    float initial = (float) initialD;
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
              w[i] += -lr * g[i] / (float) Math.sqrt(acc[i] + (float) EPSILON);
            }
          }
        };
      }
    };
  }

  /** TF.js Adadelta (its update divides by the squared-gradient average of the previous step). */
  public static Optimizer adadelta(double rate, double rhoD, double epsD) {
    float lr = (float) rate;
    float rho = (float) rhoD;
    float orho = (float) (1 - rhoD);
    float eps = (float) epsD;
    return new Optimizer(lr) {
      @Override
      Slots slots(int size) {
        float[] ag = new float[size];
        float[] au = new float[size];
        return new Slots() {
          @Override
          void update(float[] w, float[] g) {
            for (int i = 0; i < w.length; i++) {
              // TF.js divides by the accumulator as it was before this step's gradient.
              float u = (float) Math.sqrt(au[i] + eps) / (float) Math.sqrt(ag[i] + eps) * g[i];
              ag[i] = rho * ag[i] + orho * (g[i] * g[i]);
              au[i] = rho * au[i] + orho * (u * u);
              w[i] += -lr * u;
            }
          }
        };
      }
    };
  }

  /** TF.js Adamax: {@code u = max(β2·u, |g|); w −= lr/(1−β1ᵗ) · m/(u + ε)}. */
  public static Optimizer adamax(double rate, double beta1D, double beta2D, double epsD) {
    float lr = (float) rate;
    float beta1 = (float) beta1D;
    float ob1 = (float) (1 - beta1D);
    float beta2 = (float) beta2D;
    float eps = (float) epsD;
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
              m[i] = beta1 * m[i] + ob1 * g[i];
              u[i] = Math.max(beta2 * u[i], Math.abs(g[i]));
              w[i] += -rate * m[i] / (u[i] + eps);
            }
          }
        };
      }
    };
  }
}
