//! The original (pre-optimisation) wal2json decoder, kept only for tests: the fast decoder in
//! [`crate::wal2json`] must produce exactly what this one produces, error or row, for every input.

use std::borrow::Cow;

use crate::pgtime::{PgTime, parse_timestamp_general};
use crate::wal2json::str_bytes;
use crate::wal2json::{Action, Change, Column, Message, PkColumn, Row, Truncate, Txn, Value};
use crate::{Error, Lsn};

fn parse_lsn(s: &str) -> Result<Lsn, Error> {
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

/// The commit timestamp as the original decoder parsed it (general path only), for differential tests.
fn parse_commit_timestamp_reference(s: &str) -> Result<i64, Error> {
    match parse_timestamp_general(s, true) {
        Some(PgTime::Finite(us)) => Ok(us),
        _ => Err(Error::InvalidField {
            field: "timestamp",
            reason: "not an ISO timestamp with time zone",
        }),
    }
}

/// Decodes one wal2json format-version 2 `data` string.
///
/// # Errors
/// [`Error::Json`] for text that is not a JSON object, [`Error::UnknownAction`], [`Error::MissingField`]
/// when a change lacks `schema`/`table`, [`Error::InvalidLsn`] and [`Error::InvalidField`] for malformed
/// `lsn`, `xid` or `timestamp` values.
pub(crate) fn decode(data: &str) -> Result<Row<'_>, Error> {
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
            Some(ts) => Some(parse_commit_timestamp_reference(ts)?),
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
            Some(s) => parse_lsn(&s).map(Some),
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
    use crate::wal2json::{self, Row};

    const WORKLOAD: &str = include_str!("../../tests/fixtures/workload-wal2json.tsv");

    /// Rows beyond the workload: other actions, options and shapes the fast path must hand over.
    const EXTRA: &[&str] = &[
        r#"{"action":"B","xid":759,"timestamp":"2026-11-26 16:17:57.841543+00","lsn":"0/1968F10","nextlsn":"0/1968F40"}"#,
        r#"{"action":"I","xid":759,"timestamp":"2026-11-26 16:17:57.841543+00","lsn":"0/1968E78","schema":"prof","table":"t","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"name","type":"text","typeoid":25,"value":"customer 1","optional":false},{"name":"balance","type":"numeric(10,2)","typeoid":1700,"value":1.25},{"name":"created_at","type":"timestamp with time zone","typeoid":1184,"value":"2024-01-15 10:30:00+00"}],"pk":[{"name":"id","type":"integer","typeoid":23}]}"#,
        r#"{"action":"C","xid":4294967295,"timestamp":"2026-11-26 16:17:57+05:30","lsn":"FFFFFFFF/FFFFFFFF","nextlsn":"ffffffff/0"}"#,
        r#"{"action":"B","xid":4294967296,"timestamp":"2026-11-26 16:17:57.841543+00","lsn":"0/1","nextlsn":"0/2"}"#,
        r#"{"action":"B","xid":00000000007,"timestamp":"2026-11-26 16:17:57.841543-08","lsn":"123456789/0","nextlsn":"0/2"}"#,
        r#"{"action":"C","xid":7,"timestamp":"0044-03-15 12:00:00+00 BC","lsn":"1/2","nextlsn":"1/3"}"#,
        r#"{"action":"C","xid":7,"timestamp":"infinity","lsn":"1/2","nextlsn":"1/3"}"#,
        r#"{"action":"C","xid":7,"timestamp":"12345-01-01 00:00:00+00","lsn":"1/2","nextlsn":"1/3"}"#,
        r#"{"action":"C","xid":7,"timestamp":"2026-11-26 16:17:57.1234567+00","lsn":"1/2","nextlsn":"1/3"}"#,
        r#"{"action":"C","xid":7,"timestamp":"2026-11-26 16:17:57+05:30:15","lsn":"1/2","nextlsn":"1/3"}"#,
        r#"{"action":"C","xid":7,"timestamp":"2026-11-26 16:17:57","lsn":"1/2","nextlsn":"1/3"}"#,
        r#"{"action":"B","xid":7,"origin":3,"timestamp":"2026-11-26 16:17:57+00","lsn":"1/2","nextlsn":"1/3"}"#,
        r#"{"action":"B","xid":7,"timestamp":"2026-11-26 16:17:57+00","origin":3,"lsn":"1/2","nextlsn":"1/3"}"#,
        r#"{ "action" : "B" , "xid" : 7 , "timestamp" : "2026-11-26 16:17:57+00" , "lsn" : "1/2" , "nextlsn" : "1/3" } "#,
        r#"{"xid":7,"action":"C","lsn":"1/2","nextlsn":"1/3","timestamp":"2026-11-26 16:17:57+00"}"#,
        r#"{"action":"C","xid":null,"timestamp":null,"lsn":null,"nextlsn":null}"#,
        r#"{"action":"I","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","schema":"s\"q","table":"t\\u0041","columns":[{"name":"a\nb","type":"text","typeoid":25,"value":"x\"y"}]}"#,
        r#"{"action":"I","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","schema":"s","table":"t","columns":[{"name":"a","type":"text","typeoid":25,"value":"é😀","optional":true},{"name":"b","type":"int","typeoid":23,"value":-1.5e+10,"optional":null}]}"#,
        r#"{"action":"I","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","schema":"s","table":"t","columns":[{"value":1,"typeoid":23,"type":"integer","name":"a"}],"pk":[{"typeoid":23,"name":"a"}]}"#,
        r#"{"action":"I","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","schema":"s","table":"t","columns":[{"name":"a","value":1}],"pk":[]}"#,
        r#"{"action":"I","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","schema":"s","table":"t","columns":[],"pk":[]}"#,
        r#"{"action":"I","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","schema":"s","table":"t","pk":[]}"#,
        r#"{"action":"U","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","schema":"s","table":"t","columns":[{"name":"a","type":"integer","typeoid":23,"value":2}],"identity":[{"name":"a","type":"integer","typeoid":23,"value":1}],"pk":[{"name":"a","type":"integer","typeoid":23}]}"#,
        r#"{"action":"D","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","schema":"s","table":"t","columns":[{"name":"a","type":"integer","typeoid":23,"value":2}],"identity":[]}"#,
        r#"{"action":"D","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","schema":"s","table":"t"}"#,
        r#"{"action":"U","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","schema":"s","table":"t","identity":[]}"#,
        r#"{"action":"M","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","transactional":true,"prefix":"p","content":"c"}"#,
        r#"{"action":"T","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","schema":"s","table":"t"}"#,
        r#"{"action":"IX","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","schema":"s","table":"t","columns":[]}"#,
        r#"{"action":"","xid":1}"#,
        r#"{"action":"\\","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","nextlsn":"0/1"}"#,
        r#"{"action":"I","xid":1,"timestamp":"2026-11-26 16:17:57+00","lsn":"0/1","schema":"s","table":"t","columns":[{"name":"a","type":"integer","typeoid":23,"value":1}],"columns":[{"name":"b","type":"integer","typeoid":23,"value":2}]}"#,
        r#"{}"#,
        r#"[]"#,
        "",
    ];

    fn rows() -> Vec<String> {
        WORKLOAD
            .lines()
            .map(|l| l.splitn(3, '\t').nth(2).expect("lsn, xid, data").to_owned())
            .chain(EXTRA.iter().map(|s| (*s).to_owned()))
            .collect()
    }

    /// Decodes `data` with the original decoder and [`wal2json::decode`], and asserts both agree (rows
    /// field for field, errors variant, offset and text).
    fn check(data: &str) {
        let want = format!("{:?}", super::decode(data));
        let got = wal2json::decode(data);
        assert_eq!(format!("{got:?}"), want, "decode: {data}");
        if let Ok(Row::Change(c)) = &got
            && !data.contains('\\')
        {
            for col in &c.columns {
                assert!(matches!(col.name, std::borrow::Cow::Borrowed(_)), "{data}");
                assert!(
                    matches!(col.type_name, std::borrow::Cow::Borrowed(_)),
                    "{data}"
                );
            }
        }
    }

    #[test]
    fn the_fast_decoder_matches_the_original_on_every_row() {
        for row in rows() {
            check(&row);
        }
    }

    /// `row` broken at every `stride`-th position in the ways that matter to the fast path: truncated, a
    /// byte replaced, deleted or followed by whitespace. Returns the number of variants checked.
    fn mutate(row: &str, stride: usize, replacements: &[u8]) -> usize {
        let b = row.as_bytes();
        let mut n = 0;
        for i in (0..=b.len()).step_by(stride) {
            if !row.is_char_boundary(i) {
                continue;
            }
            check(&row[..i]);
            let mut spaced = row.to_owned();
            spaced.insert(i, ' ');
            check(&spaced);
            n += 2;
            if i < b.len() && b[i].is_ascii() {
                let mut deleted = row.to_owned();
                deleted.remove(i);
                check(&deleted);
                for &r in replacements {
                    let mut m = b.to_vec();
                    m[i] = r;
                    check(&String::from_utf8(m).expect("ASCII for ASCII"));
                }
                n += 1 + replacements.len();
            }
        }
        n
    }

    /// The relay profile's B and C rows at every position and its I row at every other, one row of each
    /// other shape at every seventh.
    #[test]
    fn the_fast_decoder_matches_the_original_on_mutated_rows() {
        let mut n = 0;
        for (i, row) in EXTRA[..3].iter().enumerate() {
            n += mutate(row, 1 + i % 2, b" \"\\09x}],:-.n");
        }
        let rows = rows();
        let mut shapes = std::collections::HashSet::new();
        for row in rows.iter().filter(|r| {
            let shape = |key: &str| r.split(key).nth(1).and_then(|v| v.split('"').nth(1));
            shapes.insert((shape("\"action\":"), shape("\"table\":")))
        }) {
            n += mutate(row, 7, b"\"\\0x}");
        }
        assert!(n > 5_000, "{n} variants");
    }

    /// Every row at every position with more replacements: minutes in a debug build, run on demand with
    /// `cargo test -p walbridge-event --lib -- --ignored`.
    #[test]
    #[ignore = "slow; run on demand"]
    fn the_fast_decoder_matches_the_original_on_all_mutations() {
        for row in rows() {
            mutate(&row, 1, b" \"\\0917xX}]{[,:-+./nFtfe");
        }
    }
}
