package org.tfport.server;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tfport.core.TfportException.UsageException;

/**
 * Turns {@link ServerSecurity.Tls} into a key store Jetty serves from, with the JDK alone: PEM
 * certificates through {@link CertificateFactory}, PKCS#8 keys as they are and PKCS#1 RSA keys
 * wrapped into PKCS#8 (the DER framing is fixed apart from lengths).
 */
final class TlsKeys {
  /** What Jetty is given: a store holding one key entry, and that entry's password. */
  record Loaded(KeyStore store, String password) {}

  private static final Pattern PEM =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
  private static final long MAX_FILE_BYTES = 1 << 20;
  // AlgorithmIdentifier { rsaEncryption, NULL }, DER.
  private static final byte[] RSA_ALGORITHM = {
    0x30,
    0x0d,
    0x06,
    0x09,
    0x2a,
    (byte) 0x86,
    0x48,
    (byte) 0x86,
    (byte) 0xf7,
    0x0d,
    0x01,
    0x01,
    0x01,
    0x05,
    0x00
  };

  private TlsKeys() {}

  static Loaded load(ServerSecurity.Tls tls) {
    return tls.keystore() != null
        ? keystore(tls.keystore(), tls.keystorePassword())
        : pem(tls.certPem(), tls.keyPem());
  }

