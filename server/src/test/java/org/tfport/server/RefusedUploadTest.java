package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upload refused before its body is read (no token) still reaches its client as a 401: a small
 * body is read to its end first, so a client still sending it never meets a reset connection, and
 * the connection stays usable.
 */
class RefusedUploadTest {
  @TempDir Path tmp;

  @Test
  void aSmallRefusedBodyIsReadBeforeTheAnswerAndTheConnectionIsKept() throws Exception {
    try (TestServer s = new TestServer(tmp.resolve("store"), "tok");
        Socket socket = new Socket("127.0.0.1", s.server.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      int length = 64 * 1024;
      out.write(
          ("POST /models/refused HTTP/1.1\r\nHost: localhost\r\n"
                  + "Content-Type: application/octet-stream\r\nContent-Length: "
                  + length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      // The body comes in pieces, the last after the server has decided to refuse.
      byte[] piece = new byte[length / 8];
      for (int i = 0; i < 8; i++) {
        out.write(piece);
        out.flush();
        Thread.sleep(20);
      }
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      List<String> head = head(in);
      assertThat(head.get(0)).startsWith("HTTP/1.1 401");
      assertThat(head).noneMatch(h -> h.equalsIgnoreCase("Connection: close"));
      skipBody(in, head);

      out.write(
          "GET /models HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(head(in).get(0)).startsWith("HTTP/1.1 200");
      s.assertNothingStored();
    }
  }

  private static List<String> head(BufferedReader in) throws Exception {
    List<String> lines = new ArrayList<>();
    for (String l = in.readLine(); l != null && !l.isEmpty(); l = in.readLine()) {
      lines.add(l);
    }
    assertThat(lines).as("a response").isNotEmpty();
    return lines;
  }

  private static void skipBody(BufferedReader in, List<String> head) throws Exception {
    int n =
        head.stream()
            .filter(h -> h.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:"))
            .mapToInt(h -> Integer.parseInt(h.substring(h.indexOf(':') + 1).trim()))
            .findFirst()
            .orElseThrow();
    // The body is ASCII JSON, so characters are bytes.
    assertThat(in.skip(n)).isEqualTo(n);
  }
}
