package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OptionFlagsTest {
  @Test
  void libraryOptionNamesBecomeFlags() {
    assertThat(
            OptionFlags.reword(
                "m/saved_model.pb: no MetaGraph has the tags serve; the tag sets there are: gpu;"
                    + " choose the tags gpu"))
        .endsWith("give --saved_model_tags=gpu");
    assertThat(OptionFlags.reword("no signature 'x'; choose a signature by its key"))
        .endsWith("give --signature_name=NAME");
    assertThat(
            OptionFlags.reword(
                "d: is a folder (this folder is a SavedModel: use ModelFormat.TF_SAVED_MODEL)"))
        .endsWith("use --input_format=tf_saved_model)");
    assertThat(
            OptionFlags.reword(
                "m.json: not a TF.js graph model; use ModelFormat.TFJS_LAYERS_MODEL"))
        .endsWith("use --input_format=tfjs_layers_model");
    assertThat(OptionFlags.reword("WriteOptions.shardSizeBytes must be a positive number of bytes"))
        .startsWith("--weight_shard_size_bytes must be");
    assertThat(OptionFlags.reword("name the nodes to compute (LoadOptions.outputNodeNames)"))
        .endsWith("(--output_node_names)");
  }
}
