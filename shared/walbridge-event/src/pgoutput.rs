//! Decoding of `pgoutput` messages (the logical replication protocol, version 1, as
//! `pg_logical_slot_peek_binary_changes` returns them) into the same borrowed [`Row`]s the wal2json
//! decoder yields, so everything after decoding is shared by both plugins.
//!
//! pgoutput names a table once per session in a Relation message and then refers to it by oid, so
//! the [`Decoder`] keeps the relations it has seen. Relation messages carry each column's type as
//! an oid and typmod; wal2json reports `format_type(oid, typmod)`, so the caller resolves the pairs
//! [`relation_types`] lists (one catalog query per unknown pair) into [`TypeNames`] before the rows
//! that need them are decoded. Values are the types' output texts, made into the [`Value`] wal2json
//! writes for the same text by [`Value::from_output`]; an unchanged TOASTed value is left out, as
//! wal2json leaves it out.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::wal2json::{Action, Change, Column, Message, PkColumn, Row, Truncate, Txn, Value};
use crate::{Error, Lsn};

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
const PG_EPOCH_US: i64 = 946_684_800_000_000;

/// `format_type(oid, typmod)` of the column types Relation messages name.
#[derive(Debug, Default, Clone)]
pub struct TypeNames(HashMap<(u32, i32), String>);

impl TypeNames {
    /// Whether the name of `oid` with `typmod` is known.
    pub fn contains(&self, oid: u32, typmod: i32) -> bool {
        self.0.contains_key(&(oid, typmod))
    }

    /// Records the name of `oid` with `typmod`.
    pub fn insert(&mut self, oid: u32, typmod: i32, name: String) {
        self.0.insert((oid, typmod), name);
    }

    fn get(&self, oid: u32, typmod: i32) -> Option<&str> {
        self.0.get(&(oid, typmod)).map(String::as_str)
    }
}

/// The column types a Relation message names, as `(oid, typmod)`; empty for any other message.
///
/// # Errors
/// [`Error::Protocol`] for a malformed Relation message.
pub fn relation_types(data: &[u8]) -> Result<Vec<(u32, i32)>, Error> {
    if data.first() != Some(&b'R') {
        return Ok(Vec::new());
    }
    let mut r = Reader::new(data, 'R');
    let _ = r.byte()?;
    let (_relid, _namespace, _name, _identity, columns) = read_relation_head(&mut r)?;
    let mut types = Vec::with_capacity(usize::from(columns));
    for _ in 0..columns {
        let (_flags, _name, oid, typmod) = read_relation_column(&mut r)?;
        types.push((oid, typmod));
    }
    Ok(types)
}

/// A table as its last Relation message described it.
#[derive(Debug, Clone)]
struct Relation {
    schema: String,
    table: String,
    /// `relreplident`: under `d` (DEFAULT) the identity columns are the primary key.
    identity: u8,
    columns: Vec<RelationColumn>,
}

#[derive(Debug, Clone)]
struct RelationColumn {
    name: String,
    type_name: String,
    type_oid: u32,
    /// Part of the replica identity (the key, or every column under REPLICA IDENTITY FULL).
    key: bool,
}

/// What one pgoutput message decodes to.
#[derive(Debug)]
pub enum Decoded<'a> {
    /// A message with the same meaning as a wal2json row.
    Row(Row<'a>),
    /// A TRUNCATE: wal2json writes one row per table, these are those rows.
    Truncate(Truncated<'a>),
    /// Relation, Type, Origin: what later messages refer to, nothing of its own to publish.
    State,
}

impl<'a> IntoIterator for Decoded<'a> {
    type Item = Result<Row<'a>, Error>;
    type IntoIter = DecodedRows<'a>;

    /// The rows a message stands for: one, one per truncated table, or none.
    fn into_iter(self) -> DecodedRows<'a> {
        match self {
            Decoded::Row(row) => DecodedRows::One(Some(row)),
            Decoded::Truncate(tables) => DecodedRows::Truncate(tables),
            Decoded::State => DecodedRows::One(None),
        }
    }
}

