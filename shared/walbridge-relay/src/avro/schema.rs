//! A Connect schema, as JsonConverter writes it, to the Avro schema Confluent's `AvroData` (7.0.16,
//! `connect.meta.data` on, `enhanced.avro.schema.support` off) makes of it, and to the [`Node`] tree
//! the body is written by.
//!
//! The mapping: a struct is a record named by the last dot-segment of its Connect name in the
//! namespace of the rest (an unnamed one is `io.confluent.connect.avro.ConnectDefault`); an optional
//! schema is a union with null, `["null",T]`, or `[T,"null"]` when it has a default; a Connect
//! schema's doc, version, parameters, default and name become `connect.doc`, `connect.version`,
//! `connect.parameters`, `connect.default` and `connect.name` on the Avro type; `int8`/`int16` are
//! `int` with `connect.type`; Connect's Decimal, Date, Time and Timestamp get Avro's logical types
//! (a Decimal's precision from `connect.decimal.precision`, else 64); Debezium's semantic types
//! stay plain primitives; a doc is only `connect.doc` (neither the record's nor the field's Avro
//! doc). A record named again is written by name, as Avro writes a schema.

use std::collections::HashMap;

use base64::Engine;
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;
use walbridge_event::write_json_string;

/// A Connect schema as JsonConverter writes it (`{"type":…,"optional":…,"name":…}`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ConnectSchema {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    optional: bool,
    name: Option<String>,
    version: Option<i64>,
    doc: Option<String>,
    // Connect keeps parameters in insertion order, and so does the Avro schema
    parameters: Option<IndexMap<String, String>>,
    default: Option<Value>,
    field: Option<String>,
    #[serde(default)]
    fields: Vec<ConnectSchema>,
    items: Option<Box<ConnectSchema>>,
    keys: Option<Box<ConnectSchema>>,
    values: Option<Box<ConnectSchema>>,
}

/// How one value is written: its Avro type, its union with null, and the Connect default a null
/// stands for (Connect's `Struct.get` returns a field's default for a null).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    /// `None`: not optional; else the union's branch index of null.
    pub(crate) null_branch: Option<u8>,
    pub(crate) default: Option<Value>,
}

/// An Avro type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Boolean,
    Int,
    Long,
    Float,
    Double,
    String,
    Bytes,
    Array(Box<Node>),
    /// A map with string keys.
    Map(Box<Node>),
    /// A record: its fields' names and nodes, in order.
    Record(Vec<(String, Node)>),
}

/// A Connect schema the AvroConverter cannot map, or that walbridge's mapping does not cover. Names
/// schemas and fields, never values.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The key or value is not JsonConverter's `{"schema":…,"payload":…}`.
    #[error("the record is not JsonConverter's schema envelope ({0})")]
    NotAnEnvelope(String),
    /// A name Avro does not accept (Confluent's AvroConverter fails on it as well).
    #[error(
        "{name} is not a valid Avro name (letters, digits and _, not starting with a digit, \
         dot-separated): rename the table, column or topic.prefix, or route the topic with a \
         transform that gives a valid name"
    )]
    InvalidName {
        /// The name.
        name: String,
    },
    /// Two different Connect structs share a name, which one Avro schema cannot hold.
    #[error("two different structs are both named {name}: Avro cannot hold both in one schema")]
    Redefined {
        /// The Connect name.
        name: String,
    },
    /// RecordNameStrategy or TopicRecordNameStrategy met a key or value that is not a record (a
    /// transform made it a single field, or an optional struct).
    #[error(
        "a key or value of topic {topic} is not a record, which the record name strategies cannot \
         name a subject after: use TopicNameStrategy for it"
    )]
    NotARecord {
        /// The topic.
        topic: String,
    },
    /// A Connect schema walbridge's AvroConverter does not map (yet).
    #[error("walbridge's AvroConverter does not map {what}")]
    Unsupported {
        /// What it is.
        what: String,
    },
}

/// A Connect schema's Avro schema: its text, and how its values are written.
#[derive(Debug, Clone)]
pub(crate) struct AvroSchema {
    pub(crate) text: String,
    pub(crate) root: Node,
    /// The full name of the record it is, if it is one (not a union with null): what
    /// RecordNameStrategy names a subject after.
    pub(crate) record_name: Option<String>,
}

