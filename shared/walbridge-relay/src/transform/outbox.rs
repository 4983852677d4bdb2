//! `io.debezium.transforms.outbox.EventRouter`: each insert into an outbox table becomes an event
//! of its own — the payload column as the value, the aggregate id as the key, the event id as the
//! `id` header — on a topic named after the aggregate type.

use std::collections::HashMap;

use indexmap::IndexMap;
use tracing::{error, warn};
use walbridge_config::transforms::{EventRouter, InvalidOp, JsonExpansion, Placement};

use super::json::Json;
use super::json_schema::{Inferred, Options, Refused, infer};
use super::{Data, Header, HeaderValue, Record, TransformError};

/// Applies the router to `record`; `false` drops it.
///
/// `value_names` keeps the name a value struct got first, per payload schema (or, with
/// `table.field.event.schema.version`, per version): Debezium caches the value schema so, and
/// every later event of that payload schema keeps the aggregate type of the first one its task
/// routed in the name.
pub(super) fn apply(
    settings: &EventRouter,
    record: &mut Record,
    value_names: &mut HashMap<String, String>,
) -> Result<bool, TransformError> {
    // tombstones are dropped
    let Some(value) = record.value.as_mut() else {
        return Ok(false);
    };
    let Some(envelope_name) = value
        .schema_name()
        .filter(|name| name.ends_with(".Envelope"))
    else {
        return Ok(true);
    };
    let op = value
        .payload
        .get("op")
        .and_then(|op| op.as_str())
        .unwrap_or_default();
    match op.as_str() {
        "c" | "r" => {}
        "d" => return Ok(false),
        "u" => {
            let topic = &record.topic;
            match settings.invalid_op {
                InvalidOp::Warn => {
                    warn!(%topic, "an update of the outbox table is not an event: dropped");
                }
                InvalidOp::Error => {
                    error!(%topic, "an update of the outbox table is not an event: dropped");
                }
                InvalidOp::Fatal => return Err(TransformError::OutboxUpdate),
            }
            return Ok(false);
        }
        _ => {
            return Err(TransformError::NotAStruct {
                transform: "EventRouter",
            });
        }
    }
    let mut after_schema = value
        .schema
        .get("fields")
        .and_then(Json::array)
        .and_then(|fields| {
            fields.iter_mut().find_map(|field| {
                let name = field.get("field").and_then(|n| n.as_str());
                (name.as_deref() == Some("after")).then(|| field.clone())
            })
        })
        .ok_or(TransformError::NoSchema)?;
    let mut after = value.payload.take("after").unwrap_or_else(Json::null);
    let mut column = |name: &str| -> Option<(Json, Json)> {
        let fields = after_schema.get("fields")?.array()?;
        let mut schema = fields.iter_mut().find_map(|field| {
            let field_name = field.get("field").and_then(|n| n.as_str());
            (field_name.as_deref() == Some(name)).then(|| field.clone())
        })?;
        if let Some(members) = schema.object() {
            members.shift_remove("field");
        }
        let value = after.get(name).cloned().unwrap_or_else(Json::null);
        Some((schema, value))
    };
    let missing = |field: &str| TransformError::UnknownField {
        transform: "EventRouter",
        field: field.to_owned(),
    };
    let (_, id) = column(&settings.event_id).ok_or_else(|| missing(&settings.event_id))?;
    let (key_schema, key) =
        column(&settings.event_key).ok_or_else(|| missing(&settings.event_key))?;
    let (payload_schema, payload) =
        column(&settings.payload).ok_or_else(|| missing(&settings.payload))?;
    let (payload_schema, payload) = match settings.expand_json_payload {
        Some(expansion) => expand(expansion, &settings.payload, payload_schema, payload)?,
        None => (payload_schema, payload),
    };
    let (_, routed_by) =
        column(&settings.route_by_field).ok_or_else(|| missing(&settings.route_by_field))?;
    let timestamp_ms = match &settings.event_timestamp {
        Some(field) => {
            let (schema, value) = column(field).ok_or_else(|| missing(field))?;
            Some(event_time(field, schema, &value)?)
        }
        None => value
            .payload
            .get("ts_ms")
            .and_then(|ts| ts.literal_text()?.parse().ok()),
    };
    let routed_by = routed_by.header_text().unwrap_or_default();
    let mut headers: Vec<Header> = vec![("id".into(), HeaderValue::text(id.header_text()))];
    let mut envelope_fields = Vec::new();
    let mut partition = None;
    for (name, placement, alias) in &settings.additional {
        let Some((schema, field)) = column(name) else {
            if settings.missing_is_error {
                return Err(missing(name));
            }
            continue;
        };
        match placement {
            Placement::Header => {
                headers.push((alias.clone().into(), HeaderValue::text(field.header_text())))
            }
            Placement::Envelope => envelope_fields.push((alias.clone(), schema, field)),
            Placement::Partition => {
                partition = Some(int4_of(
                    name,
                    schema,
                    &field,
                    "to a partition (an int4 column)",
                )?);
            }
        }
    }
    let schema_version = match &settings.event_schema_version {
        Some(field) => {
            let (schema, value) = column(field).ok_or_else(|| missing(field))?;
            Some(int4_of(field, schema, &value, "to a schema version")?)
        }
        None => None,
    };
    let empty = payload.is_null() || payload.as_str().is_some_and(|p| p.trim().is_empty());
    record.value = if settings.tombstone_on_empty_payload && empty {
        None
    } else if envelope_fields.is_empty() {
        Some(Data {
            schema: payload_schema,
            payload,
        })
    } else {
        let base = envelope_name
            .strip_suffix(".Envelope")
            .unwrap_or(&envelope_name)
            .to_owned();
        // Debezium caches the value schema by the payload's schema, or with
        // table.field.event.schema.version by the version alone: the first event of each names it
        let cache_key = match schema_version {
            Some(version) => format!("version {version:?}"),
            None => {
                let mut key = Vec::new();
                payload_schema.write(&mut key);
                String::from_utf8_lossy(&key).into_owned()
            }
        };
        let mut fields = Vec::with_capacity(envelope_fields.len() + 1);
        let mut row = IndexMap::with_capacity(envelope_fields.len() + 1);
        for (name, mut schema, field) in
            std::iter::once(("payload".to_owned(), payload_schema, payload)).chain(envelope_fields)
        {
            if let Some(members) = schema.object() {
                members.insert("field".to_owned(), Json::string(&name));
            }
            fields.push(schema);
            row.insert(name, field);
        }
        let mut schema = IndexMap::new();
        schema.insert("type".to_owned(), Json::string("struct"));
        schema.insert("fields".to_owned(), Json::Array(fields));
        schema.insert("optional".to_owned(), Json::bool(false));
        let name = value_names
            .entry(cache_key)
            .or_insert_with(|| format!("{base}.{routed_by}.Value"));
        schema.insert("name".to_owned(), Json::string(name));
        if let Some(Some(version)) = schema_version {
            schema.insert("version".to_owned(), Json::literal(version.to_string()));
        }
        Some(Data {
            schema: Json::Object(schema),
            payload: Json::Object(row),
        })
    };
    record.key = Some(Data {
        schema: key_schema,
        payload: key,
    });
    record.topic = settings.route.route(&routed_by).unwrap_or(routed_by);
    record.timestamp_ms = timestamp_ms;
    // Debezium's router names the partition (or none) on every event it makes
    record.partition = partition.flatten();
    record.headers.extend(headers);
    Ok(true)
}