/// The rows of a [`Decoded`] message.
#[derive(Debug)]
pub enum DecodedRows<'a> {
    /// One row, or none.
    One(Option<Row<'a>>),
    /// One row per truncated table.
    Truncate(Truncated<'a>),
}

impl<'a> Iterator for DecodedRows<'a> {
    type Item = Result<Row<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            DecodedRows::One(row) => row.take().map(Ok),
            DecodedRows::Truncate(tables) => tables.next(),
        }
    }
}

/// The tables of one TRUNCATE message, each as wal2json's `T` row.
#[derive(Debug)]
pub struct Truncated<'a> {
    relations: &'a HashMap<u32, Relation>,
    ids: &'a [u8],
    xid: Option<u32>,
    commit_time_us: Option<i64>,
    lsn: Lsn,
}

impl<'a> Iterator for Truncated<'a> {
    type Item = Result<Row<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let (id, rest) = self.ids.split_first_chunk::<4>()?;
        self.ids = rest;
        let relid = u32::from_be_bytes(*id);
        Some(match self.relations.get(&relid) {
            None => Err(Error::UnknownRelation { relid }),
            Some(relation) => Ok(Row::Truncate(Truncate {
                xid: self.xid,
                commit_time_us: self.commit_time_us,
                lsn: Some(self.lsn),
                schema: Cow::Borrowed(&relation.schema),
                table: Cow::Borrowed(&relation.table),
            })),
        })
    }
}

/// The state of one pgoutput stream: the relations seen and the open transaction.
#[derive(Debug, Default)]
pub struct Decoder {
    relations: HashMap<u32, Relation>,
    xid: Option<u32>,
    commit_time_us: Option<i64>,
}

