//! `io.debezium.transforms.ExtractNewRecordState`: a change event's row state in place of its
//! envelope, as Debezium's transform builds it (the schema of `after`, or `before` for a rewritten
//! delete, made required; `__deleted` then the `add.fields`, each optional, appended in order).

use indexmap::IndexMap;
use walbridge_config::transforms::{
    DeleteHandling, DropFields, ExtractNewRecordState, FieldReference, Part, ReplaceField,
};

use super::json::Json;
use super::{Data, Header, HeaderKind, HeaderValue, Record, TransformError, kafka};

/// The field a rewriting mode adds: `"true"` on a delete, `"false"` on the others.
const DELETED: &str = "__deleted";

/// Applies the transform to `record`; `false` drops it.
///
/// `delete_headers` carries the headers added to a delete over to the tombstone that follows it:
/// Debezium's tombstone shares its delete's headers, so the headers the transform added to the
/// delete appear on the tombstone too.
pub(super) fn apply(
    settings: &ExtractNewRecordState,
    record: &mut Record,
    delete_headers: &mut Vec<Header>,
) -> Result<bool, TransformError> {
    let mode = settings.delete_handling;
    let Some(value) = record.value.as_mut() else {
        record.headers.append(delete_headers);
        // Debezium's tombstone: only `op` can be added to it, as `d`.
        for header in &settings.add_headers {
            if header.within.is_none() && header.field == "op" {
                record
                    .headers
                    .push((header.new_name.clone().into(), b"d".to_vec().into()));
            }
        }
        return Ok(mode == DeleteHandling::RewriteWithTombstone);
    };
    if !value.is_envelope() {
        // transaction, message and heartbeat records pass unchanged
        return Ok(true);
    }
    delete_headers.clear();
    let added_from = record.headers.len();
    for header in &settings.add_headers {
        if let Some((_, field)) = lookup(value, header) {
            if matches!(field, Json::Object(_) | Json::Array(_))
                || field.header_text().is_none() && !field.is_null()
            {
                return Err(TransformError::StructHeader {
                    field: header.field.clone(),
                });
            }
            record.headers.push((
                header.new_name.clone().into(),
                HeaderValue::text(field.header_text()),
            ));
        }
    }
    let op = value
        .payload
        .get("op")
        .and_then(|op| op.as_str())
        .unwrap_or_default();
    let rewrite = matches!(
        mode,
        DeleteHandling::Rewrite | DeleteHandling::RewriteWithTombstone
    );
    if op == "d" {
        delete_headers.extend_from_slice(&record.headers[added_from..]);
    }
    let (state, deleted) = match op.as_str() {
        "t" => return Ok(false),
        "d" => match mode {
            DeleteHandling::Drop => return Ok(false),
            DeleteHandling::DeleteToTombstone => {
                record.value = None;
                return Ok(true);
            }
            DeleteHandling::Tombstone => {
                // no value, but the row's schema (as it is in the envelope, optional)
                let schema = state_schema(&mut value.schema, "before")?;
                record.value = Some(Data {
                    schema,
                    payload: Json::null(),
                });
                drop_fields(settings, record)?;
                return Ok(true);
            }
            DeleteHandling::Rewrite | DeleteHandling::RewriteWithTombstone => ("before", true),
        },
        _ => ("after", false),
    };
    let added: Vec<(&str, Json, Json)> = settings
        .add_fields
        .iter()
        .filter_map(|reference| {
            let (mut schema, field) = lookup(value, reference)?;
            let members = schema.object()?;
            members.insert("optional".to_owned(), Json::bool(true));
            // a copy of the field's schema without its default
            members.shift_remove("default");
            members.insert("field".to_owned(), Json::string(&reference.new_name));
            Some((reference.new_name.as_str(), schema, field))
        })
        .collect();
    let mut schema = state_schema(&mut value.schema, state)?;
    if let Some(members) = schema.object() {
        members.insert("optional".to_owned(), Json::bool(false));
    }
    let mut payload = value.payload.take(state).unwrap_or_else(Json::null);
    let fields = schema
        .get("fields")
        .and_then(Json::array)
        .ok_or(TransformError::NoSchema)?;
    if rewrite {
        fields.push(string_field(DELETED));
    }
    fields.extend(added.iter().map(|(_, schema, _)| schema.clone()));
    if let Some(row) = payload.object() {
        if rewrite {
            row.insert(
                DELETED.to_owned(),
                Json::string(if deleted { "true" } else { "false" }),
            );
        }
        for (name, _, field) in added {
            row.insert(name.to_owned(), field);
        }
    }
    if let Some(field) = &settings.route_by_field {
        let topic = payload.get(field).and_then(|v| v.header_text());
        if let Some(topic) = topic.filter(|t| !t.trim().is_empty()) {
            record.topic = topic;
        }
    }
    record.value = Some(Data { schema, payload });
    // Debezium drops a rewritten delete's fields before it adds add.fields, the other events'
    // after; the header names row fields, never the added ones, so the order changes nothing.
    drop_fields(settings, record)?;
    Ok(true)
}

