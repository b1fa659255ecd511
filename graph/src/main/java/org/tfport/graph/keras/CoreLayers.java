package org.tfport.graph.keras;

import java.util.List;
import java.util.Map;
import org.tfport.core.graph.DataTypes;

/** Dense, embeddings, the identity-at-inference layers and the reshaping layers. */
final class CoreLayers {
  private CoreLayers() {}

  static void register(Map<String, LayerBuilder> r) {
    r.put("Dense", (LayerBuilder.Single) CoreLayers::dense);
    for (String id :
        List.of(
            "Dropout",
            "SpatialDropout1D",
            "SpatialDropout2D",
            "SpatialDropout3D",
            "GaussianNoise",
            "GaussianDropout",
            "AlphaDropout",
            "ActivityRegularization")) {
      r.put(id, (LayerBuilder.Single) (c, x) -> x);
    }
    r.put("Flatten", (LayerBuilder.Single) CoreLayers::flatten);
    r.put("Reshape", (LayerBuilder.Single) CoreLayers::reshape);
    r.put(
        "Permute",
        (LayerBuilder.Single)
            (c, x) -> {
              long[] dims = c.intList("dims");
              long[] perm = new long[dims.length + 1];
              long[] shape = new long[dims.length + 1];
              shape[0] = x.dim(0);
              for (int i = 0; i < dims.length; i++) {
                perm[i + 1] = dims[i];
                shape[i + 1] = x.dim((int) dims[i]);
              }
              return x.with(c.e.transpose(x.ref(), perm), shape);
            });
    r.put(
        "RepeatVector",
        (LayerBuilder.Single)
            (c, x) -> {
              int n = c.integer("n", 1);
              String ex = c.e.expandDims(x.ref(), 1);
              return x.with(c.e.tile(ex, 1, n, 1), new long[] {x.dim(0), n, x.dim(1)});
            });
    r.put("Embedding", (LayerBuilder.Single) CoreLayers::embedding);
    r.put(
        "Rescaling",
        (LayerBuilder.Single)
            (c, x) -> {
              Emit e = c.e;
              String scaled = e.binary("Mul", x.ref(), e.scalar((float) c.number("scale", 1)));
              return x.with(
                  e.binary("AddV2", scaled, e.scalar((float) c.number("offset", 0))), x.shape());
            });
    r.put("Masking", (LayerBuilder.Single) CoreLayers::masking);
  }

  /**
   * {@code x·kernel + bias} on the last axis; a higher-rank input is flattened to a matrix first,
   * as Keras' {@code tensordot} does.
   */
  private static KT dense(Call c, KT x) {
    Emit e = c.e;
    int units = c.integer("units", -1);
    String kernel = c.weight("kernel", 0);
    long[] outShape = x.shape();
    outShape[outShape.length - 1] = units;
    String in = x.ref();
    if (x.rank() > 2) {
      in = e.reshape(in, -1, x.dim(-1));
    }
    String y = e.op("MatMul", List.of(in, kernel), "transpose_a", false, "transpose_b", false);
    if (c.bool("use_bias", true)) {
      y = e.op("BiasAdd", List.of(y, c.weight("bias", 1)), "data_format", "NHWC");
    }
    if (x.rank() > 2) {
      y = e.reshapeKeeping(y, x.ref(), outShape);
    }
    return x.with(Activations.function(c, c.cfg.get("activation"), y), outShape);
  }

  private static KT flatten(Call c, KT x) {
    String in = x.ref();
    long[] shape = x.shape();
    if (c.channelsFirst() && x.rank() > 2) {
      long[] perm = new long[x.rank()];
      for (int i = 1; i < x.rank() - 1; i++) {
        perm[i] = i + 1;
      }
      perm[x.rank() - 1] = 1;
      in = c.e.transpose(in, perm);
    }
    long n = 1;
    for (int i = 1; i < shape.length; i++) {
      if (shape[i] < 0) {
        throw c.unsupported(
            "flattens an input of shape "
                + KerasGraphBuilder.shapeText(shape)
                + " whose non-batch dimensions are not all known; give the model's input a full shape");
      }
      n *= shape[i];
    }
    return x.with(c.e.reshape(in, -1, n), new long[] {x.dim(0), n});
  }

  private static KT reshape(Call c, KT x) {
    long[] target = c.intList("target_shape");
    long known = 1;
    int free = -1;
    for (int i = 0; i < target.length; i++) {
      if (target[i] < 0) {
        free = i;
      } else {
        known *= target[i];
      }
    }
    long[] out = new long[target.length + 1];
    out[0] = x.dim(0);
    System.arraycopy(target, 0, out, 1, target.length);
    if (free >= 0) {
      long total = 1;
      for (int i = 1; i < x.rank(); i++) {
        total = x.dim(i) < 0 || total < 0 ? -1 : total * x.dim(i);
      }
      if (total < 0) {
        throw c.unsupported("reshapes an input of unknown size with a -1 in its target shape");
      }
      if (known == 0 || total % known != 0) {
        throw c.corrupt(
            "cannot reshape "
                + KerasGraphBuilder.shapeText(x.shape())
                + " to "
                + KerasGraphBuilder.shapeText(out));
      }
      out[free + 1] = total / known;
    }
    return x.with(c.e.reshapeKeeping(x.ref(), x.ref(), out), out);
  }

  private static KT embedding(Call c, KT x) {
    Emit e = c.e;
    String table = c.weight("embeddings", 0);
    String ids = x.dtype() == KT.INT32 ? x.ref() : e.cast(x.ref(), x.dtype(), KT.INT32);
    long dim = c.integer("output_dim", -1);
    String y =
        e.raw(
            "GatherV2",
            List.of(table, ids, e.intScalar(0)),
            Map.of(
                "Tparams", Emit.type(DataTypes.DT_FLOAT),
                "Tindices", Emit.type(KT.INT32),
                "Taxis", Emit.type(KT.INT32),
                "batch_dims", Emit.attr(0)));
    long[] s = x.shape();
    long[] out = java.util.Arrays.copyOf(s, s.length + 1);
    out[s.length] = dim;
    return KT.f32(y, out);
  }

  /**
   * The value Keras' {@code Masking} computes: steps equal to {@code mask_value} everywhere zeroed.
   */
  private static KT masking(Call c, KT x) {
    Emit e = c.e;
    String ne = e.binary("NotEqual", x.ref(), e.scalar((float) c.number("mask_value", 0)));
    // any() as the max of 0/1 values: TFLite has no builtin for Any.
    String ones = e.cast(ne, KT.BOOL, DataTypes.DT_FLOAT);
    String mask = e.reduce("Max", ones, new long[] {-1}, true);
    return x.with(e.binary("Mul", x.ref(), mask), x.shape());
  }
}
