//! Kafka Connect's transform chain (`transforms`, `transforms.<name>.*`, `predicates`,
//! `predicates.<name>.*`), parsed into the transforms walbridge applies. A transform or predicate
//! type walbridge does not implement, or a key of one it does not honour, is an error naming it:
//! relaying records other than those the chain asks for would be silent.

use regex::Regex;

use crate::pattern::java_pattern;
use crate::properties::{ConfigError, Properties};

/// `transforms`: the names of the chain, in order.
pub const TRANSFORMS: &str = "transforms";
/// `predicates`: the names of the predicates the transforms may refer to.
pub const PREDICATES: &str = "predicates";

/// One transform of the chain, as Kafka Connect applies it: `kind` to the records `predicate`
/// (negated when `negate`) holds for, or to every record when there is none.
#[derive(Debug, Clone)]
pub struct Transform {
    /// The name in `transforms`, for errors and the validate report.
    pub name: String,
    /// What the transform does.
    pub kind: TransformKind,
    /// The predicate that selects the records it applies to.
    pub predicate: Option<Predicate>,
    /// `transforms.<name>.negate`: applies to the records the predicate does not hold for.
    pub negate: bool,
}

/// The transforms walbridge implements.
#[derive(Debug, Clone)]
pub enum TransformKind {
    /// `io.debezium.transforms.ExtractNewRecordState`: the row state instead of the envelope.
    ExtractNewRecordState(ExtractNewRecordState),
    /// `org.apache.kafka.connect.transforms.RegexRouter`: a topic matching `regex` as a whole is
    /// renamed to `replacement`.
    RegexRouter(TopicRoute),
    /// `io.debezium.transforms.ByLogicalTableRouter`: several tables' topics merged into one, the
    /// key made unique with the physical table's topic, the schemas renamed after the new topic.
    ByLogicalTableRouter(LogicalTableRoute),
    /// `org.apache.kafka.connect.transforms.Filter`: drops the records (those its predicate selects).
    Filter,
    /// `org.apache.kafka.connect.transforms.ReplaceField$Key` / `$Value`: fields left out, kept or
    /// renamed.
    ReplaceField(Part, ReplaceField),
    /// `org.apache.kafka.connect.transforms.InsertField$Key` / `$Value`: a static field and/or
    /// the topic added to the struct.
    InsertField(Part, InsertField),
    /// `org.apache.kafka.connect.transforms.ExtractField$Key` / `$Value`: one field in place of the
    /// struct.
    ExtractField(Part, String),
    /// `org.apache.kafka.connect.transforms.ValueToKey`: the key made of these value fields.
    ValueToKey(Vec<String>),
    /// `org.apache.kafka.connect.transforms.InsertHeader`: a header with a literal value.
    InsertHeader {
        /// `header`.
        header: String,
        /// `value.literal`.
        value: String,
    },
    /// `org.apache.kafka.connect.transforms.DropHeaders`: the headers of these names removed.
    DropHeaders(Vec<String>),
    /// `org.apache.kafka.connect.transforms.HoistField$Key` / `$Value`: the key or value wrapped
    /// in a struct of one field of this name.
    HoistField(Part, String),
    /// `org.apache.kafka.connect.transforms.Cast$Key` / `$Value`: fields, or the whole key or
    /// value, cast to another primitive type.
    Cast(Part, Cast),
    /// `org.apache.kafka.connect.transforms.HeaderFrom$Key` / `$Value`: fields copied or moved
    /// into headers.
    HeaderFrom(Part, HeaderFrom),
    /// `io.debezium.connector.postgresql.transforms.DecodeLogicalDecodingMessageContent`: a
    /// message whose content is a JSON object as an `op: "c"` event with that object as `after`.
    DecodeMessageContent {
        /// `fields.null.include` (default false): null fields kept, as optional bytes.
        null_fields: bool,
    },
    /// `io.debezium.transforms.outbox.EventRouter`: an outbox table's inserts as events of their
    /// own, routed by aggregate type.
    EventRouter(EventRouter),
}

