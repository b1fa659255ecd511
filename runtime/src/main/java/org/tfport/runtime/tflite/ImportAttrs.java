package org.tfport.runtime.tflite;

import org.tfport.core.DType;
import org.tfport.core.graph.AttrValue;
import org.tfport.core.graph.DataTypes;

/** The attribute values the TFLite importer puts on the TensorFlow nodes it makes. */
final class ImportAttrs {
  private ImportAttrs() {}

  static AttrValue type(DType t) {
    return new AttrValue.Type(DataTypes.fromDType(t));
  }

  static AttrValue ints(long... v) {
    return AttrValue.ListAttr.ofInts(Weights.list(v));
  }

  static AttrValue str(String s) {
    return AttrValue.Str.of(s);
  }

  static AttrValue i(long v) {
    return new AttrValue.Int(v);
  }

  static AttrValue f(float v) {
    return new AttrValue.Float(v);
  }

  static AttrValue b(boolean v) {
    return new AttrValue.Bool(v);
  }
}
