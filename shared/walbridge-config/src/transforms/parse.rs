//! The chain's keys read into [`Transform`]s: each transform's and predicate's keys, every key it
//! does not read refused, Debezium 1.x keys named with their 3.x replacement.

use super::*;
use crate::pattern::{java_pattern, java_replacement};
use crate::properties::{ConfigError, Properties};

/// Every key of `transforms.<name>.` and `predicates.<name>.`, and the two lists: the chain's
/// parser reads them all, so none is reported as unknown.
pub(crate) fn is_chain_key(key: &str) -> bool {
    key == TRANSFORMS
        || key == PREDICATES
        || key.starts_with("transforms.")
        || key.starts_with("predicates.")
}

/// The chain as the validate report shows it: each transform in order with its type and predicate.
pub(crate) fn describe_chain(props: &Properties) -> String {
    let steps: Vec<String> = names(props, TRANSFORMS)
        .iter()
        .map(|name| {
            let of = |suffix: &str| props.get(&format!("transforms.{name}.{suffix}"));
            let mut step = format!("{name} ({})", of("type").unwrap_or("no type"));
            if let Some(predicate) = of("predicate") {
                let negate = of("negate").is_some_and(|n| n.trim().eq_ignore_ascii_case("true"));
                step.push_str(&format!(
                    " when {}{predicate}",
                    if negate { "not " } else { "" }
                ));
            }
            step
        })
        .collect();
    format!(
        "applied to every record, in this order: {}",
        steps.join(" → ")
    )
}

/// One problem with the chain's configuration: the key and what to do.
fn problem(key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Chain {
        key: key.into(),
        problem: problem.into(),
    }
}

