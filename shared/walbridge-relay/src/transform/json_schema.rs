//! A Connect schema and struct inferred from a JSON document, as Debezium's `JsonSchemaData`
//! infers them (for `DecodeLogicalDecodingMessageContent`): every schema optional; strings,
//! booleans, `int32`/`int64` by the integer's size, `float64` for a number with a fraction or
//! exponent; a struct per object, named by its path (`a.b`; the document itself unnamed); an array
//! typed by its first non-null element; a null field left out (or, with `fields.null.include`,
//! optional bytes); an empty array left out.
//!
//! What Debezium's would fail the task on fails here too: an array mixing types or integer sizes,
//! an array of nulls, an integer beyond 64 bits. One case Debezium resolves in a hash set's order
//! (an array of objects of different shapes, merged) is refused rather than guessed.

use indexmap::IndexMap;

use super::json::Json;

/// Why a document has no inferred schema and struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refused {
    /// Debezium's inference fails on it too (what it then does is the transform's choice).
    Fails(&'static str),
    /// Debezium's succeeds in a way walbridge does not reproduce.
    Unreproducible(&'static str),
}

/// How nulls and empty arrays are inferred (`fields.null.include`, EventRouter's
/// `table.json.payload.null.behavior` and `table.json.payload.empty.array.behavior`).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Options {
    /// A null field as optional bytes, instead of left out.
    pub(super) null_fields: bool,
    /// An empty array as an optional array of optional strings, instead of left out.
    pub(super) empty_arrays: bool,
}

/// An inferred schema (all optional, as Debezium infers them).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Inferred {
    String,
    Boolean,
    Int32,
    Int64,
    Float64,
    /// A null field, with `fields.null.include`.
    Bytes,
    Array(Box<Inferred>),
    Struct {
        name: Option<String>,
        fields: Vec<(String, Inferred)>,
    },
}

/// The kind of a JSON value, as Jackson's node types tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    String,
    Boolean,
    /// A number, with the schema Debezium gives it.
    Number(Number),
    Array,
    Object,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Number {
    Int,
    Long,
    /// A fraction or exponent: Jackson's double.
    Double,
    /// An integer beyond 64 bits.
    Big,
}

fn kind(value: &Json) -> Kind {
    match value {
        Json::Object(_) => Kind::Object,
        Json::Array(_) => Kind::Array,
        Json::Raw(raw) => {
            let text = raw.get();
            match text.as_bytes().first() {
                Some(b'{') => Kind::Object,
                Some(b'[') => Kind::Array,
                Some(b'"') => Kind::String,
                Some(b't' | b'f') => Kind::Boolean,
                Some(b'n') | None => Kind::Null,
                Some(_) if text.contains(['.', 'e', 'E']) => Kind::Number(Number::Double),
                Some(_) if text.parse::<i32>().is_ok() => Kind::Number(Number::Int),
                Some(_) if text.parse::<i64>().is_ok() => Kind::Number(Number::Long),
                Some(_) => Kind::Number(Number::Big),
            }
        }
    }
}

/// What Debezium's inference fails on.
fn refused(what: &'static str) -> Refused {
    Refused::Fails(what)
}

/// The schema of `value` at `key` (a struct's name), `None` where Debezium leaves the field out.
pub(super) fn infer(
    key: Option<&str>,
    value: &mut Json,
    options: Options,
) -> Result<Option<Inferred>, Refused> {
    Ok(match kind(value) {
        Kind::String => Some(Inferred::String),
        Kind::Boolean => Some(Inferred::Boolean),
        Kind::Number(Number::Int) => Some(Inferred::Int32),
        Kind::Number(Number::Long) => Some(Inferred::Int64),
        Kind::Number(Number::Double | Number::Big) => Some(Inferred::Float64),
        Kind::Null => options.null_fields.then_some(Inferred::Bytes),
        Kind::Array => {
            let elements = value.array().ok_or_else(|| refused("an array"))?;
            if elements.is_empty() {
                options
                    .empty_arrays
                    .then(|| Inferred::Array(Box::new(Inferred::String)))
            } else {
                Some(Inferred::Array(Box::new(element_schema(
                    key, elements, options,
                )?)))
            }
        }
        Kind::Object => {
            let members = value.object().ok_or_else(|| refused("an object"))?;
            let mut fields: Vec<(String, Inferred)> = Vec::with_capacity(members.len());
            for (name, member) in members.iter_mut() {
                let path = match key {
                    Some(key) if !key.trim().is_empty() => format!("{key}.{name}"),
                    _ => name.clone(),
                };
                if let Some(schema) = infer(Some(&path), member, options)?
                    && !fields.iter().any(|(n, _)| n == name)
                {
                    fields.push((name.clone(), schema));
                }
            }
            Some(Inferred::Struct {
                name: key.map(str::to_owned),
                fields,
            })
        }
    })
}

