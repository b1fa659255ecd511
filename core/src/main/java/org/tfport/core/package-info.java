/**
 * What every tfport module shares: dtypes ({@link org.tfport.core.DType}), shapes, byte-backed
 * tensors, the error hierarchy whose messages are written for the person running the tool, atomic
 * output (stage beside the target, then move into place) and permutation arithmetic; the graph IR
 * is in {@code org.tfport.core.graph}. It may use the JDK and Jackson only.
 */
package org.tfport.core;