/// Where `EventRouter` puts an additional column (`table.fields.additional.placement`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// A header.
    Header,
    /// A field of the value, which becomes a struct beside `payload`.
    Envelope,
}

/// What `EventRouter` does with an update of the outbox table (`table.op.invalid.behavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidOp {
    /// Dropped with a warning.
    Warn,
    /// Dropped with an error logged.
    Error,
    /// The invocation fails.
    Fatal,
}

/// `EventRouter`'s settings.
#[derive(Debug, Clone)]
pub struct EventRouter {
    /// `table.field.event.id` (default `id`): the `id` header.
    pub event_id: String,
    /// `table.field.event.key` (default `aggregateid`): the key.
    pub event_key: String,
    /// `table.field.event.payload` (default `payload`): the value.
    pub payload: String,
    /// `route.by.field` (default `aggregatetype`).
    pub route_by_field: String,
    /// `route.topic.regex` and `route.topic.replacement` (default `(?<routedByValue>.*)` to
    /// `outbox.event.${routedByValue}`).
    pub route: TopicRoute,
    /// `route.tombstone.on.empty.payload` (default false): a null or blank payload becomes a
    /// tombstone.
    pub tombstone_on_empty_payload: bool,
    /// `table.op.invalid.behavior` (default warn).
    pub invalid_op: InvalidOp,
    /// `table.fields.additional.placement`: `(column, placement, name)`.
    pub additional: Vec<(String, Placement, String)>,
    /// `table.field.additional.missing` (default error): whether a missing additional column fails.
    pub missing_is_error: bool,
    /// `table.expand.json.payload=true`: a JSON text payload expanded into a struct.
    pub expand_json_payload: Option<JsonExpansion>,
}

/// How `EventRouter` expands a JSON payload (its schema inferred as Debezium's `JsonSchemaData`
/// infers it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonExpansion {
    /// `table.json.payload.null.behavior=optional_bytes` (default `ignore`): null fields kept as
    /// optional bytes instead of left out.
    pub null_fields: bool,
    /// `table.json.payload.empty.array.behavior=optional_string` (default `ignore`): empty arrays
    /// kept as arrays of optional strings instead of left out.
    pub empty_arrays: bool,
}

/// The part of a record a Kafka transform works on (`$Key` or `$Value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The key.
    Key,
    /// The value.
    Value,
}

/// `ReplaceField`'s settings.
#[derive(Debug, Clone, Default)]
pub struct ReplaceField {
    /// `exclude` (or the older `blacklist`).
    pub exclude: Vec<String>,
    /// `include` (or the older `whitelist`): when not empty, only these are kept.
    pub include: Vec<String>,
    /// `renames`: `old:new` pairs.
    pub renames: Vec<(String, String)>,
}

impl ReplaceField {
    /// Whether the field `name` is kept.
    pub fn keeps(&self, name: &str) -> bool {
        !self.exclude.iter().any(|n| n == name)
            && (self.include.is_empty() || self.include.iter().any(|n| n == name))
    }

    /// The field's name after the renames.
    pub fn renamed<'n>(&'n self, name: &'n str) -> &'n str {
        self.renames
            .iter()
            .find(|(old, _)| old == name)
            .map_or(name, |(_, new)| new.as_str())
    }
}

/// A primitive type `Cast` casts to (`spec`'s types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CastType {
    /// `int8`.
    Int8,
    /// `int16`.
    Int16,
    /// `int32`.
    Int32,
    /// `int64`.
    Int64,
    /// `float32`.
    Float32,
    /// `float64`.
    Float64,
    /// `boolean`.
    Boolean,
    /// `string`.
    String,
}

