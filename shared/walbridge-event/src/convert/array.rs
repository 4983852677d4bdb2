//! PostgreSQL's one-dimensional array text written as a JSON array, each element as its type writes
//! a value.

use std::borrow::Cow;

use super::value::is_integer;
use super::{Elem, ElemKind, ScalarTag};
use crate::json::{write_i64, write_str};
use crate::pgtime::{parse_time, parse_timetz_utc, write_zoned_time};
use crate::wal2json::Value;

/// Writes PostgreSQL's one-dimensional array text (`{a,"b c",NULL}`) as a JSON array. Returns false (with
/// `out` partly written) for forms it does not handle.
pub(super) fn write_array(out: &mut Vec<u8>, text: &str, elem: Elem) -> bool {
    let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else {
        return false;
    };
    if elem == Elem::Enum && inner.split(',').any(|e| e.eq_ignore_ascii_case("NULL")) {
        // Debezium declares enum items required: an array with a NULL element fails to convert
        out.extend_from_slice(b"null");
        return true;
    }
    out.push(b'[');
    if inner.is_empty() {
        out.push(b']');
        return true;
    }
    let b = inner.as_bytes();
    let mut i = 0;
    let mut first = true;
    let mut buf = String::new();
    loop {
        if !first {
            out.push(b',');
        }
        first = false;
        let quoted = b.get(i) == Some(&b'"');
        buf.clear();
        if quoted {
            i += 1;
            loop {
                match b.get(i) {
                    None => return false,
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => {
                        let Some(ch) = inner[i + 1..].chars().next() else {
                            return false;
                        };
                        buf.push(ch);
                        i += 1 + ch.len_utf8();
                    }
                    Some(_) => {
                        let ch = inner[i..].chars().next().unwrap_or_default();
                        buf.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
        } else {
            let start = i;
            while i < b.len() && b[i] != b',' {
                if b[i] == b'{' || b[i] == b'"' {
                    return false;
                }
                i += 1;
            }
            buf.push_str(&inner[start..i]);
        }
        if !quoted && buf.eq_ignore_ascii_case("NULL") {
            out.extend_from_slice(b"null");
        } else {
            match elem {
                Elem::Str | Elem::Enum => write_str(out, &buf),
                Elem::Int16 | Elem::Int32 | Elem::Int64 => {
                    if !is_integer(&buf) {
                        return false;
                    }
                    out.extend_from_slice(buf.as_bytes());
                }
                // Debezium 3.7 keeps a time or timetz element's microseconds (3.6 read them
                // through pgjdbc's java.sql.Time: time in whole ms, timetz in whole seconds)
                Elem::Of(ElemKind(ScalarTag::Time, 0, _)) => {
                    let Some(us) = parse_time(&buf) else {
                        return false;
                    };
                    write_i64(out, us);
                }
                Elem::Of(ElemKind(ScalarTag::ZonedTime, _, _)) => {
                    let Some(us) = parse_timetz_utc(&buf) else {
                        return false;
                    };
                    out.push(b'"');
                    write_zoned_time(out, us);
                    out.push(b'"');
                }
                Elem::Of(e) => {
                    if e.kind()
                        .write_value(out, &Value::String(Cow::Borrowed(&buf)))
                        .is_err()
                    {
                        return false;
                    }
                }
            }
        }
        match b.get(i) {
            None => break,
            Some(b',') => i += 1,
            Some(_) => return false,
        }
    }
    out.push(b']');
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::test_support::*;
    use crate::convert::{Kind, TypeInfo};
    use crate::modes::TypeModes;

    #[test]
    fn one_dimensional_arrays_become_json_arrays() {
        let text = Kind::Array(Elem::Str);
        assert_eq!(enc(text, s("{vip,eu}")), r#"["vip","eu"]"#);
        assert_eq!(enc(text, s("{}")), "[]");
        assert_eq!(
            enc(text, s(r#"{"a b","c\"d",NULL,"NULL"}"#)),
            r#"["a b","c\"d",null,"NULL"]"#
        );
        assert_eq!(enc(Kind::Array(Elem::Int32), s("{NULL,-1}")), "[null,-1]");
        // not handled yet: kept as the text
        assert_eq!(
            enc(Kind::Array(Elem::Int32), s("{{1,2},{3,4}}")),
            r#""{{1,2},{3,4}}""#
        );
    }

    #[test]
    fn arrays_of_typed_elements() {
        let modes = TypeModes::default();
        let of = |oid, name| Kind::classify(oid, name, TypeInfo::default(), &modes);
        assert_eq!(
            enc(of(1021, "real[]"), s("{1.5,NaN,NULL,1e+10}")),
            r#"[1.5,"NaN",null,1.0E10]"#
        );
        assert_eq!(
            enc(of(1000, "boolean[]"), s("{t,NULL,f}")),
            "[true,null,false]"
        );
        assert_eq!(
            enc(of(1182, "date[]"), s("{2024-02-29,1969-12-31}")),
            "[19782,-1]"
        );
        assert_eq!(
            enc(of(1231, "numeric[]"), s("{1.50,-100}")),
            r#"[{"scale":1,"value":"Dw=="},{"scale":0,"value":"nA=="}]"#
        );
        assert_eq!(
            enc(of(1001, "bytea[]"), s(r#"{"\\x00ff",NULL}"#)),
            r#"["AP8=",null]"#
        );
        // time and timetz elements keep their microseconds
        assert_eq!(
            enc(of(1183, "time without time zone[]"), s("{23:59:59.999999}")),
            "[86399999999]"
        );
        assert_eq!(
            enc(of(1270, "time with time zone[]"), s("{08:00:00.123456-07}")),
            r#"["15:00:00.123456Z"]"#
        );
        let mut schema = Vec::new();
        of(1185, "timestamp with time zone[]").write_field_schema(
            &mut schema,
            true,
            None,
            "a",
            None,
        );
        assert_eq!(
            String::from_utf8(schema).unwrap(),
            r#"{"type":"array","items":{"type":"string","optional":true,"name":"io.debezium.time.ZonedTimestamp","version":1},"optional":true,"field":"a"}"#
        );
    }
}
