package org.tfport.convert;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.tfport.convert.keras.KerasGraphSource;
import org.tfport.convert.keras.KerasToTfjs;
import org.tfport.convert.keras.TfjsToKeras;
import org.tfport.convert.keras.TfjsToKerasSavedModel;
import org.tfport.convert.tfjs.TfGraphToTfjs;
import org.tfport.convert.tfjs.TfjsGraphToTf;
import org.tfport.convert.tfjs.TfjsReshard;
import org.tfport.convert.tfjs.TfliteToTf;
import org.tfport.convert.tflite.KerasToTflite;
import org.tfport.convert.tflite.TfjsGraphToTflite;
import org.tfport.convert.tflite.TfliteConverter;
import org.tfport.core.ProgressListener;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.ModelFormat;
import org.tfport.graph.GraphOptions;

/**
 * Converts one model to one target format:
 *
 * <pre>{@code
 * ConversionResult r = Converter.from(Path.of("model.h5"))
 *     .to(ModelFormat.TFJS_LAYERS_MODEL)
 *     .withTfjsOutput(TfjsOutputOptions.builder().quantizeAll(WeightQuantization.FLOAT16).build())
 *     .convert(Path.of("web_model"));
 * }</pre>
 *
 * <p>A converter is an immutable value: each {@code to}/{@code with...} returns a new one, so one
 * converter can be kept and run again. Options of a target other than the chosen one are not used.
 * Output is written to a staging folder beside the target and moved into place at the end; a failed
 * conversion leaves nothing behind.
 *
 * <p>Conversions: Keras ({@code .h5}, {@code .keras}) to a TF.js layers model; TF.js layers or
 * graph models to the same format again (other shards, quantization); SavedModel, frozen GraphDef
 * and TF Hub modules to a TF.js graph model or TFLite; a TF.js graph model to TFLite. Errors are
 * {@link org.tfport.core.TfportException}s whose one-line message names the file, the layer or
 * node, and what to do; a {@link org.tfport.core.TfportException.UsageException} means the options
 * do not fit the model.
 */
public final class Converter {
  private final Path source;
  private final ModelFormat sourceFormat;
  private final ModelFormat target;
  private final GraphLoadingOptions graphLoading;
  private final TfjsOutputOptions tfjsOutput;
  private final TfliteOutputOptions tfliteOutput;
  private final ProgressListener progress;

  private Converter(
      Path source,
      ModelFormat sourceFormat,
      ModelFormat target,
      GraphLoadingOptions graphLoading,
      TfjsOutputOptions tfjsOutput,
      TfliteOutputOptions tfliteOutput,
      ProgressListener progress) {
    this.source = source;
    this.sourceFormat = sourceFormat;
    this.target = target;
    this.graphLoading = graphLoading;
    this.tfjsOutput = tfjsOutput;
    this.tfliteOutput = tfliteOutput;
    this.progress = progress;
  }

  /**
   * A converter for the model at {@code source}, its format detected ({@link ModelFormat#detect}).
   *
   * @throws UsageException when the path does not exist or its format cannot be told
   */
  public static Converter from(Path source) {
    return from(source, ModelFormat.detect(source));
  }

  /** A converter for the model at {@code source} in the given format. */
  public static Converter from(Path source, ModelFormat format) {
    return new Converter(
        Objects.requireNonNull(source, "source"),
        Objects.requireNonNull(format, "format"),
        null,
        GraphLoadingOptions.defaults(),
        TfjsOutputOptions.defaults(),
        TfliteOutputOptions.defaults(),
        ProgressListener.NONE);
  }

  /**
   * This converter writing {@code format}: {@code TFJS_LAYERS_MODEL}, {@code TFJS_GRAPH_MODEL} or
   * {@code TFLITE}.
   */
  public Converter to(ModelFormat format) {
    return new Converter(
        source,
        sourceFormat,
        Objects.requireNonNull(format, "format"),
        graphLoading,
        tfjsOutput,
        tfliteOutput,
        progress);
  }

  /**
   * How a TensorFlow graph source is loaded (signature, tags, output nodes, op check, optimizer).
   */
  public Converter withGraphLoading(GraphLoadingOptions options) {
    return new Converter(
        source,
        sourceFormat,
        target,
        Objects.requireNonNull(options, "options"),
        tfjsOutput,
        tfliteOutput,
        progress);
  }