impl CastType {
    const ALL: [(&'static str, Self); 8] = [
        ("int8", Self::Int8),
        ("int16", Self::Int16),
        ("int32", Self::Int32),
        ("int64", Self::Int64),
        ("float32", Self::Float32),
        ("float64", Self::Float64),
        ("boolean", Self::Boolean),
        ("string", Self::String),
    ];

    fn parse(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, t)| *t)
    }

    /// The type as JsonConverter's schemas name it (`float`, `double` for the floats).
    pub fn json_type(self) -> &'static str {
        match self {
            Self::Float32 => "float",
            Self::Float64 => "double",
            other => other.name(),
        }
    }

    /// The type as `spec` names it.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("string", |(n, _)| n)
    }
}

/// `Cast`'s settings.
#[derive(Debug, Clone)]
pub enum CastSpec {
    /// A single type: the whole key or value cast.
    Whole(CastType),
    /// `field:type` pairs: fields of the struct cast.
    Fields(Vec<(String, CastType)>),
}

/// `Cast`'s settings.
#[derive(Debug, Clone)]
pub struct Cast {
    /// `spec`.
    pub spec: CastSpec,
    /// `replace.null.with.default` (default true): a null field with a default takes its default.
    pub replace_null_with_default: bool,
}

/// `HeaderFrom`'s settings.
#[derive(Debug, Clone)]
pub struct HeaderFrom {
    /// `fields` paired with `headers`: `(field, header)`.
    pub fields: Vec<(String, String)>,
    /// `operation=move` (else `copy`): the fields leave the struct.
    pub moves: bool,
    /// `replace.null.with.default` (default true): a null field with a default gives its default.
    pub replace_null_with_default: bool,
}

/// A field `InsertField` adds: its name and whether it is optional (`name?` or plain) or required
/// (`name!`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertedField {
    /// The field's name.
    pub name: String,
    /// Whether its schema is optional.
    pub optional: bool,
}

impl InsertedField {
    fn parse(spec: &str) -> Self {
        let spec = spec.trim();
        match (spec.strip_suffix('!'), spec.strip_suffix('?')) {
            (Some(name), _) => Self {
                name: name.to_owned(),
                optional: false,
            },
            (_, Some(name)) => Self {
                name: name.to_owned(),
                optional: true,
            },
            _ => Self {
                name: spec.to_owned(),
                optional: true,
            },
        }
    }
}

/// `InsertField`'s settings walbridge implements.
#[derive(Debug, Clone, Default)]
pub struct InsertField {
    /// `topic.field`: the record's topic.
    pub topic: Option<InsertedField>,
    /// `static.field` and `static.value`.
    pub static_field: Option<(InsertedField, String)>,
}

/// The predicates walbridge implements (`predicates.<name>.type`).
#[derive(Debug, Clone)]
pub enum Predicate {
    /// `TopicNameMatches`: the topic matches `pattern` as a whole.
    TopicNameMatches(Regex),
    /// `HasHeaderKey`: the record has a header named so.
    HasHeaderKey(String),
    /// `RecordIsTombstone`: the record's value is null.
    RecordIsTombstone,
}

/// What `ExtractNewRecordState` does with a delete (`delete.tombstone.handling.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteHandling {
    /// The delete and Debezium's tombstone are dropped.
    Drop,
    /// The delete becomes a null value (with the row's schema); Debezium's tombstone is dropped.
    Tombstone,
    /// The delete becomes the row's old state with `__deleted: "true"` (`"false"` on the others).
    Rewrite,
    /// As `Rewrite`, and Debezium's tombstone is kept.
    RewriteWithTombstone,
    /// The delete becomes a tombstone (null schema and value); Debezium's tombstone is dropped.
    DeleteToTombstone,
}

const DELETE_MODES: &[(&str, DeleteHandling)] = &[
    ("drop", DeleteHandling::Drop),
    ("tombstone", DeleteHandling::Tombstone),
    ("rewrite", DeleteHandling::Rewrite),
    (
        "rewrite-with-tombstone",
        DeleteHandling::RewriteWithTombstone,
    ),
    ("delete-to-tombstone", DeleteHandling::DeleteToTombstone),
];

