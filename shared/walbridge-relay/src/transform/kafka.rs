//! Kafka Connect's own transforms (`org.apache.kafka.connect.transforms.*`), as they work on
//! records with schemas: a struct's new schema keeps the old one's name, version and parameters
//! and is required (Connect's `SchemaUtil.copySchemaBasics`), a null value passes unchanged where
//! Connect's does, and what makes Connect's fail the task fails the invocation.

use indexmap::IndexMap;
use walbridge_config::transforms::{HeaderFrom, InsertField, InsertedField, Part, ReplaceField};

use super::json::Json;
use super::{Data, Header, HeaderValue, Record, TransformError};

fn part(record: &mut Record, part: Part) -> Option<&mut Data> {
    match part {
        Part::Key => record.key.as_mut(),
        Part::Value => record.value.as_mut(),
    }
}

/// The struct schema's copy that Connect's transforms build: name, version, doc and parameters
/// kept, required, no default; `fields` left to the caller.
fn copied_struct(schema: &mut Json, transform: &'static str) -> Result<(), TransformError> {
    let members = schema
        .object()
        .filter(|m| m.get("type").and_then(Json::as_str).as_deref() == Some("struct"))
        .ok_or(TransformError::NotAStruct { transform })?;
    members.insert("optional".to_owned(), Json::bool(false));
    members.shift_remove("default");
    Ok(())
}

fn field_name(field: &mut Json) -> Option<String> {
    field.get("field").and_then(|n| n.as_str())
}

/// `ReplaceField$Key` / `$Value`.
pub(super) fn replace_field(
    which: Part,
    settings: &ReplaceField,
    record: &mut Record,
) -> Result<(), TransformError> {
    let Some(data) = part(record, which).filter(|d| !d.payload.is_null()) else {
        return Ok(());
    };
    copied_struct(&mut data.schema, "ReplaceField")?;
    let fields = data
        .schema
        .get("fields")
        .and_then(Json::array)
        .ok_or(TransformError::NoSchema)?;
    let mut kept = Vec::with_capacity(fields.len());
    for mut field in fields.drain(..) {
        let name = field_name(&mut field).unwrap_or_default();
        if settings.keeps(&name) {
            let new = settings.renamed(&name).to_owned();
            if let Some(members) = field.object() {
                members.insert("field".to_owned(), Json::string(&new));
            }
            kept.push((name, new, field));
        }
    }
    let row = data.payload.object().ok_or(TransformError::NotAStruct {
        transform: "ReplaceField",
    })?;
    let mut payload = IndexMap::with_capacity(kept.len());
    for (old, new, _) in &kept {
        payload.insert(
            new.clone(),
            row.shift_remove(old).unwrap_or_else(Json::null),
        );
    }
    *fields = kept.into_iter().map(|(_, _, field)| field).collect();
    data.payload = Json::Object(payload);
    Ok(())
}

fn string_field(field: &InsertedField) -> Json {
    let mut members = IndexMap::new();
    members.insert("type".to_owned(), Json::string("string"));
    members.insert("optional".to_owned(), Json::bool(field.optional));
    members.insert("field".to_owned(), Json::string(&field.name));
    Json::Object(members)
}

/// `InsertField$Key` / `$Value` (the topic and a static field).
pub(super) fn insert_field(
    which: Part,
    settings: &InsertField,
    record: &mut Record,
) -> Result<(), TransformError> {
    let topic = record.topic.clone();
    let Some(data) = part(record, which).filter(|d| !d.payload.is_null()) else {
        return Ok(());
    };
    copied_struct(&mut data.schema, "InsertField")?;
    let inserted: Vec<(&InsertedField, &str)> = settings
        .topic
        .iter()
        .map(|field| (field, topic.as_str()))
        .chain(
            settings
                .static_field
                .iter()
                .map(|(field, value)| (field, value.as_str())),
        )
        .collect();
    let fields = data
        .schema
        .get("fields")
        .and_then(Json::array)
        .ok_or(TransformError::NoSchema)?;
    fields.extend(inserted.iter().map(|(field, _)| string_field(field)));
    let row = data.payload.object().ok_or(TransformError::NotAStruct {
        transform: "InsertField",
    })?;
    for (field, value) in inserted {
        row.insert(field.name.clone(), Json::string(value));
    }
    Ok(())
}

/// `ExtractField$Key` / `$Value`: the field with its own schema (a null struct gives null).
pub(super) fn extract_field(
    which: Part,
    name: &str,
    record: &mut Record,
) -> Result<(), TransformError> {
    let Some(data) = part(record, which) else {
        return Ok(());
    };
    let fields =
        data.schema
            .get("fields")
            .and_then(Json::array)
            .ok_or(TransformError::NotAStruct {
                transform: "ExtractField",
            })?;
    let at = fields
        .iter_mut()
        .position(|field| field_name(field).as_deref() == Some(name))
        .ok_or_else(|| TransformError::UnknownField {
            transform: "ExtractField",
            field: name.to_owned(),
        })?;
    let mut schema = fields.swap_remove(at);
    if let Some(members) = schema.object() {
        members.shift_remove("field");
    }
    let payload = match data.payload.is_null() {
        true => Json::null(),
        false => data.payload.take(name).unwrap_or_else(Json::null),
    };
    *data = Data { schema, payload };
    Ok(())
}