impl Decoder {
    /// Decodes one message. `lsn` is the row's LSN (a change's own). A Begin has no `next_lsn`:
    /// pgoutput writes the transaction's end LSN only in its Commit message (wal2json in both).
    /// Relation messages take their type names from `types`.
    ///
    /// # Errors
    /// [`Error::Protocol`] for a malformed or unknown message, [`Error::UnknownRelation`] for a
    /// change of a table no Relation message described, [`Error::UnknownType`] for a type `types`
    /// lacks.
    pub fn decode<'a>(
        &'a mut self,
        data: &'a [u8],
        lsn: Lsn,
        types: &TypeNames,
    ) -> Result<Decoded<'a>, Error> {
        let tag = *data.first().ok_or(Error::Protocol {
            message: '?',
            reason: "an empty message",
        })?;
        let mut r = Reader::new(data, char::from(tag));
        r.pos = 1;
        match tag {
            b'B' => {
                let final_lsn = r.u64()?;
                let time = r.i64()?;
                let xid = r.u32()?;
                self.xid = Some(xid);
                self.commit_time_us = Some(time + PG_EPOCH_US);
                Ok(Decoded::Row(Row::Begin(Txn {
                    xid: self.xid,
                    commit_time_us: self.commit_time_us,
                    lsn: Some(Lsn(final_lsn)),
                    next_lsn: None,
                    origin: None,
                })))
            }
            b'C' => {
                let _flags = r.byte()?;
                let commit_lsn = r.u64()?;
                let end_lsn = r.u64()?;
                let time = r.i64()?;
                let txn = Txn {
                    xid: self.xid.take(),
                    commit_time_us: Some(time + PG_EPOCH_US),
                    lsn: Some(Lsn(commit_lsn)),
                    next_lsn: Some(Lsn(end_lsn)),
                    origin: None,
                };
                self.commit_time_us = None;
                Ok(Decoded::Row(Row::Commit(txn)))
            }
            b'R' => {
                let (relid, schema, table, identity, count) = read_relation_head(&mut r)?;
                let mut columns = Vec::with_capacity(usize::from(count));
                for _ in 0..count {
                    let (flags, name, type_oid, typmod) = read_relation_column(&mut r)?;
                    let type_name = types
                        .get(type_oid, typmod)
                        .ok_or(Error::UnknownType {
                            oid: type_oid,
                            typmod,
                        })?
                        .to_owned();
                    columns.push(RelationColumn {
                        name: name.to_owned(),
                        type_name,
                        type_oid,
                        key: flags & 1 != 0,
                    });
                }
                self.relations.insert(
                    relid,
                    Relation {
                        schema: schema.to_owned(),
                        table: table.to_owned(),
                        identity,
                        columns,
                    },
                );
                Ok(Decoded::State)
            }
            // Type: the catalog query names every type; Origin: not part of Debezium's events.
            b'Y' | b'O' => Ok(Decoded::State),
            b'I' => {
                let relation = self.relation(r.u32()?)?;
                r.expect(b'N')?;
                let mut columns = Vec::with_capacity(relation.columns.len());
                read_tuple(&mut r, relation, false, &mut columns)?;
                Ok(self.change(Action::Insert, relation, lsn, columns, None))
            }
            b'U' => {
                let relation = self.relation(r.u32()?)?;
                let mut identity = Vec::new();
                let mut old = None;
                match r.byte()? {
                    kind @ (b'K' | b'O') => {
                        read_tuple(&mut r, relation, kind == b'K', &mut identity)?;
                        old = Some(kind);
                        r.expect(b'N')?;
                    }
                    b'N' => {}
                    _ => return Err(r.err("an old tuple (K, O) or the new one (N)")),
                }
                let mut columns = Vec::with_capacity(relation.columns.len());
                read_tuple(&mut r, relation, false, &mut columns)?;
                if old.is_none() {
                    // Without an old tuple the identity did not change: wal2json then sends it
                    // from the new row.
                    identity.extend(
                        columns
                            .iter()
                            .filter(|c| relation.columns.iter().any(|r| r.key && r.name == c.name))
                            .cloned(),
                    );
                }
                Ok(self.change(Action::Update, relation, lsn, columns, Some(identity)))
            }
            b'D' => {
                let relation = self.relation(r.u32()?)?;
                let kind = r.byte()?;
                if !matches!(kind, b'K' | b'O') {
                    return Err(r.err("an old tuple (K, O)"));
                }
                let mut identity = Vec::with_capacity(relation.columns.len());
                read_tuple(&mut r, relation, kind == b'K', &mut identity)?;
                Ok(self.change(Action::Delete, relation, lsn, Vec::new(), Some(identity)))
            }
            b'T' => {
                let count = r.u32()? as usize;
                let _options = r.byte()?;
                let ids = r.take(count.checked_mul(4).ok_or_else(|| r.err("relation ids"))?)?;
                Ok(Decoded::Truncate(Truncated {
                    relations: &self.relations,
                    ids,
                    xid: self.xid,
                    commit_time_us: self.commit_time_us,
                    lsn,
                }))
            }
            b'M' => {
                let transactional = r.byte()? & 1 != 0;
                let message_lsn = r.u64()?;
                let prefix = r.cstr()?;
                let length = r.u32()? as usize;
                let content = r.take(length)?;
                let (xid, commit_time_us) = if transactional {
                    (self.xid, self.commit_time_us)
                } else {
                    (None, None)
                };
                Ok(Decoded::Row(Row::Message(Message {
                    transactional,
                    xid,
                    commit_time_us,
                    lsn: Some(Lsn(message_lsn)),
                    prefix: Cow::Borrowed(prefix),
                    content: Cow::Borrowed(content),
                })))
            }
            other => Err(Error::Protocol {
                message: char::from(other),
                reason: "a message type walbridge does not read (streaming and two-phase \
                         commit are not asked for)",
            }),
        }
    }

    fn relation(&self, relid: u32) -> Result<&Relation, Error> {
        self.relations
            .get(&relid)
            .ok_or(Error::UnknownRelation { relid })
    }

    fn change<'a>(
        &self,
        action: Action,
        relation: &'a Relation,
        lsn: Lsn,
        columns: Vec<Column<'a>>,
        identity: Option<Vec<Column<'a>>>,
    ) -> Decoded<'a> {
        Decoded::Row(Row::Change(Change {
            action,
            xid: self.xid,
            commit_time_us: self.commit_time_us,
            lsn: Some(lsn),
            schema: Cow::Borrowed(&relation.schema),
            table: Cow::Borrowed(&relation.table),
            columns,
            identity,
            // wal2json's `pk`, for a table the catalog no longer describes: known under REPLICA
            // IDENTITY DEFAULT, whose identity is the primary key.
            pk: (relation.identity == b'd').then(|| {
                relation
                    .columns
                    .iter()
                    .filter(|c| c.key)
                    .map(|c| PkColumn {
                        name: Cow::Borrowed(&c.name),
                        type_name: Cow::Borrowed(&c.type_name),
                        type_oid: Some(c.type_oid),
                    })
                    .collect()
            }),
        }))
    }
}

