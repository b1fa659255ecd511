/**
 * MLIR bytecode as JAX writes it: StableHLO portable artifacts (VHLO dialect, bytecode versions 0
 * to 6, StableHLO 0.9 to 1.x), the {@code jax.export} FlatBuffer around them, and the {@code
 * module} attribute of jax2tf's {@code XlaCallModule} nodes.
 *
 * <ul>
 *   <li>{@link org.tfport.formats.mlir.MlirBytecode#toGenericText(byte[], String)}: a {@code
 *       .mlirbc}/{@code .mlir.bc} file or a {@code jax.export} serialization to MLIR text that the
 *       StableHLO text reader takes ({@code module @name attributes {...} { func.func ... }} with
 *       every other op in the generic syntax, names and attributes in StableHLO's spelling).
 *   <li>{@link org.tfport.formats.mlir.MlirBytecode#read(byte[], String)}: the decoded operations
 *       as stored ({@code vhlo.*_vN} names), with {@link
 *       org.tfport.formats.mlir.MlirBytecode#toStablehlo} mapping them to StableHLO.
 *   <li>{@link org.tfport.formats.mlir.JaxExport}: the jax.export wrapper (platforms, calling
 *       convention, abstract values, module).
 *   <li>{@link org.tfport.formats.mlir.XlaCallModule}: an XlaCallModule node's attributes with its
 *       module decoded, for the lowering of jax2tf SavedModels and GraphDefs.
 * </ul>
 *
 * <p>Errors are {@link org.tfport.core.TfportException.CorruptModelException}s naming the file, the
 * section and the byte offset; nothing here prints.
 */
package org.tfport.formats.mlir;
