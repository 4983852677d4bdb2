//! The Connect schema JSON of a column's [`Kind`], keys in JsonConverter's order.

use super::{ENUM, Elem, JSON, Kind};
use crate::json::{write_i64, write_str};
use crate::modes::{BinaryMode, HstoreMode, IntervalMode};

impl Kind {
    /// Writes the Connect field schema of a column, as JsonConverter orders its keys. `allowed` is the
    /// comma-separated labels of an enum column.
    pub(crate) fn write_field_schema(
        self,
        out: &mut Vec<u8>,
        optional: bool,
        default: Option<&[u8]>,
        field: &str,
        allowed: Option<&str>,
    ) {
        self.write_schema(out, optional, default, Some(field), allowed);
    }

    fn write_schema(
        self,
        out: &mut Vec<u8>,
        optional: bool,
        default: Option<&[u8]>,
        field: Option<&str>,
        allowed: Option<&str>,
    ) {
        if let Kind::Geo(geo) = self {
            // structs of their own, never with a default (walbridge reads none for them)
            return geo.write_schema(out, optional, field);
        }
        let (ty, name): (&str, Option<&str>) = match self {
            Kind::Int16 => ("int16", None),
            Kind::Int32 => ("int32", None),
            Kind::Int64 => ("int64", None),
            Kind::Bool => ("boolean", None),
            Kind::Float32 => ("float", None),
            Kind::Float64 | Kind::MoneyDouble => ("double", None),
            Kind::Str(name) => ("string", name),
            Kind::Enum => ("string", Some(ENUM)),
            Kind::Decimal { .. } | Kind::Money => {
                ("bytes", Some("org.apache.kafka.connect.data.Decimal"))
            }
            Kind::VarDecimal => ("struct", Some("io.debezium.data.VariableScaleDecimal")),
            Kind::DecimalString { .. } => ("string", None),
            Kind::ZonedTimestamp { .. } => ("string", Some("io.debezium.time.ZonedTimestamp")),
            Kind::Timestamp { millis: true } => ("int64", Some("io.debezium.time.Timestamp")),
            Kind::Timestamp { millis: false } => ("int64", Some("io.debezium.time.MicroTimestamp")),
            Kind::Date => ("int32", Some("io.debezium.time.Date")),
            Kind::Time { millis: true } => ("int32", Some("io.debezium.time.Time")),
            Kind::Time { millis: false } => ("int64", Some("io.debezium.time.MicroTime")),
            Kind::ConnectDate => ("int32", Some("org.apache.kafka.connect.data.Date")),
            Kind::ConnectTime => ("int32", Some("org.apache.kafka.connect.data.Time")),
            Kind::ConnectTimestamp => ("int64", Some("org.apache.kafka.connect.data.Timestamp")),
            Kind::ZonedTime => ("string", Some("io.debezium.time.ZonedTime")),
            Kind::Interval(IntervalMode::Numeric) => {
                ("int64", Some("io.debezium.time.MicroDuration"))
            }
            Kind::Interval(IntervalMode::String) => ("string", Some("io.debezium.time.Interval")),
            Kind::Bits { .. } => ("bytes", Some("io.debezium.data.Bits")),
            Kind::Bytes(BinaryMode::Bytes) => ("bytes", None),
            Kind::Bytes(_) => ("string", None),
            Kind::Hstore(HstoreMode::Json) => ("string", Some(JSON)),
            Kind::Hstore(HstoreMode::Map) => ("map", None),
            Kind::Array(_) => ("array", None),
            Kind::Other | Kind::Omitted => ("string", None),
            Kind::Geo(_) => unreachable!("written above"),
        };
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(ty.as_bytes());
        out.push(b'"');
        match self {
            Kind::VarDecimal => out.extend_from_slice(
                b",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}]",
            ),
            Kind::Hstore(HstoreMode::Map) => out.extend_from_slice(
                b",\"keys\":{\"type\":\"string\",\"optional\":false},\"values\":{\"type\":\"string\",\"optional\":true}",
            ),
            Kind::Array(elem) => {
                out.extend_from_slice(b",\"items\":");
                match elem {
                    Elem::Int16 => Kind::Int16.write_schema(out, true, None, None, None),
                    Elem::Int32 => Kind::Int32.write_schema(out, true, None, None, None),
                    Elem::Int64 => Kind::Int64.write_schema(out, true, None, None, None),
                    Elem::Str => Kind::Str(None).write_schema(out, true, None, None, None),
                    Elem::Of(e) => e.kind().write_schema(out, true, None, None, None),
                    Elem::Enum => Kind::Enum.write_schema(out, false, None, None, allowed),
                }
            }
            _ => {}
        }
        out.extend_from_slice(if optional {
            b",\"optional\":true"
        } else {
            b",\"optional\":false"
        });
        if let Some(name) = name {
            out.extend_from_slice(b",\"name\":\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\",\"version\":1");
        }
        match self {
            Kind::VarDecimal => out.extend_from_slice(b",\"doc\":\"Variable scaled decimal\""),
            Kind::Decimal { precision, scale } => {
                out.extend_from_slice(b",\"parameters\":{\"scale\":\"");
                write_i64(out, i64::from(scale));
                out.extend_from_slice(b"\",\"connect.decimal.precision\":\"");
                write_i64(out, i64::from(precision));
                out.extend_from_slice(b"\"}");
            }
            Kind::Money => out.extend_from_slice(b",\"parameters\":{\"scale\":\"2\"}"),
            Kind::Bits { length } => {
                out.extend_from_slice(b",\"parameters\":{\"length\":\"");
                write_i64(out, i64::from(length));
                out.extend_from_slice(b"\"}");
            }
            Kind::Enum => {
                out.extend_from_slice(b",\"parameters\":{\"allowed\":");
                write_str(out, allowed.unwrap_or_default());
                out.push(b'}');
            }
            _ => {}
        }
        if let Some(default) = default {
            out.extend_from_slice(b",\"default\":");
            out.extend_from_slice(default);
        }
        if let Some(field) = field {
            out.extend_from_slice(b",\"field\":");
            write_str(out, field);
        }
        out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_schemas_follow_jsonconverter_key_order() {
        let mut out = Vec::new();
        Kind::Decimal {
            precision: 12,
            scale: 2,
        }
        .write_field_schema(&mut out, false, Some(b"\"AA==\""), "balance", None);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"12"},"default":"AA==","field":"balance"}"#
        );
    }
}
