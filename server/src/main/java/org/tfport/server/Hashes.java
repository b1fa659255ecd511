package org.tfport.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

final class Hashes {
  private Hashes() {}

  static String sha256(Path f) throws IOException {
    MessageDigest md = digest();
    byte[] buf = new byte[64 * 1024];
    try (InputStream in = Files.newInputStream(f)) {
      int r;
      while ((r = in.read(buf)) >= 0) {
        md.update(buf, 0, r);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static String sha256(byte[] b) {
    return HexFormat.of().formatHex(digest().digest(b));
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