/// A field of the envelope that `add.fields` or `add.headers` copies: `struct.field`, or a bare
/// name resolved as Debezium resolves it, with the name it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldReference {
    /// The envelope's struct holding the field (`source`, `transaction`), or `None` for the
    /// envelope's own fields (`op`, `ts_ms`, …).
    pub within: Option<String>,
    /// The field's name in that struct.
    pub field: String,
    /// The added field's or header's name, prefix included.
    pub new_name: String,
}

impl FieldReference {
    /// `spec` (`field`, `struct.field`, either with `:alias`) as Debezium reads it, the new name
    /// starting with `prefix`.
    fn parse(spec: &str, prefix: &str) -> Self {
        let (path, alias) = match spec.split_once(':') {
            Some((path, alias)) => (path, Some(alias)),
            None => (spec, None),
        };
        let (within, field) = match path.split_once('.') {
            Some((within, field)) => (Some(within.to_owned()), field.to_owned()),
            None => {
                let within = match path {
                    "id" | "total_order" | "data_collection_order" => Some("transaction"),
                    "op" | "ts_ms" | "ts_us" | "ts_ns" => None,
                    _ => Some("source"),
                };
                (within.map(str::to_owned), path.to_owned())
            }
        };
        let new_name = match (alias, &within) {
            (Some(alias), _) => format!("{prefix}{alias}"),
            (None, Some(within)) if path.contains('.') => format!("{prefix}{within}_{field}"),
            (None, _) => format!("{prefix}{field}"),
        };
        Self {
            within,
            field,
            new_name,
        }
    }
}

/// `ExtractNewRecordState`'s settings.
#[derive(Debug, Clone)]
pub struct ExtractNewRecordState {
    /// `delete.tombstone.handling.mode` (default `tombstone`).
    pub delete_handling: DeleteHandling,
    /// `route.by.field`: the row's field whose value becomes the topic.
    pub route_by_field: Option<String>,
    /// `add.fields`: envelope fields appended to the row, in order.
    pub add_fields: Vec<FieldReference>,
    /// `add.headers`: envelope fields added as headers, in order.
    pub add_headers: Vec<FieldReference>,
}

/// `RegexRouter`'s settings, and the topic part of `ByLogicalTableRouter`'s.
#[derive(Debug, Clone)]
pub struct TopicRoute {
    /// The pattern, anchored: a topic is renamed only when it matches as a whole.
    pub regex: Regex,
    /// The replacement in the `regex` crate's syntax, translated from Java's.
    pub replacement: String,
}

impl TopicRoute {
    /// The new topic of `topic`, if the route applies to it.
    pub fn route(&self, topic: &str) -> Option<String> {
        self.regex.is_match(topic).then(|| {
            self.regex
                .replace(topic, self.replacement.as_str())
                .into_owned()
        })
    }
}

/// Where the chain sends the records of one topic, as far as the topic alone tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// This topic (the same, or routed by topic name).
    Topic(String),
    /// Nowhere: a `Filter` drops every record of the topic.
    Dropped,
    /// Decided per record by this transform (an `EventRouter`, a `route.by.field`, or a router
    /// whose predicate looks at the record).
    ByContent(String),
}

/// Where the records of `topic` go through `chain`: what `validate` expects to find in Kafka.
pub fn destination(chain: &[Transform], topic: &str) -> Destination {
    let mut topic = topic.to_owned();
    for transform in chain {
        let routes = matches!(
            transform.kind,
            TransformKind::RegexRouter(_)
                | TransformKind::ByLogicalTableRouter(_)
                | TransformKind::EventRouter(_)
                | TransformKind::Filter
        ) || matches!(&transform.kind, TransformKind::ExtractNewRecordState(s) if s.route_by_field.is_some());
        if !routes {
            continue;
        }
        let applies = match &transform.predicate {
            None => true,
            Some(Predicate::TopicNameMatches(pattern)) => {
                pattern.is_match(&topic) != transform.negate
            }
            // a filter of some records keeps the topic
            Some(_) if matches!(transform.kind, TransformKind::Filter) => false,
            Some(_) => return Destination::ByContent(transform.name.clone()),
        };
        if !applies {
            continue;
        }
        match &transform.kind {
            TransformKind::RegexRouter(route) => {
                if let Some(routed) = route.route(&topic) {
                    topic = routed;
                }
            }
            TransformKind::ByLogicalTableRouter(settings) => {
                if let Some(routed) = settings.topic.route(&topic).filter(|t| !t.is_empty()) {
                    topic = routed;
                }
            }
            TransformKind::Filter => return Destination::Dropped,
            _ => return Destination::ByContent(transform.name.clone()),
        }
    }
    Destination::Topic(topic)
}