/// The schema of an array's elements: its first non-null element's, every other of the same kind
/// (and numbers of the same size).
fn element_schema(
    key: Option<&str>,
    elements: &mut [Json],
    options: Options,
) -> Result<Inferred, Refused> {
    let kinds: Vec<Kind> = elements.iter().map(kind).collect();
    let first = kinds.iter().position(|k| *k != Kind::Null);
    let Some(first) = first else {
        return Err(refused("an array of nulls only"));
    };
    if kinds.iter().any(|k| *k != Kind::Null && *k != kinds[first]) {
        return Err(refused(
            "an array mixing types (or integer sizes, or integers and fractions)",
        ));
    }
    if kinds[first] == Kind::Object {
        let mut shapes: Vec<Inferred> = Vec::new();
        for element in elements.iter_mut() {
            if kind(element) == Kind::Object
                && let Some(shape) = infer(key, element, options)?
                && !shapes.contains(&shape)
            {
                shapes.push(shape);
            }
        }
        return match <[Inferred; 1]>::try_from(shapes) {
            Ok([shape]) => Ok(shape),
            Err(_) => Err(Refused::Unreproducible(
                "an array of objects of different shapes (Debezium merges them in the order of a \
                 hash set)",
            )),
        };
    }
    infer(None, &mut elements[first], options)?
        .ok_or_else(|| refused("an array whose elements have no schema"))
}

