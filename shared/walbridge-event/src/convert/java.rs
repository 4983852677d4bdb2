//! Values printed as Debezium's Java side prints them: `Double.toString` and `Float.toString`,
//! `String.hashCode` and a `HashMap`'s iteration order (hstore maps), `UUID.nameUUIDFromBytes`.

use crate::json::{write_i64, write_str};

/// Writes `v` as Java's `Double.toString` (or, with `single`, `Float.toString` of that float) prints
/// it: the shortest digits that read back to the same value, in plain notation for magnitudes in
/// [10⁻³, 10⁷) and as `d.dddE±n` otherwise, always with a fraction digit (`3.0`, `1.0E10`).
pub fn write_java_float(out: &mut Vec<u8>, v: f64, single: Option<f32>) {
    use std::io::Write as _;
    if v.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 {
            b"\"Infinity\""
        } else {
            b"\"-Infinity\""
        });
        return;
    }
    if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() {
            b"-0.0"
        } else {
            b"0.0"
        });
        return;
    }
    // Rust's `{:e}` is the shortest round-trip form too: "-1.2345e-7", "1e10"
    let mut buf = [0u8; 40];
    let len = {
        let mut cursor = std::io::Cursor::new(&mut buf[..]);
        let written = match single {
            Some(f) => write!(cursor, "{f:e}"),
            None => write!(cursor, "{v:e}"),
        };
        debug_assert!(written.is_ok());
        cursor.position() as usize
    };
    let text = &buf[..len];
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let e = text.iter().position(|&b| b == b'e').unwrap_or(text.len());
    let exp: i32 = std::str::from_utf8(&text[(e + 1).min(text.len())..])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut digits = [0u8; 24];
    let mut n = 0;
    for &b in &text[..e] {
        if b != b'.' && n < digits.len() {
            digits[n] = b;
            n += 1;
        }
    }
    let digits = &digits[..n];
    if negative {
        out.push(b'-');
    }
    let magnitude = v.abs();
    if (1e-3..1e7).contains(&magnitude) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            for i in 0..int_len {
                out.push(digits.get(i).copied().unwrap_or(b'0'));
            }
            out.push(b'.');
            if digits.len() > int_len {
                out.extend_from_slice(&digits[int_len..]);
            } else {
                out.push(b'0');
            }
        } else {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
            out.extend_from_slice(digits);
        }
    } else {
        out.push(digits[0]);
        out.push(b'.');
        if digits.len() > 1 {
            out.extend_from_slice(&digits[1..]);
        } else {
            out.push(b'0');
        }
        out.push(b'E');
        write_i64(out, i64::from(exp));
    }
}

/// Java's `UUID.nameUUIDFromBytes`: the MD5 of the bytes as a version-3 UUID, lower-case text.
pub(super) fn write_name_uuid(out: &mut Vec<u8>, bytes: &[u8]) {
    use md5::Digest;
    let mut b: [u8; 16] = md5::Md5::digest(bytes).into();
    b[6] = (b[6] & 0x0f) | 0x30;
    b[8] = (b[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push(b'-');
        }
        out.push(HEX[usize::from(byte >> 4)]);
        out.push(HEX[usize::from(byte & 15)]);
    }
}

/// Java's `String.hashCode`, over UTF-16 code units.
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// Writes `pairs` as a JSON object in the iteration order of a `java.util.HashMap` they were put into
/// in order (pgjdbc's `HStoreConverter` builds one): by bucket of the spread hash, then insertion.
pub(super) fn write_java_hashmap(out: &mut Vec<u8>, pairs: &[(String, Option<String>)]) {
    let mut capacity = 16usize;
    while pairs.len() > capacity / 4 * 3 {
        capacity *= 2;
    }
    let bucket = |key: &str| {
        let h = java_string_hash(key) as u32;
        ((h ^ (h >> 16)) as usize) & (capacity - 1)
    };
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by_key(|&i| bucket(&pairs[i].0));
    out.push(b'{');
    for (n, &i) in order.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        let (key, value) = &pairs[i];
        write_str(out, key);
        out.push(b':');
        match value {
            Some(v) => write_str(out, v),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use crate::convert::Kind;
    use crate::convert::test_support::*;
    use crate::wal2json::Value;

    // Expected values below are what Debezium 3.7.1 wrote for the same texts (differential workload).
    #[test]
    fn floats_print_like_java() {
        assert_eq!(enc(Kind::Float32, Value::Number("1e+10")), "1.0E10");
        assert_eq!(enc(Kind::Float32, Value::Number("3.14159")), "3.14159");
        assert_eq!(enc(Kind::Float64, Value::Number("-2.5e-300")), "-2.5E-300");
        assert_eq!(enc(Kind::Float64, Value::Number("1e-05")), "1.0E-5");
        assert_eq!(enc(Kind::Float64, s("123456789.125")), "1.23456789125E8");
        assert_eq!(enc(Kind::Float64, s("NaN")), r#""NaN""#);
    }
}
