package org.tfport.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * A small CNN written as a TF.js graph model: x float32[-1, 8, 8, 1] → Conv2D 3×3×4 (SAME) → Relu →
 * MaxPool 2×2 → Reshape [-1, 64] → MatMul 64×10 → BiasAdd → Softmax, with seeded weights.
 */
final class SmallCnn {
  private SmallCnn() {}

  static final int SIDE = 8;

  /** Writes model.json and its shard into {@code dir}; returns model.json. */
  static Path write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Random rnd = new Random(17);
    ByteBuffer w = ByteBuffer.allocate((36 + 640 + 10) * 4 + 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 36; i++) {
      w.putFloat(rnd.nextFloat() - 0.5f);
    }
    w.putInt(-1).putInt(64);
    for (int i = 0; i < 640; i++) {
      w.putFloat((rnd.nextFloat() - 0.5f) * 0.5f);
    }
    for (int i = 0; i < 10; i++) {
      w.putFloat(rnd.nextFloat() * 0.1f);
    }
    Files.write(dir.resolve("group1-shard1of1.bin"), w.array());
    String f = "{\"type\":\"DT_FLOAT\"}";
    String same = "\"U0FNRQ==\"";
    String valid = "\"VkFMSUQ=\"";
    String nhwc = "\"TkhXQw==\"";
    String json =
        "{\"format\":\"graph-model\",\"generatedBy\":\"tfport test\",\"convertedBy\":null,"
            + "\"modelTopology\":{\"node\":["
            + "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":"
            + f
            + ",\"shape\":{\"shape\":{\"dim\":[{\"size\":\"-1\"},{\"size\":\"8\"},{\"size\":\"8\"},{\"size\":\"1\"}]}}}},"
            + constNode("k", "DT_FLOAT", 3, 3, 1, 4)
            + ",{\"name\":\"conv\",\"op\":\"Conv2D\",\"input\":[\"x\",\"k\"],\"attr\":{\"T\":"
            + f
            + ",\"strides\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},\"padding\":{\"s\":"
            + same
            + "},\"data_format\":{\"s\":"
            + nhwc
            + "},\"dilations\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}}}},"
            + "{\"name\":\"relu\",\"op\":\"Relu\",\"input\":[\"conv\"],\"attr\":{\"T\":"
            + f
            + "}},"
            + "{\"name\":\"pool\",\"op\":\"MaxPool\",\"input\":[\"relu\"],\"attr\":{\"T\":"
            + f
            + ",\"ksize\":{\"list\":{\"i\":[\"1\",\"2\",\"2\",\"1\"]}},\"strides\":{\"list\":{\"i\":[\"1\",\"2\",\"2\",\"1\"]}},"
            + "\"padding\":{\"s\":"
            + valid
            + "},\"data_format\":{\"s\":"
            + nhwc
            + "}}},"
            + constNode("flat_shape", "DT_INT32", 2)
            + ",{\"name\":\"flat\",\"op\":\"Reshape\",\"input\":[\"pool\",\"flat_shape\"],\"attr\":{\"T\":"
            + f
            + ",\"Tshape\":{\"type\":\"DT_INT32\"}}},"
            + constNode("w", "DT_FLOAT", 64, 10)
            + ","
            + constNode("b", "DT_FLOAT", 10)
            + ",{\"name\":\"mm\",\"op\":\"MatMul\",\"input\":[\"flat\",\"w\"],\"attr\":{\"T\":"
            + f
            + ",\"transpose_a\":{\"b\":false},\"transpose_b\":{\"b\":false}}},"
            + "{\"name\":\"logits\",\"op\":\"BiasAdd\",\"input\":[\"mm\",\"b\"],\"attr\":{\"T\":"
            + f
            + ",\"data_format\":{\"s\":"
            + nhwc
            + "}}},"
            + "{\"name\":\"probs\",\"op\":\"Softmax\",\"input\":[\"logits\"],\"attr\":{\"T\":"
            + f
            + "}}"
            + "],\"library\":{},\"versions\":{\"producer\":1}},"
            + "\"weightsManifest\":[{\"paths\":[\"group1-shard1of1.bin\"],\"weights\":["
            + "{\"name\":\"k\",\"shape\":[3,3,1,4],\"dtype\":\"float32\"},"
            + "{\"name\":\"flat_shape\",\"shape\":[2],\"dtype\":\"int32\"},"
            + "{\"name\":\"w\",\"shape\":[64,10],\"dtype\":\"float32\"},"
            + "{\"name\":\"b\",\"shape\":[10],\"dtype\":\"float32\"}]}]}";
    Path p = dir.resolve("model.json");
    Files.writeString(p, json, StandardCharsets.UTF_8);
    return p;
  }

  private static String constNode(String name, String dtype, int... dims) {
    StringBuilder d = new StringBuilder();
    for (int i = 0; i < dims.length; i++) {
      d.append(i > 0 ? "," : "").append("{\"size\":\"").append(dims[i]).append("\"}");
    }
    return "{\"name\":\""
        + name
        + "\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\""
        + dtype
        + "\"},\"value\":{\"tensor\":{\"dtype\":\""
        + dtype
        + "\",\"tensorShape\":{\"dim\":["
        + d
        + "]}}}}}";
  }

  /** One instance ({@code [8, 8, 1]}) of seeded values, as JSON. */
  static String instance(Random rnd) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < SIDE; i++) {
      b.append(i > 0 ? ", " : "").append('[');
      for (int j = 0; j < SIDE; j++) {
        b.append(j > 0 ? ", " : "")
            .append('[')
            .append(Float.toString(rnd.nextFloat() * 2 - 1))
            .append(']');
      }
      b.append(']');
    }
    return b.append(']').toString();
  }
}
