package org.tfport.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tfport.core.Tensor;
import org.tfport.core.TfportException;
import org.tfport.core.TfportException.UsageException;
import org.tfport.formats.npy.Npy;
import org.tfport.runtime.Signature;
import org.tfport.runtime.TensorSpec;

/**
 * The {@code --input [NAME=]FILE.npy} arguments of {@code predict} and {@code benchmark}: files
 * named for an input fill it, the others fill the remaining inputs in signature order; each is
 * checked against its input's spec.
 */
final class InputFiles {
  private InputFiles() {}

  /**
   * The tensors by input name, in signature order.
   *
   * @param command the subcommand, for usage errors
   * @param model the model argument, for errors about the files
   * @param origin filled with the file each input came from
   */
  static Map<String, Tensor> read(
      String command,
      String model,
      Signature sig,
      List<String> inputs,
      Map<String, String> origin) {
    Map<String, String> named = new LinkedHashMap<>();
    List<String> positional = new ArrayList<>();
    Set<String> names = new HashSet<>(sig.inputNames());
    for (String arg : inputs) {
      int eq = arg.indexOf('=');
      String name = eq > 0 ? arg.substring(0, eq) : null;
      if (name != null && names.contains(name)) {
        if (named.put(name, arg.substring(eq + 1)) != null) {
          throw new UsageException(command + ": input '" + name + "' is given twice");
        }
      } else if (name != null
          && !Files.exists(Path.of(arg))
          && !arg.substring(0, eq).contains("/")) {
        throw new TfportException(
            model
                + ": the model has no input '"
                + name
                + "'; its inputs are "
                + describe(sig.inputs()));
      } else {
        positional.add(arg);
      }
    }
    if (named.size() + positional.size() > sig.inputs().size()) {
      throw new TfportException(
          model
              + ": "
              + (named.size() + positional.size())
              + " input files for the "
              + sig.inputs().size()
              + " input"
              + (sig.inputs().size() == 1 ? " " : "s ")
              + describe(sig.inputs())
              + "; "
              + positional.get(positional.size() - 1)
              + " is left over");
    }
    Map<String, Tensor> feed = new LinkedHashMap<>();
    int next = 0;
    for (TensorSpec s : sig.inputs()) {
      String file = named.get(s.name());
      if (file == null && next < positional.size()) {
        file = positional.get(next++);
      }
      if (file == null) {
        throw new TfportException(
            model
                + ": input '"
                + s.name()
                + "' ("
                + s.describe()
                + ") has no file; give"
                + " --input "
                + s.name()
                + "=FILE.npy");
      }
      Tensor t = Npy.readTensor(Path.of(file));
      if (s.dtype() != null && s.dtype() != t.dtype() || !s.accepts(t.shape().dims())) {
        throw new TfportException(
            model
                + ": input '"
                + s.name()
                + "' wants "
                + s.describe()
                + ", but "
                + file
                + " holds "
                + t.dtype().jsName()
                + Arrays.toString(t.shape().dims()));
      }
      feed.put(s.name(), t);
      origin.put(s.name(), file);
    }
    return feed;
  }

  static String describe(List<TensorSpec> specs) {
    if (specs.isEmpty()) {
      return "(none)";
    }
    return String.join(
        ", ", specs.stream().map(s -> s.name() + " (" + s.describe() + ")").toList());
  }
}
