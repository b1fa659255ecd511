package org.tfport.server;

import java.nio.file.Path;

/**
 * Runs a server in a child JVM for the crash test: {@code ServerMain STORE}; prints {@code PORT n}.
 */
public final class ServerMain {
  private ServerMain() {}

  public static void main(String[] args) throws Exception {
    ModelServer s = ModelServer.start(ServerConfig.of("127.0.0.1", 0, Path.of(args[0]), null));
    System.out.println("PORT " + s.port());
    System.out.flush();
    s.join();
  }
}
