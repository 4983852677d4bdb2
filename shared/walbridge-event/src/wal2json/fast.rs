//! The fast path: a row exactly as wal2json writes it with the relay's options, read in one pass of fixed
//! literals, and the commit-timestamp cache both paths use (the `B`, change and `C` rows of a transaction
//! carry the same timestamp).

use std::borrow::Cow;

use super::reader::{NUMBER, Parser, find_quote_or_backslash};
use super::{Action, Change, Column, PkColumn, Row, Spare, Txn, Value};
use crate::lsn::lsn_half;
use crate::pgtime::parse_commit_timestamp;
use crate::{Error, Lsn};

/// The fast path: a row exactly as wal2json writes it with the pipeline's options, read in one pass of
/// fixed literals. `None` for anything else (other options or key orders, whitespace, escapes, errors);
/// the general path then decides, with the same result for every row this one accepts.
#[inline]
pub(super) fn decode_exact<'a>(data: &'a str, spare: &mut Spare<'a>) -> Option<Row<'a>> {
    let mut p = Parser::new(data);
    p.lit(b"{\"action\":\"")?;
    let letter = p.peek()?;
    p.pos += 1;
    p.lit(b"\",\"xid\":")?;
    let xid = Some(p.exact_u32()?);
    p.lit(b",\"timestamp\":\"")?;
    let ts = p.exact_str()?;
    p.lit(b",\"lsn\":\"")?;
    let lsn = Some(p.exact_lsn()?);
    let row = match letter {
        b'B' | b'C' => {
            p.lit(b",\"nextlsn\":\"")?;
            let next_lsn = Some(p.exact_lsn()?);
            p.lit(b"}")?;
            let txn = Txn {
                xid,
                commit_time_us: Some(parse_commit_time(ts).ok()?),
                lsn,
                next_lsn,
                origin: None,
            };
            if letter == b'B' {
                Row::Begin(txn)
            } else {
                Row::Commit(txn)
            }
        }
        b'I' | b'U' | b'D' => {
            p.lit(b",\"schema\":\"")?;
            let schema = p.exact_str()?;
            p.lit(b",\"table\":\"")?;
            let table = p.exact_str()?;
            let columns = p.lit(b",\"columns\":[").is_some();
            if columns {
                p.exact_columns(spare.columns())?;
            }
            let identity = p.lit(b",\"identity\":[").is_some();
            if identity {
                p.exact_columns(spare.identity())?;
            }
            let pk = p.lit(b",\"pk\":[").is_some();
            if pk {
                p.exact_pk(spare.pk())?;
            }
            p.lit(b"}")?;
            let action = match letter {
                b'I' if columns => Action::Insert,
                b'U' if columns => Action::Update,
                b'D' if identity => Action::Delete,
                _ => return None,
            };
            if p.pos != p.b.len() {
                return None;
            }
            let take = |present: bool, v: &mut Vec<Column<'a>>| {
                if present {
                    std::mem::take(v)
                } else {
                    Vec::new()
                }
            };
            Row::Change(Change {
                action,
                xid,
                commit_time_us: Some(parse_commit_time(ts).ok()?),
                lsn,
                schema: Cow::Borrowed(schema),
                table: Cow::Borrowed(table),
                columns: take(columns, &mut spare.columns),
                identity: identity.then(|| std::mem::take(&mut spare.identity)),
                pk: pk.then(|| std::mem::take(&mut spare.pk)),
            })
        }
        _ => return None,
    };
    (p.pos == p.b.len()).then_some(row)
}

/// A commit timestamp's µs, parsed once for the rows of a transaction.
///
/// # Errors
/// [`Error::InvalidField`] for text that is not an ISO timestamp with time zone.
#[inline]
pub(super) fn parse_commit_time(ts: &str) -> Result<i64, Error> {
    LAST_COMMIT_TIME.with(|cell| {
        let mut cache = cell.get();
        if let Some(us) = cache.get(ts) {
            return Ok(us);
        }
        let us = cache.parse_and_keep(ts)?;
        cell.set(cache);
        Ok(us)
    })
}

/// The last commit timestamp text and its value: the `B`, change and `C` rows of a transaction all carry
/// the same one.
#[derive(Debug, Clone, Copy)]
struct TimestampCache {
    text: [u8; 32],
    len: usize,
    us: i64,
}

impl TimestampCache {
    const EMPTY: TimestampCache = TimestampCache {
        text: [0; 32],
        len: 0,
        us: 0,
    };

    #[inline]
    fn get(&self, ts: &str) -> Option<i64> {
        (self.len != 0 && self.text.get(..self.len) == Some(ts.as_bytes())).then_some(self.us)
    }

    /// Parses `ts` and keeps it for the next rows, unless it is longer than the 32 bytes kept.
    #[inline]
    fn parse_and_keep(&mut self, ts: &str) -> Result<i64, Error> {
        let us = parse_commit_timestamp(ts)?;
        if let Some(slot) = self.text.get_mut(..ts.len()) {
            slot.copy_from_slice(ts.as_bytes());
            self.len = ts.len();
            self.us = us;
        }
        Ok(us)
    }
}

