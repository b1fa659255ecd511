package org.tfport.formats.tfjs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UsageException;

/** Damaged and hostile inputs: every one is refused with a one-line message naming the file. */
class TfjsReaderCorruptTest {
  @TempDir Path dir;

  Path model(String manifest) throws IOException {
    Path m = dir.resolve("model.json");
    Files.writeString(
        m,
        "{\"format\":\"graph-model\",\"modelTopology\":{},\"weightsManifest\":" + manifest + "}");
    return m;
  }

  static AbstractThrowableAssert<?, ? extends Throwable> assertCorrupt(Path m) {
    return assertThatThrownBy(() -> TfjsReader.read(m))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining(m.toString())
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  Path written(long shard) throws IOException {
    TfjsWriter.write(
        dir,
        TfjsModelJson.graph("x", "y", null, null),
        List.of(
            List.of(
                WeightEntry.of("a", Tensor.ofFloats(Shape.of(3), 1, 2, 3)),
                WeightEntry.of("b", Tensor.ofFloats(Shape.of(2), 4, 5)))),
        new WriteOptions(shard, null),
        null);
    return dir.resolve("model.json");
  }

  @Test
  void truncatedShardNamesTheWeightAndOffset() throws IOException {
    Path m = written(1024);
    Path shard = dir.resolve("group1-shard1of1.bin");
    byte[] b = Files.readAllBytes(shard);
    Files.write(shard, java.util.Arrays.copyOf(b, b.length - 1));
    assertCorrupt(m)
        .hasMessageContaining("weight 'b'")
        .hasMessageContaining("12..20")
        .hasMessageContaining("19 bytes")
        .hasMessageContaining("truncated");
  }

  @Test
  void extraBytesInTheShardsAreRefused() throws IOException {
    Path m = written(1024);
    Files.write(
        dir.resolve("group1-shard1of1.bin"),
        new byte[] {0},
        java.nio.file.StandardOpenOption.APPEND);
    assertCorrupt(m).hasMessageContaining("take 20 bytes").hasMessageContaining("hold 21");
  }

  @Test
  void missingShardNamesTheExpectedPath() throws IOException {
    Path m = written(8);
    Files.delete(dir.resolve("group1-shard2of3.bin"));
    assertCorrupt(m)
        .hasMessageContaining("group1-shard2of3.bin")
        .hasMessageContaining(dir.toAbsolutePath().resolve("group1-shard2of3.bin").toString())
        .hasMessageContaining("missing");
  }

  @Test
  void badJsonSaysWhere() throws IOException {
    Path m = dir.resolve("model.json");
    Files.writeString(m, "{\"format\": \"graph-model\",\n \"weightsManifest\": [}");
    assertCorrupt(m).hasMessageContaining("not valid JSON").hasMessageContaining("line 2");
    Files.writeString(m, "");
    assertCorrupt(m).hasMessageContaining("empty");
    Files.writeString(m, "[[1,1,1,1]]");
    assertCorrupt(m).hasMessageContaining("weightsManifest[0]");
    Files.writeString(m, "\"hello\"");
    assertCorrupt(m).hasMessageContaining("neither");
    Files.writeString(m, "{\"format\":\"graph-model\"}");
    assertCorrupt(m).hasMessageContaining("neither 'modelTopology' nor 'weightsManifest'");
    Files.writeString(m, "{\"modelTopology\":{},\"weightsManifest\":{}}");
    assertCorrupt(m).hasMessageContaining("not an array");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"../outside.bin", "sub/../../outside.bin", "/etc/passwd", ".", "..", "./"})
  void pathsMayNotLeaveTheModelFolder(String path) throws IOException {
    Files.createDirectories(dir.resolve("sub"));
    Files.write(dir.resolve("outside.bin"), new byte[4]);
    Path inner = Files.createDirectories(dir.resolve("model"));
    Path m = inner.resolve("model.json");
    Files.writeString(
        m,
        "{\"modelTopology\":{},\"weightsManifest\":[{\"paths\":[\""
            + path
            + "\"],"
            + "\"weights\":[{\"name\":\"w\",\"shape\":[1],\"dtype\":\"float32\"}]}]}");
    assertCorrupt(m).hasMessageContaining("outside the model folder");
  }

  @Test
  void urlsAreNotFetched() throws IOException {
    Path m = model("[{\"paths\":[\"https://example.com/w.bin\"],\"weights\":[]}]");
    assertCorrupt(m).hasMessageContaining("URL");
  }

  @Test
  void pathsInsideTheFolderAreFine() throws IOException {
    Files.createDirectories(dir.resolve("sub"));
    Files.write(dir.resolve("sub/w.bin"), new byte[4]);
    Path m =
        model(
            "[{\"paths\":[\"./sub/../sub/w.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[],\"dtype\":\"int32\"}]}]");
    assertThat(TfjsReader.read(m).weightsByName().get("w").toFloatArray()).containsExactly(0f);
  }