/// `drop.fields.header.name`: the fields the record's first header of that name lists dropped
/// from the value (and with `drop.fields.from.key` from the key) as Connect's `ReplaceField`
/// drops them — with `drop.fields.keep.schema.compatible`, only the optional ones.
fn drop_fields(
    settings: &ExtractNewRecordState,
    record: &mut Record,
) -> Result<(), TransformError> {
    let Some(drop) = &settings.drop_fields else {
        return Ok(());
    };
    let Some((_, header)) = record.headers.iter().find(|(name, _)| *name == drop.header) else {
        return Ok(());
    };
    let names = match header.kind() {
        HeaderKind::Names(names) if !names.is_empty() => names.clone(),
        HeaderKind::Names(_) | HeaderKind::Null => return Ok(()),
        HeaderKind::Text => {
            return Err(TransformError::NotANameList {
                header: drop.header.clone(),
            });
        }
    };
    if drop.from_key {
        drop_from(drop, Part::Key, &names, record)?;
    }
    drop_from(drop, Part::Value, &names, record)
}

fn drop_from(
    drop: &DropFields,
    which: Part,
    names: &[String],
    record: &mut Record,
) -> Result<(), TransformError> {
    let data = match which {
        Part::Key => record.key.as_mut(),
        Part::Value => record.value.as_mut(),
    };
    let Some(data) = data else {
        return Ok(());
    };
    let exclude: Vec<String> = if drop.keep_schema_compatible {
        let fields = data
            .schema
            .get("fields")
            .and_then(Json::array)
            .ok_or(TransformError::NoSchema)?;
        fields
            .iter_mut()
            .filter_map(|field| {
                let optional = field
                    .get("optional")
                    .is_some_and(|o| o.literal_text() == Some("true"));
                let name = field.get("field").and_then(|n| n.as_str())?;
                (optional && names.contains(&name)).then_some(name)
            })
            .collect()
    } else {
        names.to_vec()
    };
    if exclude.is_empty() {
        return Ok(());
    }
    let replace = ReplaceField {
        exclude,
        include: Vec::new(),
        renames: Vec::new(),
    };
    kafka::replace_field(which, &replace, record)
}

/// The envelope schema's field `state` (`before` or `after`) as a schema of its own.
fn state_schema(envelope: &mut Json, state: &str) -> Result<Json, TransformError> {
    let mut schema = field_schema(envelope, state)
        .cloned()
        .ok_or(TransformError::NoSchema)?;
    if let Some(members) = schema.object() {
        members.shift_remove("field");
    }
    Ok(schema)
}

/// The schema of the struct field `name` of the struct schema `schema`.
pub(super) fn field_schema<'s>(schema: &'s mut Json, name: &str) -> Option<&'s mut Json> {
    let fields = schema.get("fields")?.array()?;
    let at = fields.iter_mut().position(|field| {
        field
            .get("field")
            .and_then(|n| n.as_str())
            .is_some_and(|n| n == name)
    })?;
    fields.get_mut(at)
}

/// The schema and value of the envelope field `reference` names, when the envelope has it
/// (Debezium skips the others silently).
fn lookup(value: &mut Data, reference: &FieldReference) -> Option<(Json, Json)> {
    let (schema, field) = match &reference.within {
        None => (
            field_schema(&mut value.schema, &reference.field)?.clone(),
            value.payload.get(&reference.field)?.clone(),
        ),
        Some(within) => {
            let outer = field_schema(&mut value.schema, within)?;
            let schema = field_schema(outer, &reference.field)?.clone();
            let field = match value.payload.get(within)? {
                outer if outer.is_null() => Json::null(),
                outer => outer
                    .get(&reference.field)
                    .cloned()
                    .unwrap_or_else(Json::null),
            };
            (schema, field)
        }
    };
    // JsonConverter wrote a null as the field's default (source.snapshot outside snapshots); the
    // transform copies the null.
    let default = schema.clone().get("default").cloned();
    let field = match default {
        Some(Json::Raw(default)) if matches!(&field, Json::Raw(v) if v.get() == default.get()) => {
            Json::null()
        }
        _ => field,
    };
    Some((schema, field))
}

/// An optional string field's schema.
fn string_field(name: &str) -> Json {
    let mut members = IndexMap::new();
    members.insert("type".to_owned(), Json::string("string"));
    members.insert("optional".to_owned(), Json::bool(true));
    members.insert("field".to_owned(), Json::string(name));
    Json::Object(members)
}
