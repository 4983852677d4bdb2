//! `io.debezium.transforms.ExtractChangedRecordState`: headers naming the fields of a change
//! event's `after` that differ from its `before` and those that do not, as Debezium's transform
//! lists them (both lists empty when the event has no `before` or no `after`).

use super::extract::field_schema;
use super::json::Json;
use super::{HeaderValue, Record, TransformError};

/// Adds the `changed` and `unchanged` headers (those named) to a change event; other records pass.
pub(super) fn apply(
    changed: Option<&str>,
    unchanged: Option<&str>,
    record: &mut Record,
) -> Result<(), TransformError> {
    let Some(value) = record.value.as_mut().filter(|v| !v.payload.is_null()) else {
        return Ok(());
    };
    if !value.is_envelope() {
        return Ok(());
    }
    let (mut changed_names, mut unchanged_names) = (Vec::new(), Vec::new());
    let before = value
        .payload
        .get("before")
        .cloned()
        .unwrap_or_else(Json::null);
    let after = value
        .payload
        .get("after")
        .cloned()
        .unwrap_or_else(Json::null);
    if !before.is_null() && !after.is_null() {
        let before_fields = field_names(&mut value.schema, "before")?;
        let after_fields = field_names(&mut value.schema, "after")?;
        let (mut before, mut after) = (before, after);
        for name in &after_fields {
            if !before_fields.contains(name)
                || written(&mut before, name) != written(&mut after, name)
            {
                changed_names.push(name.clone());
            } else {
                unchanged_names.push(name.clone());
            }
        }
        changed_names.extend(
            before_fields
                .into_iter()
                .filter(|name| !after_fields.contains(name)),
        );
    }
    for (header, names) in [(changed, changed_names), (unchanged, unchanged_names)] {
        if let Some(header) = header {
            record
                .headers
                .push((header.to_owned().into(), HeaderValue::names(names)));
        }
    }
    Ok(())
}

/// The names of the fields of the envelope's struct `state` (`before` or `after`).
fn field_names(envelope: &mut Json, state: &str) -> Result<Vec<String>, TransformError> {
    let fields = field_schema(envelope, state)
        .and_then(|schema| schema.get("fields"))
        .and_then(Json::array)
        .ok_or(TransformError::NoSchema)?;
    Ok(fields
        .iter_mut()
        .filter_map(|field| field.get("field").and_then(|n| n.as_str()))
        .collect())
}

/// The field's value as JsonConverter wrote it (the encoder writes equal values alike), `null`
/// when the row lacks it.
fn written(row: &mut Json, name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    match row.get(name) {
        Some(value) => value.write(&mut out),
        None => out.extend_from_slice(b"null"),
    }
    out
}
