//! Decoding of wal2json `format-version` 2 rows into borrowed, typed [`Row`]s.
//!
//! The decoder is a small hand-written JSON reader specialised for what `wal2json.c` writes: one flat object
//! per row whose `columns`/`identity`/`pk` are arrays of flat objects. Strings borrow from the input unless
//! they contain escapes, and numbers stay as their exact text ([`Value::Number`]) so `numeric` keeps every
//! digit. Unknown fields are skipped so newer wal2json options (`include-origin`, `include-typmod`, …) do
//! not break decoding.
//!
//! The reader is tuned for wal2json's own output. The fast path (`fast`) reads a row exactly as the relay's
//! options make wal2json write it, in one pass of fixed literals; LSNs, `xid`s, type oids and commit
//! timestamps are parsed straight from the bytes. Anything unusual (whitespace, escapes, other key orders,
//! unknown fields) takes the general path (`general`), with the same result; there keys are first compared
//! with the one wal2json writes next (one masked 16-byte compare) and strings are scanned eight bytes at a
//! time (`reader`). A slow reference decoder (`reference`, tests only) checks both.

mod fast;
mod general;
mod reader;
#[cfg(test)]
mod reference;

use std::borrow::Cow;

use crate::{Error, Lsn};

/// One decoded wal2json row.
#[derive(Debug, Clone, PartialEq)]
pub enum Row<'a> {
    /// `B`: a transaction begins. `lsn` is its commit LSN, `next_lsn` its end LSN.
    Begin(Txn),
    /// `C`: a transaction commits. `lsn` is its commit LSN, `next_lsn` its end LSN (where the next one starts).
    Commit(Txn),
    /// `I`, `U`, `D`: a row change.
    Change(Change<'a>),
    /// `M`: a logical decoding message (`pg_logical_emit_message`).
    Message(Message<'a>),
    /// `T`: one truncated table (wal2json writes one row per table of a `TRUNCATE`).
    Truncate(Truncate<'a>),
}

/// The fields of a `B` or `C` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Txn {
    /// Transaction id (`include-xids`).
    pub xid: Option<u32>,
    /// Commit time in µs since the Unix epoch (`include-timestamp`).
    pub commit_time_us: Option<i64>,
    /// Commit LSN (`include-lsn`).
    pub lsn: Option<Lsn>,
    /// End LSN of the transaction, `nextlsn` (`include-lsn`): the position to advance the slot to.
    pub next_lsn: Option<Lsn>,
    /// Replication origin id (`include-origin`).
    pub origin: Option<u32>,
}

/// What a change row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `I`
    Insert,
    /// `U`
    Update,
    /// `D`
    Delete,
}

/// A column value exactly as wal2json wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// SQL NULL. Also what wal2json writes for numeric/float NaN and ±Infinity.
    Null,
    /// `boolean` columns.
    Bool(bool),
    /// int2/int4/int8/oid/float4/float8/numeric: the exact decimal text, never converted through `f64`.
    Number(&'a str),
    /// Every other type: the type's output text (bytea as hex without `\x`).
    String(Cow<'a, str>),
}

impl<'a> Value<'a> {
    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value wal2json writes for a column of type `type_oid` whose output text is `text`, so a
    /// value read as text (a snapshot's query, pgoutput) is encoded exactly as a wal2json one:
    /// numbers unquoted, booleans as JSON booleans, bytea as hex without `\x`, everything else as its
    /// output text. One exception: a real/double NaN or infinity keeps its text (wal2json, having no
    /// JSON number for it, writes null), which the encoder writes as Debezium does; a numeric NaN or
    /// infinity is null, as Debezium writes it.
    pub fn from_output(type_oid: u32, text: Option<&'a str>) -> Self {
        const BOOL: u32 = 16;
        const BYTEA: u32 = 17;
        const FLOAT4: u32 = 700;
        const FLOAT8: u32 = 701;
        const NUMBERS: [u32; 7] = [20, 21, 23, 26, FLOAT4, FLOAT8, 1700];
        let Some(text) = text else {
            return Value::Null;
        };
        match type_oid {
            BOOL => Value::Bool(text == "t"),
            BYTEA => Value::String(Cow::Borrowed(text.strip_prefix("\\x").unwrap_or(text))),
            FLOAT4 | FLOAT8 if matches!(text, "NaN" | "Infinity" | "-Infinity") => {
                Value::String(Cow::Borrowed(text))
            }
            oid if NUMBERS.contains(&oid) => {
                if matches!(text, "NaN" | "Infinity" | "-Infinity") {
                    Value::Null
                } else {
                    Value::Number(text)
                }
            }
            _ => Value::String(Cow::Borrowed(text)),
        }
    }
}

/// One entry of `columns` or `identity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column<'a> {
    /// Column name.
    pub name: Cow<'a, str>,
    /// `format_type(atttypid, atttypmod)`, e.g. `numeric(12,2)`, `character varying(40)`.
    pub type_name: Cow<'a, str>,
    /// `atttypid` (`include-type-oids`).
    pub type_oid: Option<u32>,
    /// The value.
    pub value: Value<'a>,
    /// `include-not-null`: `Some(false)` for a NOT NULL column. Only on `columns`, never on `identity`.
    pub optional: Option<bool>,
}