/// `table.expand.json.payload`: a JSON object in the payload text as a struct named after the
/// payload column. Where Debezium's expansion fails (text that is not a JSON object, an array of
/// mixed types, …) it keeps the text with a warning, and so does this.
fn expand(
    expansion: JsonExpansion,
    column: &str,
    schema: Json,
    payload: Json,
) -> Result<(Json, Json), TransformError> {
    let Some(text) = payload.as_str() else {
        return Ok((schema, payload));
    };
    let keep = |why: &str| {
        warn!(
            field = column,
            why, "the outbox payload is not expanded: kept as text"
        );
    };
    if !text.starts_with(['{', '[']) {
        keep("not a JSON object");
        return Ok((schema, payload));
    }
    let Some(mut document) = Json::read_tree(&text) else {
        keep("not JSON");
        return Ok((schema, payload));
    };
    let options = Options {
        null_fields: expansion.null_fields,
        empty_arrays: expansion.empty_arrays,
    };
    let expanded =
        infer(Some(column), &mut document, options).and_then(|inferred| match inferred {
            Some(inferred @ Inferred::Struct { .. }) => {
                let value = inferred.payload(&mut document)?;
                Ok(Some((inferred.schema(None), value)))
            }
            _ => Ok(None),
        });
    match expanded {
        Ok(Some(expanded)) => Ok(expanded),
        Ok(None) => {
            keep("a JSON array, not an object");
            Ok((schema, payload))
        }
        Err(Refused::Fails(why)) => {
            keep(why);
            Ok((schema, payload))
        }
        Err(Refused::Unreproducible(why)) => Err(TransformError::Unexpandable {
            field: column.to_owned(),
            problem: why,
        }),
    }
}

/// `table.field.event.timestamp`: a `timestamp` column's value in ms, as Debezium reads it (its
/// `Timestamp`, `MicroTimestamp` or `NanoTimestamp`; any other type, or a null, fails the task).
fn event_time(field: &str, mut schema: Json, value: &Json) -> Result<i64, TransformError> {
    let name = schema.get("name").and_then(|n| n.as_str());
    let unconvertible = || TransformError::Unconvertible {
        transform: "EventRouter",
        field: field.to_owned(),
        from: name
            .clone()
            .unwrap_or_else(|| "a value of no timestamp type".to_owned()),
        to: "to an event timestamp",
    };
    let per_ms = match name.as_deref() {
        Some("io.debezium.time.Timestamp") => 1,
        Some("io.debezium.time.MicroTimestamp") => 1_000,
        Some("io.debezium.time.NanoTimestamp") => 1_000_000,
        _ => return Err(unconvertible()),
    };
    let time: i64 = value
        .literal_text()
        .and_then(|t| t.parse().ok())
        .ok_or_else(unconvertible)?;
    Ok(time / per_ms)
}

/// An `int4` column's value (a partition, a schema version); `None` for a null. Debezium's router
/// reads it as an `Integer`, which fails the task for any other type.
fn int4_of(
    field: &str,
    mut schema: Json,
    value: &Json,
    to: &'static str,
) -> Result<Option<i32>, TransformError> {
    let kind = schema
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    // Connect's own logical int32 (Date, Time) is not an Integer in Java; Debezium's are
    let connect_logical = schema
        .get("name")
        .and_then(|n| n.as_str())
        .is_some_and(|n| n.starts_with("org.apache.kafka.connect.data."));
    if kind != "int32" || connect_logical {
        return Err(TransformError::Unconvertible {
            transform: "EventRouter",
            field: field.to_owned(),
            from: kind,
            to,
        });
    }
    if value.is_null() {
        return Ok(None);
    }
    let partition = value.literal_text().and_then(|t| t.parse().ok());
    partition.map(Some).ok_or(TransformError::NoSchema)
}
