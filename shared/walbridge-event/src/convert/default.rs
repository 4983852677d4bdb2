//! Column DEFAULTs, as `pg_get_expr` prints them, turned into the payload JSON Debezium puts in a
//! field schema's `default`: a constant's value, and for a generated default (a sequence, `now()`,
//! any function call) the stand-in Debezium's `PostgresDefaultValueConverter` maps the type to.

use std::borrow::Cow;

use super::Kind;
use crate::wal2json::Value;

/// The literal of a column DEFAULT as `pg_get_expr(adbin, adrelid)` prints it, when it is a constant
/// (`0`, `'abc'::text`, `(-1)`, `true`); `None` for expressions such as `nextval(…)` or `now()`.
fn default_literal(expr: &str) -> Option<Cow<'_, str>> {
    let mut e = expr.trim();
    while let Some(inner) = e.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
        e = inner.trim();
    }
    if let Some(rest) = e.strip_prefix('\'') {
        let mut lit = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, ch)) = chars.next() {
            if ch == '\'' {
                if rest[i + 1..].starts_with('\'') {
                    lit.push('\'');
                    chars.next();
                    continue;
                }
                let tail = rest[i + 1..].trim();
                return (tail.is_empty() || tail.starts_with("::")).then_some(Cow::Owned(lit));
            }
            lit.push(ch);
        }
        return None;
    }
    let value = e.split("::").next().unwrap_or(e).trim();
    let value = value
        .strip_prefix('(')
        .and_then(|v| v.strip_suffix(')'))
        .unwrap_or(value);
    let numeric = !value.is_empty()
        && value.bytes().any(|b| b.is_ascii_digit())
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    (numeric || value == "true" || value == "false").then_some(Cow::Borrowed(value))
}

/// Whether Debezium takes the DEFAULT for a generated value (`PostgresDefaultValueConverter`): a
/// function call at its start (`now()`, `nextval('s'::regclass)`, `(now() + …)`) or one of SQL's
/// current date-times. Its pattern, `^[(]?[A-Za-z0-9_.]+\((?:.+(?:, ?.+)*)?\)`, comes down to a
/// name and `(` at the start and a `)` somewhere after.
fn is_generated(expr: &str) -> bool {
    const CURRENT_DATE_TIMES: [&str; 5] = [
        "current_timestamp",
        "current_time",
        "current_date",
        "localtime",
        "localtimestamp",
    ];
    if CURRENT_DATE_TIMES
        .iter()
        .any(|name| expr.eq_ignore_ascii_case(name))
    {
        return true;
    }
    let rest = expr.strip_prefix('(').unwrap_or(expr);
    let name = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
        .count();
    name > 0
        && rest[name..]
            .strip_prefix('(')
            .is_some_and(|args| args.contains(')') && !rest.contains('\n'))
}

/// What Debezium puts in the schema for a generated DEFAULT: its mapper's stand-in value for the
/// column's type (a zero, the epoch, an empty text), as the text a row would carry; `None` for the
/// types without a mapper, which get no default (and for `bit`, whose mapper's stand-in walbridge
/// does not reproduce).
fn generated_literal(type_oid: u32) -> Option<&'static str> {
    Some(match type_oid {
        // int2, int4 (serial), int8 (bigserial)
        21 | 23 | 20 => "0",
        // float4, float8, numeric
        700 | 701 | 1700 => "0.0",
        16 => "false",
        // text, varchar, bpchar, xml
        25 | 1043 | 1042 | 142 => "",
        // json, jsonb
        114 | 3802 => "{}",
        2950 => "00000000-0000-0000-0000-000000000000",
        1082 => "1970-01-01",
        1083 => "00:00:00",
        1114 => "1970-01-01 00:00:00",
        1184 => "1970-01-01 00:00:00+00",
        1186 => "00:00:00",
        _ => return None,
    })
}

/// The payload JSON of a column's default, as Debezium writes it into the schema: a constant
/// default's value, or for a generated one ([`is_generated`]) its type's stand-in.
pub(crate) fn default_json(kind: Kind, type_oid: u32, expr: &str) -> Option<Vec<u8>> {
    let generated = is_generated(expr.trim());
    let lit = match generated {
        true => Cow::Borrowed(generated_literal(type_oid)?),
        false => default_literal(expr)?,
    };
    let value = match kind {
        Kind::Int16 | Kind::Int32 | Kind::Int64 | Kind::Decimal { .. } => {
            Value::Number(lit.as_ref())
        }
        // Debezium uses no struct as a default (VariableScaleDecimal is one)
        Kind::VarDecimal => return None,
        Kind::Float32 | Kind::Float64 if generated => Value::Number(lit.as_ref()),
        Kind::Bool => Value::Bool(matches!(lit.as_ref(), "true" | "t")),
        // a type still written as plain text would need its own converter's reading of the
        // literal: no default rather than a wrong one
        Kind::Other | Kind::Geo(_) => return None,
        _ => Value::String(Cow::Borrowed(lit.as_ref())),
    };
    let mut out = Vec::new();
    kind.write_value(&mut out, &value).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::test_support::*;

    #[test]
    fn constant_defaults_are_recognised() {
        assert_eq!(default_literal("0").as_deref(), Some("0"));
        assert_eq!(default_literal("'abc'::text").as_deref(), Some("abc"));
        assert_eq!(
            default_literal("'it''s'::character varying").as_deref(),
            Some("it's")
        );
        assert_eq!(default_literal("'-1.5'::numeric").as_deref(), Some("-1.5"));
        assert_eq!(default_literal("(-1)").as_deref(), Some("-1"));
        assert_eq!(default_literal("true").as_deref(), Some("true"));
        assert_eq!(default_literal("nextval('s'::regclass)"), None);
        assert_eq!(default_literal("now()"), None);
        assert_eq!(
            default_json(D12_2, 1700, "0").as_deref(),
            Some(&b"\"AA==\""[..])
        );
        assert_eq!(
            default_json(Kind::Str(None), 25, "'x'::text").as_deref(),
            Some(&b"\"x\""[..])
        );
    }

    #[test]
    fn generated_defaults_are_their_types_stand_ins() {
        for expr in [
            "now()",
            "nextval('t_id_seq'::regclass)",
            "(now() + '1 day'::interval)",
            "CURRENT_TIMESTAMP",
            "CURRENT_TIMESTAMP(3)",
            "pg_catalog.gen_random_uuid()",
        ] {
            assert!(is_generated(expr), "{expr}");
        }
        for expr in ["'x'::text", "(1 = 1)", "0", "'now()'::text"] {
            assert!(!is_generated(expr), "{expr}");
        }
        let serial = classify(23, "integer");
        assert_eq!(
            default_json(serial, 23, "nextval('t_id_seq'::regclass)").as_deref(),
            Some(&b"0"[..])
        );
        let text = classify(25, "text");
        assert_eq!(
            default_json(text, 25, "upper('x'::text)").as_deref(),
            Some(&b"\"\""[..])
        );
        let point = classify(600, "point");
        assert_eq!(default_json(point, 600, "point(1, 1)"), None);
    }
}