  private static Loaded keystore(Path file, String password) {
    byte[] bytes = read(file, "ServerSecurity.Tls keystore");
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(new ByteArrayInputStream(bytes), password.toCharArray());
      boolean hasKey = false;
      for (String alias : Collections.list(ks.aliases())) {
        hasKey |= ks.isKeyEntry(alias);
      }
      if (!hasKey) {
        throw new UsageException(
            "ServerSecurity.Tls keystore "
                + file
                + " holds no private key; it needs the server's key and chain");
      }
      return new Loaded(ks, password);
    } catch (IOException | GeneralSecurityException e) {
      throw new UsageException(
          "ServerSecurity.Tls keystore "
              + file
              + " cannot be opened as PKCS#12 ("
              + e.getMessage()
              + "); check the file and ServerSecurity.Tls keystorePassword");
    }
  }

  private static Loaded pem(Path certFile, Path keyFile) {
    List<X509Certificate> chain = certificates(certFile);
    PrivateKey key = privateKey(keyFile);
    if (!chain.get(0).getPublicKey().getAlgorithm().equals(key.getAlgorithm())) {
      throw new UsageException(
          "ServerSecurity.Tls keyPem "
              + keyFile
              + " is a "
              + key.getAlgorithm()
              + " key but the first certificate of ServerSecurity.Tls certPem "
              + certFile
              + " is for "
              + chain.get(0).getPublicKey().getAlgorithm()
              + "; give the key of that certificate");
    }
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      // The password only guards this in-memory store; it never leaves the process.
      String password = "tfport";
      ks.setKeyEntry("server", key, password.toCharArray(), chain.toArray(new Certificate[0]));
      return new Loaded(ks, password);
    } catch (IOException | GeneralSecurityException e) {
      throw new UsageException(
          "ServerSecurity.Tls certPem "
              + certFile
              + " and ServerSecurity.Tls keyPem "
              + keyFile
              + " do not make a key entry ("
              + e.getMessage()
              + ")");
    }
  }

  private static List<X509Certificate> certificates(Path file) {
    List<byte[]> ders = blocks(file, "ServerSecurity.Tls certPem", "CERTIFICATE");
    if (ders.isEmpty()) {
      throw new UsageException(
          "ServerSecurity.Tls certPem "
              + file
              + " holds no '-----BEGIN CERTIFICATE-----' block; give a PEM chain");
    }
    List<X509Certificate> out = new ArrayList<>();
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      for (byte[] der : ders) {
        out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(der)));
      }
    } catch (GeneralSecurityException e) {
      throw new UsageException(
          "ServerSecurity.Tls certPem "
              + file
              + " holds a certificate that does not parse ("
              + e.getMessage()
              + ")");
    }
    return out;
  }

  private static PrivateKey privateKey(Path file) {
    byte[] text = read(file, "ServerSecurity.Tls keyPem");
    Matcher m = PEM.matcher(new String(text, StandardCharsets.US_ASCII));
    while (m.find()) {
      String label = m.group(1);
      byte[] der = decode(file, "ServerSecurity.Tls keyPem", m.group(2));
      switch (label) {
        case "PRIVATE KEY" -> {
          return pkcs8(file, der);
        }
        case "RSA PRIVATE KEY" -> {
          return pkcs8(file, wrapRsa(der));
        }
        case "ENCRYPTED PRIVATE KEY" ->
            throw new UsageException(
                "ServerSecurity.Tls keyPem "
                    + file
                    + " is encrypted; decrypt it (openssl pkcs8 -in KEY -out PLAIN.pem) or put"
                    + " it in a PKCS#12 keystore for ServerSecurity.Tls keystore");
        case "EC PRIVATE KEY" ->
            throw new UsageException(
                "ServerSecurity.Tls keyPem "
                    + file
                    + " is a SEC1 EC key; convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt -in"
                    + " KEY -out KEY8.pem)");
        default -> {
          // Other blocks (EC PARAMETERS, say) are skipped to find the key.
        }
      }
    }
    throw new UsageException(
        "ServerSecurity.Tls keyPem "
            + file
            + " holds no '-----BEGIN PRIVATE KEY-----' (PKCS#8) or"
            + " '-----BEGIN RSA PRIVATE KEY-----' (PKCS#1) block");
  }

  private static PrivateKey pkcs8(Path file, byte[] der) {
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String alg : new String[] {"RSA", "EC", "Ed25519", "RSASSA-PSS"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        // Not this algorithm; PKCS#8 names it inside, the JDK wants it named outside.
      }
    }
    throw new UsageException(
        "ServerSecurity.Tls keyPem "
            + file
            + " does not hold an RSA, EC or Ed25519 private key the JDK reads");
  }

  /** PrivateKeyInfo { version 0, rsaEncryption, OCTET STRING { RSAPrivateKey } }. */
  static byte[] wrapRsa(byte[] pkcs1) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(new byte[] {0x02, 0x01, 0x00});
    body.writeBytes(RSA_ALGORITHM);
    body.write(0x04);
    writeLength(body, pkcs1.length);
    body.writeBytes(pkcs1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x30);
    writeLength(out, body.size());
    out.writeBytes(body.toByteArray());
    return out.toByteArray();
  }

  private static void writeLength(ByteArrayOutputStream out, int n) {
    if (n < 0x80) {
      out.write(n);
      return;
    }
    int bytes = (32 - Integer.numberOfLeadingZeros(n) + 7) / 8;
    out.write(0x80 | bytes);
    for (int i = bytes - 1; i >= 0; i--) {
      out.write((n >>> (8 * i)) & 0xff);
    }
  }

  private static List<byte[]> blocks(Path file, String flag, String label) {
    Matcher m = PEM.matcher(new String(read(file, flag), StandardCharsets.US_ASCII));
    List<byte[]> out = new ArrayList<>();
    while (m.find()) {
      if (m.group(1).equals(label)) {
        out.add(decode(file, flag, m.group(2)));
      }
    }
    return out;
  }

  private static byte[] decode(Path file, String flag, String base64) {
    try {
      return Base64.getMimeDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new UsageException(flag + " " + file + " has a PEM block that is not valid base64");
    }
  }

  private static byte[] read(Path file, String flag) {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] b = in.readNBytes((int) MAX_FILE_BYTES + 1);
      if (b.length > MAX_FILE_BYTES) {
        throw new UsageException(flag + " " + file + " is over 1 MiB; is it the right file?");
      }
      return b;
    } catch (IOException e) {
      throw new UsageException(flag + " " + file + " cannot be read (" + e.getMessage() + ")");
    }
  }
}
