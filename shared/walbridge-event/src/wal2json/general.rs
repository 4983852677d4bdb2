//! The general path: any JSON object, keys in any order, whitespace, escapes, unknown fields. It decides
//! every row the fast path hands over.

use std::borrow::Cow;

use super::fast::parse_commit_time;
use super::reader::{Key, Parser};
use super::str_bytes;
use super::{Action, Change, Column, Message, PkColumn, Row, Spare, Truncate, Txn, Value};
use crate::{Error, Lsn};

/// The general path: any JSON object, keys in any order, whitespace, escapes, unknown fields.
pub(super) fn decode_general<'a>(data: &'a str, spare: &mut Spare<'a>) -> Result<Row<'a>, Error> {
    let mut p = Parser::new(data);
    let mut f = Fields::default();
    p.ws();
    p.expect(b'{')?;
    p.ws();
    if !p.eat(b'}') {
        let mut hint = Key::Action;
        let mut letter = 0u8;
        loop {
            p.ws();
            let key = p.key(hint)?;
            p.ws();
            hint = match key {
                Key::Action => {
                    let a = p.string()?;
                    letter = a.as_bytes().first().copied().unwrap_or(0);
                    f.action = Some(a);
                    Key::Xid
                }
                Key::Xid => {
                    f.xid = p.opt_u32("xid")?;
                    Key::Timestamp
                }
                Key::Timestamp => {
                    f.timestamp = p.opt_string()?;
                    Key::Lsn
                }
                Key::Origin => {
                    f.origin = p.opt_u32("origin")?;
                    Key::Lsn
                }
                Key::Lsn => {
                    f.lsn = p.opt_lsn()?;
                    match letter {
                        b'B' | b'C' => Key::NextLsn,
                        b'M' => Key::Transactional,
                        _ => Key::Schema,
                    }
                }
                Key::NextLsn => {
                    f.next_lsn = p.opt_lsn()?;
                    Key::Other
                }
                Key::Schema => {
                    f.schema = Some(p.string()?);
                    Key::Table
                }
                Key::Table => {
                    f.table = Some(p.string()?);
                    if letter == b'D' {
                        Key::Identity
                    } else {
                        Key::Columns
                    }
                }
                Key::Columns => {
                    let mut v = std::mem::take(spare.columns());
                    p.columns_into(&mut v)?;
                    f.columns = Some(v);
                    if letter == b'U' {
                        Key::Identity
                    } else {
                        Key::Pk
                    }
                }
                Key::Identity => {
                    let mut v = std::mem::take(spare.identity());
                    p.columns_into(&mut v)?;
                    f.identity = Some(v);
                    Key::Pk
                }
                Key::Pk => {
                    let mut v = std::mem::take(spare.pk());
                    p.pk_into(&mut v)?;
                    f.pk = Some(v);
                    Key::Other
                }
                Key::Transactional => {
                    f.transactional = p.bool("transactional")?;
                    Key::Prefix
                }
                Key::Prefix => {
                    f.prefix = Some(p.string()?);
                    Key::Content
                }
                Key::Content => {
                    f.content = Some(p.string()?);
                    Key::Other
                }
                _ => {
                    p.skip_value()?;
                    Key::Other
                }
            };
            p.ws();
            if p.eat(b',') {
                continue;
            }
            p.expect(b'}')?;
            break;
        }
    }
    p.ws();
    if p.pos != p.b.len() {
        return Err(p.err("end of row"));
    }
    f.into_row()
}

#[derive(Default)]
struct Fields<'a> {
    action: Option<Cow<'a, str>>,
    xid: Option<u32>,
    timestamp: Option<Cow<'a, str>>,
    origin: Option<u32>,
    lsn: Option<Lsn>,
    next_lsn: Option<Lsn>,
    schema: Option<Cow<'a, str>>,
    table: Option<Cow<'a, str>>,
    columns: Option<Vec<Column<'a>>>,
    identity: Option<Vec<Column<'a>>>,
    pk: Option<Vec<PkColumn<'a>>>,
    transactional: bool,
    prefix: Option<Cow<'a, str>>,
    content: Option<Cow<'a, str>>,
}