fn names(props: &Properties, list: &str) -> Vec<String> {
    props
        .get(list)
        .map(|names| {
            names
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The keys one transform or predicate reads, so that every other key under its prefix is refused.
struct Keys<'p> {
    props: &'p Properties,
    prefix: String,
    read: Vec<String>,
}

impl<'p> Keys<'p> {
    fn new(props: &'p Properties, prefix: String) -> Self {
        Self {
            props,
            prefix,
            read: Vec::new(),
        }
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    fn get(&mut self, suffix: &str) -> Option<&'p str> {
        self.read.push(suffix.to_owned());
        self.props.get(&self.key(suffix))
    }

    fn bool(&mut self, suffix: &str, default: bool, errors: &mut Vec<ConfigError>) -> bool {
        match self.get(suffix).map(str::trim) {
            None => default,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(_) => {
                errors.push(problem(self.key(suffix), "must be true or false"));
                default
            }
        }
    }

    fn required(&mut self, suffix: &str, errors: &mut Vec<ConfigError>) -> Option<&'p str> {
        let value = self.get(suffix);
        if value.is_none() {
            errors.push(problem(self.key(suffix), "is required by this transform"));
        }
        value
    }

    /// Refuses the keys set under the prefix that were not read: `known` are keys of the type
    /// that walbridge honours only at their default (given `why`), anything else is not a key of it.
    fn refuse_unread(&self, type_name: &str, errors: &mut Vec<ConfigError>) {
        for (key, _, _) in self.props.entries() {
            let Some(suffix) = key.strip_prefix(&self.prefix) else {
                continue;
            };
            if self.read.iter().any(|r| r == suffix) {
                continue;
            }
            let fix = match REMOVED_KEYS.iter().find(|(removed, _)| *removed == suffix) {
                Some((_, fix)) => (*fix).to_owned(),
                None => format!(
                    "walbridge does not implement this key of {type_name} (it reads: {}); remove it, \
                     or keep Kafka Connect for this connector",
                    self.read.join(", ")
                ),
            };
            errors.push(problem(key, fix));
        }
    }
}

/// Keys that Debezium 1.x's `ExtractNewRecordState` read and 3.x silently ignores, with the 3.x key.
const REMOVED_KEYS: &[(&str, &str)] = &[
    (
        "drop.tombstones",
        "removed in Debezium 2 (Debezium 3 ignores it silently): use \
         delete.tombstone.handling.mode (drop.tombstones=false is rewrite-with-tombstone with \
         delete.handling.mode=rewrite)",
    ),
    (
        "delete.handling.mode",
        "removed in Debezium 2 (Debezium 3 ignores it silently): use \
         delete.tombstone.handling.mode (drop, rewrite, rewrite-with-tombstone, tombstone, \
         delete-to-tombstone)",
    ),
];

pub(super) const EXTRACT_NEW_RECORD_STATE: &str = "io.debezium.transforms.ExtractNewRecordState";
pub(super) const EXTRACT_CHANGED_RECORD_STATE: &str =
    "io.debezium.transforms.ExtractChangedRecordState";
pub(super) const EVENT_ROUTER: &str = "io.debezium.transforms.outbox.EventRouter";
pub(super) const DECODE_MESSAGE_CONTENT: &str =
    "io.debezium.connector.postgresql.transforms.DecodeLogicalDecodingMessageContent";
pub(super) const REGEX_ROUTER: &str = "org.apache.kafka.connect.transforms.RegexRouter";
pub(super) const TIMESTAMP_ROUTER: &str = "org.apache.kafka.connect.transforms.TimestampRouter";
pub(super) const BY_LOGICAL_TABLE_ROUTER: &str = "io.debezium.transforms.ByLogicalTableRouter";
pub(super) const FILTER: &str = "org.apache.kafka.connect.transforms.Filter";
pub(super) const REPLACE_FIELD: &str = "org.apache.kafka.connect.transforms.ReplaceField";
pub(super) const INSERT_FIELD: &str = "org.apache.kafka.connect.transforms.InsertField";
pub(super) const EXTRACT_FIELD: &str = "org.apache.kafka.connect.transforms.ExtractField";
pub(super) const VALUE_TO_KEY: &str = "org.apache.kafka.connect.transforms.ValueToKey";
pub(super) const INSERT_HEADER: &str = "org.apache.kafka.connect.transforms.InsertHeader";
pub(super) const DROP_HEADERS: &str = "org.apache.kafka.connect.transforms.DropHeaders";
pub(super) const HOIST_FIELD: &str = "org.apache.kafka.connect.transforms.HoistField";
pub(super) const CAST: &str = "org.apache.kafka.connect.transforms.Cast";
pub(super) const HEADER_FROM: &str = "org.apache.kafka.connect.transforms.HeaderFrom";
pub(super) const TOPIC_NAME_MATCHES: &str =
    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches";
pub(super) const HAS_HEADER_KEY: &str =
    "org.apache.kafka.connect.transforms.predicates.HasHeaderKey";
pub(super) const RECORD_IS_TOMBSTONE: &str =
    "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone";

/// The transform types walbridge implements, for errors.
pub const TRANSFORM_TYPES: &[&str] = &[
    EXTRACT_NEW_RECORD_STATE,
    EXTRACT_CHANGED_RECORD_STATE,
    EVENT_ROUTER,
    DECODE_MESSAGE_CONTENT,
    REGEX_ROUTER,
    TIMESTAMP_ROUTER,
    BY_LOGICAL_TABLE_ROUTER,
    FILTER,
    "org.apache.kafka.connect.transforms.ReplaceField$Key",
    "org.apache.kafka.connect.transforms.ReplaceField$Value",
    "org.apache.kafka.connect.transforms.InsertField$Key",
    "org.apache.kafka.connect.transforms.InsertField$Value",
    "org.apache.kafka.connect.transforms.ExtractField$Key",
    "org.apache.kafka.connect.transforms.ExtractField$Value",
    VALUE_TO_KEY,
    INSERT_HEADER,
    DROP_HEADERS,
    "org.apache.kafka.connect.transforms.HoistField$Key",
    "org.apache.kafka.connect.transforms.HoistField$Value",
    "org.apache.kafka.connect.transforms.Cast$Key",
    "org.apache.kafka.connect.transforms.Cast$Value",
    "org.apache.kafka.connect.transforms.HeaderFrom$Key",
    "org.apache.kafka.connect.transforms.HeaderFrom$Value",
];

/// `type` split into the class and the part a `$Key`/`$Value` class works on.
fn class_and_part(type_name: &str) -> (&str, Option<Part>) {
    match type_name.rsplit_once('$') {
        Some((class, "Key")) => (class, Some(Part::Key)),
        Some((class, "Value")) => (class, Some(Part::Value)),
        _ => (type_name, None),
    }
}

fn list(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
/// The predicate types walbridge implements, for errors.
pub const PREDICATE_TYPES: &[&str] = &[TOPIC_NAME_MATCHES, HAS_HEADER_KEY, RECORD_IS_TOMBSTONE];

/// The chain `props` configures, every problem pushed to `errors`.
pub(crate) fn chain(props: &Properties, errors: &mut Vec<ConfigError>) -> Vec<Transform> {
    let transform_names = names(props, TRANSFORMS);
    let predicate_names = names(props, PREDICATES);
    // keys of names the lists do not hold: Connect ignores them, but a typo would then silently
    // drop a transform the user meant
    for (key, _, _) in props.entries() {
        for (family, list, listed) in [
            ("transforms.", TRANSFORMS, &transform_names),
            ("predicates.", PREDICATES, &predicate_names),
        ] {
            let Some(rest) = key.strip_prefix(family) else {
                continue;
            };
            if !listed.iter().any(|n| {
                rest.strip_prefix(n.as_str())
                    .is_some_and(|r| r.starts_with('.'))
            }) {
                errors.push(problem(
                    key,
                    format!("names no entry of {list}: add it to {list}, or remove the key"),
                ));
            }
        }
    }
    let mut predicates = Vec::new();
    for name in &predicate_names {
        let mut keys = Keys::new(props, format!("predicates.{name}."));
        let predicate = match keys.required("type", errors).map(str::trim) {
            None => None,
            Some(TOPIC_NAME_MATCHES) => keys.required("pattern", errors).and_then(|pattern| {
                java_pattern(pattern)
                    .map_err(|err| errors.push(regex_problem(keys.key("pattern"), &err)))
                    .ok()
                    .map(Predicate::TopicNameMatches)
            }),
            Some(HAS_HEADER_KEY) => keys
                .required("name", errors)
                .map(|n| Predicate::HasHeaderKey(n.to_owned())),
            Some(RECORD_IS_TOMBSTONE) => Some(Predicate::RecordIsTombstone),
            Some(other) => {
                errors.push(problem(
                    keys.key("type"),
                    format!(
                        "walbridge does not implement the predicate {other}; it implements {}",
                        PREDICATE_TYPES.join(", ")
                    ),
                ));
                continue;
            }
        };
        keys.refuse_unread("this predicate", errors);
        predicates.push((name.clone(), predicate));
    }
    let mut chain = Vec::new();
    for name in &transform_names {
        let mut keys = Keys::new(props, format!("transforms.{name}."));
        let predicate = keys.get("predicate").map(str::trim).and_then(|p| {
            match predicates.iter().find(|(n, _)| n == p) {
                Some((_, predicate)) => predicate.clone(),
                None => {
                    errors.push(problem(
                        keys.key("predicate"),
                        format!("names no entry of {PREDICATES}: add it there, with its type"),
                    ));
                    None
                }
            }
        });
        let negate = keys.bool("negate", false, errors);
        let Some(type_name) = keys.required("type", errors).map(str::trim) else {
            continue;
        };
        let kind = match class_and_part(type_name) {
            (REPLACE_FIELD, Some(part)) => {
                replace_field(&mut keys, errors).map(|r| TransformKind::ReplaceField(part, r))
            }
            (INSERT_FIELD, Some(part)) => {
                insert_field(&mut keys, errors).map(|i| TransformKind::InsertField(part, i))
            }
            (EXTRACT_FIELD, Some(part)) => {
                let field = keys.required("field", errors).map(|f| f.trim().to_owned());
                if keys
                    .get("field.syntax.version")
                    .is_some_and(|v| !v.trim().eq_ignore_ascii_case("V1"))
                {
                    errors.push(problem(
                        keys.key("field.syntax.version"),
                        "walbridge implements V1 (top-level field names) only: remove the key",
                    ));
                }
                field.map(|f| TransformKind::ExtractField(part, f))
            }
            (VALUE_TO_KEY, None) => {
                let fields = list(keys.required("fields", errors));
                Some(TransformKind::ValueToKey(fields))
            }
            (INSERT_HEADER, None) => {
                let header = keys.required("header", errors).map(str::to_owned);
                let value = keys.required("value.literal", errors).map(str::to_owned);
                header
                    .zip(value)
                    .map(|(header, value)| TransformKind::InsertHeader { header, value })
            }
            (DROP_HEADERS, None) => Some(TransformKind::DropHeaders(list(
                keys.required("headers", errors),
            ))),
            (HOIST_FIELD, Some(part)) => keys
                .required("field", errors)
                .map(|f| TransformKind::HoistField(part, f.trim().to_owned())),
            (CAST, Some(part)) => cast(&mut keys, errors).map(|c| TransformKind::Cast(part, c)),
            (HEADER_FROM, Some(part)) => {
                header_from(&mut keys, errors).map(|h| TransformKind::HeaderFrom(part, h))
            }
            _ => match type_name {
                EXTRACT_NEW_RECORD_STATE => extract_new_record_state(&mut keys, errors)
                    .map(TransformKind::ExtractNewRecordState),
                EXTRACT_CHANGED_RECORD_STATE => {
                    let mut header = |key: &str| header_name(keys.get(key));
                    Some(TransformKind::ExtractChangedRecordState {
                        changed: header("header.changed.name"),
                        unchanged: header("header.unchanged.name"),
                    })
                }
                REGEX_ROUTER => topic_route(&mut keys, "regex", "replacement", errors)
                    .map(TransformKind::RegexRouter),
                TIMESTAMP_ROUTER => {
                    timestamp_route(&mut keys, errors).map(TransformKind::TimestampRouter)
                }
                BY_LOGICAL_TABLE_ROUTER => {
                    logical_table_route(&mut keys, errors).map(TransformKind::ByLogicalTableRouter)
                }
                FILTER => Some(TransformKind::Filter),
                EVENT_ROUTER => event_router(&mut keys, errors).map(TransformKind::EventRouter),
                DECODE_MESSAGE_CONTENT => Some(TransformKind::DecodeMessageContent {
                    null_fields: keys.bool("fields.null.include", false, errors),
                }),
                other => {
                    errors.push(problem(
                    keys.key("type"),
                    format!(
                        "walbridge does not implement the transform {other}: it would relay the \
                         records untransformed. It implements {}; remove the transform, or keep \
                         Kafka Connect for this connector",
                        TRANSFORM_TYPES.join(", ")
                    ),
                ));
                    continue;
                }
            },
        };
        keys.refuse_unread(type_name, errors);
        if let Some(kind) = kind {
            chain.push(Transform {
                name: name.clone(),
                kind,
                predicate,
                negate,
            });
        }
    }
    chain
}

fn regex_problem(key: String, err: &regex::Error) -> ConfigError {
    problem(
        key,
        format!(
            "is not a regular expression walbridge can match exactly as Java does ({}); \
             look-arounds, back-references, possessive quantifiers and atomic groups are not \
             supported — rewrite it without them",
            first_line(&err.to_string())
        ),
    )
}

fn first_line(text: &str) -> &str {
    text.lines().last().unwrap_or(text).trim()
}

fn extract_new_record_state(
    keys: &mut Keys<'_>,
    errors: &mut Vec<ConfigError>,
) -> Option<ExtractNewRecordState> {
    let delete_handling = match keys.get("delete.tombstone.handling.mode").map(str::trim) {
        None => DeleteHandling::Tombstone,
        Some(mode) => DELETE_MODES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(mode))
            .map(|(_, handling)| *handling)
            .unwrap_or_else(|| {
                errors.push(problem(
                    keys.key("delete.tombstone.handling.mode"),
                    format!(
                        "must be one of {}",
                        DELETE_MODES
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
                DeleteHandling::Tombstone
            }),
    };
    let route_by_field = keys.get("route.by.field").map(|f| f.trim().to_owned());
    let fields_prefix = keys.get("add.fields.prefix").unwrap_or("__").to_owned();
    let headers_prefix = keys.get("add.headers.prefix").unwrap_or("__").to_owned();
    let references = |list: Option<&str>, prefix: &str| -> Vec<FieldReference> {
        list.map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(|f| FieldReference::parse(f, prefix))
                .collect()
        })
        .unwrap_or_default()
    };
    let add_fields = references(keys.get("add.fields"), &fields_prefix);
    let add_headers = references(keys.get("add.headers"), &headers_prefix);
    let drop_header = header_name(keys.get("drop.fields.header.name"));
    let from_key = keys.bool("drop.fields.from.key", false, errors);
    let keep_schema_compatible = keys.bool("drop.fields.keep.schema.compatible", true, errors);
    // only concerns the __deleted field, which is never null
    keys.bool("replace.null.with.default", true, errors);
    Some(ExtractNewRecordState {
        delete_handling,
        route_by_field: route_by_field.filter(|f| !f.is_empty()),
        add_fields,
        add_headers,
        drop_fields: drop_header.map(|header| DropFields {
            header,
            from_key,
            keep_schema_compatible,
        }),
    })
}

/// A header name Debezium reads as set: a blank one is as none.
fn header_name(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty()).map(str::to_owned)
}

fn event_router(keys: &mut Keys<'_>, errors: &mut Vec<ConfigError>) -> Option<EventRouter> {
    let mut column = |key: &str, default: &str| keys.get(key).unwrap_or(default).trim().to_owned();
    let event_id = column("table.field.event.id", "id");
    let event_key = column("table.field.event.key", "aggregateid");
    let payload = column("table.field.event.payload", "payload");
    let route_by_field = column("route.by.field", "aggregatetype");
    // declared by Debezium and never read: the type reaches Kafka only through a placement
    keys.get("table.field.event.type");
    let regex = keys
        .get("route.topic.regex")
        .unwrap_or("(?<routedByValue>.*)");
    let replacement = keys
        .get("route.topic.replacement")
        .unwrap_or("outbox.event.${routedByValue}");
    let route = match java_pattern(regex) {
        Ok(regex) => match java_replacement(replacement, &regex) {
            Ok(replacement) => Some(TopicRoute { regex, replacement }),
            Err(why) => {
                errors.push(problem(keys.key("route.topic.replacement"), why));
                None
            }
        },
        Err(err) => {
            errors.push(regex_problem(keys.key("route.topic.regex"), &err));
            None
        }
    };
    let tombstone_on_empty_payload = keys.bool("route.tombstone.on.empty.payload", false, errors);
    let invalid_op = match keys
        .get("table.op.invalid.behavior")
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("warn") => InvalidOp::Warn,
        Some("error") => InvalidOp::Error,
        Some("fatal") => InvalidOp::Fatal,
        Some(_) => {
            errors.push(problem(
                keys.key("table.op.invalid.behavior"),
                "must be one of warn, error, fatal",
            ));
            InvalidOp::Warn
        }
    };
    let mut additional = Vec::new();
    for spec in list(keys.get("table.fields.additional.placement")) {
        let parts: Vec<&str> = spec.split(':').map(str::trim).collect();
        let placement = match parts.get(1).map(|p| p.to_ascii_lowercase()).as_deref() {
            Some("header") => Some(Placement::Header),
            Some("envelope") => Some(Placement::Envelope),
            Some("partition") => Some(Placement::Partition),
            _ => {
                errors.push(problem(
                    keys.key("table.fields.additional.placement"),
                    "must be a list of column:header[:alias], column:envelope[:alias] or column:partition",
                ));
                None
            }
        };
        if let Some(placement) = placement {
            let name = parts.get(2).unwrap_or(&parts[0]).to_string();
            additional.push((parts[0].to_owned(), placement, name));
        }
    }
    let missing_is_error = match keys
        .get("table.field.additional.missing")
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("error") => true,
        Some("ignore") => false,
        Some(_) => {
            errors.push(problem(
                keys.key("table.field.additional.missing"),
                "must be error or ignore",
            ));
            true
        }
    };
    let mut behavior = |key: &str, other: &str| match keys
        .get(key)
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("ignore") => false,
        Some(v) if v == other => true,
        Some(_) => {
            errors.push(problem(keys.key(key), format!("must be ignore or {other}")));
            false
        }
    };
    let null_fields = behavior("table.json.payload.null.behavior", "optional_bytes");
    let empty_arrays = behavior("table.json.payload.empty.array.behavior", "optional_string");
    let expand_json_payload = keys
        .bool("table.expand.json.payload", false, errors)
        .then_some(JsonExpansion {
            null_fields,
            empty_arrays,
        });
    // tracing only with OpenTelemetry on Connect's class path
    for key in [
        "tracing.span.context.field",
        "tracing.operation.name",
        "tracing.with.context.field.only",
    ] {
        keys.get(key);
    }
    let event_timestamp = keys
        .get("table.field.event.timestamp")
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty());
    let event_schema_version = keys
        .get("table.field.event.schema.version")
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty());
    Some(EventRouter {
        event_schema_version,
        event_timestamp,
        expand_json_payload,
        event_id,
        event_key,
        payload,
        route_by_field,
        route: route?,
        tombstone_on_empty_payload,
        invalid_op,
        additional,
        missing_is_error,
    })
}

