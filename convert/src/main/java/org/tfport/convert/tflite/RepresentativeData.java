package org.tfport.convert.tflite;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.tfport.core.DType;
import org.tfport.core.Shape;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.npy.Npy;
import org.tfport.formats.tflite.TfliteType;

/**
 * The {@code --representative_data DIR} layout, read into calibration samples for one subgraph:
 *
 * <ul>
 *   <li>a model with one input: every {@code *.npy} file directly in DIR is a sample (files sorted
 *       by name);
 *   <li>any model: every sub-folder of DIR is a sample (sorted by name) holding one {@code
 *       NAME.npy} per model input, NAME the input's signature key (frozen graphs: the placeholder
 *       name) with characters other than letters, digits, '.', '-' and '_' replaced by '_'; when
 *       DIR has sub-folders, loose files are not used;
 *   <li>a SavedModel converted with several signatures: DIR holds one folder per signature key,
 *       each laid out as above.
 * </ul>
 *
 * A file's shape must equal the input's, where the input has an unknown dimension (usually the
 * batch) any size is accepted, so a {@code [N, 224, 224, 3]} file for a {@code [-1, 224, 224, 3]}
 * input is one batch of N samples; a file without the leading batch dimension ({@code [224, 224,
 * 3]}) counts as a batch of one. Float inputs take float32/float64 files, integer inputs integer
 * files.
 */
final class RepresentativeData {
  private RepresentativeData() {}

  /** A model input as calibration sees it: {@code signature} has -1 for unknown dimensions. */
  record Input(String name, TfliteType type, int[] signature) {}

  /** The samples in DIR, each one value per input (in input order). */
  static List<List<Tensor>> load(Path dir, List<Input> inputs) {
    if (!Files.isDirectory(dir)) {
      throw new UsageException(
          dir + ": TfliteOutputOptions.representativeData must be a folder of .npy" + " samples");
    }
    List<Path> folders = new ArrayList<>();
    List<Path> files = new ArrayList<>();
    try (Stream<Path> l = Files.list(dir)) {
      for (Path p : l.sorted().toList()) {
        if (Files.isDirectory(p)) {
          folders.add(p);
        } else if (p.getFileName().toString().endsWith(".npy")) {
          files.add(p);
        }
      }
    } catch (IOException e) {
      throw new UsageException(
          dir + ": cannot list the representative data folder (" + e.getMessage() + ")");
    }
    List<String> names = inputs.stream().map(i -> fileName(i.name()) + ".npy").toList();
    List<List<Tensor>> samples = new ArrayList<>();
    if (!folders.isEmpty()) {
      for (Path f : folders) {
        List<Tensor> sample = new ArrayList<>();
        for (int k = 0; k < inputs.size(); k++) {
          Path file = f.resolve(names.get(k));
          if (!Files.isRegularFile(file)) {
            throw new UsageException(
                f
                    + ": no "
                    + names.get(k)
                    + " for input '"
                    + inputs.get(k).name()
                    + "' (each sample folder holds one .npy per model input: "
                    + String.join(", ", names)
                    + ")");
          }
          sample.add(value(Npy.read(file), inputs.get(k)));
        }
        samples.add(sample);
      }
    } else if (inputs.size() == 1) {
      for (Path file : files) {
        samples.add(List.of(value(Npy.read(file), inputs.get(0))));
      }
    } else if (!files.isEmpty()) {
      throw new UsageException(
          dir
              + ": the model has "
              + inputs.size()
              + " inputs; put each sample in its own"
              + " sub-folder holding "
              + String.join(", ", names));
    }
    if (samples.isEmpty()) {
      throw new UsageException(
          dir
              + ": no .npy samples found (one .npy per sample, or one sub-folder per sample"
              + " with "
              + String.join(", ", names)
              + ")");
    }
    return samples;
  }

  /** An input name as a file name. */
  static String fileName(String inputName) {
    return inputName.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  /** The array as input {@code in}'s value, or a one-line error naming the file. */
  static Tensor value(Npy a, Input in) {
    boolean floatInput = in.type() == TfliteType.FLOAT32;
    boolean intInput = in.type() == TfliteType.INT32 || in.type() == TfliteType.INT64;
    if (!floatInput && !intInput) {
      throw new UsageException(
          a.file()
              + ": input '"
              + in.name()
              + "' is "
              + in.type()
              + ", which calibration"
              + " cannot feed (float32, int32 and int64 inputs only)");
    }
    if (floatInput != a.isFloat()) {
      throw new UsageException(
          a.file()
              + ": dtype "
              + a.dtype()
              + " does not match input '"
              + in.name()
              + "' ("
              + in.type().name().toLowerCase(java.util.Locale.ROOT)
              + "); save the sample as "
              + (floatInput ? "float32" : "an integer array"));
    }
    int[] sig = in.signature();
    int[] shape = a.shape();
    if (shape.length == sig.length - 1 && sig.length > 0 && (sig[0] == -1 || sig[0] == 1)) {
      int[] batched = new int[sig.length];
      batched[0] = 1;
      System.arraycopy(shape, 0, batched, 1, shape.length);
      shape = batched;
    }
    boolean ok = shape.length == sig.length;
    for (int i = 0; ok && i < sig.length; i++) {
      ok = sig[i] < 0 || sig[i] == shape[i];
    }
    if (!ok || a.elements() == 0) {
      throw new UsageException(
          a.file()
              + ": shape "
              + Arrays.toString(a.shape())
              + " does not match input '"
              + in.name()
              + "' "
              + Arrays.toString(sig)
              + " (-1 = any size)");
    }
    return tensor(in.type(), shape, a.values());
  }

  /**
   * The values as a tensor of the input's type (integer samples are read as floats, exact up to
   * 2^24).
   */
  static Tensor tensor(TfliteType type, int[] shape, float[] values) {
    Shape s = Shape.of(Arrays.stream(shape).asLongStream().toArray());
    if (type == TfliteType.FLOAT32) {
      return Tensor.ofFloats(s, values);
    }
    ByteBuffer b =
        ByteBuffer.allocate(values.length * (type == TfliteType.INT64 ? 8 : 4))
            .order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      if (type == TfliteType.INT64) {
        b.putLong((long) v);
      } else {
        b.putInt((int) v);
      }
    }
    return new Tensor(type == TfliteType.INT64 ? DType.INT64 : DType.INT32, s, b.flip());
  }
}
