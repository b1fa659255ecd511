package org.tfport.formats.mlir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.flatbuffers.FlatBufferBuilder;
import java.nio.file.Files;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.testkit.Corpus;

/**
 * The jax.export wrapper. The corpus holds the modules JAX serialized, not whole {@code
 * Exported.serialize()} files, so the wrapper is built here with the FlatBuffers library, field by
 * field as JAX's serialization.fbs declares table {@code Exported}, around a corpus module.
 */
class JaxExportTest {
  // AbstractValue fields: kind, shape, dtype; Exported field ids as declared.
  private static int aval(FlatBufferBuilder b, String[] shape, int dtype) {
    int[] dims = new int[shape.length];
    for (int i = 0; i < shape.length; i++) {
      dims[i] = b.createString(shape[i]);
    }
    int shapeVec = b.createVectorOfTables(dims);
    b.startTable(4);
    b.addOffset(1, shapeVec, 0);
    b.addByte(2, (byte) dtype, 0);
    return b.endTable();
  }

  private static byte[] exported(byte[] module, boolean uniqueAvals) {
    FlatBufferBuilder b = new FlatBufferBuilder(1024);
    int name = b.createString("jit_sin");
    int platform = b.createVectorOfTables(new int[] {b.createString("cpu")});
    int moduleVec = b.createByteVector(module);
    int a = aval(b, new String[] {}, 10);
    int avals = b.createVectorOfTables(new int[] {a});
    b.startVector(2, 1, 2);
    b.addShort((short) 0);
    int kept = b.endVector();
    int idx = 0;
    if (uniqueAvals) {
      b.startVector(4, 1, 4);
      b.addInt(0);
      idx = b.endVector();
    }
    int version = b.createString("0.4.30");
    b.startTable(27);
    b.addShort(0, (short) (uniqueAvals ? 10 : 2), 0);
    b.addOffset(1, name, 0);
    if (uniqueAvals) {
      b.addOffset(19, avals, 0);
      b.addOffset(22, idx, 0);
      b.addOffset(23, idx, 0);
      b.addInt(18, 1, 0);
    } else {
      b.addOffset(3, avals, 0);
      b.addOffset(5, avals, 0);
      b.addShort(6, (short) 1, 0);
    }
    b.addOffset(9, platform, 0);
    b.addOffset(13, moduleVec, 0);
    b.addShort(14, (short) 9, 0);
    b.addOffset(15, kept, 0);
    b.addOffset(26, version, 0);
    b.finish(b.endTable());
    return b.sizedByteArray();
  }

  @Test
  void readsTheWrapperAndItsModule() throws Exception {
    byte[] module = Files.readAllBytes(Corpus.require("jax/jax_export_sin_dummy/module.mlirbc"));
    for (boolean unique : new boolean[] {false, true}) {
      byte[] file = exported(module, unique);
      JaxExport e = JaxExport.read(file, "f.jax_exported");
      assertThat(e.serializationVersion()).isEqualTo(unique ? 10 : 2);
      assertThat(e.functionName()).isEqualTo("jit_sin");
      assertThat(e.platforms()).containsExactly("cpu");
      assertThat(e.callingConventionVersion()).isEqualTo(9);
      assertThat(e.inputs()).containsExactly(new JaxExport.Aval(java.util.List.of(), "f32"));
      assertThat(e.outputs()).containsExactly(new JaxExport.Aval(java.util.List.of(), "f32"));
      assertThat(e.moduleKeptVarIdx()).containsExactly(0);
      assertThat(e.nrDevices()).isEqualTo(1);
      assertThat(e.jaxVersion()).isEqualTo("0.4.30");
      assertThat(e.mlirModule()).isEqualTo(module);
      assertThat(MlirBytecode.moduleBytes(file, "f.jax_exported")).isEqualTo(module);
      assertThat(e.module("f.jax_exported").producer()).isEqualTo("MLIRxxx-trunk");
      assertThat(MlirBytecode.toGenericText(file, "f.jax_exported"))
          .isEqualTo(MlirBytecode.toGenericText(module, "m.mlirbc"))
          .contains("%1 = \"stablehlo.sine\"(%arg0) : (tensor<f32>) -> tensor<f32>");
    }
    assertThat(MlirBytecode.moduleBytes(module, "m.mlirbc")).isSameAs(module);
    assertThat(MlirBytecode.isBinaryStableHlo(module)).isTrue();
    assertThat(MlirBytecode.isBinaryStableHlo(exported(module, true))).isTrue();
    assertThat(MlirBytecode.isBinaryStableHlo("module @m {}".getBytes())).isFalse();
  }

  @Test
  void damagedWrappersAreRefusedNamingTheFile() throws Exception {
    byte[] module = Files.readAllBytes(Corpus.require("jax/jax_export_sin_dummy/module.mlirbc"));
    byte[] file = exported(module, false);
    for (int n = 0; n < file.length; n += 7) {
      byte[] cut = Arrays.copyOf(file, n);
      assertThatThrownBy(() -> JaxExport.read(cut, "cut.jax_exported"))
          .isInstanceOf(CorruptModelException.class)
          .hasMessageStartingWith("cut.jax_exported: ");
    }
    byte[] wrongModule = exported("not bytecode".getBytes(), false);
    assertThatThrownBy(() -> JaxExport.read(wrongModule, "w.jax_exported"))
        .hasMessageContaining("mlir_module_serialized is not MLIR bytecode");
  }
}
