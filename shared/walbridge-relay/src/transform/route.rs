//! `io.debezium.transforms.ByLogicalTableRouter`: the topics of several physical tables merged
//! into one logical table's, the schemas renamed after it and — unless told otherwise — the key
//! given a field naming the physical table's topic, so that equal keys of two tables stay apart.

use indexmap::IndexMap;
use walbridge_config::transforms::LogicalTableRoute;

use super::Record;
use super::json::Json;

/// Routes `record` when its topic matches the route; records of other topics are unchanged.
pub(super) fn by_logical_table(settings: &LogicalTableRoute, record: &mut Record) {
    let Some(topic) = settings.topic.route(&record.topic) else {
        return;
    };
    if topic.is_empty() {
        return;
    }
    let old = std::mem::replace(&mut record.topic, topic);
    let topic = &record.topic;
    if let Some(key) = &mut record.key {
        rename(&mut key.schema, &format!("{topic}.Key"));
        if settings.key_enforce_uniqueness {
            let physical = settings
                .key_field
                .as_ref()
                .and_then(|route| route.route(&old))
                .unwrap_or_else(|| old.clone());
            if let Some(fields) = key.schema.get("fields").and_then(Json::array) {
                let mut field = IndexMap::new();
                field.insert("type".to_owned(), Json::string("string"));
                field.insert("optional".to_owned(), Json::bool(false));
                field.insert("field".to_owned(), Json::string(&settings.key_field_name));
                fields.push(Json::Object(field));
            }
            if let Some(members) = key.payload.object() {
                members.insert(settings.key_field_name.clone(), Json::string(&physical));
            }
        }
    }
    let Some(value) = record.value.as_mut() else {
        return;
    };
    if !value
        .schema_name()
        .is_some_and(|name| name.ends_with(".Envelope"))
    {
        return;
    }
    rename(&mut value.schema, &format!("{topic}.Envelope"));
    if let Some(fields) = value.schema.get("fields").and_then(Json::array) {
        for field in fields {
            let state = field
                .get("field")
                .and_then(|n| n.as_str())
                .is_some_and(|n| n == "before" || n == "after");
            if state {
                rename(field, &format!("{topic}.Value"));
            }
        }
    }
}

/// Gives the schema `schema` the name `name`, keeping its place among the schema's members.
fn rename(schema: &mut Json, name: &str) {
    if let Some(members) = schema.object().filter(|m| m.contains_key("name")) {
        members.insert("name".to_owned(), Json::string(name));
    }
}
