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
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_escaped(out, s);
    out.push(b'"');
}

/// The inside of [`write_str`], without the quotes.
pub(crate) fn write_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        if esc == b'u' {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        } else {
            out.push(b'\\');
            out.push(esc);
        }
    }
    out.extend_from_slice(&bytes[start..]);
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
