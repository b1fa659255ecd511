/**
 * Training layers models in the JVM: reverse-mode differentiation of the core graph IR (gradient
 * rules per op family, emitting ops the runtime runs), losses, optimizers, metrics and {@code fit}.
 */
module org.tfport.train {
  requires transitive org.tfport.runtime;

  exports org.tfport.train;
  exports org.tfport.train.grad;
}
