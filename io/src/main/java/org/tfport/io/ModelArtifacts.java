package org.tfport.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.formats.tfjs.WeightSpec;
import tools.jackson.databind.JsonNode;

/**
 * A model in transit, as TF.js's {@code ModelArtifacts}: the model.json members and the weights as
 * the bytes that go into the shards, still quantized where the manifest says so. JSON members are
 * shared trees; treat them as read-only.
 *
 * @param format {@code "layers-model"}, {@code "graph-model"} or null
 * @param weightSpecs the manifest entries of every group in order, or null when there is no
 *     manifest (a topology-only model)
 * @param weightData the weight bytes, one buffer or one per shard, to be read as one stream in
 *     order; null when there are none. Buffers are kept as read-only views; {@link #weightData()}
 *     returns fresh ones.
 */
public record ModelArtifacts(
    JsonNode modelTopology,
    String format,
    String generatedBy,
    String convertedBy,
    JsonNode trainingConfig,
    JsonNode signature,
    JsonNode userDefinedMetadata,
    JsonNode modelInitializer,
    JsonNode initializerSignature,
    List<WeightSpec> weightSpecs,
    List<ByteBuffer> weightData) {
  public ModelArtifacts {
    weightSpecs = weightSpecs == null ? null : List.copyOf(weightSpecs);
    if (weightData != null) {
      List<ByteBuffer> views = new ArrayList<>(weightData.size());
      for (ByteBuffer b : weightData) {
        views.add(b.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
      }
      weightData = List.copyOf(views);
    }
  }

  /** A model with the usual members; the rest null. */
  public static ModelArtifacts of(
      JsonNode modelTopology, String format, List<WeightSpec> weightSpecs, ByteBuffer weightData) {
    return new ModelArtifacts(
        modelTopology,
        format,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        weightSpecs,
        weightData == null ? null : List.of(weightData));
  }

  @Override
  public List<ByteBuffer> weightData() {
    if (weightData == null) {
      return null;
    }
    List<ByteBuffer> out = new ArrayList<>(weightData.size());
    for (ByteBuffer b : weightData) {
      out.add(b.duplicate().order(ByteOrder.LITTLE_ENDIAN));
    }
    return out;
  }

  /** Bytes of weight data in all buffers. */
  public long weightDataBytes() {
    long n = 0;
    if (weightData != null) {
      for (ByteBuffer b : weightData) {
        n += b.remaining();
      }
    }
    return n;
  }

  /** All weight data in one read-only little-endian buffer (copied when it is in several). */
  public ByteBuffer joinedWeightData() {
    if (weightData == null || weightData.isEmpty()) {
      return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
    }
    if (weightData.size() == 1) {
      return weightData().get(0);
    }
    long total = weightDataBytes();
    if (total > Integer.MAX_VALUE - 8) {
      throw new UnsupportedModelException(
          "the weights take "
              + total
              + " bytes, more than one buffer holds"
              + " (2 GiB); read them per shard with weightData()");
    }
    ByteBuffer all = ByteBuffer.allocate((int) total);
    for (ByteBuffer b : weightData()) {
      all.put(b);
    }
    return all.flip().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A copy with other weights (say, after re-quantizing). */
  public ModelArtifacts withWeights(List<WeightSpec> specs, List<ByteBuffer> data) {
    return new ModelArtifacts(
        modelTopology,
        format,
        generatedBy,
        convertedBy,
        trainingConfig,
        signature,
        userDefinedMetadata,
        modelInitializer,
        initializerSignature,
        specs,
        data);
  }

  /**
   * Checks the weight data holds exactly the bytes the specs need (walking string length prefixes),
   * so a truncated or mismatched download fails here rather than as wrong numbers later.
   *
   * @param where names the source in the message
   * @throws org.tfport.core.TfportException.CorruptModelException when they disagree
   * @return this
   */
  public ModelArtifacts checkWeights(String where) {
    WeightData.check(weightSpecs == null ? List.of() : weightSpecs, weightData(), where);
    return this;
  }

  /** Sizes as TF.js reports them after a save, dated now. */
  public ModelArtifactsInfo info() {
    return ModelArtifactsInfo.of(this);
  }
}