  @Test
  void stringLengthBeyondTheBufferIsRefusedWithoutAllocating() throws IOException {
    ByteBuffer b =
        ByteBuffer.allocate(7)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putInt(Integer.MAX_VALUE)
            .put(new byte[3]);
    Files.write(dir.resolve("s.bin"), b.array());
    Path m =
        model(
            "[{\"paths\":[\"s.bin\"],\"weights\":[{\"name\":\"s\",\"shape\":[1],\"dtype\":\"string\"}]}]");
    assertCorrupt(m)
        .hasMessageContaining("weight 's'")
        .hasMessageContaining("claims 2147483647 bytes")
        .hasMessageContaining("byte 0 of s.bin");
  }

  @Test
  void unsignedStringLengthIsNotTakenAsNegative() throws IOException {
    Files.write(
        dir.resolve("s.bin"), new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1});
    Path m =
        model(
            "[{\"paths\":[\"s.bin\"],\"weights\":[{\"name\":\"s\",\"shape\":[1],\"dtype\":\"string\"}]}]");
    assertCorrupt(m).hasMessageContaining("claims 4294967295 bytes");
  }

  @Test
  void truncatedStringPrefixIsRefused() throws IOException {
    Files.write(dir.resolve("s.bin"), new byte[] {1, 0, 0, 0, 'a', 2, 0});
    Path m =
        model(
            "[{\"paths\":[\"s.bin\"],\"weights\":[{\"name\":\"s\",\"shape\":[2],\"dtype\":\"string\"}]}]");
    assertCorrupt(m)
        .hasMessageContaining("string element 1")
        .hasMessageContaining("byte 5 of s.bin");
  }

  @Test
  void hugeStringElementCountStopsAtTheEndOfTheData() throws IOException {
    Files.write(dir.resolve("s.bin"), new byte[8]);
    Path m =
        model(
            "[{\"paths\":[\"s.bin\"],\"weights\":[{\"name\":\"s\",\"shape\":[1000000000000],\"dtype\":\"string\"}]}]");
    assertCorrupt(m).hasMessageContaining("string element 2");
  }

  @Test
  void hugeShapesAreRefusedBeforeAllocating() throws IOException {
    Files.write(dir.resolve("w.bin"), new byte[8]);
    Path m =
        model(
            "[{\"paths\":[\"w.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[4611686018427387904],\"dtype\":\"float32\"}]}]");
    assertCorrupt(m).hasMessageContaining("weight 'w'");
  }

  @Test
  void badEntriesNameTheirPositionInTheManifest() throws IOException {
    Path m =
        model(
            "[{\"paths\":[],\"weights\":[{\"name\":\"w\",\"shape\":[1],\"dtype\":\"float99\"}]}]");
    assertCorrupt(m)
        .hasMessageContaining("weightsManifest[0].weights[0]")
        .hasMessageContaining("float99");
    m = model("[{\"paths\":[3],\"weights\":[]}]");
    assertCorrupt(m).hasMessageContaining("paths[0]");
    m = model("[{\"weights\":[]}]");
    assertCorrupt(m).hasMessageContaining("'paths' and 'weights'");
  }

  @Test
  void quantizationThatCannotBeDequantizedIsRefused() throws IOException {
    Files.write(dir.resolve("w.bin"), new byte[2]);
    Path m =
        model(
            "[{\"paths\":[\"w.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[2],\"dtype\":\"float32\","
                + "\"quantization\":{\"dtype\":\"uint8\",\"scale\":1}}]}]");
    assertCorrupt(m).hasMessageContaining("'min' and 'scale'");
    m =
        model(
            "[{\"paths\":[\"w.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[1],\"dtype\":\"int32\","
                + "\"quantization\":{\"dtype\":\"float16\"}}]}]");
    assertCorrupt(m).hasMessageContaining("int32 weight cannot be stored as float16");
    m =
        model(
            "[{\"paths\":[\"w.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[2],\"dtype\":\"string\","
                + "\"quantization\":{\"dtype\":\"uint8\",\"min\":0,\"scale\":1}}]}]");
    assertCorrupt(m).hasMessageContaining("string weight");
  }

  @Test
  void missingFileAndFolderAreUsageErrors() {
    assertThatThrownBy(() -> TfjsReader.read(dir.resolve("nope.json")))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("nope.json");
    assertThatThrownBy(() -> TfjsReader.read(dir))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("folder");
  }

  @Test
  void unknownWeightNameListsTheKnownOnes() throws IOException {
    Path m = written(1024);
    assertThatThrownBy(() -> TfjsReader.open(m).read("c"))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("'c'")
        .hasMessageContaining("a, b");
  }

  @Test
  void modelWithoutWeightsManifestButWithTopologyHasNoWeights() throws IOException {
    Path m = dir.resolve("model.json");
    Files.writeString(m, "{\"modelTopology\":{\"class_name\":\"Sequential\"}}");
    TfjsModel model = TfjsReader.read(m);
    assertThat(model.groups()).isEmpty();
    assertThat(model.modelJson().modelTopology()).isNotNull();
  }

  @Test
  void unquantizedUint8IsReadAsIs() throws IOException {
    Files.write(dir.resolve("w.bin"), new byte[] {7, (byte) 200});
    Path m =
        model(
            "[{\"paths\":[\"w.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[2],\"dtype\":\"uint8\"}]}]");
    Tensor t = TfjsReader.read(m).weightsByName().get("w");
    assertThat(t.dtype()).isEqualTo(DType.UINT8);
    assertThat(t.toFloatArray()).containsExactly(7f, 200f);
  }
}