/// `ByLogicalTableRouter`'s settings.
#[derive(Debug, Clone)]
pub struct LogicalTableRoute {
    /// `topic.regex` and `topic.replacement`.
    pub topic: TopicRoute,
    /// `key.enforce.uniqueness` (default true): the key gets a field naming the physical table.
    pub key_enforce_uniqueness: bool,
    /// `key.field.name` (default `__dbz__physicalTableIdentifier`).
    pub key_field_name: String,
    /// `key.field.regex` and `key.field.replacement`: the key field's value derived from the old
    /// topic instead of the old topic itself.
    pub key_field: Option<TopicRoute>,
}

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

const EXTRACT_NEW_RECORD_STATE: &str = "io.debezium.transforms.ExtractNewRecordState";
const EVENT_ROUTER: &str = "io.debezium.transforms.outbox.EventRouter";
const DECODE_MESSAGE_CONTENT: &str =
    "io.debezium.connector.postgresql.transforms.DecodeLogicalDecodingMessageContent";
const REGEX_ROUTER: &str = "org.apache.kafka.connect.transforms.RegexRouter";
const BY_LOGICAL_TABLE_ROUTER: &str = "io.debezium.transforms.ByLogicalTableRouter";
const FILTER: &str = "org.apache.kafka.connect.transforms.Filter";
const REPLACE_FIELD: &str = "org.apache.kafka.connect.transforms.ReplaceField";
const INSERT_FIELD: &str = "org.apache.kafka.connect.transforms.InsertField";
const EXTRACT_FIELD: &str = "org.apache.kafka.connect.transforms.ExtractField";
const VALUE_TO_KEY: &str = "org.apache.kafka.connect.transforms.ValueToKey";
const INSERT_HEADER: &str = "org.apache.kafka.connect.transforms.InsertHeader";
const DROP_HEADERS: &str = "org.apache.kafka.connect.transforms.DropHeaders";
const HOIST_FIELD: &str = "org.apache.kafka.connect.transforms.HoistField";
const CAST: &str = "org.apache.kafka.connect.transforms.Cast";
const HEADER_FROM: &str = "org.apache.kafka.connect.transforms.HeaderFrom";
const TOPIC_NAME_MATCHES: &str = "org.apache.kafka.connect.transforms.predicates.TopicNameMatches";
const HAS_HEADER_KEY: &str = "org.apache.kafka.connect.transforms.predicates.HasHeaderKey";
const RECORD_IS_TOMBSTONE: &str =
    "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone";

