package org.tfport.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/** Writes ustar archives for the tests, hostile entries included. */
public final class TarGz {
  private final ByteArrayOutputStream tar = new ByteArrayOutputStream();

  /** A regular file. */
  public TarGz file(String name, byte[] data) {
    header(name, data.length, '0', "");
    tar.writeBytes(data);
    tar.writeBytes(new byte[(512 - data.length % 512) % 512]);
    return this;
  }

  public TarGz dir(String name) {
    header(name, 0, '5', "");
    return this;
  }

  public TarGz symlink(String name, String target) {
    header(name, 0, '2', target);
    return this;
  }

  /** Every file under {@code dir}, named relative to it under {@code prefix}. */
  public TarGz tree(Path dir, String prefix) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
        file(prefix + dir.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
      }
    }
    return this;
  }

  public byte[] gz() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(tar.toByteArray());
      z.write(new byte[1024]);
    }
    return out.toByteArray();
  }

  private void header(String name, long size, char type, String link) {
    byte[] h = new byte[512];
    put(h, 0, name, 100);
    put(h, 100, "0000644", 8);
    put(h, 108, "0000000", 8);
    put(h, 116, "0000000", 8);
    put(h, 124, String.format("%011o", size), 12);
    put(h, 136, "00000000000", 12);
    for (int i = 148; i < 156; i++) {
      h[i] = ' ';
    }
    h[156] = (byte) type;
    put(h, 157, link, 100);
    put(h, 257, "ustar", 6);
    put(h, 263, "00", 2);
    int sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    put(h, 148, String.format("%06o", sum), 7);
    tar.writeBytes(h);
  }

  private static void put(byte[] h, int off, String s, int len) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(b, 0, h, off, Math.min(b.length, len));
  }
}
