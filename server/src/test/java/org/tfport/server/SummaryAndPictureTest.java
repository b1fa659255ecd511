package org.tfport.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.tfport.formats.tfjs.ModelJsonParser;
import org.tfport.testkit.Corpus;
import tools.jackson.databind.node.ObjectNode;

/** Summaries and SVG pictures for every TF.js model in the corpus, loops and all. */
class SummaryAndPictureTest {
  @Test
  void everyCorpusModelIsSummarizedAndDrawn() throws Exception {
    Path root = Corpus.require("tfjs");
    List<Path> files;
    try (Stream<Path> s = Files.walk(root)) {
      files = s.filter(p -> p.getFileName().toString().equals("model.json")).sorted().toList();
    }
    assertThat(files).hasSizeGreaterThan(5);
    for (Path f : files) {
      ModelJsonParser.Parsed json = ModelJsonParser.read(f);
      ObjectNode s = Summary.of(json, Files.size(f), 0, 1);
      Topology t = Topology.of(json.envelope());
      assertThat(t.nodes).as(f.toString()).isNotEmpty();
      if (t.graph) {
        assertThat(s.path("nodeCount").asInt()).isEqualTo(t.nodes.size());
        assertThat(s.path("ops").size()).isPositive();
      } else {
        assertThat(s.path("layerCount").asInt()).isEqualTo(t.nodes.size());
        assertThat(s.path("inputs").size()).as(f + ": " + s).isPositive();
      }
      assertThat(s.path("outputs").size()).as(f + ": " + s).isPositive();
      String svg = GraphSvg.render(t, "t", Set.of());
      assertThat(svg).startsWith("<svg").endsWith("</svg>\n");
      // Well-formed XML, so browsers draw it.
      javax.xml.parsers.DocumentBuilderFactory.newInstance()
          .newDocumentBuilder()
          .parse(
              new java.io.ByteArrayInputStream(
                  svg.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
  }

  @Test
  void graphInputsComeFromTheSignature() throws Exception {
    Path f = Corpus.require("tfjs/graph/tfjs-examples_predictive_prefetching/model.json");
    ObjectNode s = Summary.of(ModelJsonParser.read(f), 1, 2, 1);
    assertThat(s.path("inputs").toString()).contains("cur_page:0", "int64", "[-1]");
    assertThat(s.path("outputs").toString()).contains("Identity:0", "[-1,101]");
    assertThat(s.path("parameters").asLong()).isEqualTo(6764);
  }
}