fn replace_field(keys: &mut Keys<'_>, errors: &mut Vec<ConfigError>) -> Option<ReplaceField> {
    let mut either = |new: &str, old: &str| {
        let mut names = list(keys.get(new));
        names.extend(list(keys.get(old)));
        names
    };
    let exclude = either("exclude", "blacklist");
    let include = either("include", "whitelist");
    let mut renames = Vec::new();
    for pair in list(keys.get("renames")) {
        match pair.split_once(':') {
            Some((old, new)) => renames.push((old.trim().to_owned(), new.trim().to_owned())),
            None => errors.push(problem(
                keys.key("renames"),
                "must be a list of old:new pairs",
            )),
        }
    }
    Some(ReplaceField {
        exclude,
        include,
        renames,
    })
}

fn cast(keys: &mut Keys<'_>, errors: &mut Vec<ConfigError>) -> Option<Cast> {
    let spec_key = keys.key("spec");
    let entries = list(keys.required("spec", errors));
    let replace_null_with_default = keys.bool("replace.null.with.default", true, errors);
    let types = || CastType::ALL.map(|(n, _)| n).join(", ");
    let mut whole = None;
    let mut fields = Vec::new();
    for entry in &entries {
        let (field, type_name) = match entry.split_once(':') {
            Some((field, type_name)) if !type_name.contains(':') => (Some(field.trim()), type_name),
            Some(_) => {
                errors.push(problem(
                    &spec_key,
                    format!("{entry}: one field:type pair per entry"),
                ));
                return None;
            }
            None => (None, entry.as_str()),
        };
        let Some(cast_type) = CastType::parse(type_name) else {
            errors.push(problem(
                &spec_key,
                format!("{entry}: Cast casts to {}", types()),
            ));
            return None;
        };
        match field {
            Some(field) => fields.push((field.to_owned(), cast_type)),
            None => whole = Some(cast_type),
        }
    }
    let spec = match whole {
        _ if entries.is_empty() => {
            errors.push(problem(
                spec_key,
                "must name at least one field:type, or a type",
            ));
            return None;
        }
        Some(_) if entries.len() > 1 => {
            errors.push(problem(
                spec_key,
                "a type for the whole key or value is the spec's only entry",
            ));
            return None;
        }
        Some(cast_type) => CastSpec::Whole(cast_type),
        None => CastSpec::Fields(fields),
    };
    Some(Cast {
        spec,
        replace_null_with_default,
    })
}

