//! Constant column DEFAULTs, as `pg_get_expr` prints them, turned into the payload JSON Debezium puts
//! in a field schema's `default`.

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

/// The payload JSON of a constant default for a column of `kind`.
pub(crate) fn default_json(kind: Kind, expr: &str) -> Option<Vec<u8>> {
    let lit = default_literal(expr)?;
    let value = match kind {
        Kind::Int16 | Kind::Int32 | Kind::Int64 | Kind::Decimal { .. } | Kind::VarDecimal => {
            Value::Number(lit.as_ref())
        }
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
        assert_eq!(default_json(D12_2, "0").as_deref(), Some(&b"\"AA==\""[..]));
        assert_eq!(
            default_json(Kind::Str(None), "'x'::text").as_deref(),
            Some(&b"\"x\""[..])
        );
    }
}
