//! Debezium's capture filters: which tables, which columns, which key, which operations and which
//! logical decoding messages.
//!
//! Every list is Debezium's: comma-separated regular expressions, each matched anchored and
//! case-insensitively against `schema`, `schema.table` or `schema.table.column`
//! (`io.debezium.relational.Selectors`, `Tables.ColumnNameFilterFactory`). They are compiled once,
//! when the configuration is parsed.

use regex::Regex;

use crate::config::TablePattern;
use crate::keys::{
    COLUMN_EXCLUDE_LIST, COLUMN_INCLUDE_LIST, Key, MESSAGE_KEY_COLUMNS,
    MESSAGE_PREFIX_EXCLUDE_LIST, MESSAGE_PREFIX_INCLUDE_LIST, SCHEMA_EXCLUDE_LIST,
    SCHEMA_INCLUDE_LIST, SKIPPED_OPERATIONS, TABLE_EXCLUDE_LIST, TABLE_INCLUDE_LIST,
    TABLE_WHITELIST,
};
use crate::parse::Problems;
use crate::pattern::debezium_pattern;
use crate::properties::{ConfigError, Properties};

/// One entry of a filter list: the regular expression as written, and compiled anchored.
#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    regex: Regex,
}

impl Pattern {
    fn matches(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

/// `table.include.list`/`table.exclude.list`/`schema.include.list`/`schema.exclude.list`: which
/// tables are captured, streamed and snapshotted alike.
#[derive(Debug, Clone, Default)]
pub struct TableFilter {
    schema_include: Vec<Pattern>,
    schema_exclude: Vec<Pattern>,
    table_include: Vec<Pattern>,
    table_exclude: Vec<Pattern>,
    /// `table.include.list` as wal2json's `add-tables`, when every entry is a literal name or `*`.
    pushdown: Vec<TablePattern>,
}

impl TableFilter {
    /// Whether `schema.table` is captured.
    pub fn captures(&self, schema: &str, table: &str) -> bool {
        self.rank(schema, table).is_some()
    }

    /// `Some` when `schema.table` is captured: the index of the first `table.include.list` entry
    /// that matches it (0 without an include list). Debezium snapshots tables in this order.
    pub fn rank(&self, schema: &str, table: &str) -> Option<usize> {
        // Debezium never captures these, whatever the lists say.
        if schema == "pg_catalog" || schema == "information_schema" || schema.starts_with("pg_temp")
        {
            return None;
        }
        if !self.schema_include.is_empty() && !self.schema_include.iter().any(|p| p.matches(schema))
        {
            return None;
        }
        if self.schema_exclude.iter().any(|p| p.matches(schema)) {
            return None;
        }
        if self.table_include.is_empty() && self.table_exclude.is_empty() {
            return Some(0);
        }
        let qualified = format!("{schema}.{table}");
        if self.table_exclude.iter().any(|p| p.matches(&qualified)) {
            return None;
        }
        if self.table_include.is_empty() {
            return Some(0);
        }
        self.table_include
            .iter()
            .position(|p| p.matches(&qualified))
    }

    /// wal2json's `add-tables` for `table.include.list` when every entry is a literal
    /// `schema.table` (or `*` for a part); empty when it cannot be pushed down or there is no list.
    /// wal2json compares names exactly; [`TableFilter::captures`] still decides every change.
    pub fn pushdown(&self) -> &[TablePattern] {
        &self.pushdown
    }

    /// The same filter whose wal2json pushdown (if any) also lets `table` through: a table the
    /// relay reads without publishing it (the signal table).
    #[must_use]
    pub fn with_pushed_down(mut self, table: TablePattern) -> Self {
        if !self.pushdown.is_empty() {
            self.pushdown.push(table);
        }
        self
    }

    /// The `table.include.list` entries (as compiled) that match none of `tables`: likely typos.
    pub fn unmatched_includes<'t>(
        &self,
        tables: impl Iterator<Item = (&'t str, &'t str)> + Clone,
    ) -> Vec<&str> {
        self.table_include
            .iter()
            .filter(|p| {
                !tables
                    .clone()
                    .any(|(schema, table)| p.matches(&format!("{schema}.{table}")))
            })
            .map(|p| p.text.as_str())
            .collect()
    }

    /// Whether every table is captured (no list set).
    pub fn is_everything(&self) -> bool {
        self.schema_include.is_empty()
            && self.schema_exclude.is_empty()
            && self.table_include.is_empty()
            && self.table_exclude.is_empty()
    }
}

/// `column.include.list`/`column.exclude.list`: which columns the value (`before`, `after` and
/// their schema) carries. The key is not filtered, as in Debezium (`TableSchemaBuilder`).
#[derive(Debug, Clone, Default)]
pub struct ColumnFilter {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
}

impl ColumnFilter {
    /// Whether the value carries `schema.table.column`.
    pub fn keeps(&self, schema: &str, table: &str, column: &str) -> bool {
        if self.include.is_empty() && self.exclude.is_empty() {
            return true;
        }
        let qualified = format!("{schema}.{table}.{column}");
        if self.include.is_empty() {
            !self.exclude.iter().any(|p| p.matches(&qualified))
        } else {
            self.include.iter().any(|p| p.matches(&qualified))
        }
    }

