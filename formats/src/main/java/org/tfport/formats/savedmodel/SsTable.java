package org.tfport.formats.savedmodel;

import java.util.ArrayList;
import java.util.List;
import org.tfport.core.TfportException.CorruptModelException;

/**
 * A whole LevelDB-format table read into memory, as TensorFlow writes checkpoint {@code .index}
 * files: the footer points to the index block, whose values are handles of the data blocks that
 * hold the entries.
 */
final class SsTable {
  private SsTable() {}

  static List<TableBlock.Entry> entries(byte[] file, String where) {
    TableFooter footer = TableFooter.read(file, where);
    byte[] index = TableBlock.contents(file, footer.index(), where, "index");
    List<TableBlock.Entry> out = new ArrayList<>();
    for (TableBlock.Entry e : TableBlock.entries(index, where, "index")) {
      int[] pos = {0};
      BlockHandle h = BlockHandle.decode(e.value(), pos, e.value().length);
      if (h == null) {
        throw new CorruptModelException(
            where + ": an index entry holds no valid block handle; the file is" + " damaged");
      }
      byte[] data = TableBlock.contents(file, h, where, "data");
      out.addAll(TableBlock.entries(data, where, "data"));
    }
    return out;
  }
}