impl<'a> Fields<'a> {
    fn into_row(self) -> Result<Row<'a>, Error> {
        let action = self.action.ok_or(Error::MissingField {
            action: '?',
            field: "action",
        })?;
        let letter = match action.as_bytes() {
            [c] => *c as char,
            _ => return Err(Error::UnknownAction(action.into_owned())),
        };
        let commit_time_us = match &self.timestamp {
            Some(ts) => Some(parse_commit_time(ts)?),
            None => None,
        };
        let missing = |field| Error::MissingField {
            action: letter,
            field,
        };
        let txn = Txn {
            xid: self.xid,
            commit_time_us,
            lsn: self.lsn,
            next_lsn: self.next_lsn,
            origin: self.origin,
        };
        Ok(match letter {
            'B' => Row::Begin(txn),
            'C' => Row::Commit(txn),
            'I' | 'U' | 'D' => {
                let action = match letter {
                    'I' => Action::Insert,
                    'U' => Action::Update,
                    _ => Action::Delete,
                };
                let columns = match (action, self.columns) {
                    (_, Some(c)) => c,
                    (Action::Delete, None) => Vec::new(),
                    (_, None) => return Err(missing("columns")),
                };
                if action == Action::Delete && self.identity.is_none() {
                    return Err(missing("identity"));
                }
                Row::Change(Change {
                    action,
                    xid: self.xid,
                    commit_time_us,
                    lsn: self.lsn,
                    schema: self.schema.ok_or_else(|| missing("schema"))?,
                    table: self.table.ok_or_else(|| missing("table"))?,
                    columns,
                    identity: self.identity,
                    pk: self.pk,
                })
            }
            'M' => Row::Message(Message {
                transactional: self.transactional,
                xid: self.xid,
                commit_time_us,
                lsn: self.lsn,
                prefix: self.prefix.ok_or_else(|| missing("prefix"))?,
                content: str_bytes(self.content.ok_or_else(|| missing("content"))?),
            }),
            'T' => Row::Truncate(Truncate {
                xid: self.xid,
                commit_time_us,
                lsn: self.lsn,
                schema: self.schema.ok_or_else(|| missing("schema"))?,
                table: self.table.ok_or_else(|| missing("table"))?,
            }),
            _ => return Err(Error::UnknownAction(action.into_owned())),
        })
    }
}

/// The array readers of the general path.
impl<'a> Parser<'a> {
    /// Calls `f` for each object of an array, positioned after its `{`; `f` reads up to and including
    /// the object's `}`.
    #[inline]
    fn objects(&mut self, mut f: impl FnMut(&mut Self) -> Result<(), Error>) -> Result<(), Error> {
        self.expect(b'[')?;
        self.ws();
        if self.eat(b']') {
            return Ok(());
        }
        loop {
            self.ws();
            self.expect(b'{')?;
            f(self)?;
            self.ws();
            if self.eat(b',') {
                continue;
            }
            self.expect(b']')?;
            return Ok(());
        }
    }

    /// The members of an object after its `{`, through its `}`: `f` gets each key (expecting wal2json's
    /// order: name, type, typeoid, value, optional) positioned on the value, which it must consume.
    #[inline]
    fn members(
        &mut self,
        mut f: impl FnMut(&mut Self, Key) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.ws();
        if self.eat(b'}') {
            return Ok(());
        }
        let mut hint = Key::Name;
        loop {
            self.ws();
            let key = self.key(hint)?;
            self.ws();
            f(self, key)?;
            hint = match key {
                Key::Name => Key::Type,
                Key::Type => Key::TypeOid,
                Key::TypeOid => Key::Value,
                Key::Value => Key::Optional,
                _ => Key::Other,
            };
            self.ws();
            if self.eat(b',') {
                continue;
            }
            return self.expect(b'}');
        }
    }

    /// A `columns` or `identity` array, appended to `out`.
    fn columns_into(&mut self, out: &mut Vec<Column<'a>>) -> Result<(), Error> {
        self.objects(|p| {
            let mut c = PartialColumn::default();
            p.members(|p, key| {
                match key {
                    Key::Name => c.name = Some(p.string()?),
                    Key::Type => c.type_name = Some(p.string()?),
                    Key::TypeOid => c.type_oid = p.opt_u32("typeoid")?,
                    Key::Value => c.value = Some(p.value()?),
                    Key::Optional => c.optional = Some(p.bool("optional")?),
                    _ => p.skip_value()?,
                }
                Ok(())
            })?;
            out.push(Column {
                name: c.name.ok_or_else(|| p.err("a column \"name\""))?,
                type_name: c.type_name.unwrap_or(Cow::Borrowed("")),
                type_oid: c.type_oid,
                value: c.value.ok_or_else(|| p.err("a column \"value\""))?,
                optional: c.optional,
            });
            Ok(())
        })
    }

    /// A `pk` array, appended to `out`.
    fn pk_into(&mut self, out: &mut Vec<PkColumn<'a>>) -> Result<(), Error> {
        self.objects(|p| {
            let mut c = PartialColumn::default();
            p.members(|p, key| {
                match key {
                    Key::Name => c.name = Some(p.string()?),
                    Key::Type => c.type_name = Some(p.string()?),
                    Key::TypeOid => c.type_oid = p.opt_u32("typeoid")?,
                    _ => p.skip_value()?,
                }
                Ok(())
            })?;
            out.push(PkColumn {
                name: c.name.ok_or_else(|| p.err("a pk \"name\""))?,
                type_name: c.type_name.unwrap_or(Cow::Borrowed("")),
                type_oid: c.type_oid,
            });
            Ok(())
        })
    }
}

#[derive(Default)]
struct PartialColumn<'a> {
    name: Option<Cow<'a, str>>,
    type_name: Option<Cow<'a, str>>,
    type_oid: Option<u32>,
    value: Option<Value<'a>>,
    optional: Option<bool>,
}
