//! Kafka Connect's `Cast$Key` / `$Value`: primitives converted as Java converts them — integers
//! narrowed by wrapping, floats to integers by truncation (saturating, NaN to 0), strings parsed,
//! anything to a string by its `toString` (which is the JSON text JsonConverter wrote: Java's
//! number formatting, base64 bytes).

use indexmap::IndexMap;
use walbridge_config::transforms::{Cast, CastSpec, CastType, Part};

use super::json::Json;
use super::{Data, Record, TransformError};

const TRANSFORM: &str = "Cast";

/// A primitive as Connect holds it.
enum Primitive {
    Int(i64),
    /// The value, and whether it is a `float32` (JsonConverter's `float`).
    Float(f64, bool),
    Bool(bool),
    Text(String),
    /// Base64, as JsonConverter writes bytes.
    Bytes(String),
}

/// `Cast$Key` / `$Value`.
pub(super) fn apply(which: Part, cast: &Cast, record: &mut Record) -> Result<(), TransformError> {
    let data = match which {
        Part::Key => record.key.as_mut(),
        Part::Value => record.value.as_mut(),
    };
    match &cast.spec {
        CastSpec::Whole(to) => {
            // a record without this part passes, as Connect's null does
            let Some(data) = data else { return Ok(()) };
            let what = match which {
                Part::Key => "the key",
                Part::Value => "the value",
            };
            let schema = data.schema.object().ok_or(TransformError::NoSchema)?;
            data.payload = cast_value(&data.payload, schema, *to, what)?;
            cast_schema(schema, *to, what)?;
            Ok(())
        }
        CastSpec::Fields(fields) => {
            let not_a_struct = || TransformError::NotAStruct {
                transform: TRANSFORM,
            };
            let data = data
                .filter(|d| !d.payload.is_null())
                .ok_or_else(not_a_struct)?;
            cast_fields(data, fields, cast.replace_null_with_default)
        }
    }
}

fn cast_fields(
    data: &mut Data,
    casts: &[(String, CastType)],
    replace_null_with_default: bool,
) -> Result<(), TransformError> {
    let fields =
        data.schema
            .get("fields")
            .and_then(Json::array)
            .ok_or(TransformError::NotAStruct {
                transform: TRANSFORM,
            })?;
    let row = data.payload.object().ok_or(TransformError::NotAStruct {
        transform: TRANSFORM,
    })?;
    for field in fields.iter_mut() {
        let schema = field.object().ok_or(TransformError::NoSchema)?;
        let name = schema
            .get("field")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let value = row.entry(name.clone()).or_insert_with(Json::null);
        if replace_null_with_default
            && value.is_null()
            && let Some(default) = schema.get("default")
        {
            *value = default.clone();
        }
        // the last entry for a field wins, as in Connect's map of them
        let Some((_, to)) = casts.iter().rev().find(|(n, _)| *n == name) else {
            continue;
        };
        *value = cast_value(value, schema, *to, &name)?;
        let mut cast = IndexMap::new();
        cast.insert("type".to_owned(), Json::string(to.json_type()));
        cast.insert(
            "optional".to_owned(),
            schema.get("optional").cloned().unwrap_or(Json::bool(false)),
        );
        if let Some(default) = schema.get("default") {
            let default = cast_value(default, schema, *to, &name)?;
            cast.insert("default".to_owned(), default);
        }
        cast.insert("field".to_owned(), Json::string(&name));
        *schema = cast;
    }
    Ok(())
}

/// The whole key's or value's schema cast: its name, version, doc and parameters kept.
fn cast_schema(
    schema: &mut IndexMap<String, Json>,
    to: CastType,
    what: &str,
) -> Result<(), TransformError> {
    if let Some(default) = schema.get("default") {
        let default = cast_value(default, schema, to, what)?;
        schema.insert("default".to_owned(), default);
    }
    schema.insert("type".to_owned(), Json::string(to.json_type()));
    Ok(())
}

fn type_of(schema: &IndexMap<String, Json>) -> String {
    let name = schema.get("name").and_then(Json::as_str);
    let kind = schema.get("type").and_then(Json::as_str);
    name.or(kind).unwrap_or_default()
}