    /// Whether every column is kept (no list set).
    pub fn is_everything(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

/// `message.key.columns`: `<table regex>:<column>,<column>;…`, the Kafka key's columns instead of
/// the primary key.
#[derive(Debug, Clone, Default)]
pub struct KeyColumns {
    /// `<table regex>.<column>`, one per listed column, in the listed order.
    columns: Vec<Pattern>,
}

impl KeyColumns {
    /// The key columns of `schema.table` among `columns` (in table order), or `None` when no entry
    /// names one of them: the primary key then stays the key. The order is the list's, then the
    /// table's for one entry matching several columns (`Key.CustomKeyMapper`).
    pub fn for_table<'c>(
        &self,
        schema: &str,
        table: &str,
        columns: impl Iterator<Item = &'c str> + Clone,
    ) -> Option<Vec<&'c str>> {
        if self.columns.is_empty() {
            return None;
        }
        let mut key: Vec<&str> = Vec::new();
        for pattern in &self.columns {
            for column in columns.clone() {
                if !key.contains(&column) && pattern.matches(&format!("{schema}.{table}.{column}"))
                {
                    key.push(column);
                }
            }
        }
        (!key.is_empty()).then_some(key)
    }
}

/// `message.prefix.include.list`/`message.prefix.exclude.list`: which logical decoding messages
/// are published, by their prefix (Debezium's `LogicalDecodingMessageFilter`). Every message when
/// neither is set.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
}

impl MessageFilter {
    /// Whether `message.prefix.include.list` names the prefixes wanted: messages are then
    /// expected, and their topic with them.
    pub fn asked_for(&self) -> bool {
        !self.include.is_empty()
    }

    /// Whether a message with `prefix` is published.
    pub fn includes(&self, prefix: &str) -> bool {
        if self.include.is_empty() {
            !self.exclude.iter().any(|p| p.matches(prefix))
        } else {
            self.include.iter().any(|p| p.matches(prefix))
        }
    }
}

/// `skipped.operations` ([default](crate::keys::SKIPPED_OPERATIONS) Debezium's): streamed
/// operations whose events are not published. A skipped delete publishes neither the delete nor its
/// tombstone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedOperations {
    /// `c`: inserts publish no `op: "c"` event.
    pub creates: bool,
    /// `u`: updates publish no `op: "u"` event.
    pub updates: bool,
    /// `d`: deletes publish neither the `op: "d"` event nor its tombstone.
    pub deletes: bool,
    /// `t` (in the default): truncates publish no `op: "t"` event.
    pub truncates: bool,
}

impl Default for SkippedOperations {
    fn default() -> Self {
        Self {
            creates: false,
            updates: false,
            deletes: false,
            truncates: true,
        }
    }
}

/// All of the above.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Filters {
    /// Which tables are captured (streamed and snapshotted).
    pub tables: TableFilter,
    /// Which columns of a captured table appear in its events.
    pub columns: ColumnFilter,
    /// Which columns key a table's records, where they are not its primary key.
    pub key_columns: KeyColumns,
    /// Which streamed operations publish nothing.
    pub skipped: SkippedOperations,
    /// Which logical decoding messages (`pg_logical_emit_message`) are published, by prefix.
    pub messages: MessageFilter,
}

pub(crate) fn filters(props: &Properties, p: &mut Problems) -> Filters {
    let table_key = if props.get(TABLE_INCLUDE_LIST.name).is_some() {
        &TABLE_INCLUDE_LIST
    } else {
        // Debezium 1.x's name, still in users' files.
        &TABLE_WHITELIST
    };
    let table_include = p.take(patterns(props, table_key, "schema.table"));
    let table_exclude = p.take(patterns(props, &TABLE_EXCLUDE_LIST, "schema.table"));
    let schema_include = p.take(patterns(props, &SCHEMA_INCLUDE_LIST, "schema"));
    let schema_exclude = p.take(patterns(props, &SCHEMA_EXCLUDE_LIST, "schema"));
    let column_include = p.take(patterns(props, &COLUMN_INCLUDE_LIST, "schema.table.column"));
    let column_exclude = p.take(patterns(props, &COLUMN_EXCLUDE_LIST, "schema.table.column"));
    let message_include = p.take(patterns(
        props,
        &MESSAGE_PREFIX_INCLUDE_LIST,
        "message prefixes",
    ));
    let message_exclude = p.take(patterns(
        props,
        &MESSAGE_PREFIX_EXCLUDE_LIST,
        "message prefixes",
    ));
    for (include, exclude, both) in [
        (
            table_key,
            &TABLE_EXCLUDE_LIST,
            !table_include.is_empty() && !table_exclude.is_empty(),
        ),
        (
            &SCHEMA_INCLUDE_LIST,
            &SCHEMA_EXCLUDE_LIST,
            !schema_include.is_empty() && !schema_exclude.is_empty(),
        ),
        (
            &COLUMN_INCLUDE_LIST,
            &COLUMN_EXCLUDE_LIST,
            !column_include.is_empty() && !column_exclude.is_empty(),
        ),
        (
            &MESSAGE_PREFIX_INCLUDE_LIST,
            &MESSAGE_PREFIX_EXCLUDE_LIST,
            !message_include.is_empty() && !message_exclude.is_empty(),
        ),
    ] {
        if both {
            p.push(props.invalid(
                exclude.name,
                &format!(
                    "not set together with {} (as in Debezium): keep one of the two",
                    include.name
                ),
            ));
        }
    }
    let pushdown = props
        .get(table_key.name)
        .map(|list| {
            entries(list)
                .map(parse_table_pattern)
                .collect::<Option<Vec<_>>>()
                .unwrap_or_default()
        })
        .unwrap_or_default();
    Filters {
        tables: TableFilter {
            schema_include,
            schema_exclude,
            table_include,
            table_exclude,
            pushdown,
        },
        columns: ColumnFilter {
            include: column_include,
            exclude: column_exclude,
        },
        key_columns: p.take(key_columns(props)),
        skipped: p.take(skipped_operations(props)),
        messages: MessageFilter {
            include: message_include,
            exclude: message_exclude,
        },
    }
}

