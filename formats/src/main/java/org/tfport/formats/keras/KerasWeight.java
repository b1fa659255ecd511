package org.tfport.formats.keras;

import java.util.function.Supplier;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;

/**
 * One stored weight of a Keras layer. {@code name} is the Keras-2 name without the {@code :0}
 * suffix ({@code dense_1/kernel}); the data is read only when asked for, so a converter can stream
 * a large model.
 */
public record KerasWeight(String name, DType dtype, Shape shape, Supplier<Tensor> data) {}
