package org.tfport.formats.tflite;

/**
 * The members of the TFLite schema's {@code BuiltinOptions} union in union order ({@link #id} is
 * the number a file stores in {@code builtin_options_type}; {@link #NONE}, 0, means no options),
 * each with its table's layout restated from the current schema.fbs for {@link OptionsSchema}:
 * {@code Name field:kind[=default] ...} in field-id order, {@code _} marking a deprecated id. The
 * union is frozen at 126 members; newer options go to {@code BuiltinOptions2}, which tfport does
 * not read.
 */
public enum TfliteOptionsType {
  NONE("NONE"),
  CONV_2D_OPTIONS(
      "Conv2DOptions padding:b stride_w:i stride_h:i fused_activation_function:b dilation_w_factor:i=1"
          + " dilation_h_factor:i=1 quantized_bias_type:b"),
  DEPTHWISE_CONV_2D_OPTIONS(
      "DepthwiseConv2DOptions padding:b stride_w:i stride_h:i depth_multiplier:i"
          + " fused_activation_function:b dilation_w_factor:i=1 dilation_h_factor:i=1"),
  CONCAT_EMBEDDINGS_OPTIONS(
      "ConcatEmbeddingsOptions num_channels:i num_columns_per_channel:I"
          + " embedding_dim_per_channel:I"),
  LSH_PROJECTION_OPTIONS("LSHProjectionOptions type:b"),
  POOL_2D_OPTIONS(
      "Pool2DOptions padding:b stride_w:i stride_h:i filter_width:i filter_height:i"
          + " fused_activation_function:b"),
  SVDF_OPTIONS("SVDFOptions rank:i fused_activation_function:b asymmetric_quantize_inputs:z"),
  RNN_OPTIONS("RNNOptions fused_activation_function:b asymmetric_quantize_inputs:z"),
  FULLY_CONNECTED_OPTIONS(
      "FullyConnectedOptions fused_activation_function:b weights_format:b keep_num_dims:z"
          + " asymmetric_quantize_inputs:z quantized_bias_type:b"),
  SOFTMAX_OPTIONS("SoftmaxOptions beta:f"),
  CONCATENATION_OPTIONS("ConcatenationOptions axis:i fused_activation_function:b"),
  ADD_OPTIONS("AddOptions fused_activation_function:b pot_scale_int16:z=1"),
  L2_NORM_OPTIONS("L2NormOptions fused_activation_function:b"),
  LOCAL_RESPONSE_NORMALIZATION_OPTIONS(
      "LocalResponseNormalizationOptions radius:i bias:f alpha:f beta:f"),
  LSTM_OPTIONS(
      "LSTMOptions fused_activation_function:b cell_clip:f proj_clip:f kernel_type:b"
          + " asymmetric_quantize_inputs:z"),
  RESIZE_BILINEAR_OPTIONS("ResizeBilinearOptions _ _ align_corners:z half_pixel_centers:z"),
  CALL_OPTIONS("CallOptions subgraph:u"),
  RESHAPE_OPTIONS("ReshapeOptions new_shape:I"),
  SKIP_GRAM_OPTIONS("SkipGramOptions ngram_size:i max_skip_size:i include_all_ngrams:z"),
  SPACE_TO_DEPTH_OPTIONS("SpaceToDepthOptions block_size:i"),
  EMBEDDING_LOOKUP_SPARSE_OPTIONS("EmbeddingLookupSparseOptions combiner:b"),
  MUL_OPTIONS("MulOptions fused_activation_function:b"),
  PAD_OPTIONS("PadOptions"),
  GATHER_OPTIONS("GatherOptions axis:i batch_dims:i"),
  BATCH_TO_SPACE_ND_OPTIONS("BatchToSpaceNDOptions"),
  SPACE_TO_BATCH_ND_OPTIONS("SpaceToBatchNDOptions"),
  TRANSPOSE_OPTIONS("TransposeOptions"),
  REDUCER_OPTIONS("ReducerOptions keep_dims:z"),
  SUB_OPTIONS("SubOptions fused_activation_function:b pot_scale_int16:z=1"),
  DIV_OPTIONS("DivOptions fused_activation_function:b"),
  SQUEEZE_OPTIONS("SqueezeOptions squeeze_dims:I"),
  SEQUENCE_RNN_OPTIONS(
      "SequenceRNNOptions time_major:z fused_activation_function:b asymmetric_quantize_inputs:z"),
  STRIDED_SLICE_OPTIONS(
      "StridedSliceOptions begin_mask:i end_mask:i ellipsis_mask:i new_axis_mask:i"
          + " shrink_axis_mask:i offset:z"),
  EXP_OPTIONS("ExpOptions"),
  TOPK_V2_OPTIONS("TopKV2Options"),
  SPLIT_OPTIONS("SplitOptions num_splits:i"),
  LOG_SOFTMAX_OPTIONS("LogSoftmaxOptions"),
  CAST_OPTIONS("CastOptions in_data_type:b out_data_type:b"),
  DEQUANTIZE_OPTIONS("DequantizeOptions"),
  MAXIMUM_MINIMUM_OPTIONS("MaximumMinimumOptions"),
  ARG_MAX_OPTIONS("ArgMaxOptions output_type:b"),
  LESS_OPTIONS("LessOptions"),
  NEG_OPTIONS("NegOptions"),
  PADV2_OPTIONS("PadV2Options"),
  GREATER_OPTIONS("GreaterOptions"),
  GREATER_EQUAL_OPTIONS("GreaterEqualOptions"),
  LESS_EQUAL_OPTIONS("LessEqualOptions"),
  SELECT_OPTIONS("SelectOptions"),
  SLICE_OPTIONS("SliceOptions"),
  TRANSPOSE_CONV_OPTIONS(
      "TransposeConvOptions padding:b stride_w:i stride_h:i fused_activation_function:b"
          + " quantized_bias_type:b"),
  SPARSE_TO_DENSE_OPTIONS("SparseToDenseOptions validate_indices:z"),
  TILE_OPTIONS("TileOptions"),
  EXPAND_DIMS_OPTIONS("ExpandDimsOptions"),
  EQUAL_OPTIONS("EqualOptions"),
  NOT_EQUAL_OPTIONS("NotEqualOptions"),
  SHAPE_OPTIONS("ShapeOptions out_type:b"),
  POW_OPTIONS("PowOptions"),
  ARG_MIN_OPTIONS("ArgMinOptions output_type:b"),
  FAKE_QUANT_OPTIONS("FakeQuantOptions min:f max:f num_bits:i narrow_range:z"),
  PACK_OPTIONS("PackOptions values_count:i axis:i"),
  LOGICAL_OR_OPTIONS("LogicalOrOptions"),
  ONE_HOT_OPTIONS("OneHotOptions axis:i"),
  LOGICAL_AND_OPTIONS("LogicalAndOptions"),
  LOGICAL_NOT_OPTIONS("LogicalNotOptions"),
  UNPACK_OPTIONS("UnpackOptions num:i axis:i"),
  FLOOR_DIV_OPTIONS("FloorDivOptions"),
  SQUARE_OPTIONS("SquareOptions"),
  ZEROS_LIKE_OPTIONS("ZerosLikeOptions"),
  FILL_OPTIONS("FillOptions"),
  BIDIRECTIONAL_SEQUENCE_LSTM_OPTIONS(
      "BidirectionalSequenceLSTMOptions fused_activation_function:b cell_clip:f"
          + " proj_clip:f merge_outputs:z time_major:z=1 asymmetric_quantize_inputs:z"),
  BIDIRECTIONAL_SEQUENCE_RNN_OPTIONS(
      "BidirectionalSequenceRNNOptions time_major:z fused_activation_function:b"
          + " merge_outputs:z asymmetric_quantize_inputs:z"),
  UNIDIRECTIONAL_SEQUENCE_LSTM_OPTIONS(
      "UnidirectionalSequenceLSTMOptions fused_activation_function:b cell_clip:f"
          + " proj_clip:f time_major:z asymmetric_quantize_inputs:z diagonal_recurrent_tensors:z"),
  FLOOR_MOD_OPTIONS("FloorModOptions"),
  RANGE_OPTIONS("RangeOptions"),
  RESIZE_NEAREST_NEIGHBOR_OPTIONS(
      "ResizeNearestNeighborOptions align_corners:z half_pixel_centers:z"),
  LEAKY_RELU_OPTIONS("LeakyReluOptions alpha:f"),
  SQUARED_DIFFERENCE_OPTIONS("SquaredDifferenceOptions"),
  MIRROR_PAD_OPTIONS("MirrorPadOptions mode:b"),
  ABS_OPTIONS("AbsOptions"),
  SPLIT_V_OPTIONS("SplitVOptions num_splits:i"),
  UNIQUE_OPTIONS("UniqueOptions idx_out_type:b=2"),
  REVERSE_V2_OPTIONS("ReverseV2Options"),
  ADD_N_OPTIONS("AddNOptions"),
  GATHER_ND_OPTIONS("GatherNdOptions"),
  COS_OPTIONS("CosOptions"),
  WHERE_OPTIONS("WhereOptions"),
  RANK_OPTIONS("RankOptions"),
  REVERSE_SEQUENCE_OPTIONS("ReverseSequenceOptions seq_dim:i batch_dim:i"),
  MATRIX_DIAG_OPTIONS("MatrixDiagOptions"),
  QUANTIZE_OPTIONS("QuantizeOptions"),
  MATRIX_SET_DIAG_OPTIONS("MatrixSetDiagOptions"),
  HARD_SWISH_OPTIONS("HardSwishOptions"),
  IF_OPTIONS("IfOptions then_subgraph_index:i else_subgraph_index:i"),
  WHILE_OPTIONS("WhileOptions cond_subgraph_index:i body_subgraph_index:i"),
  DEPTH_TO_SPACE_OPTIONS("DepthToSpaceOptions block_size:i"),
  NON_MAX_SUPPRESSION_V4_OPTIONS("NonMaxSuppressionV4Options"),
  NON_MAX_SUPPRESSION_V5_OPTIONS("NonMaxSuppressionV5Options"),
  SCATTER_ND_OPTIONS("ScatterNdOptions"),
  SELECT_V2_OPTIONS("SelectV2Options"),
  DENSIFY_OPTIONS("DensifyOptions"),
  SEGMENT_SUM_OPTIONS("SegmentSumOptions"),
  BATCH_MATMUL_OPTIONS("BatchMatMulOptions adj_x:z adj_y:z asymmetric_quantize_inputs:z"),
  CUMSUM_OPTIONS("CumsumOptions exclusive:z reverse:z"),
  CALL_ONCE_OPTIONS("CallOnceOptions init_subgraph_index:i"),
  BROADCAST_TO_OPTIONS("BroadcastToOptions"),
  RFFT_2D_OPTIONS("Rfft2dOptions"),
  CONV_3D_OPTIONS(
      "Conv3DOptions padding:b stride_d:i stride_w:i stride_h:i fused_activation_function:b"
          + " dilation_d_factor:i=1 dilation_w_factor:i=1 dilation_h_factor:i=1"),
  HASHTABLE_OPTIONS("HashtableOptions table_id:i key_dtype:b value_dtype:b"),
  HASHTABLE_FIND_OPTIONS("HashtableFindOptions"),
  HASHTABLE_IMPORT_OPTIONS("HashtableImportOptions"),
  HASHTABLE_SIZE_OPTIONS("HashtableSizeOptions"),
  VAR_HANDLE_OPTIONS("VarHandleOptions container:s shared_name:s"),
  READ_VARIABLE_OPTIONS("ReadVariableOptions"),
  ASSIGN_VARIABLE_OPTIONS("AssignVariableOptions"),
  RANDOM_OPTIONS("RandomOptions seed:l seed2:l"),
  BUCKETIZE_OPTIONS("BucketizeOptions boundaries:F"),
  GELU_OPTIONS("GeluOptions approximate:z"),
  DYNAMIC_UPDATE_SLICE_OPTIONS("DynamicUpdateSliceOptions"),
  UNSORTED_SEGMENT_PROD_OPTIONS("UnsortedSegmentProdOptions"),
  UNSORTED_SEGMENT_MAX_OPTIONS("UnsortedSegmentMaxOptions"),
  UNSORTED_SEGMENT_MIN_OPTIONS("UnsortedSegmentMinOptions"),
  UNSORTED_SEGMENT_SUM_OPTIONS("UnsortedSegmentSumOptions"),
  ATAN2_OPTIONS("ATan2Options"),
  SIGN_OPTIONS("SignOptions"),
  BITCAST_OPTIONS("BitcastOptions"),
  BITWISE_XOR_OPTIONS("BitwiseXorOptions"),
  RIGHT_SHIFT_OPTIONS("RightShiftOptions");

  private static final TfliteOptionsType[] BY_ID = values();

  /** {@code Name field:kind[=default] ...}, parsed by {@link OptionsSchema}. */
  private final String layout;

  TfliteOptionsType(String layout) {
    this.layout = layout;
  }

  /** The union member's number ({@code BuiltinOptions_Conv2DOptions} = 1, ...). */
  public int id() {
    return ordinal();
  }

  /** The schema's name for the options table, e.g. {@code Conv2DOptions}. */
  public String schemaName() {
    int space = layout.indexOf(' ');
    return space < 0 ? layout : layout.substring(0, space);
  }

  String layout() {
    return layout;
  }

  /** The member with union number {@code id}, or null when it is outside the union. */
  public static TfliteOptionsType ofId(int id) {
    return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
  }
}
