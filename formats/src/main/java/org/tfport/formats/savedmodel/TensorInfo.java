package org.tfport.formats.savedmodel;

import org.tfport.core.graph.TensorShape;

/** A signature's input or output: a dense tensor's name ({@code x:0}), TF type number and shape. */
public record TensorInfo(String name, int dtype, TensorShape shape) {}
