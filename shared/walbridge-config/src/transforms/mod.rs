//! Kafka Connect's transform chain (`transforms`, `transforms.<name>.*`, `predicates`,
//! `predicates.<name>.*`), parsed into the transforms walbridge applies. A transform or predicate
//! type walbridge does not implement, or a key of one it does not honour, is an error naming it:
//! relaying records other than those the chain asks for would be silent.

mod parse;
#[cfg(test)]
mod tests;

use regex::Regex;

pub use parse::{PREDICATE_TYPES, TRANSFORM_TYPES};
pub(crate) use parse::{chain, describe_chain, is_chain_key};

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
    /// `org.apache.kafka.connect.transforms.TimestampRouter`: the topic named after the record's
    /// timestamp (which only an `EventRouter` sets on Debezium's records).
    TimestampRouter(TimestampRoute),
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
    /// `io.debezium.transforms.ExtractChangedRecordState`: headers listing the fields an update
    /// changed and those it left as they were (comparing `before` with `after`).
    ExtractChangedRecordState {
        /// `header.changed.name`: the header of the changed fields' names.
        changed: Option<String>,
        /// `header.unchanged.name`: the header of the unchanged fields' names.
        unchanged: Option<String>,
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
    /// The Kafka partition (an `int4` column; null leaves the choice to the key).
    Partition,
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
    /// `table.field.event.timestamp`: the column giving the event's Kafka timestamp (a
    /// `timestamp` column); `None`: the envelope's `ts_ms`.
    pub event_timestamp: Option<String>,
    /// `table.field.event.schema.version`: the `int4` column giving the value schema's version
    /// (with envelope placements, where the value is a struct of walbridge's making).
    pub event_schema_version: Option<String>,
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
    /// `drop.fields.header.name` and its companions: fields the header lists dropped.
    pub drop_fields: Option<DropFields>,
}

/// `ExtractNewRecordState`'s `drop.fields.*`: the fields named by a header (a list of names, as
/// `ExtractChangedRecordState` writes them) dropped from the flattened row.
#[derive(Debug, Clone)]
pub struct DropFields {
    /// `drop.fields.header.name`.
    pub header: String,
    /// `drop.fields.from.key` (default false): the key's fields too.
    pub from_key: bool,
    /// `drop.fields.keep.schema.compatible` (default true): only optional fields are dropped.
    pub keep_schema_compatible: bool,
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
                | TransformKind::TimestampRouter(_)
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

/// `TimestampRouter`'s settings: `topic.format` with `${topic}` and `${timestamp}`, the timestamp
/// written in UTC as Java's `SimpleDateFormat` writes `timestamp.format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampRoute {
    /// `topic.format` (default `${topic}-${timestamp}`).
    pub topic_format: String,
    /// `timestamp.format` (default `yyyyMMdd`), read into its parts.
    pub timestamp_format: Vec<DatePart>,
}

/// A part of a `SimpleDateFormat` pattern walbridge writes as Java does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatePart {
    /// Text written as it is (quoted text, and what is not a letter).
    Literal(String),
    /// `y…`: the year, two digits for `yy`, else at least as many digits as letters.
    Year(usize),
    /// `M…`: the month's number, at least as many digits as letters (one or two).
    Month(usize),
    /// `d…`: the day of the month.
    Day(usize),
    /// `H…`: the hour of the day, 0–23.
    Hour(usize),
    /// `m…`: the minute.
    Minute(usize),
    /// `s…`: the second.
    Second(usize),
    /// `S…`: the millisecond.
    Millisecond(usize),
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
