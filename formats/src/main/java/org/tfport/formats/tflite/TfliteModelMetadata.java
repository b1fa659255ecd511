package org.tfport.formats.tflite;

import java.util.List;
import java.util.Objects;

/**
 * tflite-support model metadata ({@code metadata_schema.fbs} 1.5.0, root {@code ModelMetadata},
 * identifier {@code M001}), the part tfport writes and reads: model name, description, version,
 * author and license; per input/output tensor a name, description, content kind, normalization
 * ({@code (x - mean) / std} per channel), value range stats and associated files such as a labels
 * file. Process units other than normalization (score calibration, tokenizers), tensor groups and
 * custom metadata are not represented; they survive untouched in the model's {@code
 * TFLITE_METADATA} buffer when a file is only read and rewritten.
 *
 * @param subgraphs the upstream populator requires exactly one
 * @param minParserVersion null when writing: {@link TfliteMetadata} computes it
 */
public record TfliteModelMetadata(
    String name,
    String description,
    String version,
    String author,
    String license,
    List<Subgraph> subgraphs,
    List<AssociatedFile> associatedFiles,
    String minParserVersion) {
  public TfliteModelMetadata {
    subgraphs = List.copyOf(subgraphs);
    associatedFiles = List.copyOf(associatedFiles);
  }

  /** The model's one subgraph, as the populator and the task libraries expect. */
  public static TfliteModelMetadata of(
      String name,
      String description,
      String version,
      String author,
      String license,
      List<TensorInfo> inputs,
      List<TensorInfo> outputs) {
    return new TfliteModelMetadata(
        name,
        description,
        version,
        author,
        license,
        List.of(new Subgraph(null, null, inputs, outputs, List.of())),
        List.of(),
        null);
  }

  /** {@code SubGraphMetadata}: inputs and outputs in the subgraph's order, one entry per tensor. */
  public record Subgraph(
      String name,
      String description,
      List<TensorInfo> inputs,
      List<TensorInfo> outputs,
      List<AssociatedFile> associatedFiles) {
    public Subgraph {
      inputs = List.copyOf(inputs);
      outputs = List.copyOf(outputs);
      associatedFiles = List.copyOf(associatedFiles);
    }
  }

  /**
   * {@code TensorMetadata}.
   *
   * @param colorSpace for {@link Content#IMAGE} only, else null
   * @param mean normalization means (empty: no NormalizationOptions)
   * @param std normalization standard deviations, same length as {@code mean}
   * @param statsMin empty when absent
   */
  public record TensorInfo(
      String name,
      String description,
      Content content,
      ColorSpace colorSpace,
      List<Float> mean,
      List<Float> std,
      List<Float> statsMin,
      List<Float> statsMax,
      List<AssociatedFile> associatedFiles) {
    public TensorInfo {
      Objects.requireNonNull(content, "content");
      mean = List.copyOf(mean);
      std = List.copyOf(std);
      statsMin = List.copyOf(statsMin);
      statsMax = List.copyOf(statsMax);
      associatedFiles = List.copyOf(associatedFiles);
      if (mean.size() != std.size()) {
        throw new IllegalArgumentException(
            "normalization needs as many std values as means: " + mean + " vs " + std);
      }
    }

    /**
     * An image input with the writer conventions: ImageProperties, normalization and the stats an
     * input of {@code [0, 255]} pixels has after it.
     */
    public static TensorInfo image(
        String name, String description, ColorSpace colorSpace, List<Float> mean, List<Float> std) {
      List<Float> min = new java.util.ArrayList<>();
      List<Float> max = new java.util.ArrayList<>();
      for (int i = 0; i < mean.size(); i++) {
        min.add((0f - mean.get(i)) / std.get(i));
        max.add((255f - mean.get(i)) / std.get(i));
      }
      return new TensorInfo(
          name, description, Content.IMAGE, colorSpace, mean, std, min, max, List.of());
    }

    /**
     * A classifier output: feature content, scores in [0, 1] and a labels file (one label per
     * line).
     */
    public static TensorInfo scores(String name, String description, String labelsFile) {
      return new TensorInfo(
          name,
          description,
          Content.FEATURE,
          null,
          List.of(),
          List.of(),
          List.of(0f),
          List.of(1f),
          labelsFile == null
              ? List.of()
              : List.of(
                  new AssociatedFile(
                      labelsFile,
                      "Labels for the output classes",
                      FileType.TENSOR_AXIS_LABELS,
                      null,
                      null)));
    }

    /** A plain feature tensor with a name and description only. */
    public static TensorInfo feature(String name, String description) {
      return new TensorInfo(
          name,
          description,
          Content.FEATURE,
          null,
          List.of(),
          List.of(),
          List.of(),
          List.of(),
          List.of());
    }
  }

  /**
   * {@code ContentProperties} union members tfport writes; OTHER stands for bounding boxes and
   * audio when read.
   */
  public enum Content {
    NONE,
    FEATURE,
    IMAGE,
    OTHER
  }

  /** {@code ColorSpaceType}. */
  public enum ColorSpace {
    UNKNOWN,
    RGB,
    GRAYSCALE
  }

  /** {@code AssociatedFileType}. */
  public enum FileType {
    UNKNOWN,
    DESCRIPTIONS,
    TENSOR_AXIS_LABELS,
    TENSOR_VALUE_LABELS,
    TENSOR_AXIS_SCORE_CALIBRATION,
    VOCABULARY,
    SCANN_INDEX_FILE
  }

  /**
   * {@code AssociatedFile}: {@code name} is the entry's name in the zip appended to the model.
   *
   * @param locale null when absent
   * @param version null when absent (setting it raises min_parser_version to 1.4.1)
   */
  public record AssociatedFile(
      String name, String description, FileType type, String locale, String version) {
    public AssociatedFile {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(type, "type");
    }
  }
}