/// `value` of a field with `schema`, cast to `to`.
fn cast_value(
    value: &Json,
    schema: &IndexMap<String, Json>,
    to: CastType,
    field: &str,
) -> Result<Json, TransformError> {
    if value.is_null() {
        return Ok(Json::null());
    }
    let unconvertible = || TransformError::Unconvertible {
        transform: TRANSFORM,
        field: field.to_owned(),
        from: type_of(schema),
        to: to.name(),
    };
    let text = value.literal_text().ok_or_else(unconvertible)?;
    let from = schema
        .get("type")
        .and_then(Json::as_str)
        .unwrap_or_default();
    // Connect's Decimal is bytes holding a BigDecimal, which Cast converts as a number
    if schema.get("name").and_then(Json::as_str).as_deref()
        == Some("org.apache.kafka.connect.data.Decimal")
    {
        return Err(unconvertible());
    }
    let unquoted = || serde_json::from_str::<String>(text).ok();
    let primitive = match from.as_str() {
        "int8" | "int16" | "int32" | "int64" => text.parse().ok().map(Primitive::Int),
        // non-finite floats are written as the strings "NaN", "Infinity" and "-Infinity"
        "float" => text
            .parse::<f32>()
            .ok()
            .map(f64::from)
            .or_else(|| java_float(&unquoted()?))
            .map(|v| Primitive::Float(v, true)),
        "double" => text
            .parse()
            .ok()
            .or_else(|| java_float(&unquoted()?))
            .map(|v| Primitive::Float(v, false)),
        "boolean" => text.parse().ok().map(Primitive::Bool),
        "string" => unquoted().map(Primitive::Text),
        "bytes" => unquoted().map(Primitive::Bytes),
        _ => None,
    }
    .ok_or_else(unconvertible)?;
    let cast = match primitive {
        // bytes only to a string, their base64 as JsonConverter wrote it
        Primitive::Bytes(text) => (to == CastType::String).then(|| Json::string(&text)),
        Primitive::Int(v) => Some(from_int(v, to)),
        Primitive::Float(v, single) => Some(from_float(v, single, to)),
        Primitive::Bool(v) if to == CastType::String => Some(Json::string(&v.to_string())),
        Primitive::Bool(v) => Some(from_int(i64::from(v), to)),
        Primitive::Text(text) => from_text(&text, to),
    };
    cast.ok_or_else(unconvertible)
}