impl AvroSchema {
    /// The Avro schema of the Connect schema in `json` (JsonConverter's schema form).
    pub(crate) fn from_connect_json(json: &str) -> Result<Self, SchemaError> {
        let schema: ConnectSchema = serde_json::from_str(json)
            .map_err(|err| SchemaError::NotAnEnvelope(format!("its schema: {err}")))?;
        let mut writer = Writer::default();
        let mut out = Vec::new();
        let root = writer.schema(&schema, &mut out)?;
        let record_name = matches!(root.kind, Kind::Record(_))
            .then(|| root.null_branch.is_none())
            .filter(|&plain| plain)
            .map(|_| {
                schema
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{DEFAULT_NAMESPACE}.{DEFAULT_NAME}"))
            });
        Ok(Self {
            text: String::from_utf8(out).expect("written from UTF-8"),
            root,
            record_name,
        })
    }
}

const DEFAULT_NAMESPACE: &str = "io.confluent.connect.avro";
const DEFAULT_NAME: &str = "ConnectDefault";
const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
const DECIMAL_PRECISION: &str = "connect.decimal.precision";
const DEFAULT_DECIMAL_PRECISION: &str = "64";

/// Writes one Avro schema: the records defined so far (by full name) and the namespace their
/// names are written relative to.
#[derive(Debug, Default)]
struct Writer {
    defined: HashMap<String, (ConnectSchema, Kind)>,
    space: Option<String>,
    unnamed: usize,
}

impl Writer {
    /// Writes `schema` where a type goes, with its union with null when optional.
    fn schema(&mut self, schema: &ConnectSchema, out: &mut Vec<u8>) -> Result<Node, SchemaError> {
        let default = schema.default.clone().filter(|d| !d.is_null());
        let null_branch = schema
            .optional
            .then_some(if default.is_some() { 1 } else { 0 });
        match null_branch {
            Some(0) => out.extend_from_slice(b"[\"null\","),
            Some(_) => out.push(b'['),
            None => {}
        }
        let kind = self.base(schema, default.as_ref(), out)?;
        match null_branch {
            Some(0) => out.push(b']'),
            Some(_) => out.extend_from_slice(b",\"null\"]"),
            None => {}
        }
        Ok(Node {
            kind,
            null_branch,
            default,
        })
    }

