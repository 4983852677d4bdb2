//! Decoding of wal2json `format-version` 2 rows into borrowed, typed [`Row`]s, and PostgreSQL's [`Lsn`].
//!
//! The decoder is a small hand-written JSON reader specialised for what `wal2json.c` writes: one flat object
//! per row whose `columns`/`identity`/`pk` are arrays of flat objects. Strings borrow from the input unless
//! they contain escapes, and numbers stay as their exact text ([`Value::Number`]) so `numeric` keeps every
//! digit. Unknown fields are skipped so newer wal2json options (`include-origin`, `include-typmod`, …) do
//! not break decoding.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A PostgreSQL write-ahead-log position (`pg_lsn`), printed and parsed in PostgreSQL's `X/X` form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xffff_ffff)
    }
}

impl FromStr for Lsn {
    type Err = Error;

    /// Parses `16/B374D848`; each half is 1–8 hexadecimal digits, as `pg_lsn_in` accepts.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidLsn(s.to_owned());
        let (hi, lo) = s.split_once('/').ok_or_else(bad)?;
        let half = |h: &str| {
            if h.is_empty() || h.len() > 8 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            u32::from_str_radix(h, 16).map_err(|_| bad())
        };
        Ok(Lsn((u64::from(half(hi)?) << 32) | u64::from(half(lo)?)))
    }
}

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

impl Value<'_> {
    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
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
    /// The content as wal2json printed it (text; wal2json cuts binary content at the first NUL byte).
    pub content: Cow<'a, str>,
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