  /** How a TF.js model is written (shards, quantization, weight groups, metadata). */
  public Converter withTfjsOutput(TfjsOutputOptions options) {
    return new Converter(
        source,
        sourceFormat,
        target,
        graphLoading,
        Objects.requireNonNull(options, "options"),
        tfliteOutput,
        progress);
  }

  /** How a TFLite model is written (op sets, quantization, inference types, metadata). */
  public Converter withTfliteOutput(TfliteOutputOptions options) {
    return new Converter(
        source,
        sourceFormat,
        target,
        graphLoading,
        tfjsOutput,
        Objects.requireNonNull(options, "options"),
        progress);
  }

  /** Told how far the weights are written (TF.js targets), from the calling thread. */
  public Converter withProgress(ProgressListener listener) {
    return new Converter(
        source,
        sourceFormat,
        target,
        graphLoading,
        tfjsOutput,
        tfliteOutput,
        Objects.requireNonNull(listener, "listener"));
  }

  public Path source() {
    return source;
  }

  public ModelFormat sourceFormat() {
    return sourceFormat;
  }

  /** The target format, or null until {@link #to} names one. */
  public ModelFormat target() {
    return target;
  }

  /**
   * Converts the model and writes it to {@code output}: a folder for TF.js targets (created, or
   * replaced if it is an empty folder), a file for TFLite.
   *
   * @throws UsageException when no target was given, the pair of formats is not one tfport
   *     converts, or the options do not fit the model
   * @throws org.tfport.core.TfportException when the model cannot be read or converted
   */
  public ConversionResult convert(Path output) {
    Objects.requireNonNull(output, "output");
    if (target == null) {
      throw new UsageException(
          source + ": no target format; choose one with Converter.to(ModelFormat)");
    }
    return switch (target) {
      case TFJS_LAYERS_MODEL ->
          switch (sourceFormat) {
            case KERAS, KERAS_KERAS -> KerasToTfjs.convert(source, output, tfjsOutput, progress);
            case KERAS_SAVED_MODEL ->
                KerasToTfjs.convertSavedModel(source, output, tfjsOutput, progress);
            case TFJS_LAYERS_MODEL ->
                TfjsReshard.convertLayersModel(source, output, tfjsOutput, progress);
            default -> throw unsupported();
          };
      case TFJS_GRAPH_MODEL ->
          switch (sourceFormat) {
            case TF_SAVED_MODEL ->
                TfGraphToTfjs.convertSavedModel(
                    source, output, tfjsGraphOptions(), tfjsOutput, progress);
            case TF_FROZEN_MODEL ->
                TfGraphToTfjs.convertFrozen(
                    source, output, tfjsGraphOptions(), tfjsOutput, progress);
            case TF_HUB ->
                TfGraphToTfjs.convertHub(source, output, tfjsGraphOptions(), tfjsOutput, progress);
            case TFJS_GRAPH_MODEL ->
                TfjsReshard.convertGraphModel(source, output, tfjsOutput, progress);
            case TFLITE -> {
              List<String> sigs = graphLoading.signatures();
              yield TfliteToTf.convertTfjs(
                  source,
                  output,
                  sigs.isEmpty() ? null : sigs.get(0),
                  graphLoading::graphOptions,
                  tfjsOutput,
                  progress,
                  graphLoading.keepQuantization());
            }
            case STABLEHLO ->
                TfGraphToTfjs.convertStableHlo(
                    source, output, tfjsGraphOptions(), tfjsOutput, progress);
            case KERAS, KERAS_KERAS, TFJS_LAYERS_MODEL ->
                TfGraphToTfjs.convertKeras(
                    source,
                    KerasGraphSource.build(source, sourceFormat),
                    output,
                    tfjsGraphOptions(),
                    tfjsOutput,
                    progress);
            default -> throw unsupported();
          };
      case TFLITE ->
          switch (sourceFormat) {
            case TF_SAVED_MODEL, TF_HUB ->
                TfliteConverter.convertSavedModel(
                    source,
                    output,
                    graphLoading.graphOptions(null),
                    graphLoading.signatures(),
                    sourceFormat == ModelFormat.TF_HUB,
                    tfliteOutput.targetOptions());
            case TF_FROZEN_MODEL ->
                TfliteConverter.convertFrozen(
                    source,
                    output,
                    graphLoading.graphOptions(null),
                    graphLoading.inputNodeNames(),
                    graphLoading.inputShapes(),
                    tfliteOutput.targetOptions());
            case TFJS_GRAPH_MODEL ->
                TfjsGraphToTflite.convert(source, output, tfliteOutput.targetOptions());
            case STABLEHLO ->
                TfliteConverter.convertStableHlo(
                    source, output, graphLoading.inputShapes(), tfliteOutput.targetOptions());
            case KERAS, KERAS_KERAS, TFJS_LAYERS_MODEL ->
                KerasToTflite.convert(
                    source,
                    KerasGraphSource.build(source, sourceFormat),
                    output,
                    tfliteOutput.targetOptions());
            default -> throw unsupported();
          };
      case KERAS ->
          switch (sourceFormat) {
            case TFJS_LAYERS_MODEL -> TfjsToKeras.convertH5(source, output);
            default -> throw unsupported();
          };
      case KERAS_KERAS ->
          switch (sourceFormat) {
            case TFJS_LAYERS_MODEL -> TfjsToKeras.convertKeras3(source, output);
            default -> throw unsupported();
          };
      case KERAS_SAVED_MODEL ->
          switch (sourceFormat) {
            case TFJS_LAYERS_MODEL -> TfjsToKerasSavedModel.convert(source, output);
            default -> throw unsupported();
          };
      case TF_SAVED_MODEL ->
          switch (sourceFormat) {
            case TFJS_GRAPH_MODEL -> TfjsGraphToTf.convertSavedModel(source, output);
            case TFLITE ->
                TfliteToTf.convertSavedModel(source, output, graphLoading.keepQuantization());
            default -> throw unsupported();
          };
      case TF_FROZEN_MODEL ->
          switch (sourceFormat) {
            case TFJS_GRAPH_MODEL -> TfjsGraphToTf.convertFrozen(source, output);
            case TFLITE ->
                TfliteToTf.convertFrozen(source, output, graphLoading.keepQuantization());
            default -> throw unsupported();
          };
      default -> throw unsupported();
    };
  }