/// `ValueToKey`: a key struct (no name) of these value fields, with their schemas.
pub(super) fn value_to_key(fields: &[String], record: &mut Record) -> Result<(), TransformError> {
    let not_a_struct = TransformError::NotAStruct {
        transform: "ValueToKey",
    };
    let value = record
        .value
        .as_mut()
        .filter(|v| !v.payload.is_null())
        .ok_or(not_a_struct)?;
    let mut key_fields = Vec::with_capacity(fields.len());
    let mut key_payload = IndexMap::with_capacity(fields.len());
    let value_fields =
        value
            .schema
            .get("fields")
            .and_then(Json::array)
            .ok_or(TransformError::NotAStruct {
                transform: "ValueToKey",
            })?;
    for name in fields {
        let field = value_fields
            .iter_mut()
            .find_map(|field| (field_name(field).as_deref() == Some(name)).then(|| field.clone()))
            .ok_or_else(|| TransformError::UnknownField {
                transform: "ValueToKey",
                field: name.clone(),
            })?;
        key_fields.push(field);
    }
    for name in fields {
        let field = value.payload.get(name).cloned().unwrap_or_else(Json::null);
        key_payload.insert(name.clone(), field);
    }
    let mut schema = IndexMap::new();
    schema.insert("type".to_owned(), Json::string("struct"));
    schema.insert("fields".to_owned(), Json::Array(key_fields));
    schema.insert("optional".to_owned(), Json::bool(false));
    record.key = Some(Data {
        schema: Json::Object(schema),
        payload: Json::Object(key_payload),
    });
    Ok(())
}

/// `HoistField$Key` / `$Value`: the key or value as the one field of a new struct (no name,
/// required). Connect hoists a record without the part (a tombstone's value, a keyless table's
/// key) as schemaless data: a map holding null, written with a null schema.
pub(super) fn hoist_field(which: Part, name: &str, record: &mut Record) {
    let slot = match which {
        Part::Key => &mut record.key,
        Part::Value => &mut record.value,
    };
    let mut payload = IndexMap::new();
    let schema = match slot.take() {
        Some(Data {
            schema,
            payload: inner,
        }) if !schema.is_null() => {
            payload.insert(name.to_owned(), inner);
            let mut field = schema;
            if let Some(members) = field.object() {
                members.insert("field".to_owned(), Json::string(name));
            }
            let mut members = IndexMap::new();
            members.insert("type".to_owned(), Json::string("struct"));
            members.insert("fields".to_owned(), Json::Array(vec![field]));
            members.insert("optional".to_owned(), Json::bool(false));
            Json::Object(members)
        }
        schemaless => {
            let inner = schemaless.map_or_else(Json::null, |data| data.payload);
            payload.insert(name.to_owned(), inner);
            Json::null()
        }
    };
    *slot = Some(Data {
        schema,
        payload: Json::Object(payload),
    });
}

/// `HeaderFrom$Key` / `$Value`: each field's value as a header, written as Connect's
/// `SimpleHeaderConverter` writes a primitive (a null as walbridge writes every null header);
/// with `move`, the fields leave the struct.
pub(super) fn header_from(
    which: Part,
    settings: &HeaderFrom,
    record: &mut Record,
) -> Result<(), TransformError> {
    const TRANSFORM: &str = "HeaderFrom";
    let not_a_struct = || TransformError::NotAStruct {
        transform: TRANSFORM,
    };
    let data = match which {
        Part::Key => record.key.as_mut(),
        Part::Value => record.value.as_mut(),
    }
    .filter(|d| !d.payload.is_null())
    .ok_or_else(not_a_struct)?;
    let fields = data
        .schema
        .get("fields")
        .and_then(Json::array)
        .ok_or_else(not_a_struct)?;
    let row = data.payload.object().ok_or_else(not_a_struct)?;
    let mut added: Vec<Header> = Vec::with_capacity(settings.fields.len());
    for (name, header) in &settings.fields {
        let schema = fields
            .iter_mut()
            .find_map(|field| {
                let named = field_name(field).as_deref() == Some(name);
                named.then_some(field)
            })
            .and_then(Json::object)
            .ok_or_else(|| TransformError::UnknownField {
                transform: TRANSFORM,
                field: name.clone(),
            })?;
        let mut value = row.get(name).cloned().unwrap_or_else(Json::null);
        if settings.replace_null_with_default
            && value.is_null()
            && let Some(default) = schema.get("default")
        {
            value = default.clone();
        }
        let logical = schema.get("name").and_then(Json::as_str);
        let text = match value.header_text() {
            // Connect's logical types are written as text of their own (dates, BigDecimal)
            Some(text)
                if logical
                    .as_deref()
                    .is_none_or(|n| !n.starts_with("org.apache.kafka.connect.data.")) =>
            {
                text
            }
            None if value.is_null() => String::new(),
            _ => {
                let kind = schema.get("type").and_then(Json::as_str);
                return Err(TransformError::Unconvertible {
                    transform: TRANSFORM,
                    field: name.clone(),
                    from: logical.or(kind).unwrap_or_default(),
                    to: "to a header",
                });
            }
        };
        let value = match value.is_null() {
            true => HeaderValue::text(None),
            false => text.into_bytes().into(),
        };
        added.push((header.clone().into(), value));
    }
    if settings.moves {
        let moved = |name: &str| settings.fields.iter().any(|(field, _)| field == name);
        fields.retain_mut(|field| !field_name(field).is_some_and(|name| moved(&name)));
        row.retain(|name, _| !moved(name));
        copied_struct(&mut data.schema, TRANSFORM)?;
    }
    record.headers.extend(added);
    Ok(())
}