/// One entry of `pk`: the primary-key columns, in table (attnum) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkColumn<'a> {
    /// Column name.
    pub name: Cow<'a, str>,
    /// `format_type` text.
    pub type_name: Cow<'a, str>,
    /// `atttypid`.
    pub type_oid: Option<u32>,
}

/// An `I`, `U` or `D` row.
#[derive(Debug, Clone, PartialEq)]
pub struct Change<'a> {
    /// Insert, update or delete.
    pub action: Action,
    /// Transaction id.
    pub xid: Option<u32>,
    /// Commit time of the transaction, µs since the Unix epoch.
    pub commit_time_us: Option<i64>,
    /// The change's own LSN (Debezium's `source.lsn`).
    pub lsn: Option<Lsn>,
    /// Schema (namespace) name.
    pub schema: Cow<'a, str>,
    /// Table name.
    pub table: Cow<'a, str>,
    /// New row (insert, update), in attnum order. Unchanged TOASTed values are left out by wal2json.
    pub columns: Vec<Column<'a>>,
    /// Old row identity (update, delete): key columns under REPLICA IDENTITY DEFAULT/INDEX, all columns
    /// under FULL. For updates without an old tuple wal2json copies the identity from the new row. `None`
    /// when the row had no `identity` field (inserts).
    pub identity: Option<Vec<Column<'a>>>,
    /// Primary-key columns (`include-pk`), empty for a table without one; `None` without `include-pk`.
    pub pk: Option<Vec<PkColumn<'a>>>,
}

/// An `M` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// Whether the message was emitted transactionally.
    pub transactional: bool,
    /// Transaction id; `None` for non-transactional messages.
    pub xid: Option<u32>,
    /// Commit time, µs; `None` for non-transactional messages.
    pub commit_time_us: Option<i64>,
    /// LSN of the message.
    pub lsn: Option<Lsn>,
    /// The message prefix.
    pub prefix: Cow<'a, str>,
    /// The content: as wal2json printed it (text, cut at the first NUL byte), or pgoutput's bytes.
    pub content: Cow<'a, [u8]>,
}

/// A `T` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncate<'a> {
    /// Transaction id.
    pub xid: Option<u32>,
    /// Commit time, µs.
    pub commit_time_us: Option<i64>,
    /// LSN of the truncate.
    pub lsn: Option<Lsn>,
    /// Schema name.
    pub schema: Cow<'a, str>,
    /// Table name.
    pub table: Cow<'a, str>,
}

/// A string's bytes, borrowed or owned as the string was.
fn str_bytes(s: Cow<'_, str>) -> Cow<'_, [u8]> {
    match s {
        Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
        Cow::Owned(s) => Cow::Owned(s.into_bytes()),
    }
}

/// Decodes one wal2json format-version 2 `data` string.
///
/// # Errors
/// [`Error::Json`] for text that is not a JSON object, [`Error::UnknownAction`], [`Error::MissingField`]
/// when a change lacks `schema`/`table`, [`Error::InvalidLsn`] and [`Error::InvalidField`] for malformed
/// `lsn`, `xid` or `timestamp` values.
pub fn decode(data: &str) -> Result<Row<'_>, Error> {
    let mut spare = Spare::default();
    if let Some(row) = fast::decode_exact(data, &mut spare) {
        return Ok(row);
    }
    general::decode_general(data, &mut spare)
}

/// The vectors a change decodes into. What the fast path filled before handing a row over is cleared and
/// filled again by the general path, not allocated anew.
#[derive(Default)]
struct Spare<'a> {
    columns: Vec<Column<'a>>,
    identity: Vec<Column<'a>>,
    pk: Vec<PkColumn<'a>>,
}

