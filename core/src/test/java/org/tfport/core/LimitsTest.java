package org.tfport.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;

class LimitsTest {
  @AfterEach
  void clear() {
    System.clearProperty(Limits.PROPERTY);
  }

  @Test
  void defaultCeilingIsAQuarterOfTheHeapAtMostTwoGiB() {
    long expected = Math.min(Runtime.getRuntime().maxMemory() / 4, Integer.MAX_VALUE - 8);
    assertThat(Limits.maxAllocationBytes()).isEqualTo(expected);
  }

  @Test
  void propertyTakesSuffixes() {
    System.setProperty(Limits.PROPERTY, "3k");
    assertThat(Limits.maxAllocationBytes()).isEqualTo(3072);
    System.setProperty(Limits.PROPERTY, "2m");
    assertThat(Limits.maxAllocationBytes()).isEqualTo(2 << 20);
    System.setProperty(Limits.PROPERTY, "1000");
    assertThat(Limits.maxAllocationBytes()).isEqualTo(1000);
    System.setProperty(Limits.PROPERTY, "64g");
    assertThat(Limits.maxAllocationBytes()).isEqualTo(Integer.MAX_VALUE - 8);
  }

  @Test
  void badPropertyIsAUsageError() {
    System.setProperty(Limits.PROPERTY, "lots");
    assertThatThrownBy(Limits::maxAllocationBytes)
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("-Dtfport.maxAllocationBytes=lots");
  }

  @Test
  void allocationWithinTheCeilingIsItsByteSize() {
    System.setProperty(Limits.PROPERTY, "1000");
    assertThat(Limits.allocation(250, 4, "f: w")).isEqualTo(1000);
    assertThat(Limits.allocation(0, 8, "f: w")).isZero();
  }

  @Test
  void overTheCeilingIsRefusedNamingTheThingAndTheProperty() {
    System.setProperty(Limits.PROPERTY, "1000");
    assertThatThrownBy(() -> Limits.allocation(251, 4, "a.pb: node 'c'"))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageStartingWith("a.pb: node 'c' needs 1004 bytes, over tfport's limit of 1000")
        .hasMessageContaining("-Dtfport.maxAllocationBytes");
    // A count whose byte size overflows a long is still refused, not wrapped around.
    assertThatThrownBy(() -> Limits.allocation(Long.MAX_VALUE / 2, 8, "x"))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining(Long.MAX_VALUE / 2 + " x 8");
  }

  @Test
  void negativeCountsAndMissingBytesAreCorruption() {
    assertThatThrownBy(() -> Limits.allocation(-1, 4, "x"))
        .isInstanceOf(CorruptModelException.class);
    assertThatThrownBy(() -> Limits.allocation(10, 4, 39, "f.npy: data"))
        .isInstanceOf(CorruptModelException.class)
        .hasMessage(
            "f.npy: data needs 40 bytes but only 39 follow in the file; the file is truncated or"
                + " damaged");
    assertThat(Limits.allocation(10, 4, 40, "f.npy: data")).isEqualTo(40);
  }
}
