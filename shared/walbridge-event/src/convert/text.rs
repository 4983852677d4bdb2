//! PostgreSQL output texts that are neither numbers nor times: bytea's hex, bit strings and hstore.

pub(super) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    fn nib(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks_exact(2)
        .map(|p| Some((nib(p[0])? << 4) | nib(p[1])?))
        .collect()
}

/// A bit string (`1010`) as `io.debezium.data.Bits` bytes: its value, little-endian, without
/// trailing zero bytes (`BitSet.toByteArray`).
pub(super) fn bits_little_endian(text: &str) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    let mut bytes = vec![0u8; b.len().div_ceil(8)];
    for (i, &c) in b.iter().rev().enumerate() {
        match c {
            b'1' => bytes[i / 8] |= 1 << (i % 8),
            b'0' => {}
            _ => return None,
        }
    }
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    Some(bytes)
}

/// hstore output (`"k"=>"v", "k2"=>NULL`) as its pairs in text order.
pub(super) fn parse_hstore(text: &str) -> Option<Vec<(String, Option<String>)>> {
    fn quoted(b: &[u8], i: &mut usize) -> Option<String> {
        if b.get(*i) != Some(&b'"') {
            return None;
        }
        *i += 1;
        let mut s = Vec::new();
        loop {
            match *b.get(*i)? {
                b'"' => {
                    *i += 1;
                    return String::from_utf8(s).ok();
                }
                b'\\' => {
                    s.push(*b.get(*i + 1)?);
                    *i += 2;
                }
                c => {
                    s.push(c);
                    *i += 1;
                }
            }
        }
    }
    let b = text.as_bytes();
    let mut i = 0;
    let mut pairs = Vec::new();
    let skip_spaces = |i: &mut usize| {
        while b.get(*i) == Some(&b' ') {
            *i += 1;
        }
    };
    skip_spaces(&mut i);
    while i < b.len() {
        let key = quoted(b, &mut i)?;
        if b.get(i..i + 2)? != b"=>" {
            return None;
        }
        i += 2;
        let value = if b.get(i..i + 4) == Some(b"NULL") {
            i += 4;
            None
        } else {
            Some(quoted(b, &mut i)?)
        };
        pairs.push((key, value));
        skip_spaces(&mut i);
        if b.get(i) == Some(&b',') {
            i += 1;
            skip_spaces(&mut i);
        }
    }
    Some(pairs)
}

#[cfg(test)]
mod tests {
    use crate::convert::test_support::*;
    use crate::convert::{Elem, Kind, TypeInfo};
    use crate::modes::{HstoreMode, TypeModes};

    #[test]
    fn bits_enums_hstores_and_date_infinities() {
        assert_eq!(classify(1560, "bit(1)"), Kind::Bool);
        assert_eq!(
            classify(1562, "bit varying"),
            Kind::Bits {
                length: 2_147_483_647
            }
        );
        assert_eq!(enc(Kind::Bool, s("1")), "true");
        assert_eq!(enc(Kind::Bits { length: 4 }, s("1010")), r#""Cg==""#);
        assert_eq!(enc(Kind::Bits { length: 4 }, s("0000")), r#""""#);
        assert_eq!(enc(Kind::Bits { length: 16 }, s("1100000011")), r#""AwM=""#);
        let enum_info = TypeInfo { is_enum: true };
        let modes = TypeModes::default();
        assert_eq!(
            Kind::classify(16620, "s.mood", enum_info, &modes),
            Kind::Enum
        );
        assert_eq!(
            Kind::classify(16619, "s.mood[]", enum_info, &modes),
            Kind::Array(Elem::Enum)
        );
        assert_eq!(enc(Kind::Array(Elem::Enum), s("{sad,NULL}")), "null");
        let json = classify(16386, "public.hstore");
        assert_eq!(json, Kind::Hstore(HstoreMode::Json));
        // java.util.HashMap order: buckets 1 ("a"), 4 ("b c"), 9 ("é")
        assert_eq!(
            enc(json, s(r#""a"=>"1", "é"=>"\"q\"", "b c"=>NULL"#)),
            r#""{\"a\":\"1\",\"b c\":null,\"é\":\"\\\"q\\\"\"}""#
        );
        assert_eq!(enc(json, s("")), r#""{}""#);
        assert_eq!(enc(Kind::Date, s("infinity")), "2146033979");
        assert_eq!(enc(Kind::Date, s("-infinity")), "-2147472691");
    }
}
