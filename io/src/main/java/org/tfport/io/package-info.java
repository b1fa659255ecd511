/**
 * Moving TF.js models by URL, as tfjs-core's {@code tf.io} does: {@link org.tfport.io.Models#load}
 * and {@link org.tfport.io.Models#save} route a URL to exactly one {@link org.tfport.io.IOHandler}
 * ({@code file://}, {@code http://}, {@code https://}, or an {@link org.tfport.io.IORouter} plug-in
 * found through {@link java.util.ServiceLoader}), carrying {@link org.tfport.io.ModelArtifacts}.
 *
 * <p>What goes over the wire matches TF.js byte for byte where TF.js defines it: an upload is the
 * {@code multipart/form-data} body {@code model.save(url)} sends, model.json is written as {@code
 * JSON.stringify} writes it, and {@link org.tfport.io.ModelArtifactsInfo} byte counts equal the
 * ones TF.js stores. Loads check the weight bytes against the manifest, and every HTTP exchange is
 * bounded in time and size.
 */
package org.tfport.io;