fn entries(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|e| !e.is_empty())
}

fn compile(entry: &str) -> Result<Pattern, regex::Error> {
    debezium_pattern(entry).map(|regex| Pattern {
        text: entry.to_owned(),
        regex,
    })
}

fn patterns(props: &Properties, key: &Key, over: &str) -> Result<Vec<Pattern>, ConfigError> {
    let Some(list) = props.get(key.name) else {
        return Ok(Vec::new());
    };
    entries(list)
        .map(|entry| {
            // walbridge's earlier `*` for "any name" (wal2json's spelling) is not a valid regex.
            let entry = match parse_table_pattern(entry) {
                Some(t) if over == "schema.table" && (t.schema == "*" || t.table == "*") => {
                    let part = |p: &str| {
                        if p == "*" {
                            ".*".to_owned()
                        } else {
                            regex::escape(p)
                        }
                    };
                    format!("{}\\.{}", part(&t.schema), part(&t.table))
                }
                _ => entry.to_owned(),
            };
            compile(&entry).map_err(|_| {
                props.invalid(
                    key.name,
                    &format!(
                        "a comma-separated list of regular expressions over {over} \
                         (look-arounds and back-references are not supported)"
                    ),
                )
            })
        })
        .collect()
}

fn key_columns(props: &Properties) -> Result<KeyColumns, ConfigError> {
    let Some(list) = props.get(MESSAGE_KEY_COLUMNS.name) else {
        return Ok(KeyColumns::default());
    };
    let invalid = || {
        props.invalid(
            MESSAGE_KEY_COLUMNS.name,
            "<table regex>:<column>,<column>;… where the table regex matches schema.table \
             (e.g. inventory.customers:email;inventory.orders:id,line)",
        )
    };
    let mut columns = Vec::new();
    for entry in list.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let (table, cols) = entry.split_once(':').ok_or_else(invalid)?;
        if table.trim().is_empty() || cols.contains(':') {
            return Err(invalid());
        }
        for column in cols.split(',').map(str::trim) {
            if column.is_empty() {
                return Err(invalid());
            }
            columns.push(compile(&format!("{}.{column}", table.trim())).map_err(|_| invalid())?);
        }
    }
    Ok(KeyColumns { columns })
}

fn skipped_operations(props: &Properties) -> Result<SkippedOperations, ConfigError> {
    let text = props.string(&SKIPPED_OPERATIONS)?;
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(SkippedOperations {
            truncates: false,
            ..SkippedOperations::default()
        });
    }
    let mut skipped = SkippedOperations {
        truncates: false,
        ..SkippedOperations::default()
    };
    for op in entries(&text) {
        match op.to_ascii_lowercase().as_str() {
            "c" => skipped.creates = true,
            "u" => skipped.updates = true,
            "d" => skipped.deletes = true,
            "t" => skipped.truncates = true,
            _ => {
                return Err(props.invalid(
                    SKIPPED_OPERATIONS.name,
                    "a comma-separated list of c, u, d and t, or none",
                ));
            }
        }
    }
    Ok(skipped)
}

/// `schema.table`, with Debezium's regex spellings of a literal dot (`\.`) and of "any" (`.*`)
/// accepted, because users copy them from their connector configuration.
pub(crate) fn parse_table_pattern(entry: &str) -> Option<TablePattern> {
    let (schema, table) = entry.split_once("\\.").or_else(|| entry.split_once('.'))?;
    let part = |text: &str| -> Option<String> {
        if text == "*" || text == ".*" {
            return Some("*".to_owned());
        }
        let literal = !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
        literal.then(|| text.to_owned())
    };
    Some(TablePattern {
        schema: part(schema)?,
        table: part(table)?,
    })
}