fn header_from(keys: &mut Keys<'_>, errors: &mut Vec<ConfigError>) -> Option<HeaderFrom> {
    let fields = list(keys.required("fields", errors));
    let headers = list(keys.required("headers", errors));
    let operation = keys.required("operation", errors).map(str::trim);
    let replace_null_with_default = keys.bool("replace.null.with.default", true, errors);
    let moves = match operation? {
        "move" => true,
        "copy" => false,
        _ => {
            errors.push(problem(keys.key("operation"), "must be move or copy"));
            return None;
        }
    };
    if fields.is_empty() || fields.len() != headers.len() {
        errors.push(problem(
            keys.key("headers"),
            "must name as many headers as fields names fields (one or more)",
        ));
        return None;
    }
    Some(HeaderFrom {
        fields: fields.into_iter().zip(headers).collect(),
        moves,
        replace_null_with_default,
    })
}

fn insert_field(keys: &mut Keys<'_>, errors: &mut Vec<ConfigError>) -> Option<InsertField> {
    let topic = keys.get("topic.field").map(InsertedField::parse);
    let static_field = keys.get("static.field").map(InsertedField::parse);
    let static_value = keys.get("static.value").map(str::to_owned);
    // A source record has no offset, partition or timestamp for Kafka Connect to insert (Debezium
    // leaves them null): the keys are refused as not read.
    let static_field = match (static_field, static_value) {
        (Some(field), Some(value)) => Some((field, value)),
        (None, None) => None,
        _ => {
            errors.push(problem(
                keys.key("static.field"),
                "and static.value go together: set both, or neither",
            ));
            None
        }
    };
    Some(InsertField {
        topic,
        static_field,
    })
}