/// Reads TupleData into `out`, one entry per column that has a value: an unchanged TOASTed value
/// ('u') is left out; with `key_only` (an old key tuple, whose other columns are null) so is every
/// column outside the replica identity.
fn read_tuple<'a>(
    r: &mut Reader<'a>,
    relation: &'a Relation,
    key_only: bool,
    out: &mut Vec<Column<'a>>,
) -> Result<(), Error> {
    let count = usize::from(r.u16()?);
    if count > relation.columns.len() {
        return Err(Error::SchemaMismatch {
            table: format!("{}.{}", relation.schema, relation.table),
            column: String::new(),
            reason: "a tuple with more columns than its Relation message",
        });
    }
    for column in &relation.columns[..count] {
        let text = match r.byte()? {
            b'n' => None,
            b'u' => continue,
            b't' => {
                let len = r.u32()? as usize;
                let bytes = r.take(len)?;
                Some(std::str::from_utf8(bytes).map_err(|_| r.err("a value in UTF-8"))?)
            }
            _ => return Err(r.err("a column kind (n, u, t)")),
        };
        if key_only && !column.key {
            continue;
        }
        out.push(Column {
            name: Cow::Borrowed(&column.name),
            type_name: Cow::Borrowed(&column.type_name),
            type_oid: Some(column.type_oid),
            value: Value::from_output(column.type_oid, text),
            optional: None,
        });
    }
    Ok(())
}

type RelationHead<'a> = (u32, &'a str, &'a str, u8, u16);

fn read_relation_head<'a>(r: &mut Reader<'a>) -> Result<RelationHead<'a>, Error> {
    let relid = r.u32()?;
    let namespace = r.cstr()?;
    // pgoutput writes pg_catalog as the empty name.
    let namespace = if namespace.is_empty() {
        "pg_catalog"
    } else {
        namespace
    };
    let name = r.cstr()?;
    let identity = r.byte()?;
    let columns = r.u16()?;
    Ok((relid, namespace, name, identity, columns))
}

fn read_relation_column<'a>(r: &mut Reader<'a>) -> Result<(u8, &'a str, u32, i32), Error> {
    let flags = r.byte()?;
    let name = r.cstr()?;
    let oid = r.u32()?;
    let typmod = r.u32()? as i32;
    Ok((flags, name, oid, typmod))
}