/// Decodes one wal2json format-version 2 `data` string.
///
/// # Errors
/// [`Error::Json`] for text that is not a JSON object, [`Error::UnknownAction`], [`Error::MissingField`]
/// when a change lacks `schema`/`table`, [`Error::InvalidLsn`] and [`Error::InvalidField`] for malformed
/// `lsn`, `xid` or `timestamp` values.
pub fn decode(data: &str) -> Result<Row<'_>, Error> {
    let mut p = Parser::new(data);
    let mut f = Fields::default();
    p.ws();
    p.expect(b'{')?;
    p.ws();
    if !p.eat(b'}') {
        loop {
            p.ws();
            let key = p.key()?;
            p.ws();
            match key.as_ref() {
                "action" => f.action = Some(p.string()?),
                "xid" => f.xid = p.opt_u32("xid")?,
                "timestamp" => f.timestamp = p.opt_string()?,
                "origin" => f.origin = p.opt_u32("origin")?,
                "lsn" => f.lsn = p.opt_lsn()?,
                "nextlsn" => f.next_lsn = p.opt_lsn()?,
                "schema" => f.schema = Some(p.string()?),
                "table" => f.table = Some(p.string()?),
                "columns" => f.columns = Some(p.columns()?),
                "identity" => f.identity = Some(p.columns()?),
                "pk" => f.pk = Some(p.pk()?),
                "transactional" => f.transactional = p.bool("transactional")?,
                "prefix" => f.prefix = Some(p.string()?),
                "content" => f.content = Some(p.string()?),
                _ => p.skip_value()?,
            }
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
            Some(ts) => Some(crate::convert::parse_commit_timestamp(ts)?),
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
                content: self.content.ok_or_else(|| missing("content"))?,
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

/// A cursor over the row text. Every method leaves `pos` after what it consumed.
struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Parser {
            s,
            b: s.as_bytes(),
            pos: 0,
        }
    }

    fn err(&self, expected: &'static str) -> Error {
        Error::Json {
            offset: self.pos,
            expected,
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), Error> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.err(match c {
                b'{' => "'{'",
                b'}' => "',' or '}'",
                b'[' => "'['",
                b']' => "',' or ']'",
                b':' => "':'",
                b'"' => "a string",
                _ => "a delimiter",
            }))
        }
    }

    fn literal(&mut self, lit: &'static str) -> bool {
        if self.b[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    /// An object key followed by `:`. wal2json's keys are fixed ASCII words, so they are borrowed as is;
    /// a key with an escape is not one of them and is read (and later skipped) through [`Self::string`].
    fn key(&mut self) -> Result<Cow<'a, str>, Error> {
        if self.b.get(self.pos) == Some(&b'"') {
            let start = self.pos + 1;
            if let Some(n) = self.b[start..]
                .iter()
                .position(|&c| c == b'"' || c == b'\\')
                && self.b[start + n] == b'"'
            {
                self.pos = start + n + 1;
                if self.b.get(self.pos) == Some(&b':') {
                    self.pos += 1;
                    return Ok(Cow::Borrowed(&self.s[start..start + n]));
                }
                self.ws();
                self.expect(b':')?;
                return Ok(Cow::Borrowed(&self.s[start..start + n]));
            }
        }
        let key = self.string()?;
        self.ws();
        self.expect(b':')?;
        Ok(key)
    }

    /// A JSON string; borrowed unless it contains escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, Error> {
        self.expect(b'"')?;
        let start = self.pos;
        // fast path: no escapes
        match self.b[start..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\')
        {
            Some(n) if self.b[start + n] == b'"' => {
                self.pos = start + n + 1;
                return Ok(Cow::Borrowed(&self.s[start..start + n]));
            }
            Some(n) => self.pos = start + n,
            None => return Err(self.err("closing '\"'")),
        }
        let mut out = String::with_capacity(self.pos - start + 16);
        out.push_str(&self.s[start..self.pos]);
        loop {
            let run = self.pos;
            while let Some(&c) = self.b.get(self.pos) {
                if c == b'"' || c == b'\\' {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.s[run..self.pos]);
            match self.b.get(self.pos) {
                None => return Err(self.err("closing '\"'")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                _ => {}
            }
            self.pos += 1; // the backslash
            let esc = *self.b.get(self.pos).ok_or_else(|| self.err("an escape"))?;
            self.pos += 1;
            match esc {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let hi = self.hex4()?;
                    let ch = if (0xD800..0xDC00).contains(&hi) {
                        if !(self.eat(b'\\') && self.eat(b'u')) {
                            return Err(self.err("a low surrogate"));
                        }
                        let lo = self.hex4()?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return Err(self.err("a low surrogate"));
                        }
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                    } else {
                        char::from_u32(hi)
                    };
                    out.push(ch.ok_or_else(|| self.err("a valid \\u escape"))?);
                }
                _ => {
                    self.pos -= 1;
                    return Err(self.err("a valid escape"));
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let h = self
            .s
            .get(self.pos..self.pos + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.err("4 hex digits"))?;
        self.pos += 4;
        u32::from_str_radix(h, 16).map_err(|_| self.err("4 hex digits"))
    }

    /// Number text as wal2json checks it (`strspn(outstr, "0123456789+-eE.")`).
    fn number(&mut self) -> Result<&'a str, Error> {
        let start = self.pos;
        while let Some(b'0'..=b'9' | b'+' | b'-' | b'e' | b'E' | b'.') = self.b.get(self.pos) {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.err("a value"));
        }
        Ok(&self.s[start..self.pos])
    }

    fn value(&mut self) -> Result<Value<'a>, Error> {
        match self.b.get(self.pos) {
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b'n') if self.literal("null") => Ok(Value::Null),
            Some(b't') if self.literal("true") => Ok(Value::Bool(true)),
            Some(b'f') if self.literal("false") => Ok(Value::Bool(false)),
            _ => Ok(Value::Number(self.number()?)),
        }
    }

    fn skip_value(&mut self) -> Result<(), Error> {
        match self.b.get(self.pos) {
            Some(b'{') | Some(b'[') => {
                let open = self.b[self.pos];
                let close = if open == b'{' { b'}' } else { b']' };
                self.pos += 1;
                self.ws();
                if self.eat(close) {
                    return Ok(());
                }
                loop {
                    self.ws();
                    if open == b'{' {
                        self.string()?;
                        self.ws();
                        self.expect(b':')?;
                        self.ws();
                    }
                    self.skip_value()?;
                    self.ws();
                    if self.eat(b',') {
                        continue;
                    }
                    self.expect(close)?;
                    return Ok(());
                }
            }
            _ => self.value().map(drop),
        }
    }

    fn opt_string(&mut self) -> Result<Option<Cow<'a, str>>, Error> {
        if self.literal("null") {
            Ok(None)
        } else {
            self.string().map(Some)
        }
    }

    fn opt_u32(&mut self, field: &'static str) -> Result<Option<u32>, Error> {
        if self.literal("null") {
            return Ok(None);
        }
        let n = self.number()?;
        n.parse().map(Some).map_err(|_| Error::InvalidField {
            field,
            reason: "not an unsigned 32-bit integer",
        })
    }

    fn opt_lsn(&mut self) -> Result<Option<Lsn>, Error> {
        match self.opt_string()? {
            None => Ok(None),
            Some(s) => s.parse().map(Some),
        }
    }

    fn bool(&mut self, field: &'static str) -> Result<bool, Error> {
        match self.value()? {
            Value::Bool(b) => Ok(b),
            _ => Err(Error::InvalidField {
                field,
                reason: "not a boolean",
            }),
        }
    }

    /// Walks an array of objects. For each object `f` first gets [`Step::Start`] with the cursor on its
    /// `{` and may consume the whole object itself (returning true: a fast path for wal2json's fixed key
    /// order); otherwise the cursor is put back and `f` gets [`Step::Key`] for each key (positioned on its
    /// value, which `f` must consume) and [`Step::End`] after the object.
    fn objects(
        &mut self,
        mut f: impl FnMut(&mut Self, Step<'_>) -> Result<bool, Error>,
    ) -> Result<(), Error> {
        self.expect(b'[')?;
        self.ws();
        if self.eat(b']') {
            return Ok(());
        }
        loop {
            self.ws();
            let start = self.pos;
            if !f(self, Step::Start)? {
                self.pos = start;
                self.expect(b'{')?;
                self.ws();
                if !self.eat(b'}') {
                    loop {
                        self.ws();
                        let key = self.key()?;
                        self.ws();
                        f(self, Step::Key(&key))?;
                        self.ws();
                        if self.eat(b',') {
                            continue;
                        }
                        self.expect(b'}')?;
                        break;
                    }
                }
                f(self, Step::End)?;
            }
            self.ws();
            if self.eat(b',') {
                continue;
            }
            self.expect(b']')?;
            return Ok(());
        }
    }

    /// `{"name":…,"type":…,"typeoid":…,"value":…[,"optional":…]}` exactly as wal2json writes it (type and
    /// typeoid optional); `None` for anything else, to be re-read by the generic path.
    fn column_fast(&mut self) -> Option<Column<'a>> {
        if !self.literal("{\"name\":") {
            return None;
        }
        let name = self.string().ok()?;
        let type_name = if self.literal(",\"type\":") {
            self.string().ok()?
        } else {
            Cow::Borrowed("")
        };
        let type_oid = if self.literal(",\"typeoid\":") {
            Some(self.number().ok()?.parse().ok()?)
        } else {
            None
        };
        if !self.literal(",\"value\":") {
            return None;
        }
        let value = self.value().ok()?;
        let optional = if self.literal(",\"optional\":") {
            match self.value().ok()? {
                Value::Bool(b) => Some(b),
                _ => return None,
            }
        } else {
            None
        };
        self.eat(b'}').then_some(Column {
            name,
            type_name,
            type_oid,
            value,
            optional,
        })
    }

    fn columns(&mut self) -> Result<Vec<Column<'a>>, Error> {
        let mut out = Vec::with_capacity(8);
        let mut cur = PartialColumn::default();
        self.objects(|p, step| {
            match step {
                Step::Start => {
                    if let Some(c) = p.column_fast() {
                        out.push(c);
                        return Ok(true);
                    }
                }
                Step::Key(key) => match key {
                    "name" => cur.name = Some(p.string()?),
                    "type" => cur.type_name = Some(p.string()?),
                    "typeoid" => cur.type_oid = p.opt_u32("typeoid")?,
                    "value" => cur.value = Some(p.value()?),
                    "optional" => cur.optional = Some(p.bool("optional")?),
                    _ => p.skip_value()?,
                },
                Step::End => {
                    let c = std::mem::take(&mut cur);
                    out.push(Column {
                        name: c.name.ok_or_else(|| p.err("a column \"name\""))?,
                        type_name: c.type_name.unwrap_or(Cow::Borrowed("")),
                        type_oid: c.type_oid,
                        value: c.value.ok_or_else(|| p.err("a column \"value\""))?,
                        optional: c.optional,
                    });
                }
            }
            Ok(false)
        })?;
        Ok(out)
    }

    fn pk(&mut self) -> Result<Vec<PkColumn<'a>>, Error> {
        let mut out = Vec::with_capacity(2);
        let mut cur = PartialColumn::default();
        self.objects(|p, step| {
            match step {
                Step::Start => {}
                Step::Key(key) => match key {
                    "name" => cur.name = Some(p.string()?),
                    "type" => cur.type_name = Some(p.string()?),
                    "typeoid" => cur.type_oid = p.opt_u32("typeoid")?,
                    _ => p.skip_value()?,
                },
                Step::End => {
                    let c = std::mem::take(&mut cur);
                    out.push(PkColumn {
                        name: c.name.ok_or_else(|| p.err("a pk \"name\""))?,
                        type_name: c.type_name.unwrap_or(Cow::Borrowed("")),
                        type_oid: c.type_oid,
                    });
                }
            }
            Ok(false)
        })?;
        Ok(out)
    }
}

