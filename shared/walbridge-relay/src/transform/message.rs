//! Debezium's `DecodeLogicalDecodingMessageContent`: a logical decoding message whose content is
//! a JSON object becomes an `op: "c"` event without a key whose `after` is that object (its schema
//! inferred, see [`super::json_schema`]), so that transforms after it — an outbox router — see a row. Records
//! that are not messages pass unchanged; like Debezium's, it fails on a tombstone (give it a
//! predicate) and on content that is not JSON.

use base64::Engine as _;
use indexmap::IndexMap;

use super::json::Json;
use super::json_schema::{Inferred, Options, Refused, infer};
use super::{Data, Record, TransformError};

const MESSAGE_VALUE: &str = "io.debezium.connector.postgresql.MessageValue";

/// Decodes `record` when it is a message.
pub(super) fn decode(null_fields: bool, record: &mut Record) -> Result<(), TransformError> {
    let Some(value) = record.value.as_mut() else {
        return Err(TransformError::NotAStruct {
            transform: "DecodeLogicalDecodingMessageContent",
        });
    };
    if value.schema_name().as_deref() != Some(MESSAGE_VALUE) {
        return Ok(());
    }
    let problem = |what: &str| TransformError::MessageContent {
        problem: what.to_owned(),
    };
    let fields = value
        .schema
        .get("fields")
        .and_then(Json::array)
        .ok_or(TransformError::NoSchema)?;
    let message_at = fields
        .iter_mut()
        .position(|f| f.get("field").and_then(|v| v.as_str()).as_deref() == Some("message"))
        .ok_or(TransformError::NoSchema)?;
    let mut message_schema = fields.remove(message_at);
    let binary = message_schema
        .get("fields")
        .and_then(Json::array)
        .and_then(|fields| {
            fields.iter_mut().find_map(|f| {
                let content = f.get("field").and_then(|v| v.as_str()).as_deref() == Some("content");
                content.then(|| f.get("type").and_then(|v| v.as_str()))
            })
        })
        .flatten();
    if binary.as_deref() != Some("bytes") {
        return Err(problem(
            "content that is not binary (binary.handling.mode other than bytes)",
        ));
    }
    let row = value.payload.object().ok_or(TransformError::NoSchema)?;
    let mut message = row.shift_remove("message").unwrap_or_else(Json::null);
    let encoded = message
        .get("content")
        .and_then(|v| v.as_str())
        .ok_or_else(|| problem("a message without content"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| problem("content that is not base64"))?;
    // Java reads the bytes as UTF-8, replacing what is not
    let text = String::from_utf8_lossy(&bytes);
    if !text.starts_with(['{', '[']) {
        return Err(problem("content that is not a JSON object"));
    }
    let mut document = Json::read_tree(&text).ok_or_else(|| problem("content that is not JSON"))?;
    let refused = |refused: Refused| match refused {
        Refused::Fails(what) | Refused::Unreproducible(what) => problem(what),
    };
    let options = Options {
        null_fields,
        empty_arrays: false,
    };
    let schema = infer(None, &mut document, options)
        .map_err(refused)?
        .filter(|s| matches!(s, Inferred::Struct { .. }))
        .ok_or_else(|| problem("content that is a JSON array, not an object"))?;
    let after = schema.payload(&mut document).map_err(refused)?;

    fields.push(schema.schema(Some("after")));
    let mut envelope = IndexMap::new();
    envelope.insert("type".to_owned(), Json::string("struct"));
    envelope.insert("fields".to_owned(), Json::Array(std::mem::take(fields)));
    envelope.insert("optional".to_owned(), Json::bool(false));
    envelope.insert(
        "name".to_owned(),
        Json::string(&format!("{MESSAGE_VALUE}.Envelope")),
    );
    let mut payload = IndexMap::with_capacity(row.len() + 1);
    for (name, field) in row.drain(..) {
        let field = if name == "op" {
            Json::string("c")
        } else {
            field
        };
        payload.insert(name, field);
    }
    payload.insert("after".to_owned(), after);
    *value = Data {
        schema: Json::Object(envelope),
        payload: Json::Object(payload),
    };
    // Debezium's drops the key: the event is no longer the prefix's
    record.key = None;
    Ok(())
}
