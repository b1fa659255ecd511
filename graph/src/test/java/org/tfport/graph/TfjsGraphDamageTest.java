package org.tfport.graph;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tfport.core.TfportException.CorruptModelException;

/**
 * Damaged attribute values in a TF.js graph model.json (found by the tfjsGraph fuzz target): each
 * is refused naming the file and the node or function, instead of escaping as a Java parse error.
 */
class TfjsGraphDamageTest {
  private static final String PLACEHOLDER =
      "{\"name\": \"x\", \"op\": \"Placeholder\", \"attr\": {\"dtype\": {\"type\": \"DT_FLOAT\"},"
          + " \"shape\": {\"shape\": {\"dim\": [{\"size\": \"SIZE\"}, {\"size\": \"2\"}]}}}}";

  private static Path model(Path dir, String nodes, String library) throws Exception {
    String json =
        "{\"format\": \"graph-model\", \"modelTopology\": {\"node\": ["
            + nodes
            + "], \"library\": "
            + library
            + ", \"versions\": {\"producer\": 1482}}, \"weightsManifest\": []}";
    return Files.writeString(dir.resolve("model.json"), json);
  }

  @Test
  void shapeSizeThatIsNotANumberNamesTheNode(@TempDir Path dir) throws Exception {
    Path json = model(dir, PLACEHOLDER.replace("SIZE", ")1"), "{}");
    assertThatThrownBy(() -> TfjsGraphReader.read(json))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining(json.toString())
        .hasMessageContaining("node 'x' has a malformed attribute value")
        .hasMessageContaining(")1");
  }

  @Test
  void stringAttributeThatIsNotBase64NamesTheNode(@TempDir Path dir) throws Exception {
    String node =
        PLACEHOLDER
            .replace("SIZE", "-1")
            .replace("\"dtype\": {\"type\"", "\"padding\": {\"s\": \"%%\"}, \"dtype\": {\"type\"");
    Path json = model(dir, node, "{}");
    assertThatThrownBy(() -> TfjsGraphReader.read(json))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("node 'x' has a malformed attribute value");
  }

  @Test
  void argAttrKeyThatIsNotANumberNamesTheFunction(@TempDir Path dir) throws Exception {
    String library =
        "{\"function\": [{\"signature\": {\"name\": \"f\", \"inputArg\": [{\"name\": \"a\","
            + " \"type\": \"DT_FLOAT\"}], \"outputArg\": [{\"name\": \"b\", \"type\":"
            + " \"DT_FLOAT\"}]}, \"ret\": {\"b\": \"a\"}, \"argAttr\": {\"one\": {\"attr\": {}}}}]}";
    Path json = model(dir, PLACEHOLDER.replace("SIZE", "-1"), library);
    assertThatThrownBy(() -> TfjsGraphReader.read(json))
        .isInstanceOf(CorruptModelException.class)
        .hasMessageContaining("function 'f' has argAttr 'one', not an argument number");
  }
}
