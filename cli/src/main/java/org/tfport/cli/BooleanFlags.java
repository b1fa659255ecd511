package org.tfport.cli;

import java.util.Locale;
import java.util.Set;

/**
 * Upstream's switches ({@code --split_weights_by_layer}, {@code --allow_custom_ops}, ...) take no
 * value, so {@code --allow_custom_ops model.pb out} must leave {@code model.pb} a path. We also
 * accept {@code --flag=false} and {@code --flag false}; a bare flag followed by anything that is
 * not a boolean word becomes {@code --flag=true} before parsing.
 */
final class BooleanFlags {
  private static final Set<String> WORDS =
      Set.of("true", "false", "1", "0", "yes", "no", "y", "n", "on", "off");

  private BooleanFlags() {}

  static String[] normalize(String[] args, Set<String> flags) {
    String[] out = args.clone();
    for (int i = 0; i < out.length; i++) {
      if (flags.contains(out[i])) {
        boolean valueFollows =
            i + 1 < out.length && WORDS.contains(out[i + 1].toLowerCase(Locale.ROOT));
        if (!valueFollows) {
          out[i] = out[i] + "=true";
        }
      }
    }
    return out;
  }
}
