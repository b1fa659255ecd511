package org.tfport.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.tfport.core.TfportException.CorruptModelException;
import org.tfport.core.TfportException.UnsupportedModelException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.tfjs.TfjsModelFiles;
import org.tfport.formats.tfjs.TfjsModelJson;
import org.tfport.formats.tfjs.TfjsReader;
import org.tfport.formats.tfjs.WeightSpec;

/**
 * {@code file://}: saves as tfjs-node does, a folder holding {@code model.json} and {@code
 * weights.bin}, or, when the path ends in {@code .json}, the downloads naming {@code NAME.json} and
 * {@code NAME.weights.bin}; loads any model.json with the TF.js reader (every group and shard,
 * checked against the manifest). Files appear whole: each is written beside its final name and
 * renamed, weights before model.json, so a reader never sees a model.json whose weights are not
 * there yet.
 */
final class FileHandler implements IOHandler {
  private final String url;
  private final Path path;

  FileHandler(String url) {
    this.url = url;
    String p = url.substring(FileRouter.SCHEME.length());
    if (p.isEmpty()) {
      throw new UsageException("'" + url + "' names no path; use file://DIR or file:///abs/DIR");
    }
    try {
      this.path = Path.of(p);
    } catch (InvalidPathException e) {
      throw new UsageException("'" + url + "' is not a valid path here: " + e.getMessage());
    }
  }

  @Override
  public SaveResult save(ModelArtifacts a) {
    String file = path.getFileName() == null ? "" : path.getFileName().toString();
    boolean downloads = file.endsWith(".json") && file.length() > ".json".length();
    Path dir = downloads ? path.toAbsolutePath().getParent() : path;
    String jsonName = downloads ? file : "model.json";
    String weightsName =
        downloads ? file.substring(0, file.length() - 5) + ".weights.bin" : "weights.bin";
    String manifestPath = downloads ? "./" + weightsName : weightsName;
    prepare(dir, downloads);
    byte[] json =
        ModelJson.write(
            a, manifestPath, downloads ? ModelJson.Style.BROWSER : ModelJson.Style.NODE_FILE);
    List<ByteBuffer> data = a.weightData() == null ? List.of() : a.weightData();
    writeAtomically(dir.resolve(weightsName), data);
    writeAtomically(dir.resolve(jsonName), List.of(ByteBuffer.wrap(json)));
    return new SaveResult(a.info(), List.of());
  }

  /**
   * tfjs-node's rule: an existing folder is fine, a file is not, and a missing parent is not
   * created.
   */
  private void prepare(Path dir, boolean downloads) {
    if (Files.isRegularFile(dir)) {
      throw new UsageException(
          dir
              + " exists as a file; the path must be nonexistent or point to a folder ("
              + url
              + ")");
    }
    if (Files.isDirectory(dir)) {
      return;
    }
    if (downloads) {
      throw new UsageException("folder " + dir + " does not exist; create it first (" + url + ")");
    }
    try {
      Files.createDirectory(dir);
    } catch (IOException e) {
      throw new ModelIOException(
          "cannot create folder " + dir + " (" + e + "); its parent must exist", e);
    }
  }

  private static void writeAtomically(Path target, List<ByteBuffer> data) {
    Path tmp =
        target.resolveSibling(
            "."
                + target.getFileName()
                + ".tfport-"
                + ProcessHandle.current().pid()
                + "-"
                + Thread.currentThread().threadId());
    try {
      try (FileChannel ch =
          FileChannel.open(
              tmp,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING)) {
        for (ByteBuffer b : data) {
          ByteBuffer d = b.duplicate();
          while (d.hasRemaining()) {
            ch.write(d);
          }
        }
        ch.force(true);
      }
      try {
        Files.move(
            tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // The temporary name is hidden; leaving it is harmless.
      }
      throw new ModelIOException(
          "cannot write "
              + target
              + " ("
              + e
              + "); check the folder is writable and has"
              + " space",
          e);
    }
  }

  @Override
  public ModelArtifacts load() {
    // file://DIR names the folder a save wrote: its model.json.
    Path json = Files.isDirectory(path) ? path.resolve("model.json") : path;
    if (Files.isDirectory(path) && !Files.isRegularFile(json)) {
      throw new UsageException(
          path
              + ": a folder without model.json ("
              + url
              + "); give the folder a model was saved to");
    }
    TfjsModelFiles files = TfjsReader.open(json);
    TfjsModelJson j = files.modelJson();
    List<WeightSpec> specs = new ArrayList<>();
    files.specs().forEach(specs::addAll);
    Path folder = json.toAbsolutePath().normalize().getParent();
    List<ByteBuffer> data = new ArrayList<>();
    for (List<String> group : files.paths()) {
      for (String p : group) {
        // TfjsReader.open has already refused paths that leave the folder.
        data.add(read(folder.resolve(p).normalize()));
      }
    }
    ModelArtifacts a =
        new ModelArtifacts(
            j.modelTopology(),
            j.format(),
            j.generatedBy(),
            j.convertedBy(),
            j.trainingConfig(),
            j.signature(),
            j.userDefinedMetadata(),
            j.modelInitializer(),
            j.initializerSignature(),
            specs,
            data);
    // The shards may have changed since they were sized; the check catches that.
    return a.checkWeights(path.toString());
  }

  private static ByteBuffer read(Path shard) {
    try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size > Integer.MAX_VALUE - 8) {
        throw new UnsupportedModelException(
            shard + " is " + size + " bytes; shards of at most 2 GiB can be loaded");
      }
      ByteBuffer b = ByteBuffer.allocate((int) size);
      while (b.hasRemaining()) {
        if (ch.read(b) < 0) {
          throw new CorruptModelException(
              shard + " became shorter while it was read; another program is" + " changing it");
        }
      }
      return b.flip();
    } catch (IOException e) {
      throw new ModelIOException(
          "weight file " + shard + " cannot be read (" + e + "); loading failed", e);
    }
  }

  @Override
  public String toString() {
    return "file handler for " + url;
  }
}
