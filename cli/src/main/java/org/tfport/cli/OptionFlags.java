package org.tfport.cli;

import java.util.Map;

/**
 * The library names options by their Java API ({@code TfliteOutputOptions.representativeData}); the
 * command line user knows them as flags. Errors from the library are reported with the flags in
 * place of those names.
 */
final class OptionFlags {
  /** Longest names first, so that a name containing another is replaced whole. */
  private static final Map<String, String> FLAGS =
      orderedByLength(
          Map.ofEntries(
              Map.entry("turn GraphLoadingOptions.checkOps off", "pass --skip_op_check"),
              Map.entry("GraphLoadingOptions.checkOps", "--skip_op_check"),
              Map.entry("GraphLoadingOptions.keepQuantization", "--keep_quantization"),
              Map.entry("GraphLoadingOptions.signatures", "--signature_name"),
              Map.entry("GraphLoadingOptions.inputShape", "--input_shapes"),
              Map.entry("GraphLoadingOptions.inputNodeNames", "--input_arrays"),
              Map.entry("GraphLoadingOptions.outputNodeNames", "--output_node_names"),
              Map.entry("TfjsOutputOptions.shardSizeBytes", "--weight_shard_size_bytes"),
              Map.entry("set TfjsOutputOptions.overwrite", "pass --overwrite"),
              Map.entry(
                  "TfjsOutputOptions.WeightGrouping.ONE_GROUP", "no --split_weights_by_layer"),
              Map.entry("TfliteOutputOptions.opSets with SELECT_TF_OPS", "--enable_select_tf_ops"),
              Map.entry("TfliteOutputOptions.opSets", "--target_ops"),
              Map.entry("TfliteOutputOptions.allowCustomOps", "--allow_custom_ops"),
              Map.entry("TfliteOutputOptions.castFloat64ToFloat32", "--cast_float64_to_float32"),
              Map.entry("TfliteOutputOptions.representativeData", "--representative_data"),
              Map.entry(
                  "TfliteOutputOptions.inferenceInputType/inferenceOutputType",
                  "--inference_input_type/--inference_output_type"),
              Map.entry("TfliteQuantizationMode.DYNAMIC_RANGE", "--post_training_quantize"),
              Map.entry("Converter.from(path, format)", "--input_format"),
              Map.entry("WriteOptions.shardSizeBytes", "--weight_shard_size_bytes"),
              Map.entry("LoadOptions.outputNodeNames", "--output_node_names"),
              Map.entry("give Trainer.Settings.loss", "give --loss"),
              Map.entry("choose the tags ", "give --saved_model_tags="),
              Map.entry("choose a signature by its key", "give --signature_name=NAME"),
              Map.entry("ServerSecurity.Tls certPem and keyPem", "--tls-cert and --tls-key"),
              Map.entry("ServerSecurity.Tls keystore", "--tls-keystore"),
              Map.entry("ServerSecurity.Tls keystorePassword", "--tls-keystore-password"),
              Map.entry("ServerSecurity.Tls certPem", "--tls-cert"),
              Map.entry("ServerSecurity.Tls keyPem", "--tls-key"),
              Map.entry("ServerConfig.port", "--port"),
              Map.entry("ServerConfig.token", "--token"),
              Map.entry(
                  "ServingConfig.cacheBytes, maxRequestBytes and maxTensorElements",
                  "--model-cache-bytes, --max-request-bytes and --max-tensor-elements"),
              Map.entry("ServingConfig.timeoutMillis", "--predict-timeout-ms"),
              Map.entry("ServingConfig.workers", "--predict-threads"),
              Map.entry("ServingConfig.queue", "--predict-queue"),
              Map.entry("ServingConfig.maxBatch", "--max-batch-size"),
              Map.entry("ServingConfig.batchWaitMicros", "--batch-timeout-micros"),
              Map.entry("ServerSecurity.readToken", "--read-token"),
              Map.entry("ServerSecurity.corsOrigins entry", "--cors-origin"),
              Map.entry(
                  "ServerSecurity.maxStoreBytes, idleTimeoutMillis and headerTimeoutMillis",
                  "--max-store-bytes, --idle-timeout-ms and --header-timeout-ms"),
              Map.entry("ServerSecurity.maxHeaderBytes", "--max-header-bytes"),
              // Formats the library suggests reading a source as.
              Map.entry("QuantizationMap.float16/uint8/uint16 patterns", "--quantize_* flags"),
              Map.entry("QuantizationMap.quantizationBytes", "--quantization_bytes"),
              Map.entry("QuantizationMap.float16", "--quantize_float16"),
              Map.entry("QuantizationMap.uint8", "--quantize_uint8"),
              Map.entry("QuantizationMap.uint16", "--quantize_uint16"),
              Map.entry("ModelInterface.read's signature and tags", "--signature_name and --tags"),
              Map.entry("as ModelFormat.TF_SAVED_MODEL", "with --input_format=tf_saved_model"),
              Map.entry("ModelFormat.KERAS_SAVED_MODEL", "--input_format=keras_saved_model"),
              Map.entry("into ModelFormat.KERAS_KERAS", "with --output_format=keras_keras"),
              Map.entry("into ModelFormat.KERAS", "with --output_format=keras"),
              Map.entry("into ModelFormat.TF_SAVED_MODEL", "with --output_format=tf_saved_model"),
              Map.entry("into ModelFormat.TFJS_GRAPH_MODEL", "--output_format=tfjs_graph_model"),
              Map.entry(
                  "into ModelFormat.TFJS_LAYERS_MODEL", "with --output_format=tfjs_layers_model"),
              Map.entry("ModelFormat.TF_SAVED_MODEL", "--input_format=tf_saved_model"),
              Map.entry("ModelFormat.TFJS_LAYERS_MODEL", "--input_format=tfjs_layers_model")));

  private OptionFlags() {}

  /** {@code message} with each API option name replaced by its flag. */
  static String reword(String message) {
    if (message == null) {
      return null;
    }
    String out = message;
    for (Map.Entry<String, String> e : FLAGS.entrySet()) {
      out = out.replace(e.getKey(), e.getValue());
    }
    return out;
  }

  private static Map<String, String> orderedByLength(Map<String, String> m) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    m.keySet().stream()
        .sorted(
            java.util.Comparator.comparingInt(String::length)
                .reversed()
                .thenComparing(java.util.Comparator.naturalOrder()))
        .forEach(k -> out.put(k, m.get(k)));
    return out;
  }
}
