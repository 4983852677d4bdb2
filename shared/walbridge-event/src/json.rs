//! JSON output exactly as Kafka's JsonConverter (Jackson, compact) writes it, straight into a byte buffer.

use base64::Engine as _;

/// Per byte: 0 = copy as is, `b'u'` = `\u00XX`, anything else = the short escape letter.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Writes `s` as a JSON string the way Jackson does: `"` and `\` escaped, control characters as `\b \t \n
/// \f \r` or `\u00XX` (upper-case hex), everything else (including `/` and non-ASCII) verbatim.
#[inline]
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_escaped(out, s);
    out.push(b'"');
}

/// The inside of [`write_str`], without the quotes.
#[inline]
pub(crate) fn write_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(n) = find_escape(&bytes[start..]) {
        let i = start + n;
        out.extend_from_slice(&bytes[start..i]);
        let b = bytes[i];
        let esc = ESCAPE[usize::from(b)];
        if esc == b'u' {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', esc]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Index of the first byte Jackson escapes (`"`, `\`, below 0x20), eight bytes at a time.
#[inline]
fn find_escape(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut chunks = b.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let q = w ^ (LO * u64::from(b'"'));
        let s = w ^ (LO * u64::from(b'\\'));
        // High bit set for a zero byte of q or s or a byte of w below 0x20 (all exact up to the first
        // one, which is all that is used; bytes >= 0x80 are masked out by `!w`).
        let m = ((q.wrapping_sub(LO) & !q)
            | (s.wrapping_sub(LO) & !s)
            | (w.wrapping_sub(LO * 0x20) & !w))
            & HI;
        if m != 0 {
            return Some(base + (m.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| ESCAPE[usize::from(c)] != 0)
        .map(|n| base + n)
}

/// The decimal digits of a `u64`, printed two at a time into a fixed buffer.
pub(crate) struct Digits {
    buf: [u8; 20],
    start: usize,
}

impl Digits {
    #[inline]
    pub(crate) fn new(mut v: u64) -> Self {
        const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
            2021222324252627282930313233343536373839\
            4041424344454647484950515253545556575859\
            6061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899";
        let mut buf = [b'0'; 20];
        let mut start = 20;
        while v >= 100 {
            let r = (v % 100) as usize * 2;
            v /= 100;
            start -= 2;
            buf[start] = PAIRS[r];
            buf[start + 1] = PAIRS[r + 1];
        }
        if v >= 10 {
            let r = v as usize * 2;
            start -= 2;
            buf[start] = PAIRS[r];
            buf[start + 1] = PAIRS[r + 1];
        } else {
            start -= 1;
            buf[start] = b'0' + v as u8;
        }
        Digits { buf, start }
    }

    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// The digits without the last `n` (the caller makes sure there are more than `n`).
    #[inline]
    pub(crate) fn without_last(&self, n: usize) -> &[u8] {
        &self.buf[self.start..20 - n]
    }
}

/// Writes a signed integer as JSON.
pub(crate) fn write_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Writes bytes as a base64 JSON string (standard alphabet, padded), as JsonConverter does for `bytes`.
pub(crate) fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let start = out.len();
    out.resize(start + bytes.len().div_ceil(3) * 4, 0);
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(bytes, &mut out[start..])
        .unwrap_or(0);
    out.truncate(start + written);
    out.push(b'"');
}

/// Escapes `s` the way Kafka's `Values.escape` does for SimpleHeaderConverter: only `\` and `"`.
pub(crate) fn write_header_escaped(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        if b == b'\\' || b == b'"' {
            out.push(b'\\');
        }
        out.push(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_escaped_like_jackson() {
        assert_eq!(s("plain"), r#""plain""#);
        assert_eq!(s("a\"b\\c/d"), r#""a\"b\\c/d""#);
        assert_eq!(s("\u{8}\t\n\u{c}\r"), r#""\b\t\n\f\r""#);
        assert_eq!(s("\u{1}\u{1f}\u{7f}"), "\"\\u0001\\u001F\u{7f}\"");
        assert_eq!(s("é€😀"), "\"é€😀\"");
    }

    /// The byte-at-a-time escaper the word-at-a-time one replaced.
    fn escaped_simply(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for &b in s.as_bytes() {
            match ESCAPE[usize::from(b)] {
                0 => out.push(b),
                b'u' => out.extend_from_slice(format!("\\u{b:04X}").as_bytes()),
                e => out.extend_from_slice(&[b'\\', e]),
            }
        }
        out
    }

    #[test]
    fn word_at_a_time_escaping_matches_byte_at_a_time() {
        let alphabet: Vec<char> = (0u8..0x80)
            .map(char::from)
            .chain(['é', '€', '😀', '\u{7f}', '\u{80}', '\u{ff}'])
            .collect();
        let mut x: u64 = 0x1234_5678_9ABC_DEF1;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 40) as usize;
            let mut y = x;
            let s: String = (0..len)
                .map(|i| {
                    y = y.rotate_left(7) ^ i as u64;
                    // mostly plain text, sometimes a character to escape
                    if y.is_multiple_of(5) {
                        alphabet[(y >> 8) as usize % alphabet.len()]
                    } else {
                        char::from(b'a' + (y % 26) as u8)
                    }
                })
                .collect();
            let mut out = Vec::new();
            write_escaped(&mut out, &s);
            assert_eq!(out, escaped_simply(&s), "{s:?}");
        }
    }

    #[test]
    fn digits_match_itoa() {
        let mut x: u64 = 0xDEAD_BEEF_CAFE_F00D;
        let mut values = vec![0, 1, 9, 10, 99, 100, 101, 999, 1000, u64::MAX, u64::MAX - 1];
        values.extend((0..20).map(|p| 10u64.pow(p)));
        values.extend((1..20).map(|p| 10u64.pow(p) - 1));
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x >> (x % 64));
        }
        for v in values {
            let d = Digits::new(v);
            assert_eq!(d.as_bytes(), itoa::Buffer::new().format(v).as_bytes());
            if v >= 1000 {
                let ms = v / 1000;
                assert_eq!(d.without_last(3), itoa::Buffer::new().format(ms).as_bytes());
            }
        }
    }

    #[test]
    fn base64_is_standard_and_padded() {
        let mut out = Vec::new();
        write_base64(&mut out, &[0x01, 0xE2, 0x3A]);
        write_base64(&mut out, &[0x00]);
        write_base64(&mut out, &[]);
        assert_eq!(out, br#""AeI6""AA==""""#);
    }

    #[test]
    fn header_escaping_touches_only_quote_and_backslash() {
        let mut out = Vec::new();
        write_header_escaped(&mut out, "a\"b\\c\nd");
        assert_eq!(out, b"a\\\"b\\\\c\nd");
    }
}
