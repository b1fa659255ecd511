package org.tfport.formats.tfjs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Json;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.OutputException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import tools.jackson.databind.JsonNode;

class TfjsWriterTest {
  @TempDir Path dir;

  static final TfjsModelJson GRAPH =
      TfjsModelJson.graph("2.15.0", "tfport", Json.MAPPER.createObjectNode(), null);

  static Tensor raw(DType t, Shape s, byte... bytes) {
    return new Tensor(t, s, ByteBuffer.wrap(bytes));
  }

  static Tensor floats(float... v) {
    return Tensor.ofFloats(Shape.of(v.length), v);
  }

  static Tensor ints(int... v) {
    return Tensor.ofInts(Shape.of(v.length), v);
  }

  WriteSummary write(List<List<WeightEntry>> groups, long shard, QuantizationMap q) {
    return TfjsWriter.write(dir, GRAPH, groups, new WriteOptions(shard, q), null);
  }

  byte[] group(int g) throws IOException {
    JsonNode manifest = Json.MAPPER.readTree(dir.resolve("model.json")).get("weightsManifest");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (JsonNode p : manifest.get(g - 1).get("paths")) {
      out.write(Files.readAllBytes(dir.resolve(p.stringValue())));
    }
    return out.toByteArray();
  }

  static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  @Test
  void everyDtypeIsEncodedLittleEndianInCOrder() throws IOException {
    ByteBuffer c =
        ByteBuffer.allocate(16)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putFloat(1f)
            .putFloat(-1f)
            .putFloat(0.5f)
            .putFloat(2f)
            .flip();
    List<WeightEntry> ws =
        List.of(
            WeightEntry.of("f32", Tensor.ofFloats(Shape.of(2), 1.5f, -2f)),
            WeightEntry.of("i32", ints(1, -1)),
            WeightEntry.of("bool", raw(DType.BOOL, Shape.of(3), (byte) 1, (byte) 0, (byte) 1)),
            WeightEntry.of("str", Tensor.ofStrings(Shape.of(3), List.of("a", "", "héllo"))),
            WeightEntry.of("str0", Tensor.ofStrings(Shape.of(0, 2), List.of())),
            WeightEntry.of("cplx", new Tensor(DType.COMPLEX64, Shape.of(2), c)),
            WeightEntry.of("u8", raw(DType.UINT8, Shape.of(2), (byte) 0, (byte) 255)),
            WeightEntry.of(
                "u16",
                raw(DType.UINT16, Shape.of(2), (byte) 1, (byte) 0, (byte) 0xff, (byte) 0xff)),
            WeightEntry.of("scalar", Tensor.ofInts(Shape.SCALAR, 7)));
    WriteSummary s = write(List.of(ws), WriteOptions.DEFAULT_SHARD_SIZE, null);
    String expected =
        "0000c03f"
            + "000000c0" // float32 1.5, -2
            + "01000000"
            + "ffffffff" // int32 1, -1
            + "010001" // bool
            + "0100000061"
            + "00000000"
            + "0600000068c3a96c6c6f" // "a", "", "héllo"
            // the zero-element string tensor takes no bytes at all
            + "0000803f000080bf0000003f00000040" // complex64 interleaved re, im
            + "00ff"
            + "0100ffff" // uint8, uint16
            + "07000000"; // int32 scalar
    assertThat(hex(group(1))).isEqualTo(expected);
    assertThat(s.weightCount()).isEqualTo(9);
    assertThat(s.groups().get(0).paths()).containsExactly("group1-shard1of1.bin");
    assertThat(s.groups().get(0).weights())
        .extracting(WeightSpec::dtype)
        .containsExactly(
            DType.FLOAT32,
            DType.INT32,
            DType.BOOL,
            DType.STRING,
            DType.STRING,
            DType.COMPLEX64,
            DType.UINT8,
            DType.UINT16,
            DType.INT32);
    assertThat(s.notices()).isEmpty();

    TfjsModel back = TfjsReader.read(dir.resolve("model.json"));
    var byName = back.weightsByName();
    for (WeightEntry e : ws) {
      Tensor want = e.data().get();
      Tensor got = byName.get(e.name());
      assertThat(got.dtype()).as(e.name()).isEqualTo(want.dtype());
      assertThat(got.shape()).as(e.name()).isEqualTo(want.shape());
      assertThat(got.bytes()).as(e.name()).isEqualTo(want.bytes());
    }
    assertThat(byName.get("str").toByteStrings())
        .extracting(b -> new String(b, StandardCharsets.UTF_8))
        .containsExactly("a", "", "héllo");
  }

