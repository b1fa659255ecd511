package org.tfport.convert;

/**
 * Post-training quantization of a TFLite model ({@code CONVERSION_METADATA}
 * model_optimization_modes in brackets).
 */
public enum TfliteQuantizationMode {
  /** float32 throughout. */
  NONE,
  /** float32 constants stored as float16, each behind a DEQUANTIZE (1001). */
  FLOAT16,
  /** int8 weights of conv/fully connected ops, float activations, hybrid kernels (1002). */
  DYNAMIC_RANGE,
  /** int8 weights and activations, calibrated on representative data (1003). */
  INT8,
  /** int16 activations, int8 weights, calibrated on representative data (1004). */
  INT16X8
}
