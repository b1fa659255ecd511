package org.tfport.core.graph;

import org.tfport.core.Tensor;

/**
 * A {@code TensorProto} held in an attribute ({@code Const.value}, mostly).
 *
 * @param dtype the TF type number ({@link DataTypes})
 * @param value the elements, or null when tfport cannot hold this type (resource, variant,
 *     quantized); such a tensor can still be passed through but not turned into a weight
 */
public record TensorValue(int dtype, TensorShape shape, Tensor value) {}
