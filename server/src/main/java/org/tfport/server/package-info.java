/**
 * {@code tfport serve}: a versioned model store on Jetty core that TensorFlow.js clients save to
 * and load from directly, with a web page that lists, draws and runs the models in the browser.
 * Start one with {@link org.tfport.server.ModelServer#start}; the routes are listed on {@code Api}.
 */
package org.tfport.server;