/// The transform types walbridge implements, for errors.
pub const TRANSFORM_TYPES: &[&str] = &[
    EXTRACT_NEW_RECORD_STATE,
    EVENT_ROUTER,
    DECODE_MESSAGE_CONTENT,
    REGEX_ROUTER,
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
                REGEX_ROUTER => topic_route(&mut keys, "regex", "replacement", errors)
                    .map(TransformKind::RegexRouter),
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
    // Only with drop.fields.header.name (not implemented, so refused) do these change anything;
    // replace.null.with.default only concerns the __deleted field, which is never null.
    keys.bool("drop.fields.from.key", false, errors);
    keys.bool("drop.fields.keep.schema.compatible", true, errors);
    keys.bool("replace.null.with.default", true, errors);
    Some(ExtractNewRecordState {
        delete_handling,
        route_by_field: route_by_field.filter(|f| !f.is_empty()),
        add_fields,
        add_headers,
    })
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
            Some("partition") => {
                errors.push(problem(
                    keys.key("table.fields.additional.placement"),
                    format!(
                        "places {} in the partition, which walbridge does not implement: place it \
                         in a header or the envelope",
                        parts[0]
                    ),
                ));
                None
            }
            _ => {
                errors.push(problem(
                    keys.key("table.fields.additional.placement"),
                    "must be a list of column:header[:alias] or column:envelope[:alias]",
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
    Some(EventRouter {
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

/// A Java replacement string (`Matcher.replaceFirst`: `$n`, `${name}`, `\x` for a literal `x`) in
/// the `regex` crate's syntax. Java reads `$12` as group 12 only when the pattern has 12 groups,
/// else as group 1 followed by `2`; the result names its groups with braces, so nothing is read
/// differently.
///
/// # Errors
/// A `$` not followed by a group, or a group the pattern does not have, as Java refuses them.
pub fn java_replacement(java: &str, regex: &Regex) -> Result<String, String> {
    let groups = regex.captures_len() - 1;
    let mut out = String::with_capacity(java.len());
    let mut chars = java.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(c) => out.push(c),
                None => return Err("ends with a lone backslash (escape it as \\\\)".to_owned()),
            },
            '$' => match chars.peek() {
                Some('{') => {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    if regex.capture_names().flatten().all(|n| n != name) {
                        return Err(format!(
                            "names the group {name}, which the regex does not have"
                        ));
                    }
                    out.push_str(&format!("${{{name}}}"));
                }
                Some(d) if d.is_ascii_digit() => {
                    let mut group = d.to_digit(10).expect("a digit") as usize;
                    chars.next();
                    while let Some(next) = chars.peek().and_then(|c| c.to_digit(10)) {
                        let longer = group * 10 + next as usize;
                        if longer > groups {
                            break;
                        }
                        group = longer;
                        chars.next();
                    }
                    if group > groups {
                        return Err(format!(
                            "refers to group {group}, but the regex has {groups} group(s)"
                        ));
                    }
                    out.push_str(&format!("${{{group}}}"));
                }
                _ => {
                    return Err(
                        "has a $ that names no group (write \\$ for a literal dollar)".to_owned(),
                    );
                }
            },
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Properties {
        let mut props = Properties::default();
        for (k, v) in pairs {
            props.set(k, v);
        }
        props
    }

    fn parse(pairs: &[(&str, &str)]) -> (Vec<Transform>, Vec<String>) {
        let mut errors = Vec::new();
        let chain = chain(&props(pairs), &mut errors);
        (chain, errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn replacements_are_translated_from_java() {
        let regex = java_pattern("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)").unwrap();
        assert_eq!(java_replacement("x$1y", &regex).unwrap(), "x${1}y");
        assert_eq!(java_replacement("$11", &regex).unwrap(), "${11}");
        assert_eq!(java_replacement("\\$1", &regex).unwrap(), "$$1");
        let two = java_pattern("(a)(?<rest>b)").unwrap();
        assert_eq!(java_replacement("$12", &two).unwrap(), "${1}2");
        assert_eq!(java_replacement("${rest}", &two).unwrap(), "${rest}");
        assert!(java_replacement("$3", &two).is_err());
        assert!(java_replacement("${nope}", &two).is_err());
        assert!(java_replacement("a$", &two).is_err());
        let route = TopicRoute {
            replacement: java_replacement("merged.$1", &two).unwrap(),
            regex: java_pattern("(p)\\.(?<rest>.*)").unwrap(),
        };
        assert_eq!(route.route("p.orders").as_deref(), Some("merged.p"));
        assert_eq!(route.route("q.orders"), None);
    }

    #[test]
    fn field_references_resolve_as_debeziums() {
        let of = |s| FieldReference::parse(s, "__");
        assert_eq!(of("op").within, None);
        assert_eq!(of("op").new_name, "__op");
        assert_eq!(of("table").within.as_deref(), Some("source"));
        assert_eq!(of("id").within.as_deref(), Some("transaction"));
        assert_eq!(of("source.ts_ms").new_name, "__source_ts_ms");
        assert_eq!(of("source.ts_ms:when").new_name, "__when");
        assert_eq!(of("lsn:pos").new_name, "__pos");
    }

    #[test]
    fn the_chain_is_read_in_order_with_its_predicates() {
        let (chain, errors) = parse(&[
            ("transforms", "unwrap, route"),
            ("transforms.unwrap.type", EXTRACT_NEW_RECORD_STATE),
            (
                "transforms.unwrap.delete.tombstone.handling.mode",
                "Rewrite",
            ),
            ("transforms.unwrap.add.fields", "op,source.ts_ms"),
            ("transforms.route.type", REGEX_ROUTER),
            ("transforms.route.regex", "db\\.public\\.(.*)"),
            ("transforms.route.replacement", "$1"),
            ("transforms.route.predicate", "orders"),
            ("transforms.route.negate", "true"),
            ("predicates", "orders"),
            ("predicates.orders.type", TOPIC_NAME_MATCHES),
            ("predicates.orders.pattern", ".*orders"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(chain.len(), 2);
        let TransformKind::ExtractNewRecordState(unwrap) = &chain[0].kind else {
            panic!("{chain:?}")
        };
        assert_eq!(unwrap.delete_handling, DeleteHandling::Rewrite);
        assert_eq!(unwrap.add_fields.len(), 2);
        assert!(chain[1].negate);
        assert!(matches!(
            chain[1].predicate,
            Some(Predicate::TopicNameMatches(_))
        ));
    }

    #[test]
    fn cast_and_header_from_specs_are_read_as_connects_and_bad_ones_refused() {
        let (chain, errors) = parse(&[
            ("transforms", "whole,fields,headers,hoist"),
            (
                "transforms.whole.type",
                "org.apache.kafka.connect.transforms.Cast$Key",
            ),
            ("transforms.whole.spec", "INT32"),
            (
                "transforms.fields.type",
                "org.apache.kafka.connect.transforms.Cast$Value",
            ),
            ("transforms.fields.spec", "a:int8, b:String"),
            ("transforms.fields.replace.null.with.default", "false"),
            (
                "transforms.headers.type",
                "org.apache.kafka.connect.transforms.HeaderFrom$Value",
            ),
            ("transforms.headers.fields", "a,b"),
            ("transforms.headers.headers", "x,y"),
            ("transforms.headers.operation", "move"),
            (
                "transforms.hoist.type",
                "org.apache.kafka.connect.transforms.HoistField$Value",
            ),
            ("transforms.hoist.field", "wrapped"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(matches!(
            &chain[0].kind,
            TransformKind::Cast(
                Part::Key,
                Cast {
                    spec: CastSpec::Whole(CastType::Int32),
                    replace_null_with_default: true
                }
            )
        ));
        let TransformKind::Cast(Part::Value, fields) = &chain[1].kind else {
            panic!("{chain:?}")
        };
        assert!(!fields.replace_null_with_default);
        assert!(matches!(&fields.spec, CastSpec::Fields(f)
            if f == &[("a".to_owned(), CastType::Int8), ("b".to_owned(), CastType::String)]));
        let TransformKind::HeaderFrom(Part::Value, headers) = &chain[2].kind else {
            panic!("{chain:?}")
        };
        assert!(headers.moves);
        assert_eq!(headers.fields[1], ("b".to_owned(), "y".to_owned()));
        assert!(
            matches!(&chain[3].kind, TransformKind::HoistField(Part::Value, f) if f == "wrapped")
        );

        for (key, value, expected) in [
            ("spec", "a:bytes", "casts to int8"),
            ("spec", "int8,a:int16", "only entry"),
            ("spec", "a:b:int8", "one field:type pair"),
        ] {
            let key = format!("transforms.c.{key}");
            let (_, errors) = parse(&[
                ("transforms", "c"),
                (
                    "transforms.c.type",
                    "org.apache.kafka.connect.transforms.Cast$Value",
                ),
                (key.as_str(), value),
            ]);
            let all = errors.join("\n");
            assert!(
                all.contains(&key) && all.contains(expected),
                "{value}: {all}"
            );
        }
        for (fields, headers, operation) in [("a,b", "x", "copy"), ("a", "x", "rename")] {
            let (_, errors) = parse(&[
                ("transforms", "h"),
                (
                    "transforms.h.type",
                    "org.apache.kafka.connect.transforms.HeaderFrom$Key",
                ),
                ("transforms.h.fields", fields),
                ("transforms.h.headers", headers),
                ("transforms.h.operation", operation),
            ]);
            assert_eq!(errors.len(), 1, "{errors:?}");
        }
    }

    #[test]
    fn destinations_follow_the_routers_by_topic_name() {
        let (chain, errors) = parse(&[
            ("transforms", "skip,route,merge,outbox"),
            ("transforms.skip.type", FILTER),
            ("transforms.skip.predicate", "audit"),
            ("transforms.route.type", REGEX_ROUTER),
            ("transforms.route.regex", "p\\.s\\.(.*)"),
            ("transforms.route.replacement", "q.$1"),
            ("transforms.merge.type", BY_LOGICAL_TABLE_ROUTER),
            ("transforms.merge.topic.regex", "q\\.part_.*"),
            ("transforms.merge.topic.replacement", "q.parts"),
            ("transforms.outbox.type", EVENT_ROUTER),
            ("transforms.outbox.predicate", "outbox"),
            ("predicates", "audit,outbox"),
            ("predicates.audit.type", TOPIC_NAME_MATCHES),
            ("predicates.audit.pattern", ".*\\.audit"),
            ("predicates.outbox.type", TOPIC_NAME_MATCHES),
            ("predicates.outbox.pattern", ".*\\.outbox"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        let topic = |t: &str| Destination::Topic(t.to_owned());
        assert_eq!(destination(&chain, "p.s.t"), topic("q.t"));
        assert_eq!(destination(&chain, "p.s.part_1"), topic("q.parts"));
        assert_eq!(destination(&chain, "p.s.audit"), Destination::Dropped);
        assert_eq!(
            destination(&chain, "p.s.outbox"),
            Destination::ByContent("outbox".to_owned())
        );
        assert_eq!(destination(&chain, "other"), topic("other"));
        assert_eq!(destination(&[], "p.s.t"), topic("p.s.t"));
    }

    #[test]
    fn what_walbridge_does_not_implement_is_an_error_naming_it() {
        let (_, errors) = parse(&[
            ("transforms", "mask,unwrap,route"),
            ("transforms.mask.type", "com.acme.MaskCreditCards"),
            ("transforms.unwrap.type", EXTRACT_NEW_RECORD_STATE),
            ("transforms.unwrap.drop.tombstones", "false"),
            ("transforms.unwrap.drop.fields.header.name", "x"),
            ("transforms.route.type", REGEX_ROUTER),
            ("transforms.route.regex", "(?<=a)b"),
            ("transforms.route.replacement", "x"),
            ("transforms.typo.type", FILTER),
        ]);
        let all = errors.join("\n");
        assert!(all.contains("com.acme.MaskCreditCards"), "{all}");
        assert!(
            all.contains("transforms.unwrap.drop.tombstones")
                && all.contains("delete.tombstone.handling.mode"),
            "{all}"
        );
        assert!(
            all.contains("transforms.unwrap.drop.fields.header.name"),
            "{all}"
        );
        assert!(all.contains("transforms.route.regex"), "{all}");
        assert!(all.contains("transforms.typo.type"), "{all}");
        assert_eq!(errors.len(), 5, "{all}");
    }
}
