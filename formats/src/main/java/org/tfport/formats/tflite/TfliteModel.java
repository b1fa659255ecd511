package org.tfport.formats.tflite;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A whole {@code .tflite} file (schema version 3) in memory: the FlatBuffer's {@code Model} table
 * as records. {@link TfliteReader} builds it from bytes and {@link TfliteWriter} turns it back into
 * bytes, so that {@code read(write(m)).equals(m)}.
 *
 * <p>Metadata blobs live in {@link #buffers()} like weights; {@link #metadata()} maps names to
 * buffer indices. The {@code with*} methods return a changed copy.
 *
 * @param version the schema version, 3
 * @param description null when absent ("MLIR Converted." / "TOCO Converted." from the converters)
 * @param metadataBuffer the deprecated {@code metadata_buffer} list of buffer indices (usually
 *     empty)
 */
public record TfliteModel(
    long version,
    String description,
    List<TfliteOperatorCode> operatorCodes,
    List<TfliteSubgraph> subgraphs,
    List<TfliteBuffer> buffers,
    List<Integer> metadataBuffer,
    List<TfliteMetadataEntry> metadata,
    List<TfliteSignatureDef> signatureDefs) {
  /** The schema version this code reads and writes. */
  public static final int SCHEMA_VERSION = 3;

  public TfliteModel {
    operatorCodes = List.copyOf(operatorCodes);
    subgraphs = List.copyOf(subgraphs);
    buffers = List.copyOf(buffers);
    metadataBuffer = List.copyOf(metadataBuffer);
    metadata = List.copyOf(metadata);
    signatureDefs = List.copyOf(signatureDefs);
  }

  /** Subgraph 0, the entry point. */
  public TfliteSubgraph mainSubgraph() {
    if (subgraphs.isEmpty()) {
      throw new IllegalStateException("the model has no subgraphs");
    }
    return subgraphs.get(0);
  }

  /** The operator code of {@code op}. */
  public TfliteOperatorCode opcode(TfliteOperator op) {
    return operatorCodes.get(op.opcodeIndex());
  }

  /** The data of {@code tensor} (the empty buffer when it has none). */
  public TfliteBuffer buffer(TfliteTensor tensor) {
    return buffers.get(tensor.buffer());
  }

  /** The bytes of the first metadata entry called {@code name}. */
  public Optional<ByteBuffer> metadata(String name) {
    for (TfliteMetadataEntry e : metadata) {
      if (e.name().equals(name)) {
        return Optional.of(buffers.get(e.buffer()).data());
      }
    }
    return Optional.empty();
  }

  /** Every metadata entry by name (the first one wins when a name repeats). */
  public Map<String, ByteBuffer> metadataMap() {
    Map<String, ByteBuffer> m = new LinkedHashMap<>();
    for (TfliteMetadataEntry e : metadata) {
      m.putIfAbsent(e.name(), buffers.get(e.buffer()).data());
    }
    return m;
  }

  /**
   * A copy with metadata {@code name} set to {@code data}: the entry's buffer is replaced when the
   * name exists, else a buffer and an entry are appended (what the reference converter and the
   * metadata populator do).
   */
  public TfliteModel withMetadata(String name, byte[] data) {
    List<TfliteBuffer> bufs = new ArrayList<>(buffers);
    List<TfliteMetadataEntry> entries = new ArrayList<>(metadata);
    TfliteBuffer b = TfliteBuffer.of(data);
    boolean found = false;
    for (TfliteMetadataEntry e : metadata) {
      if (e.name().equals(name)) {
        bufs.set(e.buffer(), b);
        found = true;
        break;
      }
    }
    if (!found) {
      bufs.add(b);
      entries.add(new TfliteMetadataEntry(name, bufs.size() - 1));
    }
    return new TfliteModel(
        version,
        description,
        operatorCodes,
        subgraphs,
        bufs,
        metadataBuffer,
        entries,
        signatureDefs);
  }

  /** The {@code min_runtime_version} string without its NUL padding, if the entry exists. */
  public Optional<String> minRuntimeVersion() {
    return metadata(TfliteMetadataEntry.MIN_RUNTIME_VERSION)
        .map(
            b -> {
              byte[] a = new byte[b.remaining()];
              b.get(a);
              int n = 0;
              while (n < a.length && a[n] != 0) {
                n++;
              }
              return new String(a, 0, n, StandardCharsets.US_ASCII);
            });
  }

  /**
   * A copy with {@code min_runtime_version} set: 16 bytes, the ASCII version NUL-padded (all NULs
   * when the version would need 16 characters or more, as the reference does).
   */
  public TfliteModel withMinRuntimeVersion(String runtimeVersion) {
    byte[] b = new byte[16];
    byte[] v = runtimeVersion.getBytes(StandardCharsets.US_ASCII);
    if (v.length < 16) {
      System.arraycopy(v, 0, b, 0, v.length);
    }
    return withMetadata(TfliteMetadataEntry.MIN_RUNTIME_VERSION, b);
  }

  /**
   * A copy with {@code min_runtime_version} computed from the operators ({@link
   * MinRuntimeVersion}).
   */
  public TfliteModel withComputedMinRuntimeVersion() {
    return withMinRuntimeVersion(MinRuntimeVersion.of(this));
  }

  /** The decoded {@code CONVERSION_METADATA}, if the entry exists. */
  public Optional<ConversionMetadata> conversionMetadata() {
    return metadata(TfliteMetadataEntry.CONVERSION_METADATA)
        .map(b -> ConversionMetadata.decode(b, TfliteMetadataEntry.CONVERSION_METADATA));
  }

  public TfliteModel withConversionMetadata(ConversionMetadata cm) {
    return withMetadata(TfliteMetadataEntry.CONVERSION_METADATA, cm.encode());
  }
}