    /// The type itself, with the Connect schema's metadata as properties.
    fn base(
        &mut self,
        schema: &ConnectSchema,
        default: Option<&Value>,
        out: &mut Vec<u8>,
    ) -> Result<Kind, SchemaError> {
        if schema.ty == "struct" {
            return self.record(schema, default, out);
        }
        let mut props: Vec<(&str, Vec<u8>)> = Vec::new();
        let raw = |text: &str| text.as_bytes().to_vec();
        let (avro, kind) = match schema.ty.as_str() {
            "int8" | "int16" => ("int", Kind::Int),
            "int32" => ("int", Kind::Int),
            "int64" => ("long", Kind::Long),
            "float" => ("float", Kind::Float),
            "double" => ("double", Kind::Double),
            "boolean" => ("boolean", Kind::Boolean),
            "string" => ("string", Kind::String),
            "bytes" => {
                if schema.name.as_deref() == Some(DECIMAL) {
                    let params = schema.parameters.as_ref();
                    let param = |name: &str| params.and_then(|p| p.get(name));
                    let scale = param("scale").and_then(|s| s.parse::<u32>().ok());
                    let precision =
                        param(DECIMAL_PRECISION).map_or(DEFAULT_DECIMAL_PRECISION, String::as_str);
                    let (Some(scale), Ok(precision)) = (scale, precision.parse::<u32>()) else {
                        return Err(unsupported(
                            "a Decimal without an integer scale and precision",
                        ));
                    };
                    props.push(("scale", raw(&scale.to_string())));
                    props.push(("precision", raw(&precision.to_string())));
                }
                ("bytes", Kind::Bytes)
            }
            "array" => {
                let items = schema
                    .items
                    .as_deref()
                    .ok_or_else(|| unsupported("an array schema without items"))?;
                let mut text = Vec::new();
                let node = self.schema(items, &mut text)?;
                props.push(("items", text));
                ("array", Kind::Array(Box::new(node)))
            }
            "map" => {
                let (Some(keys), Some(values)) = (schema.keys.as_deref(), schema.values.as_deref())
                else {
                    return Err(unsupported("a map schema without keys or values"));
                };
                if keys.ty != "string" || keys.optional {
                    return Err(unsupported(
                        "a map whose keys are not required strings (AvroData's MapEntry arrays)",
                    ));
                }
                let mut text = Vec::new();
                let node = self.schema(values, &mut text)?;
                props.push(("values", text));
                ("map", Kind::Map(Box::new(node)))
            }
            other => return Err(unsupported(&format!("the Connect type {other}"))),
        };
        let logical = match schema.name.as_deref() {
            Some(DECIMAL) => Some("decimal"),
            Some("org.apache.kafka.connect.data.Date") => Some("date"),
            Some("org.apache.kafka.connect.data.Time") => Some("time-millis"),
            Some("org.apache.kafka.connect.data.Timestamp") => Some("timestamp-millis"),
            _ => None,
        };
        self.metadata(schema, default, &kind, &mut props)?;
        if matches!(schema.ty.as_str(), "int8" | "int16") {
            props.push(("connect.type", quoted(&schema.ty)));
        }
        if let Some(logical) = logical {
            props.push(("logicalType", quoted(logical)));
        }
        if props.is_empty() {
            out.extend_from_slice(&quoted(avro));
        } else {
            out.extend_from_slice(b"{\"type\":");
            out.extend_from_slice(&quoted(avro));
            write_props(&props, out);
            out.push(b'}');
        }
        Ok(kind)
    }

    /// A struct's record, or its name when it was defined before in this schema.
    fn record(
        &mut self,
        schema: &ConnectSchema,
        default: Option<&Value>,
        out: &mut Vec<u8>,
    ) -> Result<Kind, SchemaError> {
        if default.is_some() {
            return Err(unsupported("a struct with a default"));
        }
        let full = match &schema.name {
            Some(name) => name.clone(),
            None => {
                self.unnamed += 1;
                if self.unnamed > 1 {
                    return Err(unsupported("a second struct without a name in one schema"));
                }
                format!("{DEFAULT_NAMESPACE}.{DEFAULT_NAME}")
            }
        };
        let (space, name) = match full.rsplit_once('.') {
            Some((space, name)) => (Some(space.to_owned()), name.to_owned()),
            None => (None, full.clone()),
        };
        for part in space
            .iter()
            .flat_map(|s| s.split('.'))
            .chain([name.as_str()])
        {
            if !valid_name(part) {
                return Err(SchemaError::InvalidName { name: full });
            }
        }
        let identity = ConnectSchema {
            field: None,
            optional: false,
            ..schema.clone()
        };
        if let Some((defined, kind)) = self.defined.get(&full) {
            if *defined != identity {
                return Err(SchemaError::Redefined { name: full });
            }
            let reference = if space.is_some() && space == self.space {
                name
            } else {
                full
            };
            out.extend_from_slice(&quoted(&reference));
            return Ok(kind.clone());
        }
        out.extend_from_slice(b"{\"type\":\"record\",\"name\":");
        out.extend_from_slice(&quoted(&name));
        match &space {
            Some(space) if self.space.as_ref() != Some(space) => {
                out.extend_from_slice(b",\"namespace\":");
                out.extend_from_slice(&quoted(space));
            }
            None if self.space.is_some() => out.extend_from_slice(b",\"namespace\":\"\""),
            _ => {}
        }
        out.extend_from_slice(b",\"fields\":[");
        let outer = std::mem::replace(&mut self.space, space);
        let mut fields = Vec::with_capacity(schema.fields.len());
        for (i, field) in schema.fields.iter().enumerate() {
            let field_name = field
                .field
                .clone()
                .ok_or_else(|| unsupported("a struct field without a name"))?;
            if !valid_name(&field_name) {
                return Err(SchemaError::InvalidName { name: field_name });
            }
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"name\":");
            out.extend_from_slice(&quoted(&field_name));
            out.extend_from_slice(b",\"type\":");
            let node = self.schema(field, out)?;
            match &node.default {
                Some(default) => {
                    out.extend_from_slice(b",\"default\":");
                    out.extend_from_slice(&avro_default(&node.kind, default)?);
                }
                None if field.optional => out.extend_from_slice(b",\"default\":null"),
                None => {}
            }
            out.push(b'}');
            fields.push((field_name, node));
        }
        self.space = outer;
        out.push(b']');
        let kind = Kind::Record(fields);
        let mut props = Vec::new();
        self.metadata(schema, None, &kind, &mut props)?;
        write_props(&props, out);
        out.push(b'}');
        self.defined.insert(full, (identity, kind.clone()));
        Ok(kind)
    }

    /// `connect.doc`, `connect.version`, `connect.parameters`, `connect.default`, `connect.name`.
    fn metadata(
        &self,
        schema: &ConnectSchema,
        default: Option<&Value>,
        kind: &Kind,
        props: &mut Vec<(&'static str, Vec<u8>)>,
    ) -> Result<(), SchemaError> {
        if let Some(doc) = &schema.doc {
            props.push(("connect.doc", quoted(doc)));
        }
        if let Some(version) = schema.version {
            props.push(("connect.version", version.to_string().into_bytes()));
        }
        if let Some(parameters) = &schema.parameters {
            let mut text = vec![b'{'];
            for (i, (key, value)) in parameters.iter().enumerate() {
                if i > 0 {
                    text.push(b',');
                }
                text.extend_from_slice(&quoted(key));
                text.push(b':');
                text.extend_from_slice(&quoted(value));
            }
            text.push(b'}');
            props.push(("connect.parameters", text));
        }
        if let Some(default) = default {
            props.push(("connect.default", avro_default(kind, default)?));
        }
        if let Some(name) = &schema.name {
            props.push(("connect.name", quoted(name)));
        }
        Ok(())
    }
}