  @Test
  void shardsAreExactlyTheShardSizeAndWeightsStraddleThem() throws IOException {
    List<WeightEntry> ws =
        List.of(WeightEntry.of("a", floats(1, 2, 3, 4, 5)), WeightEntry.of("b", ints(6, 7, 8)));
    WriteSummary s = write(List.of(ws), 7, null);
    List<String> names = s.groups().get(0).paths();
    assertThat(names)
        .containsExactly(
            "group1-shard1of5.bin",
            "group1-shard2of5.bin",
            "group1-shard3of5.bin",
            "group1-shard4of5.bin",
            "group1-shard5of5.bin");
    List<Long> sizes = new ArrayList<>();
    for (String n : names) {
      sizes.add(Files.size(dir.resolve(n)));
    }
    assertThat(sizes).containsExactly(7L, 7L, 7L, 7L, 4L);
    ByteBuffer want = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : new float[] {1, 2, 3, 4, 5}) {
      want.putFloat(f);
    }
    want.putInt(6).putInt(7).putInt(8);
    assertThat(group(1)).isEqualTo(want.array());
    assertThat(s.groups().get(0).bytes()).isEqualTo(32);
    assertThat(s.files()).hasSize(6).last().isEqualTo(dir.resolve("model.json"));
    assertThat(s.totalBytes()).isEqualTo(32 + Files.size(dir.resolve("model.json")));

