package org.tfport.formats.graph;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tfport.core.graph.DataTypes;

/** tfport's table of TensorFlow type numbers against the enum in TensorFlow 2.18's own protos. */
class DataTypeNamesTest {
  @Test
  void everyNamedTypeHasTensorFlowsNumber() {
    int named = 0;
    for (DataType t : DataType.values()) {
      if (t == DataType.UNRECOGNIZED) {
        continue;
      }
      String name = DataTypes.name(t.getNumber());
      if (!name.equals("DT_" + t.getNumber())) {
        assertThat(name).as("type %d", t.getNumber()).isEqualTo(t.name());
        assertThat(DataTypes.code(t.name())).as(t.name()).isEqualTo(t.getNumber());
        named++;
      }
    }
    // Reference types included: every type tfport names is checked, int4 and float8 among them.
    assertThat(DataTypes.name(DataType.DT_INT4_VALUE)).isEqualTo("DT_INT4");
    assertThat(DataTypes.name(DataType.DT_UINT4_VALUE)).isEqualTo("DT_UINT4");
    assertThat(named).isGreaterThan(40);
  }
}
