package org.tfport.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.Json;

/**
 * Bad input gets one clear line naming the file and what is wrong, a non-zero exit, and no output:
 * not the output folder, and no staging folder left beside it.
 */
class BadInputTest {
  @TempDir Path tmp;

  private void assertRefused(CliRunner r, int code, String... mustMention) throws IOException {
    assertThat(r.code()).as(r.err()).isEqualTo(code);
    assertThat(r.errLines()).as("exactly one line on stderr").hasSize(1);
    assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
    for (String m : mustMention) {
      assertThat(r.err()).contains(m);
    }
    assertThat(tmp.resolve("out")).doesNotExist();
    try (Stream<Path> s = Files.list(tmp)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tfport-"));
    }
  }

  private CliRunner convert(Path in, String... extra) {
    String[] args =
        Stream.concat(
                Stream.of("convert", "--input_format=keras", "--output_format=tfjs_layers_model"),
                Stream.concat(
                    Stream.of(extra), Stream.of(in.toString(), tmp.resolve("out").toString())))
            .toArray(String[]::new);
    return CliRunner.run(args);
  }

  @Test
  void nonHdf5File() throws IOException {
    Path f = Files.writeString(tmp.resolve("model.h5"), "this is not a model");
    assertRefused(convert(f), 1, f.toString(), "HDF5 signature");
  }

  @Test
  void truncatedHdf5File() throws IOException {
    Path good = DemoModel.write(tmp.resolve("good.h5"), "Dense");
    byte[] all = Files.readAllBytes(good);
    Path f = Files.write(tmp.resolve("truncated.h5"), java.util.Arrays.copyOf(all, all.length / 2));
    assertRefused(convert(f), 1, f.toString());
  }

  @Test
  void hdf5WithoutModelConfigOrLayerNames() throws IOException {
    Path f = tmp.resolve("plain.h5");
    try (WritableHdfFile h5 = HdfFile.write(f)) {
      h5.putDataset("x", new float[] {1, 2, 3});
    }
    assertRefused(convert(f), 1, f.toString(), "model_config", "layer_names");
  }

  @Test
  void unknownLayerClassIsNamedWithItsLayer() throws IOException {
    Path f = DemoModel.write(tmp.resolve("custom.h5"), "FancyDense");
    assertRefused(convert(f), 1, f.toString(), "FancyDense", "'demo/dense_1'");
  }

  @Test
  void malformedConfigJson() throws IOException {
    Path f = tmp.resolve("badjson.h5");
    try (WritableHdfFile h5 = HdfFile.write(f)) {
      h5.putAttribute("model_config", "{\"class_name\": \"Sequential\", \"config\": [");
      h5.putAttribute("keras_version", "2.15.0");
      h5.putGroup("model_weights").putAttribute("layer_names", new String[] {"a"});
    }
    assertRefused(convert(f), 1, f.toString(), "model_config", "not valid JSON");
  }

  @Test
  void shardSizeMustBePositive() throws IOException {
    Path f = DemoModel.write(tmp.resolve("m.h5"), "Dense");
    assertRefused(convert(f, "--weight_shard_size_bytes=0"), 2, "--weight_shard_size_bytes");
    assertRefused(convert(f, "--weight_shard_size_bytes=-5"), 2, "--weight_shard_size_bytes");
    assertRefused(convert(f, "--weight_shard_size_bytes=lots"), 2, "--weight_shard_size_bytes");
  }

  @Test
  void outputPathThatIsAFile() throws IOException {
    Path f = DemoModel.write(tmp.resolve("m.h5"), "Dense");
    Path out = Files.writeString(tmp.resolve("out"), "keep me");
    CliRunner r = CliRunner.run("convert", "--input_format=keras", f.toString(), out.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.err()).contains(out.toString(), "existing file");
    assertThat(Files.readString(out)).isEqualTo("keep me");
  }

  @Test
  void missingInputFile() throws IOException {
    assertRefused(convert(tmp.resolve("nope.h5")), 2, "nope.h5");
  }

  @Test
  void unsupportedPairNamesTheSupportedOnes() throws IOException {
    Path f = DemoModel.write(tmp.resolve("m.h5"), "Dense");
    CliRunner r =
        CliRunner.run(
            "convert",
            "--input_format=keras",
            "--output_format=keras_keras",
            f.toString(),
            tmp.resolve("out").toString());
    assertRefused(r, 2, "keras - keras_keras", "keras -> tfjs_layers_model");
  }

  @Test
  void usageErrorsExitWith2() throws IOException {
    assertRefused(CliRunner.run("convert", "--no_such_flag", "a", "b"), 2, "--no_such_flag");
    assertRefused(CliRunner.run("convert", "only_one_path"), 2, "output_path");
    assertRefused(
        CliRunner.run("convert", "--split_weights_by_layer=maybe", "a", "b"), 2, "true or false");
    assertRefused(CliRunner.run("frobnicate"), 2, "frobnicate");
  }

  @Test
  void weightMissingFromFileIsReported() throws IOException {
    Path f = tmp.resolve("missing_weight.h5");
    try (WritableHdfFile h5 = HdfFile.write(f)) {
      h5.putAttribute("model_config", Json.MAPPER.writeValueAsString(DemoModel.config("Dense")));
      h5.putAttribute("keras_version", "2.15.0");
      h5.putAttribute("backend", "tensorflow");
      var mw = h5.putGroup("model_weights");
      mw.putAttribute("layer_names", new String[] {"dense"});
      mw.putGroup("dense").putAttribute("weight_names", new String[] {"dense/kernel:0"});
    }
    assertRefused(convert(f), 1, f.toString(), "dense/kernel:0");
  }
}