fn unsupported(what: &str) -> SchemaError {
    SchemaError::Unsupported {
        what: what.to_owned(),
    }
}

fn quoted(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 2);
    write_json_string(&mut out, text);
    out
}

fn write_props(props: &[(&str, Vec<u8>)], out: &mut Vec<u8>) {
    for (name, value) in props {
        out.push(b',');
        out.extend_from_slice(&quoted(name));
        out.push(b':');
        out.extend_from_slice(value);
    }
}

/// Avro's name rule: `[A-Za-z_][A-Za-z0-9_]*`.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A primitive default, as the field's `default` and the type's `connect.default` both hold it:
/// the JSON value, bytes as a string of the code points 0-255 the bytes are (Avro's form; JSON's
/// base64 decoded).
fn avro_default(kind: &Kind, default: &Value) -> Result<Vec<u8>, SchemaError> {
    match (kind, default) {
        (Kind::Bytes, Value::String(base64)) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(base64)
                .map_err(|_| unsupported("a bytes default that is not base64"))?;
            Ok(quoted(
                &bytes.iter().map(|&b| char::from(b)).collect::<String>(),
            ))
        }
        (Kind::Boolean, Value::Bool(_))
        | (Kind::Int | Kind::Long | Kind::Float | Kind::Double, Value::Number(_))
        | (Kind::String, Value::String(_)) => {
            Ok(serde_json::to_vec(default).expect("a JSON value"))
        }
        _ => Err(unsupported("a default of this type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_maps_as_avrodata_maps_it() {
        let value = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"},{"type":"string","optional":true,"default":"active","field":"status"},{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"price"},{"type":"int64","optional":true,"name":"io.debezium.time.MicroTimestamp","version":1,"field":"created"},{"type":"int16","optional":false,"field":"small"}],"optional":true,"name":"dbserver1.public.customers.Value","field":"before"}"#;
        let envelope = format!(
            r#"{{"type":"struct","fields":[{value},{},{{"type":"string","optional":false,"field":"op"}},{{"type":"int64","optional":true,"field":"ts_ms"}}],"optional":false,"name":"dbserver1.public.customers.Envelope","version":2}}"#,
            value.replace(r#""field":"before""#, r#""field":"after""#)
        );
        let schema = AvroSchema::from_connect_json(&envelope).unwrap();
        assert_eq!(
            schema.text,
            concat!(
                r#"{"type":"record","name":"Envelope","namespace":"dbserver1.public.customers","fields":["#,
                r#"{"name":"before","type":["null",{"type":"record","name":"Value","fields":["#,
                r#"{"name":"id","type":"int"},"#,
                r#"{"name":"name","type":["null","string"],"default":null},"#,
                r#"{"name":"status","type":[{"type":"string","connect.default":"active"},"null"],"default":"active"},"#,
                r#"{"name":"price","type":["null",{"type":"bytes","scale":2,"precision":10,"connect.version":1,"connect.parameters":{"scale":"2","connect.decimal.precision":"10"},"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}],"default":null},"#,
                r#"{"name":"created","type":["null",{"type":"long","connect.version":1,"connect.name":"io.debezium.time.MicroTimestamp"}],"default":null},"#,
                r#"{"name":"small","type":{"type":"int","connect.type":"int16"}}"#,
                r#"],"connect.name":"dbserver1.public.customers.Value"}],"default":null},"#,
                r#"{"name":"after","type":["null","Value"],"default":null},"#,
                r#"{"name":"op","type":"string"},"#,
                r#"{"name":"ts_ms","type":["null","long"],"default":null}"#,
                r#"],"connect.version":2,"connect.name":"dbserver1.public.customers.Envelope"}"#
            )
        );
        let Kind::Record(fields) = &schema.root.kind else {
            panic!("a record")
        };
        assert_eq!(fields[0].1, fields[1].1, "after reuses before's record");
    }

    #[test]
    fn names_avro_refuses_are_errors() {
        let key = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"my-db.public.t.Key"}"#;
        assert!(matches!(
            AvroSchema::from_connect_json(key),
            Err(SchemaError::InvalidName { name }) if name == "my-db.public.t.Key"
        ));
        let key = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"my id"}],"optional":false,"name":"db.public.t.Key"}"#;
        assert!(matches!(
            AvroSchema::from_connect_json(key),
            Err(SchemaError::InvalidName { .. })
        ));
    }

    #[test]
    fn a_nested_record_in_another_namespace_names_it_and_bytes_defaults_are_latin1() {
        let value = r#"{"type":"struct","fields":[{"type":"struct","fields":[{"type":"int32","optional":false,"field":"scale"},{"type":"bytes","optional":false,"field":"value"}],"optional":true,"name":"io.debezium.data.VariableScaleDecimal","version":1,"doc":"Variable scaled decimal","field":"v"},{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"default":"AP8=","field":"d"},{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":true},"optional":true,"field":"h"},{"type":"array","items":{"type":"int32","optional":true},"optional":true,"field":"a"}],"optional":false,"name":"p.s.t.Value"}"#;
        let schema = AvroSchema::from_connect_json(value).unwrap();
        assert_eq!(
            schema.text,
            concat!(
                r#"{"type":"record","name":"Value","namespace":"p.s.t","fields":["#,
                r#"{"name":"v","type":["null",{"type":"record","name":"VariableScaleDecimal","namespace":"io.debezium.data","fields":[{"name":"scale","type":"int"},{"name":"value","type":"bytes"}],"connect.doc":"Variable scaled decimal","connect.version":1,"connect.name":"io.debezium.data.VariableScaleDecimal"}],"default":null},"#,
                r#"{"name":"d","type":{"type":"bytes","scale":2,"precision":64,"connect.version":1,"connect.parameters":{"scale":"2"},"connect.default":"\u0000ÿ","connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"},"default":"\u0000ÿ"},"#,
                r#"{"name":"h","type":["null",{"type":"map","values":["null","string"]}],"default":null},"#,
                r#"{"name":"a","type":["null",{"type":"array","items":["null","int"]}],"default":null}"#,
                r#"],"connect.name":"p.s.t.Value"}"#
            )
        );
    }
}