impl Inferred {
    /// The schema as JsonConverter writes it, `field` named when it is a struct's field.
    pub(super) fn schema(&self, field: Option<&str>) -> Json {
        let mut members = IndexMap::new();
        let type_name = match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Int32 => "int32",
            Self::Int64 => "int64",
            Self::Float64 => "double",
            Self::Bytes => "bytes",
            Self::Array(_) => "array",
            Self::Struct { .. } => "struct",
        };
        members.insert("type".to_owned(), Json::string(type_name));
        match self {
            Self::Array(items) => {
                members.insert("items".to_owned(), items.schema(None));
            }
            Self::Struct { fields, .. } => {
                let fields = fields
                    .iter()
                    .map(|(name, schema)| schema.schema(Some(name)))
                    .collect();
                members.insert("fields".to_owned(), Json::Array(fields));
            }
            _ => {}
        }
        members.insert("optional".to_owned(), Json::bool(true));
        if let Self::Struct {
            name: Some(name), ..
        } = self
        {
            members.insert("name".to_owned(), Json::string(name));
        }
        if let Some(field) = field {
            members.insert("field".to_owned(), Json::string(field));
        }
        Json::Object(members)
    }

    /// `value` as JsonConverter writes it under this schema.
    pub(super) fn payload(&self, value: &mut Json) -> Result<Json, Refused> {
        let mismatch =
            || refused("a value that does not fit the schema its array's first element gave");
        let kind = kind(value);
        if kind == Kind::Null {
            return Ok(Json::null());
        }
        Ok(match (self, kind) {
            (Self::String, Kind::String) => {
                let text = value.as_str().ok_or_else(mismatch)?;
                Json::string(&text)
            }
            (Self::Boolean, Kind::Boolean)
            | (Self::Int32, Kind::Number(Number::Int))
            | (Self::Int64, Kind::Number(Number::Long)) => value.clone(),
            (Self::Float64, Kind::Number(Number::Double)) => {
                let text = value.literal_text().ok_or_else(mismatch)?;
                let number: f64 = text.parse().map_err(|_| mismatch())?;
                let mut out = Vec::new();
                walbridge_event::write_java_float(&mut out, number, None);
                Json::literal(String::from_utf8(out).map_err(|_| mismatch())?)
            }
            (Self::Float64, Kind::Number(Number::Big)) => {
                return Err(refused("an integer beyond 64 bits"));
            }
            (Self::Array(items), Kind::Array) => {
                let elements = value.array().ok_or_else(mismatch)?;
                Json::Array(
                    elements
                        .iter_mut()
                        .map(|element| items.payload(element))
                        .collect::<Result<_, _>>()?,
                )
            }
            (Self::Struct { fields, .. }, Kind::Object) => {
                let members = value.object().ok_or_else(mismatch)?;
                let mut row = IndexMap::with_capacity(fields.len());
                for (name, schema) in fields {
                    let field = match members.get_mut(name) {
                        Some(member) => schema.payload(member)?,
                        None => Json::null(),
                    };
                    row.insert(name.clone(), field);
                }
                Json::Object(row)
            }
            _ => return Err(mismatch()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inferred(text: &str, null_fields: bool) -> Result<(String, String), Refused> {
        let mut doc = Json::parse(text.as_bytes()).unwrap();
        let options = Options {
            null_fields,
            empty_arrays: false,
        };
        let schema = infer(None, &mut doc, options)?.expect("a schema");
        let payload = schema.payload(&mut doc)?;
        let (mut s, mut p) = (Vec::new(), Vec::new());
        schema.schema(None).write(&mut s);
        payload.write(&mut p);
        Ok((String::from_utf8(s).unwrap(), String::from_utf8(p).unwrap()))
    }

    #[test]
    fn documents_are_inferred_as_debeziums_json_schema_data_infers_them() {
        let (schema, payload) = inferred(
            r#"{"id":7,"big":3000000000,"f":1e2,"s":"a\u0001é","t":true,"n":null,"e":[],"o":{"p":[{"q":1},{"q":2}]},"l":[[1,null]]}"#,
            false,
        )
        .unwrap();
        assert_eq!(
            schema,
            concat!(
                r#"{"type":"struct","fields":[{"type":"int32","optional":true,"field":"id"},"#,
                r#"{"type":"int64","optional":true,"field":"big"},{"type":"double","optional":true,"field":"f"},"#,
                r#"{"type":"string","optional":true,"field":"s"},{"type":"boolean","optional":true,"field":"t"},"#,
                r#"{"type":"struct","fields":[{"type":"array","items":{"type":"struct","fields":[{"type":"int32","optional":true,"field":"q"}],"optional":true,"name":"o.p"},"optional":true,"field":"p"}],"optional":true,"name":"o","field":"o"},"#,
                r#"{"type":"array","items":{"type":"array","items":{"type":"int32","optional":true},"optional":true},"optional":true,"field":"l"}],"optional":true}"#
            )
        );
        assert_eq!(
            payload,
            r#"{"id":7,"big":3000000000,"f":100.0,"s":"a\u0001é","t":true,"o":{"p":[{"q":1},{"q":2}]},"l":[[1,null]]}"#
        );
        let (schema, payload) = inferred(r#"{"n":null}"#, true).unwrap();
        assert_eq!(
            schema,
            r#"{"type":"struct","fields":[{"type":"bytes","optional":true,"field":"n"}],"optional":true}"#
        );
        assert_eq!(payload, r#"{"n":null}"#);
        for refused in [
            r#"{"a":[1,2.5]}"#,
            r#"{"a":[1,3000000000]}"#,
            r#"{"a":[null]}"#,
            r#"{"a":12345678901234567890}"#,
            r#"{"a":[{"x":1},{"y":1}]}"#,
        ] {
            assert!(inferred(refused, false).is_err(), "{refused}");
        }
    }
}