    TfjsModel back = TfjsReader.read(dir.resolve("model.json"));
    assertThat(back.weightsByName().get("a").toFloatArray()).containsExactly(1, 2, 3, 4, 5);
    assertThat(back.weightsByName().get("b").toFloatArray()).containsExactly(6, 7, 8);
  }

  @Test
  void exactMultipleOfTheShardSizeLeavesNoEmptyShard() throws IOException {
    WriteSummary s =
        write(List.of(List.of(WeightEntry.of("a", floats(1, 2, 3, 4, 5, 6, 7, 8)))), 16, null);
    assertThat(s.groups().get(0).paths())
        .containsExactly("group1-shard1of2.bin", "group1-shard2of2.bin");
    assertThat(Files.size(dir.resolve("group1-shard2of2.bin"))).isEqualTo(16);
  }

  @Test
  void groupsAreNumberedAndAZeroByteGroupHasNoFiles() throws IOException {
    List<List<WeightEntry>> groups =
        List.of(
            List.of(WeightEntry.of("a", floats(1, 2))),
            List.of(WeightEntry.of("empty", Tensor.ofFloats(Shape.of(0, 3)))),
            List.of(),
            List.of(WeightEntry.of("c", ints(3))));
    WriteSummary s = write(groups, 1024, null);
    JsonNode manifest = Json.MAPPER.readTree(dir.resolve("model.json")).get("weightsManifest");
    assertThat(manifest.get(0).get("paths").toString()).isEqualTo("[\"group1-shard1of1.bin\"]");
    assertThat(manifest.get(1).get("paths").toString()).isEqualTo("[]");
    assertThat(manifest.get(1).get("weights").get(0).get("shape").toString()).isEqualTo("[0,3]");
    assertThat(manifest.get(2).toString()).isEqualTo("{\"paths\":[],\"weights\":[]}");
    assertThat(manifest.get(3).get("paths").toString()).isEqualTo("[\"group4-shard1of1.bin\"]");
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
          .containsExactly("group1-shard1of1.bin", "group4-shard1of1.bin", "model.json");
    }
    assertThat(s.groups()).extracting(WriteSummary.Group::bytes).containsExactly(8L, 0L, 0L, 4L);
    TfjsModel back = TfjsReader.read(dir.resolve("model.json"));
    assertThat(back.groups()).hasSize(4);
    assertThat(back.weightsByName().get("empty").shape()).isEqualTo(Shape.of(0, 3));
  }

  @Test
  void manifestEntriesHaveTheConvertersKeyOrder() throws IOException {
    WeightEntry opt =
        new WeightEntry(
            "opt/iter",
            DType.INT32,
            Shape.SCALAR,
            () -> Tensor.ofInts(Shape.SCALAR, 3),
            "optimizer");
    write(
        List.of(List.of(WeightEntry.of("k", floats(-1, 0, 1)), opt)),
        1024,
        QuantizationMap.all(DType.UINT8));
    String json = Files.readString(dir.resolve("model.json"));
    // Range -1..1: zero point rint(127.5) = 128 (half to even), so min is nudged to -128 * 2/255.
    assertThat(json)
        .startsWith(
            "{\"format\":\"graph-model\",\"generatedBy\":\"2.15.0\",\"convertedBy\":\"tfport\","
                + "\"modelTopology\":{},\"weightsManifest\":[{\"paths\":[\"group1-shard1of1.bin\"],\"weights\":[");
    assertThat(json)
        .contains(
            "{\"name\":\"k\",\"shape\":[3],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\","
                + "\"min\":-1.003921568627451,\"scale\":0.00784313725490196,\"original_dtype\":\"float32\"}}");
    assertThat(json)
        .contains(
            "{\"name\":\"opt/iter\",\"shape\":[],\"dtype\":\"int32\",\"group\":\"optimizer\"}");
  }

  @Test
  void unsupportedDtypesAreConvertedWithANotice() throws IOException {
    ByteBuffer f64 =
        ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-3).flip();
    ByteBuffer i64 =
        ByteBuffer.allocate(16)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putLong(5)
            .putLong(1L << 40 | 9)
            .flip();
    ByteBuffer f16 =
        ByteBuffer.allocate(4)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putShort(Float.floatToFloat16(1.5f))
            .putShort(Float.floatToFloat16(-0.25f))
            .flip();
    ByteBuffer bf16 =
        ByteBuffer.allocate(2)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putShort((short) (Float.floatToIntBits(2.5f) >>> 16))
            .flip();
    WriteSummary s =
        write(
            List.of(
                List.of(
                    WeightEntry.of("d", new Tensor(DType.FLOAT64, Shape.of(2), f64)),
                    WeightEntry.of("l", new Tensor(DType.INT64, Shape.of(2), i64)),
                    WeightEntry.of("h", new Tensor(DType.FLOAT16, Shape.of(2), f16)),
                    WeightEntry.of("b", new Tensor(DType.BFLOAT16, Shape.of(1), bf16)))),
            1024,
            null);
    assertThat(s.notices()).hasSize(5);
    assertThat(s.notices().get(0)).contains("'d'").contains("float64").contains("float32");
    assertThat(s.notices().get(1)).contains("'l'").contains("int64").contains("int32");
    assertThat(s.notices()).anyMatch(n -> n.contains("'l'") && n.contains("wrapped"));
    TfjsModel back = TfjsReader.read(dir.resolve("model.json"));
    var w = back.weightsByName();
    assertThat(w.get("d").dtype()).isEqualTo(DType.FLOAT32);
    assertThat(w.get("d").toFloatArray()).containsExactly(0.1f, -3f);
    assertThat(w.get("l").dtype()).isEqualTo(DType.INT32);
    assertThat(w.get("l").toFloatArray()).containsExactly(5f, 9f);
    assertThat(w.get("h").toFloatArray()).containsExactly(1.5f, -0.25f);
    assertThat(w.get("b").toFloatArray()).containsExactly(2.5f);
  }

  @Test
  void float64WeightsAreQuantizedAfterConversionButInt32NeverIs() throws IOException {
    ByteBuffer f64 =
        ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(1).putDouble(2).flip();
    WriteSummary s =
        write(
            List.of(
                List.of(
                    WeightEntry.of("d", new Tensor(DType.FLOAT64, Shape.of(2), f64)),
                    WeightEntry.of("i", ints(1, 2, 3)),
                    WeightEntry.of("b", raw(DType.BOOL, Shape.of(1), (byte) 1)))),
            1024,
            QuantizationMap.all(DType.FLOAT16));
    List<WeightSpec> specs = s.groups().get(0).weights();
    assertThat(specs.get(0).quantization()).isEqualTo(Quantization.float16());
    assertThat(specs.get(1).quantization()).isNull();
    assertThat(specs.get(2).quantization()).isNull();
    assertThat(s.groups().get(0).bytes()).isEqualTo(4 + 12 + 1);
  }

  @Test
  void duplicateNamesAreRefusedBeforeAnythingIsWritten() throws IOException {
    assertThatThrownBy(
            () ->
                write(
                    List.of(
                        List.of(WeightEntry.of("w", floats(1))),
                        List.of(WeightEntry.of("w", floats(2)))),
                    1024,
                    null))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("duplicate weight name 'w'")
        .hasMessageContaining("group 1 and group 2");
    assertThatThrownBy(
            () ->
                write(
                    List.of(List.of(WeightEntry.of("x", floats(1)), WeightEntry.of("x", ints(1)))),
                    1024,
                    null))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("'x'");
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void dtypesTfjsCannotStoreAreRefused() {
    assertThatThrownBy(
            () ->
                write(
                    List.of(List.of(WeightEntry.of("q", raw(DType.INT8, Shape.of(1), (byte) 1)))),
                    1024,
                    null))
        .isInstanceOf(UnsupportedModelException.class)
        .hasMessageContaining("'q'")
        .hasMessageContaining("int8");
  }

  @Test
  void quantizationConflictsSurfaceAsUsageErrors() {
    QuantizationMap q = QuantizationMap.fromFlags("*kernel", "conv*", null, null);
    assertThatThrownBy(
            () -> write(List.of(List.of(WeightEntry.of("conv/kernel", floats(1)))), 1024, q))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("conv/kernel");
  }

  @Test
  void shardSizeMustBePositive() {
    assertThatThrownBy(() -> new WriteOptions(0, null)).isInstanceOf(UsageException.class);
    assertThatThrownBy(() -> new WriteOptions(-4, null))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("-4");
    assertThat(WriteOptions.defaults().shardSizeBytes()).isEqualTo(4194304);
  }

  @Test
  void absurdlySmallShardsAreRefused() {
    assertThatThrownBy(
            () ->
                write(
                    List.of(
                        List.of(
                            WeightEntry.of(
                                "w", Tensor.ofFloats(Shape.of(100_000), new float[100_000])))),
                    1,
                    null))
        .isInstanceOf(UsageException.class)
        .hasMessageContaining("400000 files");
  }

  @Test
  void missingOutputFolderIsAnOutputError() {
    assertThatThrownBy(
            () ->
                TfjsWriter.write(
                    dir.resolve("nope"), GRAPH, List.of(), WriteOptions.defaults(), null))
        .isInstanceOf(OutputException.class)
        .hasMessageContaining("nope");
  }

  @Test
  void weightsAreFetchedOneAtATimeStringsTwice() {
    AtomicInteger live = new AtomicInteger();
    AtomicInteger maxLive = new AtomicInteger();
    AtomicInteger stringCalls = new AtomicInteger();
    List<WeightEntry> ws = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      ws.add(
          new WeightEntry(
              "w" + i,
              DType.FLOAT32,
              Shape.of(1000),
              () -> {
                // The writer never asks for the next weight before it is done with this one.
                maxLive.accumulateAndGet(live.incrementAndGet(), Math::max);
                live.decrementAndGet();
                return Tensor.ofFloats(Shape.of(1000), new float[1000]);
              },
              null));
    }
    ws.add(
        new WeightEntry(
            "s",
            DType.STRING,
            Shape.of(1),
            () -> {
              stringCalls.incrementAndGet();
              return Tensor.ofStrings(Shape.of(1), List.of("xyz"));
            },
            null));
    AtomicLong lastDone = new AtomicLong();
    AtomicLong lastTotal = new AtomicLong();
    TfjsWriter.write(
        dir,
        GRAPH,
        List.of(ws),
        new WriteOptions(3000, null),
        (stage, done, total) -> {
          lastDone.set(done);
          lastTotal.set(total);
        });
    assertThat(maxLive.get()).isEqualTo(1);
    assertThat(stringCalls.get()).isEqualTo(2);
    assertThat(lastDone.get()).isEqualTo(20 * 4000 + 7).isEqualTo(lastTotal.get());
  }

  @Test
  void aSupplierThatLiesAboutItsTensorIsCaught() {
    WeightEntry e = new WeightEntry("w", DType.FLOAT32, Shape.of(2), () -> ints(1, 2), null);
    assertThatThrownBy(() -> write(List.of(List.of(e)), 1024, null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("'w'");
  }
}