impl<'a> Spare<'a> {
    /// The (empty) vector for `columns`.
    #[inline(always)]
    fn columns(&mut self) -> &mut Vec<Column<'a>> {
        self.columns.clear();
        &mut self.columns
    }

    /// The (empty) vector for `identity`.
    #[inline(always)]
    fn identity(&mut self) -> &mut Vec<Column<'a>> {
        self.identity.clear();
        &mut self.identity
    }

    /// The (empty) vector for `pk`.
    #[inline(always)]
    fn pk(&mut self) -> &mut Vec<PkColumn<'a>> {
        self.pk.clear();
        &mut self.pk
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Rows below were captured from PostgreSQL 15.18 + wal2json 2.5 with the pipeline's peek options.
    const BEGIN: &str = r#"{"action":"B","xid":732,"timestamp":"2026-11-26 15:55:18.631132+00","lsn":"0/1546328","nextlsn":"0/1546358"}"#;
    const COMMIT: &str = r#"{"action":"C","xid":732,"timestamp":"2026-11-26 15:55:18.631132+00","lsn":"0/1546328","nextlsn":"0/1546358"}"#;
    const INSERT: &str = r#"{"action":"I","xid":732,"timestamp":"2026-11-26 15:55:18.631132+00","lsn":"0/1546140","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1001,"optional":false},{"name":"first_name","type":"character varying(40)","typeoid":1043,"value":"Sally","optional":false},{"name":"balance","type":"numeric(12,2)","typeoid":1700,"value":1500.75,"optional":false},{"name":"active","type":"boolean","typeoid":16,"value":true,"optional":true},{"name":"email","type":"text","typeoid":25,"value":null,"optional":true}],"pk":[{"name":"id","type":"integer","typeoid":23}]}"#;
    const DELETE: &str = r#"{"action":"D","xid":738,"timestamp":"2026-11-26 15:55:18.654558+00","lsn":"0/15468E8","schema":"inventory","table":"orders","identity":[{"name":"region","type":"character(2)","typeoid":1042,"value":"EU"},{"name":"order_no","type":"bigint","typeoid":20,"value":1}],"pk":[{"name":"region","type":"character(2)","typeoid":1042},{"name":"order_no","type":"bigint","typeoid":20}]}"#;
    const MESSAGE_NON_TX: &str = r#"{"action":"M","xid":null,"timestamp":null,"lsn":"0/154B820","transactional":false,"prefix":"np","content":"bin\\x01"}"#;
    const TRUNCATE: &str = r#"{"action":"T","xid":747,"timestamp":"2026-11-26 15:55:18.854494+00","lsn":"0/154CBF0","schema":"inventory","table":"audit"}"#;

    #[test]
    fn begin_and_commit_carry_commit_and_end_lsn() {
        let txn = Txn {
            xid: Some(732),
            commit_time_us: Some(1_795_708_518_631_132),
            lsn: Some(Lsn(0x154_6328)),
            next_lsn: Some(Lsn(0x154_6358)),
            origin: None,
        };
        assert_eq!(decode(BEGIN).unwrap(), Row::Begin(txn));
        assert_eq!(decode(COMMIT).unwrap(), Row::Commit(txn));
    }

    #[test]
    fn insert_keeps_numbers_as_exact_text_and_borrows_strings() {
        let Row::Change(c) = decode(INSERT).unwrap() else {
            panic!("not a change")
        };
        assert_eq!(c.action, Action::Insert);
        assert_eq!(
            (c.schema.as_ref(), c.table.as_ref()),
            ("inventory", "customers")
        );
        assert_eq!(c.lsn, Some(Lsn(0x154_6140)));
        assert_eq!(c.xid, Some(732));
        assert_eq!(c.columns.len(), 5);
        assert_eq!(c.columns[0].value, Value::Number("1001"));
        assert_eq!(c.columns[0].optional, Some(false));
        assert_eq!(c.columns[1].type_name, "character varying(40)");
        assert!(matches!(
            c.columns[1].value,
            Value::String(Cow::Borrowed("Sally"))
        ));
        assert_eq!(c.columns[2].value, Value::Number("1500.75"));
        assert_eq!(c.columns[2].type_oid, Some(1700));
        assert_eq!(c.columns[3].value, Value::Bool(true));
        assert_eq!(c.columns[4].value, Value::Null);
        assert!(c.identity.is_none());
        assert_eq!(c.pk.as_ref().map(|pk| pk[0].name.as_ref()), Some("id"));
    }

    #[test]
    fn delete_has_identity_and_composite_pk() {
        let Row::Change(c) = decode(DELETE).unwrap() else {
            panic!("not a change")
        };
        assert_eq!(c.action, Action::Delete);
        assert!(c.columns.is_empty());
        let identity = c.identity.unwrap();
        assert_eq!(identity.len(), 2);
        assert_eq!(identity[0].value, Value::String(Cow::Borrowed("EU")));
        assert_eq!(identity[1].value, Value::Number("1"));
        assert_eq!(identity[1].optional, None);
        let pk: Vec<_> = c.pk.unwrap().iter().map(|p| p.name.to_string()).collect();
        assert_eq!(pk, ["region", "order_no"]);
    }

    #[test]
    fn escaped_strings_are_unescaped() {
        let row = r#"{"action":"I","xid":1,"lsn":"0/1","schema":"s","table":"t\"q","columns":[{"name":"x","type":"text","typeoid":25,"value":"a\"b\\c\n\u0001\u00e9\ud83d\ude00/"}]}"#;
        let Row::Change(c) = decode(row).unwrap() else {
            panic!("not a change")
        };
        assert_eq!(c.table, "t\"q");
        assert_eq!(
            c.columns[0].value,
            Value::String(Cow::Owned("a\"b\\c\n\u{1}é😀/".into()))
        );
    }

    #[test]
    fn non_transactional_message_has_null_xid_and_timestamp() {
        let Row::Message(m) = decode(MESSAGE_NON_TX).unwrap() else {
            panic!("not a message")
        };
        assert!(!m.transactional);
        assert_eq!((m.xid, m.commit_time_us), (None, None));
        assert_eq!(m.prefix, "np");
        assert_eq!(m.content.as_ref(), b"bin\\x01");
    }

    #[test]
    fn truncate_names_one_table() {
        let Row::Truncate(t) = decode(TRUNCATE).unwrap() else {
            panic!("not a truncate")
        };
        assert_eq!(
            (t.schema.as_ref(), t.table.as_ref()),
            ("inventory", "audit")
        );
        assert_eq!(t.xid, Some(747));
    }

    #[test]
    fn unknown_fields_are_skipped() {
        let row = r#"{"action":"I","xid":1,"origin":null,"lsn":"0/1","schema":"s","table":"t","columns":[{"name":"x","type":"int","typeoid":23,"value":1,"position":1,"default":null,"extra":{"a":[1,{"b":"c"}]}}],"future":[[],{}]}"#;
        let Row::Change(c) = decode(row).unwrap() else {
            panic!("not a change")
        };
        assert_eq!(c.columns[0].value, Value::Number("1"));
    }

    #[test]
    fn malformed_rows_say_what_is_wrong() {
        assert!(matches!(decode(""), Err(Error::Json { offset: 0, .. })));
        assert!(matches!(
            decode(r#"{"action":"I","xid":1"#),
            Err(Error::Json { offset: 21, .. })
        ));
        assert!(matches!(
            decode(r#"{"action":"X"}"#),
            Err(Error::UnknownAction(a)) if a == "X"
        ));
        assert!(matches!(
            decode(r#"{"xid":1}"#),
            Err(Error::MissingField {
                field: "action",
                ..
            })
        ));
        assert!(matches!(
            decode(r#"{"action":"I","schema":"s","table":"t"}"#),
            Err(Error::MissingField {
                action: 'I',
                field: "columns"
            })
        ));
        assert!(matches!(
            decode(r#"{"action":"D","schema":"s","table":"t"}"#),
            Err(Error::MissingField {
                action: 'D',
                field: "identity"
            })
        ));
        assert!(matches!(
            decode(r#"{"action":"B","xid":-1}"#),
            Err(Error::InvalidField { field: "xid", .. })
        ));
        assert!(matches!(
            decode(r#"{"action":"B","lsn":"nope"}"#),
            Err(Error::InvalidLsn(_))
        ));
        assert!(matches!(
            decode(r#"{"action":"B","timestamp":"yesterday"}"#),
            Err(Error::InvalidField {
                field: "timestamp",
                ..
            })
        ));
        assert!(matches!(
            decode(r#"{"action":"B"} trailing"#),
            Err(Error::Json {
                expected: "end of row",
                ..
            })
        ));
        assert!(matches!(
            decode(
                r#"{"action":"I","schema":"s","table":"t","columns":[{"name":"x","value":"\q"}]}"#
            ),
            Err(Error::Json {
                expected: "a valid escape",
                ..
            })
        ));
    }
}
