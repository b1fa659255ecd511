package org.tfport.formats.tfjs;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tfport.core.DType;
import org.tfport.core.ProgressListener;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UsageException;

/**
 * An opened TF.js model: model.json parsed, every shard found and every weight's byte range checked
 * against the shard sizes, but no weight read yet. Weights are read on demand from the files, one
 * at a time, so a large model can be re-sharded or re-quantized in little memory. Obtain one from
 * {@link TfjsReader#open}.
 */
public final class TfjsModelFiles {
  /** Where a weight's stored bytes are: group index and offset within that group's byte stream. */
  record Placed(WeightSpec spec, int group, long offset, int length) {}

  /**
   * @param files the shard paths resolved against the model folder
   * @param sizes each shard's size when the model was opened
   */
  record Layout(List<String> paths, List<Path> files, long[] sizes, List<Placed> weights) {}

  private final Path source;
  private final TfjsModelJson modelJson;
  private final List<Layout> groups;
  private final Map<String, Placed> byName = new LinkedHashMap<>();

  TfjsModelFiles(Path source, TfjsModelJson modelJson, List<Layout> groups) {
    this.source = source;
    this.modelJson = modelJson;
    this.groups = List.copyOf(groups);
    for (Layout g : groups) {
      for (Placed p : g.weights()) {
        // Names are unique in valid files; should a damaged one repeat a name, the first wins as in
        // the JS loader.
        byName.putIfAbsent(p.spec().name(), p);
      }
    }
  }

  /** The model.json (or weights manifest) this was opened from. */
  public Path source() {
    return source;
  }

  public TfjsModelJson modelJson() {
    return modelJson;
  }

  /** The manifest entries per group, in manifest order. */
  public List<List<WeightSpec>> specs() {
    return groups.stream().map(g -> g.weights().stream().map(Placed::spec).toList()).toList();
  }

  /** The shard paths per group, as the manifest gives them. */
  public List<List<String>> paths() {
    return groups.stream().map(Layout::paths).toList();
  }

  /**
   * The weights in the writer's input form, grouped as in the manifest. Each supplier reads its
   * weight's bytes from the shard files when called and dequantizes them; nothing is cached.
   */
  public List<List<WeightEntry>> weightEntries() {
    List<List<WeightEntry>> out = new ArrayList<>();
    for (Layout g : groups) {
      List<WeightEntry> es = new ArrayList<>();
      for (Placed p : g.weights()) {
        WeightSpec s = p.spec();
        es.add(
            new WeightEntry(
                s.name(), s.dtype(), s.shape(), () -> decode(p, readBytes(p)), s.group()));
      }
      out.add(es);
    }
    return out;
  }

  /** One weight, dequantized to {@code spec.dtype()}. */
  public Tensor read(String name) {
    Placed p = find(name);
    return decode(p, readBytes(p));
  }

  /**
   * One weight exactly as stored: a uint8, uint16 or float16 tensor for a quantized weight (apply
   * {@link WeightSpec#quantization()} to get values), else the same as {@link #read}.
   */
  public Tensor readStored(String name) {
    Placed p = find(name);
    Quantization q = p.spec().quantization();
    return new Tensor(q == null ? p.spec().dtype() : q.dtype(), p.spec().shape(), readBytes(p));
  }

  /** Reads and dequantizes every weight. */
  public TfjsModel load() {
    return load(ProgressListener.NONE);
  }

  /** Reads and dequantizes every weight, reporting bytes read as stage "weights". */
  public TfjsModel load(ProgressListener progress) {
    long total = 0;
    for (Layout g : groups) {
      for (long s : g.sizes()) {
        total += s;
      }
    }
    long done = 0;
    List<WeightGroup> out = new ArrayList<>();
    for (Layout g : groups) {
      List<WeightGroup.Weight> ws = new ArrayList<>();
      try (GroupSource src = new GroupSource(g.files(), g.sizes())) {
        for (Placed p : g.weights()) {
          ByteBuffer bytes = src.read(p.offset(), p.length());
          ws.add(new WeightGroup.Weight(p.spec(), decode(p, bytes)));
          done += p.length();
          progress.progress("weights", done, total);
        }
      }
      out.add(new WeightGroup(g.paths(), ws));
    }
    return new TfjsModel(source, modelJson, out);
  }

  private Placed find(String name) {
    Placed p = byName.get(name);
    if (p == null) {
      throw new UsageException(
          source
              + " has no weight named '"
              + name
              + "'; its weights are "
              + abbreviate(byName.keySet()));
    }
    return p;
  }

  private ByteBuffer readBytes(Placed p) {
    Layout g = groups.get(p.group());
    try (GroupSource src = new GroupSource(g.files(), g.sizes())) {
      return src.read(p.offset(), p.length());
    }
  }

  private Tensor decode(Placed p, ByteBuffer bytes) {
    if (p.spec().quantization() == null && p.spec().dtype() != DType.STRING) {
      return new Tensor(p.spec().dtype(), p.spec().shape(), bytes);
    }
    return QuantMath.decode(p.spec(), bytes, source + ": weight '" + p.spec().name() + "'");
  }

  private static String abbreviate(java.util.Collection<String> names) {
    List<String> l = new ArrayList<>(names);
    if (l.size() <= 10) {
      return String.join(", ", l);
    }
    return String.join(", ", l.subList(0, 10)) + " and " + (l.size() - 10) + " more";
  }
}