fn topic_route(
    keys: &mut Keys<'_>,
    regex_key: &str,
    replacement_key: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<TopicRoute> {
    let regex = keys.required(regex_key, errors);
    let replacement = keys.required(replacement_key, errors);
    let regex = match java_pattern(regex?) {
        Ok(regex) => regex,
        Err(err) => {
            errors.push(regex_problem(keys.key(regex_key), &err));
            return None;
        }
    };
    match java_replacement(replacement?, &regex) {
        Ok(replacement) => Some(TopicRoute { regex, replacement }),
        Err(why) => {
            errors.push(problem(keys.key(replacement_key), why));
            None
        }
    }
}

fn logical_table_route(
    keys: &mut Keys<'_>,
    errors: &mut Vec<ConfigError>,
) -> Option<LogicalTableRoute> {
    let topic = topic_route(keys, "topic.regex", "topic.replacement", errors);
    let key_enforce_uniqueness = keys.bool("key.enforce.uniqueness", true, errors);
    let key_field_name = keys
        .get("key.field.name")
        .unwrap_or("__dbz__physicalTableIdentifier")
        .trim()
        .to_owned();
    let key_field = match keys.props.get(&keys.key("key.field.regex")) {
        Some(_) => topic_route(keys, "key.field.regex", "key.field.replacement", errors),
        None => {
            keys.get("key.field.regex");
            keys.get("key.field.replacement");
            None
        }
    };
    // A cache size only tunes Debezium's JVM.
    keys.get("logical.table.cache.size");
    match keys.get("schema.name.adjustment.mode").map(str::trim) {
        None => {}
        Some(mode) if mode.eq_ignore_ascii_case("none") => {}
        Some(_) => errors.push(problem(
            keys.key("schema.name.adjustment.mode"),
            "walbridge implements only none (the default): remove the key",
        )),
    }
    Some(LogicalTableRoute {
        topic: topic?,
        key_enforce_uniqueness,
        key_field_name,
        key_field,
    })
}

fn timestamp_route(keys: &mut Keys<'_>, errors: &mut Vec<ConfigError>) -> Option<TimestampRoute> {
    let topic_format = keys
        .get("topic.format")
        .unwrap_or("${topic}-${timestamp}")
        .to_owned();
    let pattern = keys.get("timestamp.format").unwrap_or("yyyyMMdd");
    match date_parts(pattern) {
        Ok(timestamp_format) => Some(TimestampRoute {
            topic_format,
            timestamp_format,
        }),
        Err(why) => {
            errors.push(problem(keys.key("timestamp.format"), why));
            None
        }
    }
}

/// A `SimpleDateFormat` pattern read into the parts walbridge writes; any other letter (day
/// names, time zones, 12-hour clocks, week numbers, …) is refused, naming it.
fn date_parts(pattern: &str) -> Result<Vec<DatePart>, String> {
    let mut parts = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            let mut text = String::new();
            loop {
                match chars.next() {
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        text.push('\'');
                    }
                    Some('\'') => break,
                    Some(c) => text.push(c),
                    None => return Err("has an unclosed quote".to_owned()),
                }
            }
            if text.is_empty() {
                text.push('\'');
            }
            parts.push(DatePart::Literal(text));
        } else if c.is_ascii_alphabetic() {
            let mut count = 1;
            while chars.peek() == Some(&c) {
                chars.next();
                count += 1;
            }
            parts.push(match c {
                'y' => DatePart::Year(count),
                'M' if count <= 2 => DatePart::Month(count),
                'd' => DatePart::Day(count),
                'H' => DatePart::Hour(count),
                'm' => DatePart::Minute(count),
                's' => DatePart::Second(count),
                'S' => DatePart::Millisecond(count),
                _ => {
                    return Err(format!(
                        "uses the pattern letter {c} ({count} times), which walbridge does not \
                         write as Java does: it writes y, M (numeric), d, H, m, s, S and quoted text"
                    ));
                }
            });
        } else {
            parts.push(DatePart::Literal(c.to_string()));
        }
    }
    Ok(parts)
}
