//! A JsonConverter payload written as the Avro binary body of its [`Node`]: zig-zag varints,
//! length-prefixed strings and bytes, IEEE floats little-endian, a union's branch index before its
//! value, arrays and maps as one block and its end.

use base64::Engine;
use serde_json::Value;

use super::schema::{Kind, Node};

/// A payload that does not fit its own schema: only a record walbridge did not build could hold
/// one. Names the Avro type, never the value.
#[derive(Debug, thiserror::Error)]
#[error("a value does not fit its schema: the Avro type {expected} met another JSON value")]
pub struct EncodeError {
    /// The Avro type.
    pub expected: &'static str,
}

/// Appends `value`'s Avro body for `node` to `out`.
pub(crate) fn write(node: &Node, value: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    // a null field with a default is its default, as Connect's Struct.get reads it
    let value = match (&node.default, value) {
        (Some(default), Value::Null) => default,
        _ => value,
    };
    match (node.null_branch, value) {
        (Some(null), Value::Null) => {
            write_long(i64::from(null), out);
            Ok(())
        }
        (None, Value::Null) => Err(EncodeError {
            expected: name(&node.kind),
        }),
        (null, value) => {
            if let Some(null) = null {
                write_long(i64::from(1 - null), out);
            }
            write_kind(&node.kind, value, out)
        }
    }
}

fn write_kind(kind: &Kind, value: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let mismatch = || EncodeError {
        expected: name(kind),
    };
    match kind {
        Kind::Boolean => out.push(u8::from(value.as_bool().ok_or_else(mismatch)?)),
        Kind::Int => {
            let n = value.as_i64().ok_or_else(mismatch)?;
            i32::try_from(n).map_err(|_| mismatch())?;
            write_long(n, out);
        }
        Kind::Long => write_long(value.as_i64().ok_or_else(mismatch)?, out),
        Kind::Float => {
            let f = float(value).ok_or_else(mismatch)? as f32;
            out.extend_from_slice(&f.to_le_bytes());
        }
        Kind::Double => out.extend_from_slice(&float(value).ok_or_else(mismatch)?.to_le_bytes()),
        Kind::String => write_bytes(value.as_str().ok_or_else(mismatch)?.as_bytes(), out),
        Kind::Bytes => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value.as_str().ok_or_else(mismatch)?)
                .map_err(|_| mismatch())?;
            write_bytes(&bytes, out);
        }
        Kind::Array(items) => {
            let elements = value.as_array().ok_or_else(mismatch)?;
            if !elements.is_empty() {
                write_long(elements.len() as i64, out);
                for element in elements {
                    write(items, element, out)?;
                }
            }
            out.push(0);
        }
        Kind::Map(values) => {
            let entries = value.as_object().ok_or_else(mismatch)?;
            if !entries.is_empty() {
                write_long(entries.len() as i64, out);
                for (key, value) in entries {
                    write_bytes(key.as_bytes(), out);
                    write(values, value, out)?;
                }
            }
            out.push(0);
        }
        Kind::Record(fields) => {
            let members = value.as_object().ok_or_else(mismatch)?;
            for (field, node) in fields {
                write(node, members.get(field).unwrap_or(&Value::Null), out)?;
            }
        }
    }
    Ok(())
}

/// A JSON number, or JsonConverter's quoted `NaN`, `Infinity`, `-Infinity`.
fn float(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

fn name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Boolean => "boolean",
        Kind::Int => "int",
        Kind::Long => "long",
        Kind::Float => "float",
        Kind::Double => "double",
        Kind::String => "string",
        Kind::Bytes => "bytes",
        Kind::Array(_) => "array",
        Kind::Map(_) => "map",
        Kind::Record(_) => "record",
    }
}

/// Avro's `long` (and `int`): zig-zag, then 7 bits a byte, low first.
pub(crate) fn write_long(n: i64, out: &mut Vec<u8>) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn write_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    write_long(bytes.len() as i64, out);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::avro::schema::AvroSchema;

    fn body(schema: &str, payload: &str) -> Vec<u8> {
        let schema = AvroSchema::from_connect_json(schema).unwrap();
        let mut out = Vec::new();
        write(
            &schema.root,
            &serde_json::from_str(payload).unwrap(),
            &mut out,
        )
        .unwrap();
        out
    }

    #[test]
    fn varints_zigzag() {
        for (n, bytes) in [
            (0i64, vec![0u8]),
            (-1, vec![1]),
            (1, vec![2]),
            (-64, vec![0x7f]),
            (64, vec![0x80, 0x01]),
            (i64::MIN, vec![0xff; 9].into_iter().chain([1]).collect()),
        ] {
            let mut out = Vec::new();
            write_long(n, &mut out);
            assert_eq!(out, bytes, "{n}");
        }
    }

    #[test]
    fn a_record_with_unions_defaults_and_containers() {
        let schema = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"},{"type":"string","optional":true,"default":"active","field":"status"},{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"price"},{"type":"array","items":{"type":"double","optional":true},"optional":false,"field":"xs"},{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":true},"optional":false,"field":"h"},{"type":"boolean","optional":false,"field":"b"},{"type":"float","optional":false,"field":"f"}],"optional":false,"name":"p.s.t.Value"}"#;
        let payload = r#"{"id":1,"name":null,"status":null,"price":"ATk=","xs":[1.5,null,"NaN"],"h":{},"b":true,"f":1.0E0}"#;
        let mut expected = vec![2, 0, 0, 12];
        expected.extend_from_slice(b"active");
        expected.extend_from_slice(&[2, 4, 0x01, 0x39]);
        expected.extend_from_slice(&[6, 2]);
        expected.extend_from_slice(&1.5f64.to_le_bytes());
        expected.push(0);
        expected.push(2);
        expected.extend_from_slice(&f64::NAN.to_le_bytes());
        expected.push(0);
        expected.push(0);
        expected.push(1);
        expected.extend_from_slice(&1.0f32.to_le_bytes());
        assert_eq!(body(schema, payload), expected);
    }

    #[test]
    fn a_null_for_a_required_field_is_an_error() {
        let schema = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"p.s.t.Key"}"#;
        let schema = AvroSchema::from_connect_json(schema).unwrap();
        let err = write(
            &schema.root,
            &serde_json::json!({"id": null}),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(err.expected, "int");
    }
}