/// Java's `Float.toString` / `Double.toString` of a non-finite value, read back.
fn java_float(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

fn int(v: i64) -> Json {
    Json::literal(v.to_string())
}

/// The float as JsonConverter writes it: Java's digits, non-finite values as strings.
#[allow(clippy::cast_possible_truncation)]
fn float(v: f64, single: bool) -> Json {
    let mut out = Vec::new();
    walbridge_event::write_java_float(&mut out, v, single.then_some(v as f32));
    Json::literal(String::from_utf8(out).expect("digits are UTF-8"))
}

/// Java's `Float.toString` / `Double.toString`.
fn float_text(v: f64, single: bool) -> String {
    let json = float(v, single);
    let text = json.literal_text().unwrap_or_default();
    text.trim_matches('"').to_owned()
}

/// `Number.byteValue()` … of a `Long` (or a boolean's 1 and 0): narrowing wraps.
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn from_int(v: i64, to: CastType) -> Json {
    match to {
        CastType::Int8 => int(i64::from(v as i8)),
        CastType::Int16 => int(i64::from(v as i16)),
        CastType::Int32 => int(i64::from(v as i32)),
        CastType::Int64 => int(v),
        CastType::Float32 => float(f64::from(v as f32), true),
        CastType::Float64 => float(v as f64, false),
        CastType::Boolean => Json::bool(v != 0),
        CastType::String => Json::string(&v.to_string()),
    }
}

/// `Number.byteValue()` … of a `Float` or `Double`: to an integer by truncation, saturating, NaN
/// as 0 (Rust's `as` is Java's narrowing conversion here), then narrowed by wrapping.
#[allow(clippy::cast_possible_truncation)]
fn from_float(v: f64, single: bool, to: CastType) -> Json {
    match to {
        CastType::Int8 => int(i64::from(v as i32 as i8)),
        CastType::Int16 => int(i64::from(v as i32 as i16)),
        CastType::Int32 => int(i64::from(v as i32)),
        CastType::Int64 => int(v as i64),
        CastType::Float32 => float(f64::from(v as f32), true),
        CastType::Float64 => float(v, false),
        CastType::Boolean => Json::bool(v as i64 != 0),
        CastType::String => Json::string(&float_text(v, single)),
    }
}

/// `Byte.parseByte`, …, `Boolean.parseBoolean` of a string; `None` where Java throws.
fn from_text(text: &str, to: CastType) -> Option<Json> {
    Some(match to {
        CastType::Int8 => int(i64::from(text.parse::<i8>().ok()?)),
        CastType::Int16 => int(i64::from(text.parse::<i16>().ok()?)),
        CastType::Int32 => int(i64::from(text.parse::<i32>().ok()?)),
        CastType::Int64 => int(text.parse::<i64>().ok()?),
        // Java trims and accepts "NaN" and "Infinity"; its f/d suffixes and hexadecimal forms
        // are refused here rather than read otherwise
        CastType::Float32 => {
            let v: f32 = java_float(text.trim())
                .map(|v| v as f32)
                .or_else(|| rust_float(text.trim()))?;
            float(f64::from(v), true)
        }
        CastType::Float64 => float(
            java_float(text.trim()).or_else(|| rust_float(text.trim()))?,
            false,
        ),
        CastType::Boolean => Json::bool(text.eq_ignore_ascii_case("true")),
        CastType::String => Json::string(text),
    })
}

/// A decimal number as both Java and Rust read it (no `inf`/`nan` spellings, which Java refuses).
fn rust_float<F: std::str::FromStr>(text: &str) -> Option<F> {
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    plain.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(type_name: &str) -> IndexMap<String, Json> {
        let mut schema = IndexMap::new();
        schema.insert("type".to_owned(), Json::string(type_name));
        schema
    }

    fn cast(text: &str, from: &str, to: CastType) -> Option<String> {
        let value = Json::literal(text.to_owned());
        let cast = cast_value(&value, &schema(from), to, "f").ok()?;
        let mut out = Vec::new();
        cast.write(&mut out);
        Some(String::from_utf8(out).unwrap())
    }

    #[test]
    fn values_are_cast_as_java_casts_them() {
        use CastType::*;
        // narrowing wraps; floats truncate, saturate, and NaN is 0
        assert_eq!(cast("300", "int32", Int8).unwrap(), "44");
        assert_eq!(cast("-129", "int64", Int8).unwrap(), "127");
        assert_eq!(cast("70000", "int32", Int16).unwrap(), "4464");
        assert_eq!(cast("3.99", "double", Int32).unwrap(), "3");
        assert_eq!(cast("-3.99", "double", Int64).unwrap(), "-3");
        assert_eq!(cast("1.0E20", "double", Int32).unwrap(), "2147483647");
        assert_eq!(cast("1.0E20", "double", Int8).unwrap(), "-1");
        assert_eq!(cast("\"NaN\"", "double", Int64).unwrap(), "0");
        assert_eq!(cast("0.5", "double", Boolean).unwrap(), "false");
        assert_eq!(cast("1.5", "float", Boolean).unwrap(), "true");
        // floats printed as Java prints them
        assert_eq!(cast("16777217", "int64", Float32).unwrap(), "1.6777216E7");
        assert_eq!(cast("3", "int32", Float64).unwrap(), "3.0");
        assert_eq!(
            cast("0.1", "float", Float64).unwrap(),
            "0.10000000149011612"
        );
        assert_eq!(cast("0.1", "double", Float32).unwrap(), "0.1");
        // anything to a string by its toString
        assert_eq!(cast("1.0E10", "double", String).unwrap(), "\"1.0E10\"");
        assert_eq!(cast("\"NaN\"", "float", String).unwrap(), "\"NaN\"");
        assert_eq!(cast("true", "boolean", String).unwrap(), "\"true\"");
        assert_eq!(cast("\"AQI=\"", "bytes", String).unwrap(), "\"AQI=\"");
        assert_eq!(cast("true", "boolean", Int16).unwrap(), "1");
        // strings parsed as Java parses them, and refused where Java throws
        assert_eq!(cast("\"-12\"", "string", Int8).unwrap(), "-12");
        assert_eq!(cast("\" 2.5 \"", "string", Float64).unwrap(), "2.5");
        assert_eq!(cast("\"TRUE\"", "string", Boolean).unwrap(), "true");
        assert_eq!(cast("\"yes\"", "string", Boolean).unwrap(), "false");
        assert_eq!(
            cast("\"Infinity\"", "string", Float32).unwrap(),
            "\"Infinity\""
        );
        assert_eq!(cast("\"128\"", "string", Int8), None);
        assert_eq!(cast("\" 1\"", "string", Int32), None);
        assert_eq!(cast("\"inf\"", "string", Float64), None);
        assert_eq!(cast("\"AQI=\"", "bytes", Int32), None);
        assert_eq!(cast("{}", "struct", String), None);
        assert_eq!(cast("null", "int32", String).unwrap(), "null");
    }
}
