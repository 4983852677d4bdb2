//! The routers that do more than rename by a pattern: `io.debezium.transforms.ByLogicalTableRouter`
//! (the topics of several physical tables merged into one logical table's, the schemas renamed
//! after it and — unless told otherwise — the key given a field naming the physical table's topic,
//! so that equal keys of two tables stay apart) and Kafka's `TimestampRouter`.

use indexmap::IndexMap;
use walbridge_config::transforms::{DatePart, LogicalTableRoute, TimestampRoute};

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

/// `TimestampRouter`: the topic of a record of `topic` with the timestamp `ms` (since the epoch),
/// the timestamp written in UTC as Java's `SimpleDateFormat` writes it; `None` beyond the dates
/// chrono holds.
pub(super) fn by_timestamp(route: &TimestampRoute, topic: &str, ms: i64) -> Option<String> {
    use chrono::{Datelike as _, Timelike as _};
    let time = chrono::DateTime::from_timestamp_millis(ms)?;
    let mut stamp = String::new();
    let pad = |out: &mut String, value: i64, width: usize| {
        out.push_str(&format!("{value:0width$}"));
    };
    for part in &route.timestamp_format {
        match part {
            DatePart::Literal(text) => stamp.push_str(text),
            DatePart::Year(2) => pad(&mut stamp, i64::from(time.year()).rem_euclid(100), 2),
            DatePart::Year(n) => pad(&mut stamp, i64::from(time.year()), *n),
            DatePart::Month(n) => pad(&mut stamp, i64::from(time.month()), *n),
            DatePart::Day(n) => pad(&mut stamp, i64::from(time.day()), *n),
            DatePart::Hour(n) => pad(&mut stamp, i64::from(time.hour()), *n),
            DatePart::Minute(n) => pad(&mut stamp, i64::from(time.minute()), *n),
            DatePart::Second(n) => pad(&mut stamp, i64::from(time.second()), *n),
            DatePart::Millisecond(n) => {
                pad(&mut stamp, i64::from(time.timestamp_subsec_millis()), *n);
            }
        }
    }
    Some(
        route
            .topic_format
            .replace("${topic}", topic)
            .replace("${timestamp}", &stamp),
    )
}

#[cfg(test)]
mod tests {
    use walbridge_config::transforms::{DatePart, TimestampRoute};

    #[test]
    fn timestamps_are_written_in_utc_as_java_writes_them() {
        use DatePart::*;
        let route = |format: Vec<DatePart>| TimestampRoute {
            topic_format: "${topic}-${timestamp}".into(),
            timestamp_format: format,
        };
        // 2024-05-01T10:00:00.123Z
        let ms = 1_714_557_600_123;
        let daily = route(vec![Year(4), Month(2), Day(2)]);
        assert_eq!(super::by_timestamp(&daily, "t", ms).unwrap(), "t-20240501");
        let fine = route(vec![
            Year(2),
            Month(1),
            Day(1),
            Literal("T".into()),
            Hour(1),
            Minute(2),
            Second(3),
            Literal(".".into()),
            Millisecond(4),
        ]);
        assert_eq!(
            super::by_timestamp(&fine, "t", ms).unwrap(),
            "t-2451T1000000.0123"
        );
        assert_eq!(
            super::by_timestamp(&daily, "t", -86_400_000).unwrap(),
            "t-19691231"
        );
        assert_eq!(super::by_timestamp(&daily, "t", i64::MAX / 1000), None);
    }
}
