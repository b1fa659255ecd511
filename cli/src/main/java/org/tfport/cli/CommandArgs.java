package org.tfport.cli;

import org.tfport.core.TfportException.UsageException;
import picocli.CommandLine;

/**
 * Parsing a command's arguments into its picocli-annotated object, the same way for every command.
 */
final class CommandArgs {
  private CommandArgs() {}

  /**
   * Fills {@code command} from {@code args}; a bad flag or value is a usage error (exit 2) naming
   * the command and where its help is. The returned CommandLine prints usage as {@code tfport
   * NAME}.
   */
  static CommandLine parse(Object command, String name, String... args) {
    CommandLine cl = new CommandLine(command);
    cl.setCommandName("tfport " + name);
    try {
      cl.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      throw new UsageException(name + ": " + e.getMessage() + " (see tfport " + name + " --help)");
    }
    return cl;
  }
}
