package org.tfport.formats.stablehlo;

/** A function or block argument: its SSA name (with the {@code %}) and type. */
public record Arg(String name, MlirType type) {}
