//! The crate's one error type: malformed wal2json or pgoutput input and changes the envelope cannot encode.

/// Why a wal2json row could not be decoded or a change could not be encoded.
///
/// Messages name what was malformed and where; they never contain row values, so they are safe to log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `data` text is not the JSON wal2json writes (byte `offset` into the row).
    #[error("wal2json row is not valid JSON at byte {offset}: expected {expected}")]
    Json {
        /// Byte offset of the problem in the `data` string.
        offset: usize,
        /// What the decoder expected there.
        expected: &'static str,
    },
    /// A row lacks a field its action requires (with `include-lsn`, `include-xids`, … as the pipeline sets them).
    #[error("wal2json {action:?} row has no {field:?} field")]
    MissingField {
        /// The row's `action` letter.
        action: char,
        /// The missing field.
        field: &'static str,
    },
    /// `action` is not one of B, C, I, U, D, M, T.
    #[error("wal2json row has unknown action {0:?}")]
    UnknownAction(String),
    /// An LSN is not in PostgreSQL's `X/X` hexadecimal form.
    #[error("invalid LSN {0:?}: expected PostgreSQL's X/X hexadecimal form")]
    InvalidLsn(String),
    /// A field has the wrong JSON type or an impossible value (e.g. `xid` is not a 32-bit number).
    #[error("wal2json field {field:?} is malformed: {reason}")]
    InvalidField {
        /// The field name.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A column value cannot be converted for its type (the value itself is left out on purpose).
    #[error("column {column:?} of type {type_name:?}: {reason}")]
    InvalidValue {
        /// Column name.
        column: String,
        /// The column's `format_type` text.
        type_name: String,
        /// What is wrong with the value.
        reason: &'static str,
    },
    /// The change does not fit the [`crate::TableSchema`] it was encoded with: a column the schema does not
    /// know, or another table. The caller should reload the schema from the catalog and retry.
    #[error("change for {table:?} does not match its table schema: {reason} ({column:?})")]
    SchemaMismatch {
        /// `schema.table` of the change.
        table: String,
        /// The offending column, if one.
        column: String,
        /// What did not match.
        reason: &'static str,
    },
    /// A [`crate::TableSchema`] is inconsistent (e.g. a key column that is not a column).
    #[error("invalid table schema for {table:?}: {reason} ({column:?})")]
    InvalidSchema {
        /// `schema.table`.
        table: String,
        /// The offending column.
        column: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A pgoutput message is not what the logical replication protocol writes.
    #[error("pgoutput message {message:?} is malformed: expected {reason}")]
    Protocol {
        /// The message's type byte.
        message: char,
        /// What the decoder expected.
        reason: &'static str,
    },
    /// A pgoutput change names a table no Relation message of the window described.
    #[error("pgoutput change of relation {relid} before any Relation message describing it")]
    UnknownRelation {
        /// The table's oid.
        relid: u32,
    },
    /// A Relation message names a column type whose name was not looked up.
    #[error("pgoutput column type {oid} (typmod {typmod}) has no name looked up")]
    UnknownType {
        /// The type's oid.
        oid: u32,
        /// The column's typmod.
        typmod: i32,
    },
    /// An event the chosen layout has no form for (logical decoding messages under
    /// `source.struct.version=v1`: the Debezium releases of that layout had no message events).
    #[error("{what} cannot be written with {setting}")]
    Unsupported {
        /// The event.
        what: &'static str,
        /// The setting that has no form for it.
        setting: &'static str,
    },
}