thread_local! {
    /// The last commit timestamp parsed on this thread.
    static LAST_COMMIT_TIME: std::cell::Cell<TimestampCache> =
        const { std::cell::Cell::new(TimestampCache::EMPTY) };
}

/// The fast path's readers: each consumes exactly what wal2json writes or returns `None`.
impl<'a> Parser<'a> {
    /// The literal `l` at `pos`, consumed.
    #[inline(always)]
    fn lit<const N: usize>(&mut self, l: &[u8; N]) -> Option<()> {
        if self.b.get(self.pos..self.pos + N)? == l {
            self.pos += N;
            Some(())
        } else {
            None
        }
    }

    /// The rest of a string without escapes, after its opening quote, through its closing quote.
    #[inline(always)]
    fn exact_str(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let n = find_quote_or_backslash(self.b.get(start..)?)?;
        let end = start + n;
        if self.b.get(end) != Some(&b'"') {
            return None;
        }
        self.pos = end + 1;
        self.s.get(start..end)
    }

    /// Plain decimal digits of a `u32` (what `%u` prints), not followed by more number text.
    #[inline(always)]
    fn exact_u32(&mut self) -> Option<u32> {
        let rest = self.b.get(self.pos..)?;
        let mut v = 0u64;
        let mut n = 0;
        let mut next = None;
        for &c in rest.iter().take(11) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                next = Some(c);
                break;
            }
            v = v * 10 + u64::from(d);
            n += 1;
        }
        if n == 0 || n > 10 || next.is_none_or(|c| NUMBER[usize::from(c)]) {
            return None;
        }
        self.pos += n;
        u32::try_from(v).ok()
    }

    /// The rest of an `"X/X"` string after its opening quote, through its closing quote.
    #[inline(always)]
    fn exact_lsn(&mut self) -> Option<Lsn> {
        let mut i = self.pos;
        let hi = lsn_half(self.b, &mut i)?;
        if self.b.get(i) != Some(&b'/') {
            return None;
        }
        i += 1;
        let lo = lsn_half(self.b, &mut i)?;
        if self.b.get(i) != Some(&b'"') {
            return None;
        }
        self.pos = i + 1;
        Some(Lsn((hi << 32) | lo))
    }

    /// A value as [`Parser::value`] reads it, strings without escapes only.
    #[inline(always)]
    fn exact_value(&mut self) -> Option<Value<'a>> {
        Some(match self.peek()? {
            b'"' => {
                self.pos += 1;
                Value::String(Cow::Borrowed(self.exact_str()?))
            }
            b'n' => {
                self.lit(b"null")?;
                Value::Null
            }
            b't' => {
                self.lit(b"true")?;
                Value::Bool(true)
            }
            b'f' => {
                self.lit(b"false")?;
                Value::Bool(false)
            }
            _ => Value::Number(self.number().ok()?),
        })
    }

    /// The elements of a `columns`/`identity` array after its `[`, through its `]`, each exactly
    /// `{"name":…,"type":…,"typeoid":…,"value":…[,"optional":…]}`.
    #[inline]
    fn exact_columns(&mut self, out: &mut Vec<Column<'a>>) -> Option<()> {
        out.clear();
        if self.lit(b"]").is_some() {
            return Some(());
        }
        loop {
            self.lit(b"{\"name\":\"")?;
            let name = self.exact_str()?;
            self.lit(b",\"type\":\"")?;
            let type_name = self.exact_str()?;
            self.lit(b",\"typeoid\":")?;
            let type_oid = self.exact_u32()?;
            self.lit(b",\"value\":")?;
            let value = self.exact_value()?;
            let optional = match self.lit(b",\"optional\":") {
                Some(()) => match self.exact_value()? {
                    Value::Bool(b) => Some(b),
                    _ => return None,
                },
                None => None,
            };
            self.lit(b"}")?;
            out.push(Column {
                name: Cow::Borrowed(name),
                type_name: Cow::Borrowed(type_name),
                type_oid: Some(type_oid),
                value,
                optional,
            });
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The elements of a `pk` array after its `[`, through its `]`, each exactly
    /// `{"name":…,"type":…,"typeoid":…}`.
    #[inline]
    fn exact_pk(&mut self, out: &mut Vec<PkColumn<'a>>) -> Option<()> {
        out.clear();
        if self.lit(b"]").is_some() {
            return Some(());
        }
        loop {
            self.lit(b"{\"name\":\"")?;
            let name = self.exact_str()?;
            self.lit(b",\"type\":\"")?;
            let type_name = self.exact_str()?;
            self.lit(b",\"typeoid\":")?;
            let type_oid = self.exact_u32()?;
            self.lit(b"}")?;
            out.push(PkColumn {
                name: Cow::Borrowed(name),
                type_name: Cow::Borrowed(type_name),
                type_oid: Some(type_oid),
            });
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}
