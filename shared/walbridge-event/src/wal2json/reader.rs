//! The JSON reader under both paths: a cursor over the row text, the keys wal2json writes (recognised by
//! one masked compare with the key expected next), strings scanned eight bytes at a time, and numbers as
//! wal2json checks them.

use std::borrow::Cow;

use super::Value;
use crate::lsn::lsn_half;
use crate::{Error, Lsn};

/// The keys the decoder knows, of rows and of column objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Key {
    Action,
    Xid,
    Timestamp,
    Origin,
    Lsn,
    NextLsn,
    Schema,
    Table,
    Columns,
    Identity,
    Pk,
    Transactional,
    Prefix,
    Content,
    Name,
    Type,
    TypeOid,
    Value,
    Optional,
    /// Any other key (also: no expectation).
    Other,
}

/// `"key":` as wal2json writes it, as a little-endian word of up to 16 bytes, its mask and length.
#[derive(Clone, Copy)]
struct KeyText {
    word: u128,
    mask: u128,
    len: usize,
}

const fn key_text(s: &str) -> KeyText {
    let b = s.as_bytes();
    let mut w = [0u8; 16];
    w[0] = b'"';
    let mut i = 0;
    while i < b.len() {
        w[i + 1] = b[i];
        i += 1;
    }
    w[b.len() + 1] = b'"';
    w[b.len() + 2] = b':';
    let len = b.len() + 3;
    KeyText {
        word: u128::from_le_bytes(w),
        mask: if len == 16 {
            u128::MAX
        } else {
            (1u128 << (len * 8)) - 1
        },
        len,
    }
}

/// Indexed by `Key as usize`; `Other` never matches (no bits kept by its mask can equal its word).
static KEY_TEXT: [KeyText; 20] = [
    key_text("action"),
    key_text("xid"),
    key_text("timestamp"),
    key_text("origin"),
    key_text("lsn"),
    key_text("nextlsn"),
    key_text("schema"),
    key_text("table"),
    key_text("columns"),
    key_text("identity"),
    key_text("pk"),
    key_text("transactional"),
    key_text("prefix"),
    key_text("content"),
    key_text("name"),
    key_text("type"),
    key_text("typeoid"),
    key_text("value"),
    key_text("optional"),
    KeyText {
        word: 1,
        mask: 0,
        len: 0,
    },
];

impl Key {
    fn from_name(name: &[u8]) -> Key {
        match name {
            b"action" => Key::Action,
            b"xid" => Key::Xid,
            b"timestamp" => Key::Timestamp,
            b"origin" => Key::Origin,
            b"lsn" => Key::Lsn,
            b"nextlsn" => Key::NextLsn,
            b"schema" => Key::Schema,
            b"table" => Key::Table,
            b"columns" => Key::Columns,
            b"identity" => Key::Identity,
            b"pk" => Key::Pk,
            b"transactional" => Key::Transactional,
            b"prefix" => Key::Prefix,
            b"content" => Key::Content,
            b"name" => Key::Name,
            b"type" => Key::Type,
            b"typeoid" => Key::TypeOid,
            b"value" => Key::Value,
            b"optional" => Key::Optional,
            _ => Key::Other,
        }
    }
}

/// Bytes wal2json's number check accepts (`strspn(outstr, "0123456789+-eE.")`).
pub(super) static NUMBER: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = b'0';
    while i <= b'9' {
        t[i as usize] = true;
        i += 1;
    }
    t[b'+' as usize] = true;
    t[b'-' as usize] = true;
    t[b'e' as usize] = true;
    t[b'E' as usize] = true;
    t[b'.' as usize] = true;
    t
};