/// A cursor over one message, big-endian as the protocol is.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    message: char,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8], message: char) -> Self {
        Self {
            data,
            pos: 0,
            message,
        }
    }

    #[cold]
    fn err(&self, reason: &'static str) -> Error {
        Error::Protocol {
            message: self.message,
            reason,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or_else(|| self.err("more bytes than the message has"))?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let bytes = self.take(N)?;
        Ok(bytes.try_into().unwrap_or([0; N]))
    }

    fn byte(&mut self) -> Result<u8, Error> {
        Ok(self.array::<1>()?[0])
    }

    fn expect(&mut self, b: u8) -> Result<(), Error> {
        if self.byte()? == b {
            Ok(())
        } else {
            Err(self.err("the new tuple (N)"))
        }
    }

    fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, Error> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    /// A NUL-terminated name.
    fn cstr(&mut self) -> Result<&'a str, Error> {
        let rest = &self.data[self.pos..];
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| self.err("a NUL-terminated name"))?;
        let text = std::str::from_utf8(&rest[..len]).map_err(|_| self.err("a name in UTF-8"))?;
        self.pos += len + 1;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds messages as pgoutput writes them.
    #[derive(Default)]
    struct Msg(Vec<u8>);

    impl Msg {
        fn tag(t: u8) -> Self {
            Self(vec![t])
        }
        fn b(mut self, v: u8) -> Self {
            self.0.push(v);
            self
        }
        fn u16(mut self, v: u16) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn u32(mut self, v: u32) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn u64(mut self, v: u64) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn s(mut self, v: &str) -> Self {
            self.0.extend_from_slice(v.as_bytes());
            self.0.push(0);
            self
        }
        fn text(mut self, v: &str) -> Self {
            self.0.push(b't');
            self.0.extend_from_slice(&(v.len() as u32).to_be_bytes());
            self.0.extend_from_slice(v.as_bytes());
            self
        }
    }

    fn relation() -> Vec<u8> {
        Msg::tag(b'R')
            .u32(16_384)
            .s("inventory")
            .s("customers")
            .b(b'd')
            .u16(4)
            .b(1)
            .s("id")
            .u32(23)
            .u32(u32::MAX)
            .b(0)
            .s("name")
            .u32(1043)
            .u32(44)
            .b(0)
            .s("photo")
            .u32(17)
            .u32(u32::MAX)
            .b(0)
            .s("score")
            .u32(701)
            .u32(u32::MAX)
            .0
    }

    fn types() -> TypeNames {
        let mut types = TypeNames::default();
        for (oid, typmod, name) in [
            (23, -1, "integer"),
            (1043, 44, "character varying(40)"),
            (17, -1, "bytea"),
            (701, -1, "double precision"),
        ] {
            types.insert(oid, typmod, name.to_owned());
        }
        types
    }

    fn row<'a>(d: &'a mut Decoder, data: &'a [u8], types: &TypeNames) -> Row<'a> {
        match d.decode(data, Lsn(0x100), types).unwrap() {
            Decoded::Row(row) => row,
            other => panic!("not a row: {other:?}"),
        }
    }

    fn ready() -> (Decoder, TypeNames) {
        let (mut d, types) = (Decoder::default(), types());
        assert_eq!(
            relation_types(&relation()).unwrap(),
            [(23, -1), (1043, 44), (17, -1), (701, -1)]
        );
        assert!(matches!(
            d.decode(&relation(), Lsn(1), &types),
            Ok(Decoded::State)
        ));
        let begin = Msg::tag(b'B').u64(0x1F0).u64(1_000_000).u32(740).0;
        let Row::Begin(txn) = row(&mut d, &begin, &types) else {
            panic!("not a begin")
        };
        assert_eq!(
            txn,
            Txn {
                xid: Some(740),
                commit_time_us: Some(PG_EPOCH_US + 1_000_000),
                lsn: Some(Lsn(0x1F0)),
                next_lsn: None,
                origin: None,
            }
        );
        (d, types)
    }

    #[test]
    fn an_insert_reads_as_wal2json_writes_it() {
        let (mut d, types) = ready();
        let insert = Msg::tag(b'I')
            .u32(16_384)
            .b(b'N')
            .u16(4)
            .text("1001")
            .text("Sally")
            .text("\\x0102")
            .text("NaN")
            .0;
        let Row::Change(c) = row(&mut d, &insert, &types) else {
            panic!("not a change")
        };
        assert_eq!(c.action, Action::Insert);
        assert_eq!(
            (c.schema.as_ref(), c.table.as_ref()),
            ("inventory", "customers")
        );
        assert_eq!((c.xid, c.lsn), (Some(740), Some(Lsn(0x100))));
        let values: Vec<_> = c.columns.iter().map(|c| c.value.clone()).collect();
        assert_eq!(
            values,
            [
                Value::Number("1001"),
                Value::String(Cow::Borrowed("Sally")),
                Value::String(Cow::Borrowed("0102")),
                Value::String(Cow::Borrowed("NaN")),
            ]
        );
        assert_eq!(c.columns[1].type_name, "character varying(40)");
        assert!(c.identity.is_none());
        let pk: Vec<_> = c.pk.unwrap().iter().map(|p| p.name.to_string()).collect();
        assert_eq!(pk, ["id"]);
    }

    #[test]
    fn updates_and_deletes_carry_the_identity_wal2json_carries() {
        let (mut d, types) = ready();
        // No old tuple: the key from the new row; an unchanged TOASTed value is left out.
        let update = Msg::tag(b'U')
            .u32(16_384)
            .b(b'N')
            .u16(4)
            .text("7")
            .text("x")
            .b(b'u')
            .b(b'n')
            .0;
        let Row::Change(c) = row(&mut d, &update, &types) else {
            panic!("not a change")
        };
        let names: Vec<_> = c.columns.iter().map(|c| c.name.as_ref()).collect();
        assert_eq!(names, ["id", "name", "score"]);
        assert_eq!(c.columns[2].value, Value::Null);
        let identity = c.identity.unwrap();
        assert_eq!(identity.len(), 1);
        assert_eq!(identity[0].value, Value::Number("7"));

        // A key change: the old key tuple's other columns are null and left out.
        let update = Msg::tag(b'U')
            .u32(16_384)
            .b(b'K')
            .u16(4)
            .text("6")
            .b(b'n')
            .b(b'n')
            .b(b'n')
            .b(b'N')
            .u16(4)
            .text("7")
            .text("x")
            .b(b'n')
            .b(b'n')
            .0;
        let Row::Change(c) = row(&mut d, &update, &types) else {
            panic!("not a change")
        };
        let identity = c.identity.unwrap();
        assert_eq!(
            (identity.len(), &identity[0].value),
            (1, &Value::Number("6"))
        );

        // REPLICA IDENTITY FULL: the whole old row.
        let delete = Msg::tag(b'D')
            .u32(16_384)
            .b(b'O')
            .u16(4)
            .text("6")
            .text("y")
            .b(b'n')
            .text("1.5")
            .0;
        let Row::Change(c) = row(&mut d, &delete, &types) else {
            panic!("not a change")
        };
        assert_eq!(c.action, Action::Delete);
        assert!(c.columns.is_empty());
        assert_eq!(c.identity.unwrap().len(), 4);
    }

    #[test]
    fn truncate_messages_and_commit() {
        let (mut d, types) = ready();
        let truncate = Msg::tag(b'T').u32(1).b(0).u32(16_384).0;
        let Decoded::Truncate(tables) = d.decode(&truncate, Lsn(0x150), &types).unwrap() else {
            panic!("not a truncate")
        };
        let rows: Vec<_> = tables.collect::<Result<_, _>>().unwrap();
        assert!(
            matches!(&rows[..], [Row::Truncate(t)] if t.table == "customers" && t.xid == Some(740))
        );

        let message = Msg::tag(b'M')
            .b(0)
            .u64(0x160)
            .s("outbox")
            .u32(3)
            .b(0)
            .b(0xff)
            .b(b'a')
            .0;
        let Row::Message(m) = row(&mut d, &message, &types) else {
            panic!("not a message")
        };
        assert!(!m.transactional);
        assert_eq!((m.xid, m.lsn), (None, Some(Lsn(0x160))));
        assert_eq!(
            (m.prefix.as_ref(), m.content.as_ref()),
            ("outbox", &[0, 0xff, b'a'][..])
        );

        let commit = Msg::tag(b'C').b(0).u64(0x1F0).u64(0x220).u64(5).0;
        let Row::Commit(txn) = row(&mut d, &commit, &types) else {
            panic!("not a commit")
        };
        assert_eq!((txn.xid, txn.next_lsn), (Some(740), Some(Lsn(0x220))));
    }

    #[test]
    fn malformed_and_unknown_input_is_refused() {
        let (mut d, types) = ready();
        let unknown = Msg::tag(b'I').u32(1).b(b'N').u16(0).0;
        assert!(matches!(
            d.decode(&unknown, Lsn(1), &types),
            Err(Error::UnknownRelation { relid: 1 })
        ));
        let short = Msg::tag(b'I').u32(16_384).b(b'N').u16(1).b(b't').u32(9).0;
        assert!(matches!(
            d.decode(&short, Lsn(1), &types),
            Err(Error::Protocol { message: 'I', .. })
        ));
        assert!(matches!(
            d.decode(b"S", Lsn(1), &types),
            Err(Error::Protocol { message: 'S', .. })
        ));
        let mut d = Decoder::default();
        assert!(matches!(
            d.decode(&relation(), Lsn(1), &TypeNames::default()),
            Err(Error::UnknownType {
                oid: 23,
                typmod: -1
            })
        ));
    }
}
