package org.tfport.convert;

/** The tfport version written into converted models' {@code convertedBy}. */
public final class Version {
  public static final String VERSION = "0.1.0";
  public static final String CONVERTED_BY = "tfport v" + VERSION;

  private Version() {}
}