/// A cursor over the row text. Every method leaves `pos` after what it consumed.
pub(super) struct Parser<'a> {
    pub(super) s: &'a str,
    pub(super) b: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Parser<'a> {
    pub(super) fn new(s: &'a str) -> Self {
        Parser {
            s,
            b: s.as_bytes(),
            pos: 0,
        }
    }

    #[cold]
    pub(super) fn err(&self, expected: &'static str) -> Error {
        Error::Json {
            offset: self.pos,
            expected,
        }
    }

    #[inline]
    pub(super) fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// Skips whitespace; one compare when there is none (wal2json writes none).
    #[inline(always)]
    pub(super) fn ws(&mut self) {
        if self.peek().is_some_and(|c| c <= b' ') {
            self.ws_general();
        }
    }

    fn ws_general(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    #[inline]
    pub(super) fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    #[inline]
    pub(super) fn expect(&mut self, c: u8) -> Result<(), Error> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.expected(c))
        }
    }

    #[cold]
    fn expected(&self, c: u8) -> Error {
        self.err(match c {
            b'{' => "'{'",
            b'}' => "',' or '}'",
            b'[' => "'['",
            b']' => "',' or ']'",
            b':' => "':'",
            b'"' => "a string",
            _ => "a delimiter",
        })
    }

    #[inline]
    fn literal(&mut self, lit: &'static [u8]) -> bool {
        if self.b[self.pos..].starts_with(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    /// An object key and its `:`. Tries `hint` (the key wal2json writes next) first: one masked compare.
    #[inline(always)]
    pub(super) fn key(&mut self, hint: Key) -> Result<Key, Error> {
        let t = &KEY_TEXT[hint as usize];
        if let Some(chunk) = self.b.get(self.pos..self.pos + 16)
            && let Ok(chunk) = <[u8; 16]>::try_from(chunk)
            && u128::from_le_bytes(chunk) & t.mask == t.word
        {
            self.pos += t.len;
            return Ok(hint);
        }
        self.key_general()
    }

    fn key_general(&mut self) -> Result<Key, Error> {
        let key = self.string()?;
        self.ws();
        self.expect(b':')?;
        Ok(Key::from_name(key.as_bytes()))
    }

    /// A JSON string; borrowed unless it contains escapes.
    #[inline(always)]
    pub(super) fn string(&mut self) -> Result<Cow<'a, str>, Error> {
        match self.plain_string() {
            Some(s) => Ok(Cow::Borrowed(s)),
            None => self.string_general(),
        }
    }

    /// A string without escapes at `pos`, consumed; `None` (nothing consumed) for anything else.
    #[inline(always)]
    fn plain_string(&mut self) -> Option<&'a str> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.pos + 1;
        let n = find_quote_or_backslash(self.b.get(start..)?)?;
        let end = start + n;
        if self.b.get(end) != Some(&b'"') {
            return None;
        }
        self.pos = end + 1;
        self.s.get(start..end)
    }

    #[inline(never)]
    fn string_general(&mut self) -> Result<Cow<'a, str>, Error> {
        self.expect(b'"')?;
        let start = self.pos;
        match find_quote_or_backslash(&self.b[start..]) {
            Some(n) if self.b[start + n] == b'"' => {
                self.pos = start + n + 1;
                Ok(Cow::Borrowed(&self.s[start..start + n]))
            }
            Some(n) => {
                self.pos = start + n;
                self.string_escaped(start)
            }
            None => Err(self.err("closing '\"'")),
        }
    }

    /// The rest of a string from its first backslash at `pos`; `start` is after the opening quote.
    #[cold]
    fn string_escaped(&mut self, start: usize) -> Result<Cow<'a, str>, Error> {
        let mut out = String::with_capacity(self.pos - start + 16);
        out.push_str(&self.s[start..self.pos]);
        loop {
            let run = self.pos;
            match find_quote_or_backslash(&self.b[run..]) {
                Some(n) => self.pos = run + n,
                None => {
                    self.pos = self.b.len();
                    return Err(self.err("closing '\"'"));
                }
            }
            out.push_str(&self.s[run..self.pos]);
            if self.b[self.pos] == b'"' {
                self.pos += 1;
                return Ok(Cow::Owned(out));
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
    #[inline]
    pub(super) fn number(&mut self) -> Result<&'a str, Error> {
        let start = self.pos;
        while let Some(&c) = self.b.get(self.pos) {
            if !NUMBER[usize::from(c)] {
                break;
            }
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.err("a value"));
        }
        Ok(&self.s[start..self.pos])
    }

    #[inline(always)]
    pub(super) fn value(&mut self) -> Result<Value<'a>, Error> {
        match self.peek() {
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b'n') if self.literal(b"null") => Ok(Value::Null),
            Some(b't') if self.literal(b"true") => Ok(Value::Bool(true)),
            Some(b'f') if self.literal(b"false") => Ok(Value::Bool(false)),
            _ => Ok(Value::Number(self.number()?)),
        }
    }

    pub(super) fn skip_value(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(open @ (b'{' | b'[')) => {
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

    pub(super) fn opt_string(&mut self) -> Result<Option<Cow<'a, str>>, Error> {
        if self.literal(b"null") {
            Ok(None)
        } else {
            self.string().map(Some)
        }
    }

    /// `null` or an unsigned 32-bit number; plain digits are read directly.
    #[inline]
    pub(super) fn opt_u32(&mut self, field: &'static str) -> Result<Option<u32>, Error> {
        let start = self.pos;
        let mut v = 0u64;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            v = v * 10 + u64::from(d - b'0');
            self.pos += 1;
            if self.pos - start > 10 {
                break;
            }
        }
        if self.pos > start
            && let Ok(v) = u32::try_from(v)
            && !self.peek().is_some_and(|c| NUMBER[usize::from(c)])
        {
            return Ok(Some(v));
        }
        self.pos = start;
        self.opt_u32_general(field)
    }

    fn opt_u32_general(&mut self, field: &'static str) -> Result<Option<u32>, Error> {
        if self.literal(b"null") {
            return Ok(None);
        }
        let n = self.number()?;
        n.parse().map(Some).map_err(|_| Error::InvalidField {
            field,
            reason: "not an unsigned 32-bit integer",
        })
    }

    /// `null` or a `"X/X"` LSN string; plain ones are read directly.
    #[inline]
    pub(super) fn opt_lsn(&mut self) -> Result<Option<Lsn>, Error> {
        let start = self.pos;
        if self.eat(b'"') {
            let mut i = self.pos;
            if let Some(hi) = lsn_half(self.b, &mut i)
                && self.b.get(i) == Some(&b'/')
            {
                i += 1;
                if let Some(lo) = lsn_half(self.b, &mut i)
                    && self.b.get(i) == Some(&b'"')
                {
                    self.pos = i + 1;
                    return Ok(Some(Lsn((hi << 32) | lo)));
                }
            }
            self.pos = start;
        }
        match self.opt_string()? {
            None => Ok(None),
            Some(s) => s.parse().map(Some),
        }
    }

    pub(super) fn bool(&mut self, field: &'static str) -> Result<bool, Error> {
        match self.value()? {
            Value::Bool(b) => Ok(b),
            _ => Err(Error::InvalidField {
                field,
                reason: "not a boolean",
            }),
        }
    }
}

/// Index of the first `"` or `\` in `b`, eight bytes at a time.
#[inline]
pub(super) fn find_quote_or_backslash(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut chunks = b.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let q = w ^ (LO * u64::from(b'"'));
        let s = w ^ (LO * u64::from(b'\\'));
        // A zero byte of q or s sets its high bit; bits above the first one may be false positives.
        let m = ((q.wrapping_sub(LO) & !q) | (s.wrapping_sub(LO) & !s)) & HI;
        if m != 0 {
            return Some(base + (m.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|n| base + n)
}
