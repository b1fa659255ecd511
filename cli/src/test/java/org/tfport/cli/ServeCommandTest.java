package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ServeCommandTest {
  @Test
  void helpAndUsageErrors() {
    CliRunner help = CliRunner.run("serve", "--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("--store", "--token", "--port", "--host", "--tfjs");
    assertThat(CliRunner.run("serve", "--port", "nope").code()).isEqualTo(2);
    assertThat(CliRunner.run("serve", "--port", "70000").err()).contains("--port");
    assertThat(CliRunner.run("serve", "--tfjs", "/no/such/tf.min.js").code()).isEqualTo(2);
    assertThat(CliRunner.run("--help").out()).contains("serve");
    assertThat(help.out())
        .contains(
            "--model-cache-bytes",
            "--max-request-bytes",
            "--max-tensor-elements",
            "--predict-timeout-ms",
            "--predict-threads",
            "--predict-queue",
            "--max-batch-size",
            "--batch-timeout-micros");
    CliRunner badBatch = CliRunner.run("serve", "--max-batch-size", "0");
    assertThat(badBatch.code()).isEqualTo(2);
    assertThat(badBatch.err()).contains("--max-batch-size");
    assertThat(CliRunner.run("serve", "--predict-timeout-ms", "0").err())
        .contains("--predict-timeout-ms");
    assertThat(help.out())
        .contains(
            "--read-token",
            "--tls-cert",
            "--tls-key",
            "--tls-keystore",
            "--tls-keystore-password",
            "--cors-origin",
            "--max-store-bytes",
            "--idle-timeout-ms",
            "--header-timeout-ms",
            "--min-body-bytes-per-second",
            "--max-header-bytes",
            "--access-log");
    assertThat(CliRunner.run("serve", "--min-body-bytes-per-second", "0").err())
        .contains("--min-body-bytes-per-second");
    CliRunner certOnly = CliRunner.run("serve", "--tls-cert", "/no/cert.pem");
    assertThat(certOnly.code()).isEqualTo(2);
    assertThat(certOnly.err()).contains("--tls-key");
    CliRunner noCert = CliRunner.run("serve", "--tls-cert", "/no/c.pem", "--tls-key", "/no/k.pem");
    assertThat(noCert.code()).isEqualTo(2);
    assertThat(noCert.err())
        .contains("--tls-cert /no/c.pem")
        .contains("cannot be read")
        .doesNotContain("ServerSecurity");
    assertThat(CliRunner.run("serve", "--tls-keystore-password", "x").err())
        .contains("--tls-keystore");
    assertThat(CliRunner.run("serve", "--cors-origin", "evil").err()).contains("--cors-origin");
    CliRunner same = CliRunner.run("serve", "--token", "t0k", "--read-token", "t0k");
    assertThat(same.code()).isEqualTo(2);
    assertThat(same.err())
        .contains("--read-token must differ from --token")
        .doesNotContain("t0k\n")
        .doesNotContain("Server");
    assertThat(CliRunner.run("serve", "--port", "70000").err())
        .contains("--port must be 0..65535")
        .doesNotContain("ServerConfig");
    assertThat(CliRunner.run("serve", "--predict-threads", "0").err())
        .contains("--predict-threads must be at least 1 and --predict-queue >= 0")
        .doesNotContain("ServingConfig");
    // The library names its settings; the command line says them as flags.
    CliRunner spaced = CliRunner.run("serve", "--read-token", "a b");
    assertThat(spaced.code()).isEqualTo(2);
    assertThat(spaced.err()).contains("--read-token must be").doesNotContain("ServerSecurity");
    assertThat(CliRunner.run("serve", "--cors-origin", "evil").err())
        .contains("--cors-origin 'evil' is not an origin")
        .doesNotContain("ServerSecurity");
    assertThat(CliRunner.run("serve", "--max-header-bytes", "10").err())
        .contains("--max-header-bytes must be at least 1024")
        .doesNotContain("ServerSecurity");
  }
}
