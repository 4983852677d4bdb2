//! Debezium and Kafka Connect properties that change what is written to Kafka, or where, and that
//! walbridge does not implement: each is an error naming the key and what to do, never a warning —
//! accepting one would relay something other than what the file asks for.

use crate::properties::{ConfigError, Properties};

/// One such property: which keys, for which values, what they ask for and what to do instead.
struct Unsupported {
    /// The key, or a prefix ending in `.` for a family of keys.
    key: &'static str,
    /// Whether the value asks for the feature (the default, or an off value, does not).
    asks: fn(&str) -> bool,
    what: &'static str,
    fix: &'static str,
}

impl Unsupported {
    /// Whether `key` is this rule's key, or one of its family.
    fn covers(&self, key: &str) -> bool {
        if self.key.ends_with('.') {
            key.starts_with(self.key)
        } else {
            key == self.key
        }
    }
}

fn set(value: &str) -> bool {
    !value.trim().is_empty()
}

fn is_true(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("true")
}

const UNSUPPORTED: &[Unsupported] = &[
    Unsupported {
        key: "converters",
        asks: set,
        what: "custom column converters",
        fix: "remove converters and the keys of the converters it names",
    },
    Unsupported {
        key: "column.mask.with.",
        asks: set,
        what: "column masking",
        fix: "remove the key, or leave the column out with column.exclude.list",
    },
    Unsupported {
        key: "column.mask.hash.",
        asks: set,
        what: "column hashing",
        fix: "remove the key, or leave the column out with column.exclude.list",
    },
    Unsupported {
        key: "column.truncate.to.",
        asks: set,
        what: "column truncation",
        fix: "remove the key",
    },
    Unsupported {
        key: "column.propagate.source.type",
        asks: set,
        what: "the __debezium.source.column.* schema parameters",
        fix: "remove column.propagate.source.type",
    },
    Unsupported {
        key: "datatype.propagate.source.type",
        asks: set,
        what: "the __debezium.source.column.* schema parameters",
        fix: "remove datatype.propagate.source.type",
    },
    Unsupported {
        key: "post.processors",
        asks: set,
        what: "post processors (such as the column reselector)",
        fix: "remove post.processors and its keys",
    },
    Unsupported {
        key: "include.schema.comments",
        asks: is_true,
        what: "column comments as schema docs",
        fix: "set include.schema.comments=false",
    },
    Unsupported {
        key: "topic.delimiter",
        asks: |v| v != ".",
        what: "another delimiter in topic names",
        fix: "remove topic.delimiter (walbridge names topics <prefix>.<schema>.<table>)",
    },
    Unsupported {
        key: "topic.naming.strategy",
        asks: |v| {
            !matches!(
                v.trim(),
                "io.debezium.schema.SchemaTopicNamingStrategy"
                    | "io.debezium.schema.DefaultTopicNamingStrategy"
            )
        },
        what: "another topic naming strategy",
        fix: "remove topic.naming.strategy (walbridge names topics <prefix>.<schema>.<table>)",
    },
    Unsupported {
        key: "money.fraction.digits",
        asks: |v| v.trim() != "2",
        what: "another scale for money values",
        fix: "remove money.fraction.digits (walbridge writes money with Debezium's default scale 2)",
    },
    Unsupported {
        key: "value.converter.decimal.format",
        asks: |v| !v.trim().eq_ignore_ascii_case("BASE64"),
        what: "JsonConverter's numeric decimal format",
        fix: "remove value.converter.decimal.format, or choose decimal.handling.mode=string or double",
    },
    Unsupported {
        key: "key.converter.decimal.format",
        asks: |v| !v.trim().eq_ignore_ascii_case("BASE64"),
        what: "JsonConverter's numeric decimal format",
        fix: "remove key.converter.decimal.format, or choose decimal.handling.mode=string or double",
    },
    Unsupported {
        key: "value.converter.replace.null.with.default",
        asks: |v| !is_true(v),
        what: "nulls kept where a column has a default (JsonConverter's replace.null.with.default=false)",
        fix: "remove value.converter.replace.null.with.default",
    },
    Unsupported {
        key: "header.converter",
        asks: |v| v.trim() != "org.apache.kafka.connect.storage.SimpleHeaderConverter",
        what: "another header converter",
        fix: "remove header.converter (walbridge writes headers as Kafka Connect's \
              SimpleHeaderConverter does)",
    },
    Unsupported {
        key: "errors.tolerance",
        asks: |v| v.trim().eq_ignore_ascii_case("all"),
        what: "records that fail being skipped",
        fix: "remove errors.tolerance: walbridge never drops a change, it fails the invocation and \
              names the change instead",
    },
    Unsupported {
        key: "errors.deadletterqueue.topic.name",
        asks: set,
        what: "a dead-letter topic",
        fix: "remove the key: walbridge fails the invocation (Lambda's failure destination receives \
              the error) rather than diverting records",
    },
    Unsupported {
        key: "event.processing.failure.handling.mode",
        asks: |v| !v.trim().eq_ignore_ascii_case("fail"),
        what: "events that fail to process being skipped or only logged",
        fix: "remove event.processing.failure.handling.mode: walbridge never drops a change",
    },
    Unsupported {
        key: "notification.enabled.channels",
        asks: |v| v.split(',').any(|c| c.trim().eq_ignore_ascii_case("sink")),
        what: "notifications written to a Kafka topic",
        fix: "leave sink out of notification.enabled.channels",
    },
];

/// Pushes an error for every key among `keys` (those walbridge does not declare) whose value asks
/// for something walbridge does not implement.
pub(crate) fn check(props: &Properties, keys: &[String], problems: &mut Vec<ConfigError>) {
    for key in keys {
        let Some(value) = props.get(key) else {
            continue;
        };
        let rule = UNSUPPORTED.iter().find(|rule| rule.covers(key));
        if let Some(rule) = rule.filter(|rule| (rule.asks)(value)) {
            problems.push(ConfigError::Unsupported {
                key: key.clone(),
                what: rule.what,
                fix: rule.fix,
            });
        }
    }
}

/// Whether `key` is one of these properties (asked for or not): the validate report does not call
/// it unknown.
pub(crate) fn is_declared(key: &str) -> bool {
    UNSUPPORTED.iter().any(|rule| rule.covers(key))
}