/// Where [`Parser::objects`] is in an object.
enum Step<'k> {
    Start,
    Key(&'k str),
    End,
}

#[derive(Default)]
struct PartialColumn<'a> {
    name: Option<Cow<'a, str>>,
    type_name: Option<Cow<'a, str>>,
    type_oid: Option<u32>,
    value: Option<Value<'a>>,
    optional: Option<bool>,
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
    fn lsn_parses_and_prints_in_postgres_form() {
        let lsn: Lsn = "16/B374D848".parse().unwrap();
        assert_eq!(lsn, Lsn(0x16_B374_D848));
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert_eq!(Lsn(0).to_string(), "0/0");
        assert_eq!("0/1546140".parse::<Lsn>().unwrap(), Lsn(0x154_6140));
        assert_eq!("FFFFFFFF/FFFFFFFF".parse::<Lsn>().unwrap(), Lsn(u64::MAX));
    }

    #[test]
    fn malformed_lsns_are_rejected() {
        for bad in [
            "",
            "0",
            "/1",
            "1/",
            "G/1",
            "123456789/0",
            "1/2/3",
            "-1/0",
            "+1/0",
        ] {
            assert!(
                matches!(bad.parse::<Lsn>(), Err(Error::InvalidLsn(_))),
                "{bad}"
            );
        }
    }

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
        assert_eq!(m.content, "bin\\x01");
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
