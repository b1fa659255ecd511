package org.tfport.formats.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.CorruptModelException;

class KerasH5ReaderTest {
  @TempDir Path tmp;

  @Test
  void splitNameAttributesAreJoinedBack() {
    Path f = tmp.resolve("split.h5");
    try (WritableHdfFile h5 = HdfFile.write(f)) {
      h5.putAttribute(
          "model_config", "{\"class_name\": \"Sequential\", \"config\": {\"layers\": []}}");
      h5.putAttribute("keras_version", "2.3.1");
      h5.putAttribute("backend", "tensorflow");
      WritableGroup mw = h5.putGroup("model_weights");
      // Keras writes layer_names0, layer_names1, ... once the list outgrows one object header.
      mw.putAttribute("layer_names0", new String[] {"a", "b"});
      mw.putAttribute("layer_names1", new String[] {"c"});
      for (String layer : List.of("a", "b", "c")) {
        WritableGroup g = mw.putGroup(layer);
        g.putAttribute("weight_names0", new String[] {layer + "/kernel:0"});
        g.putAttribute("weight_names1", new String[] {layer + "/bias:0"});
        WritableGroup inner = g.putGroup(layer);
        inner.putDataset("kernel:0", new float[][] {{1, 2}, {3, 4}});
        inner.putDataset("bias:0", new float[] {5, 6});
      }
    }
    try (KerasModel m = KerasModel.open(f)) {
      assertThat(m.kerasMajor()).isEqualTo(2);
      assertThat(m.layers())
          .extracting(KerasLayerWeights::layerName)
          .containsExactly("a", "b", "c");
      KerasWeight k = m.layers().get(2).weights().get(0);
      assertThat(k.name()).isEqualTo("c/kernel");
      assertThat(k.shape()).isEqualTo(Shape.of(2, 2));
      assertThat(k.data().get().toFloatArray()).containsExactly(1, 2, 3, 4);
      Tensor t = m.layers().get(2).weights().get(1).data().get();
      assertThat(t.toFloatArray()).containsExactly(5, 6);
      assertThat(m.layers().get(0).weights())
          .extracting(KerasWeight::name)
          .containsExactly("a/kernel", "a/bias");
    }
  }

  @Test
  void weightsOnlyFileRoundTripsThroughTheWriter() {
    Path f = tmp.resolve("w.h5");
    Tensor k = Tensor.ofFloats(Shape.of(3, 2), 1, 2, 3, 4, 5, 6);
    KerasH5Writer.write(
        f,
        "2.15.0",
        "tensorflow",
        null,
        null,
        List.of(
            new KerasLayerWeights(
                "dense", List.of(new KerasWeight("dense/kernel", k.dtype(), k.shape(), () -> k))),
            new KerasLayerWeights("flatten", List.of())));
    try (KerasModel m = KerasModel.open(f)) {
      assertThat(m.weightsOnly()).isTrue();
      // Layers without weights get no group (jhdf 0.13 corrupts a parent holding childless groups
      // beside groups with data); Keras matches only layers with weights on load.
      assertThat(m.layers()).extracting(KerasLayerWeights::layerName).containsExactly("dense");
      Tensor back = m.layers().get(0).weights().get(0).data().get();
      assertThat(back.dtype()).isEqualTo(DType.FLOAT32);
      assertThat(back.bytes()).isEqualTo(k.bytes());
    }
  }

  @Test
  void layerListedWithoutGroupIsCorrupt() {
    Path f = tmp.resolve("missing.h5");
    try (WritableHdfFile h5 = HdfFile.write(f)) {
      h5.putAttribute("layer_names", new String[] {"ghost"});
    }
    assertThatThrownBy(() -> KerasModel.open(f))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining(f.toString())
        .hasMessageContaining("'ghost'");
  }
}