  /**
   * The TF.js format that fits {@code source}: a layers model for Keras models, a graph model for
   * graphs.
   */
  public static ModelFormat tfjsTargetFor(ModelFormat source) {
    return switch (source) {
      case KERAS, KERAS_KERAS, KERAS_SAVED_MODEL, TFJS_LAYERS_MODEL ->
          ModelFormat.TFJS_LAYERS_MODEL;
      case TF_SAVED_MODEL, TF_FROZEN_MODEL, TF_HUB, TFJS_GRAPH_MODEL, TFLITE, STABLEHLO ->
          ModelFormat.TFJS_GRAPH_MODEL;
    };
  }

  /** A TF.js graph model holds one signature, and feeds its placeholders by name. */
  private GraphOptions tfjsGraphOptions() {
    List<String> signatures = graphLoading.signatures();
    if (signatures.size() > 1) {
      throw new UsageException(
          source
              + ": a TF.js graph model holds one signature, but"
              + " GraphLoadingOptions.signatures names "
              + signatures.size()
              + ": "
              + String.join(", ", signatures)
              + "; convert each on its own");
    }
    if (!graphLoading.inputNodeNames().isEmpty() || !graphLoading.inputShapes().isEmpty()) {
      throw new UsageException(
          source
              + ": GraphLoadingOptions.inputNodeNames and inputShape are for TFLite"
              + " output; a TF.js graph model feeds its placeholders by name");
    }
    return graphLoading.graphOptions(signatures.isEmpty() ? null : signatures.get(0));
  }

  private UsageException unsupported() {
    return new UsageException(
        source
            + ": tfport does not convert "
            + sourceFormat
            + " to "
            + target
            + "; it converts KERAS, KERAS_KERAS and KERAS_SAVED_MODEL to TFJS_LAYERS_MODEL, TF.js models to their own format, TensorFlow"
            + " graphs (TF_SAVED_MODEL, TF_FROZEN_MODEL, TF_HUB) and STABLEHLO programs to TFJS_GRAPH_MODEL or TFLITE, and"
            + " TFJS_GRAPH_MODEL to TFLITE, TF_SAVED_MODEL or TF_FROZEN_MODEL, and TFLITE to TFJS_GRAPH_MODEL, TF_SAVED_MODEL or"
            + " TF_FROZEN_MODEL, and TFJS_LAYERS_MODEL to KERAS (.h5), KERAS_KERAS (.keras) or KERAS_SAVED_MODEL (a folder)");
  }

  @Override
  public String toString() {
    return "Converter[" + source + " (" + sourceFormat + ") -> " + target + "]";
  }
}
