package org.tfport.server;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Draws a model's layers or graph nodes as an SVG picture: one box per layer or op, arranged top to
 * bottom by depth from the inputs, with arrows along the data flow. Constants sit just above the
 * node that first uses them, rows wrap after a few boxes, and very large graphs are cut with a
 * note, so the picture stays readable in a browser.
 */
final class GraphSvg {
  static final int MAX_NODES = 1500;
  private static final int W = 190;
  private static final int H = 40;
  private static final int GAP_X = 24;
  private static final int GAP_Y = 34;
  private static final int PER_ROW = 6;
  private static final int MARGIN = 16;

  private GraphSvg() {}

  static String render(Topology t, String title, Set<String> outputs) {
    List<Topology.Node> nodes =
        t.nodes.size() > MAX_NODES ? t.nodes.subList(0, MAX_NODES) : t.nodes;
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      index.putIfAbsent(nodes.get(i).name(), i);
    }
    int[] depth = depths(nodes, index, t.graph);
    int maxDepth = 0;
    for (int d : depth) {
      maxDepth = Math.max(maxDepth, d);
    }
    List<List<Integer>> byDepth = new ArrayList<>();
    for (int d = 0; d <= maxDepth; d++) {
      byDepth.add(new ArrayList<>());
    }
    for (int i = 0; i < nodes.size(); i++) {
      byDepth.get(depth[i]).add(i);
    }
    int[] col = new int[nodes.size()];
    int[] lineOf = new int[nodes.size()];
    int[] lineSize = new int[nodes.size()];
    int line = 0;
    int widest = 1;
    for (List<Integer> row : byDepth) {
      for (int k = 0; k < row.size(); k++) {
        if (k % PER_ROW == 0 && k > 0) {
          line++;
        }
        int i = row.get(k);
        col[i] = k % PER_ROW;
        lineOf[i] = line;
        lineSize[i] = Math.min(PER_ROW, row.size() - (k / PER_ROW) * PER_ROW);
        widest = Math.max(widest, lineSize[i]);
      }
      if (!row.isEmpty()) {
        line++;
      }
    }
    int width = MARGIN * 2 + widest * W + (widest - 1) * GAP_X;
    int[] px = new int[nodes.size()];
    int[] py = new int[nodes.size()];
    for (int i = 0; i < nodes.size(); i++) {
      int lineWidth = lineSize[i] * W + (lineSize[i] - 1) * GAP_X;
      px[i] = (width - lineWidth) / 2 + col[i] * (W + GAP_X);
      py[i] = MARGIN + 28 + lineOf[i] * (H + GAP_Y);
    }
    int height =
        MARGIN * 2 + 28 + Math.max(1, line) * (H + GAP_Y) + (t.nodes.size() > MAX_NODES ? 24 : 0);
    StringBuilder sb = new StringBuilder();
    sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"")
        .append(width)
        .append("\" height=\"")
        .append(height)
        .append("\" viewBox=\"0 0 ")
        .append(width)
        .append(' ')
        .append(height)
        .append("\" font-family=\"system-ui, sans-serif\">\n");
    sb.append(
        "<defs><marker id=\"a\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\""
            + " markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"#8a94a6\"/>"
            + "</marker></defs>\n");
    sb.append("<rect width=\"100%\" height=\"100%\" fill=\"#fbfcfe\"/>\n");
    sb.append("<text x=\"")
        .append(MARGIN)
        .append("\" y=\"")
        .append(MARGIN + 12)
        .append("\" font-size=\"14\" font-weight=\"600\" fill=\"#1f2937\">")
        .append(esc(title))
        .append("</text>\n");
    sb.append("<g stroke=\"#8a94a6\" stroke-width=\"1.2\" fill=\"none\">\n");
    for (int i = 0; i < nodes.size(); i++) {
      for (String in : nodes.get(i).inputs()) {
        Integer j = index.get(in);
        if (j == null) {
          continue;
        }
        int x1 = px[j] + W / 2;
        int y1 = py[j] + H;
        int x2 = px[i] + W / 2;
        int y2 = py[i];
        if (y2 <= y1) {
          // A back edge (a loop in a graph model): route it around the side.
          sb.append("<path stroke-dasharray=\"4 3\" marker-end=\"url(#a)\" d=\"M")
              .append(px[j] + W)
              .append(' ')
              .append(py[j] + H / 2)
              .append(" C")
              .append(px[j] + W + 40)
              .append(' ')
              .append(py[j] + H / 2)
              .append(' ')
              .append(px[i] + W + 40)
              .append(' ')
              .append(py[i] + H / 2)
              .append(' ')
              .append(px[i] + W)
              .append(' ')
              .append(py[i] + H / 2)
              .append("\"/>\n");
        } else {
          int my = (y1 + y2) / 2;
          sb.append("<path marker-end=\"url(#a)\" d=\"M")
              .append(x1)
              .append(' ')
              .append(y1)
              .append(" C")
              .append(x1)
              .append(' ')
              .append(my)
              .append(' ')
              .append(x2)
              .append(' ')
              .append(my)
              .append(' ')
              .append(x2)
              .append(' ')
              .append(y2)
              .append("\"/>\n");
        }
      }
    }
    sb.append("</g>\n");
    for (int i = 0; i < nodes.size(); i++) {
      Topology.Node n = nodes.get(i);
      String fill;
      String stroke;
      String k = n.kind();
      if (k.equals("Const")) {
        fill = "#f1f3f6";
        stroke = "#c3c9d4";
      } else if (k.equals("Placeholder") || k.equals("InputLayer")) {
        fill = "#e3f6e8";
        stroke = "#3aa35b";
      } else if (outputs.contains(n.name())) {
        fill = "#fff1e0";
        stroke = "#e08a1e";
      } else {
        fill = "#e8effd";
        stroke = "#4a76d4";
      }
      sb.append("<g><title>")
          .append(esc(n.name() + " (" + k + ")"))
          .append("</title><rect x=\"")
          .append(px[i])
          .append("\" y=\"")
          .append(py[i])
          .append("\" width=\"")
          .append(W)
          .append("\" height=\"")
          .append(H)
          .append("\" rx=\"6\" fill=\"")
          .append(fill)
          .append("\" stroke=\"")
          .append(stroke)
          .append("\"/>")
          .append("<text x=\"")
          .append(px[i] + W / 2)
          .append("\" y=\"")
          .append(py[i] + 16)
          .append(
              "\" text-anchor=\"middle\" font-size=\"12\" font-weight=\"600\" fill=\"#1f2937\">")
          .append(esc(cut(k, 26)))
          .append("</text><text x=\"")
          .append(px[i] + W / 2)
          .append("\" y=\"")
          .append(py[i] + 31)
          .append("\" text-anchor=\"middle\" font-size=\"10\" fill=\"#4b5563\">")
          .append(esc(tail(n.name(), 30)))
          .append("</text></g>\n");
    }
    if (t.nodes.size() > MAX_NODES) {
      sb.append("<text x=\"")
          .append(MARGIN)
          .append("\" y=\"")
          .append(height - MARGIN)
          .append("\" font-size=\"12\" fill=\"#b45309\">")
          .append(t.nodes.size() - MAX_NODES)
          .append(" more nodes not drawn</text>\n");
    }
    sb.append("</svg>\n");
    return sb.toString();
  }

  /**
   * Longest-path depth from the sources, ignoring edges that close a cycle; then constants (graph
   * nodes without inputs that are not placeholders) move down to just above their first consumer.
   */
  private static int[] depths(
      List<Topology.Node> nodes, Map<String, Integer> index, boolean graph) {
    int n = nodes.size();
    int[] depth = new int[n];
    int[] state = new int[n];
    for (int s = 0; s < n; s++) {
      if (state[s] != 0) {
        continue;
      }
      Deque<int[]> stack = new ArrayDeque<>();
      stack.push(new int[] {s, 0});
      state[s] = 1;
      while (!stack.isEmpty()) {
        int[] top = stack.peek();
        List<String> ins = nodes.get(top[0]).inputs();
        if (top[1] < ins.size()) {
          Integer j = index.get(ins.get(top[1]++));
          if (j != null && state[j] == 0) {
            state[j] = 1;
            stack.push(new int[] {j, 0});
          }
        } else {
          int d = 0;
          for (String in : ins) {
            Integer j = index.get(in);
            if (j != null && state[j] == 2) {
              d = Math.max(d, depth[j] + 1);
            }
          }
          depth[top[0]] = d;
          state[top[0]] = 2;
          stack.pop();
        }
      }
    }
    if (graph) {
      int[] firstUse = new int[n];
      java.util.Arrays.fill(firstUse, Integer.MAX_VALUE);
      for (int i = 0; i < n; i++) {
        for (String in : nodes.get(i).inputs()) {
          Integer j = index.get(in);
          if (j != null) {
            firstUse[j] = Math.min(firstUse[j], depth[i]);
          }
        }
      }
      for (int i = 0; i < n; i++) {
        if (nodes.get(i).inputs().isEmpty()
            && !nodes.get(i).kind().equals("Placeholder")
            && firstUse[i] != Integer.MAX_VALUE
            && firstUse[i] > 0) {
          depth[i] = firstUse[i] - 1;
        }
      }
    }
    return depth;
  }

  private static String cut(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 1) + "…";
  }

  /**
   * Long TF names share their prefix ({@code StatefulPartitionedCall/model/...}); the end tells
   * them apart.
   */
  private static String tail(String s, int max) {
    return s.length() <= max ? s : "…" + s.substring(s.length() - max + 1);
  }

  static String esc(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '&' -> sb.append("&amp;");
        case '"' -> sb.append("&quot;");
        default -> sb.append(c < 0x20 ? ' ' : c);
      }
    }
    return sb.toString();
  }
}
