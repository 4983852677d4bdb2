//! A column value's payload JSON under its [`Kind`]: the value itself, the type's fallback for a NOT
//! NULL value the change lacks, the unchanged-TOAST placeholder, and a key value as a header prints it.

use std::borrow::Cow;

use super::array::write_array;
use super::decimal::{Decimal, write_small_decimal};
use super::interval::PgInterval;
use super::java::{write_java_float, write_java_hashmap, write_name_uuid};
use super::text::{bits_little_endian, hex_decode, parse_hstore};
use super::{Elem, ElemKind, Kind, ScalarTag};
use crate::json::{write_base64, write_header_escaped, write_i64, write_str};
use crate::modes::{BinaryMode, HstoreMode, IntervalMode};
use crate::pgtime::{
    PgTime, parse_date, parse_time, parse_timestamp, parse_timetz_utc, write_iso_utc,
    write_iso_utc_with, write_zoned_time,
};
use crate::wal2json::Value;

/// `timestamp` `infinity`: pgjdbc's `DATE_POSITIVE_INFINITY`, as Debezium 3.7 writes it in every unit.
const TIMESTAMP_POS_INFINITY: i64 = 9_223_372_036_825_200_000;
/// `timestamp` `-infinity`: pgjdbc's `DATE_NEGATIVE_INFINITY`, likewise.
const TIMESTAMP_NEG_INFINITY: i64 = -9_223_372_036_832_400_000;
/// `date` `infinity`: Debezium 3.7's sentinel date +5877611-06-21 in days since the epoch (3.6 wrote
/// a negative year there, -2147472692).
const DATE_POS_INFINITY: i64 = 2_146_033_979;
/// `date` `-infinity`: PostgreSQL's smallest day count shifted to the epoch with Java's int
/// overflow, which Debezium 3.6 and 3.7 both write while streaming.
const DATE_NEG_INFINITY: i64 = i32::MIN.wrapping_add(10_957) as i64;

impl Kind {
    /// Writes a non-null value as its payload JSON.
    ///
    /// # Errors
    /// A short reason when the text does not parse as the type (never containing the value).
    pub(crate) fn write_value(self, out: &mut Vec<u8>, v: &Value<'_>) -> Result<(), &'static str> {
        let text: &str = match v {
            Value::Null => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
            Value::Bool(b) => {
                return match self {
                    Kind::Bool => {
                        out.extend_from_slice(if *b { b"true" } else { b"false" });
                        Ok(())
                    }
                    Kind::Str(_) | Kind::Other => {
                        write_str(out, if *b { "true" } else { "false" });
                        Ok(())
                    }
                    _ => Err("boolean value for a non-boolean column"),
                };
            }
            Value::Number(n) => n,
            Value::String(s) => s.as_ref(),
        };
        match self {
            Kind::Int16 | Kind::Int32 | Kind::Int64 => {
                if !is_integer(text) {
                    return Err("not an integer");
                }
                out.extend_from_slice(text.as_bytes());
            }
            Kind::Bool => match text {
                // bit(1) and varbit(1) as well as boolean texts
                "t" | "true" | "1" => out.extend_from_slice(b"true"),
                "f" | "false" | "0" => out.extend_from_slice(b"false"),
                _ => return Err("not a boolean"),
            },
            Kind::Float32 => match text {
                "NaN" | "Infinity" | "-Infinity" => write_str(out, text),
                _ => {
                    let f: f32 = text.parse().map_err(|_| "not a real number")?;
                    write_java_float(out, f64::from(f), Some(f));
                }
            },
            Kind::Float64 => match text {
                "NaN" | "Infinity" | "-Infinity" => write_str(out, text),
                _ => {
                    let f: f64 = text.parse().map_err(|_| "not a double precision number")?;
                    write_java_float(out, f, None);
                }
            },
            Kind::Str(_) | Kind::Enum | Kind::Other | Kind::Omitted => write_str(out, text),
            Kind::Geo(geo) => geo.write_value(out, text)?,
            Kind::Decimal { scale, .. } => {
                if write_small_decimal(out, text.as_bytes(), scale) {
                    return Ok(());
                }
                let d = Decimal::parse(text).ok_or("not a decimal number")?;
                if d.frac.len() > scale as usize {
                    return Err("more fraction digits than the column scale");
                }
                d.write_unscaled_base64(out, scale as usize - d.frac.len());
            }
            Kind::Money => {
                let d = Decimal::parse_money(text).ok_or("not a money amount")?;
                if d.frac.len() > 2 {
                    return Err("more than 2 fraction digits in money");
                }
                d.write_unscaled_base64(out, 2 - d.frac.len());
            }
            Kind::MoneyDouble => {
                let d = Decimal::parse_money(text).ok_or("not a money amount")?;
                let f: f64 = d.plain().parse().map_err(|_| "not a money amount")?;
                write_java_float(out, f, None);
            }
            Kind::DecimalString { money, scale } => {
                let mut d = if money {
                    Decimal::parse_money(text).ok_or("not a money amount")?
                } else {
                    Decimal::parse(text).ok_or("not a decimal number")?
                };
                if let Some(scale) = scale
                    && d.frac.len() < scale as usize
                {
                    let pad = scale as usize - d.frac.len();
                    d.frac = Cow::Owned(format!("{}{}", d.frac, "0".repeat(pad)));
                }
                write_str(out, &d.plain());
            }
            Kind::VarDecimal => {
                let d = Decimal::parse(text)
                    .ok_or("not a decimal number")?
                    .stripped();
                out.extend_from_slice(b"{\"scale\":");
                write_i64(out, d.frac.len() as i64);
                out.extend_from_slice(b",\"value\":");
                d.write_unscaled_base64(out, 0);
                out.push(b'}');
            }
            Kind::ZonedTimestamp { precision } => match parse_timestamp(text, true) {
                Some(PgTime::Finite(us)) => write_iso_utc_with(out, us, precision, true),
                Some(PgTime::PosInf) => out.extend_from_slice(b"\"infinity\""),
                Some(PgTime::NegInf) => out.extend_from_slice(b"\"-infinity\""),
                None => return Err("not a timestamp with time zone"),
            },
            Kind::Timestamp { .. } | Kind::ConnectTimestamp => {
                // ±infinity are pgjdbc's infinity sentinels (in ms), which Debezium 3.7 writes
                // unscaled whatever the column's unit (3.6 divided them by 1000 for ms columns)
                let us = match parse_timestamp(text, false) {
                    Some(PgTime::Finite(us)) => us,
                    Some(PgTime::PosInf) => {
                        write_i64(out, TIMESTAMP_POS_INFINITY);
                        return Ok(());
                    }
                    Some(PgTime::NegInf) => {
                        write_i64(out, TIMESTAMP_NEG_INFINITY);
                        return Ok(());
                    }
                    None => return Err("not a timestamp"),
                };
                let micros = self == Kind::Timestamp { millis: false };
                write_i64(out, if micros { us } else { us.div_euclid(1000) });
            }
            Kind::Date | Kind::ConnectDate => {
                let days = match text {
                    "infinity" => DATE_POS_INFINITY,
                    "-infinity" => DATE_NEG_INFINITY,
                    _ => parse_date(text).ok_or("not a date")?,
                };
                write_i64(out, days);
            }
            Kind::Time { millis } => {
                let us = parse_time(text).ok_or("not a time")?;
                write_i64(out, if millis { us / 1000 } else { us });
            }
            Kind::ConnectTime => {
                let us = parse_time(text).ok_or("not a time")?;
                write_i64(out, us / 1000);
            }
            Kind::ZonedTime => {
                let us = parse_timetz_utc(text).ok_or("not a time with time zone")?;
                out.push(b'"');
                write_zoned_time(out, us);
                out.push(b'"');
            }
            Kind::Interval(mode) => {
                let iv = PgInterval::parse(text).ok_or("not an interval")?;
                match mode {
                    IntervalMode::Numeric => write_i64(out, iv.micro_duration()),
                    IntervalMode::String => {
                        out.push(b'"');
                        iv.write_iso(out);
                        out.push(b'"');
                    }
                }
            }
            Kind::Bits { .. } => {
                let bytes = bits_little_endian(text).ok_or("not a bit string")?;
                write_base64(out, &bytes);
            }
            Kind::Bytes(mode) => {
                let hex = text.strip_prefix("\\x").unwrap_or(text);
                let bytes = hex_decode(hex).ok_or("not hexadecimal bytea")?;
                write_binary(out, mode, &bytes);
            }
            Kind::Hstore(mode) => {
                let pairs = parse_hstore(text).ok_or("not an hstore")?;
                match mode {
                    HstoreMode::Json => {
                        let mut json = Vec::with_capacity(text.len() + 2);
                        write_java_hashmap(&mut json, &pairs);
                        write_str(out, std::str::from_utf8(&json).map_err(|_| "not UTF-8")?);
                    }
                    HstoreMode::Map => write_java_hashmap(out, &pairs),
                }
            }
            Kind::Array(elem) => {
                let mark = out.len();
                if !write_array(out, text, elem) {
                    // not converted yet: multi-dimensional arrays and arrays with explicit
                    // bounds, kept as their text
                    out.truncate(mark);
                    write_str(out, text);
                }
            }
        }
        Ok(())
    }

    /// The value Debezium puts in a NOT NULL column it has no value for (the delete `before` of a table
    /// with REPLICA IDENTITY DEFAULT): `JdbcValueConverters`' type fallback.
    pub(crate) fn fallback(self) -> Cow<'static, [u8]> {
        Cow::Borrowed(match self {
            Kind::Int16 | Kind::Int32 | Kind::Int64 | Kind::Date | Kind::Timestamp { .. } => b"0",
            Kind::Time { .. } | Kind::ConnectDate | Kind::ConnectTime | Kind::ConnectTimestamp => {
                b"0"
            }
            Kind::Interval(IntervalMode::Numeric) => b"0",
            Kind::Interval(IntervalMode::String) => b"\"P0Y0M0DT0H0M0S\"",
            Kind::Float32 | Kind::Float64 | Kind::MoneyDouble => b"0.0",
            Kind::Bool => b"false",
            Kind::Decimal { .. } | Kind::Money => b"\"AA==\"",
            Kind::DecimalString { scale, .. } => {
                let mut out = b"\"0".to_vec();
                if let Some(scale @ 1..) = scale {
                    out.push(b'.');
                    out.extend(std::iter::repeat_n(b'0', scale as usize));
                }
                out.push(b'"');
                return Cow::Owned(out);
            }
            Kind::VarDecimal => b"{\"scale\":0,\"value\":\"AA==\"}",
            Kind::Array(_) => b"[]",
            Kind::ZonedTime => b"\"00:00:00Z\"",
            Kind::Hstore(HstoreMode::Json) => b"\"{}\"",
            Kind::Hstore(HstoreMode::Map) => b"{}",
            Kind::ZonedTimestamp { precision } => {
                let mut out = b"\"".to_vec();
                write_iso_utc(&mut out, 0, precision);
                out.push(b'"');
                return Cow::Owned(out);
            }
            Kind::Str(_) | Kind::Enum | Kind::Bytes(_) | Kind::Bits { .. } | Kind::Other => b"\"\"",
            Kind::Geo(geo) => geo.fallback(),
            Kind::Omitted => b"null",
        })
    }

    /// Writes what Debezium 3.7.1 puts in a column whose unchanged TOASTed value the plugin left out
    /// (`UnchangedToastedPlaceholder`, through the column's converter): the placeholder in the
    /// type's shape, or null where the converter cannot take it.
    pub(crate) fn write_placeholder(self, out: &mut Vec<u8>, placeholder: &str) {
        match self {
            Kind::Str(_) | Kind::Enum | Kind::Other | Kind::Bytes(BinaryMode::Hex) => {
                write_str(out, placeholder)
            }
            Kind::Bytes(BinaryMode::Bytes) => write_base64(out, placeholder.as_bytes()),
            Kind::Hstore(mode) => {
                let pairs = [(placeholder.to_owned(), Some(placeholder.to_owned()))];
                let mut map = Vec::new();
                write_java_hashmap(&mut map, &pairs);
                match mode {
                    HstoreMode::Json => write_str(out, &String::from_utf8_lossy(&map)),
                    HstoreMode::Map => out.extend_from_slice(&map),
                }
            }
            Kind::Array(Elem::Str) => {
                out.push(b'[');
                write_str(out, placeholder);
                out.push(b']');
            }
            Kind::Array(Elem::Int16 | Elem::Int32 | Elem::Int64) => {
                // the placeholder's bytes as numbers (Java bytes: signed)
                out.push(b'[');
                for (i, b) in placeholder.bytes().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_i64(out, i64::from(b as i8));
                }
                out.push(b']');
            }
            Kind::Array(Elem::Of(ElemKind(ScalarTag::Uuid, _, _))) => {
                out.extend_from_slice(b"[\"");
                write_name_uuid(out, placeholder.as_bytes());
                out.extend_from_slice(b"\"]");
            }
            _ => out.extend_from_slice(b"null"),
        }
    }

    /// Writes a key value as Kafka's SimpleHeaderConverter prints a Struct field (`Values.append`): like
    /// JSON, except strings escape only `\` and `"`, and decimals print as `BigDecimal.toString()`.
    pub(crate) fn write_header_value(
        self,
        out: &mut Vec<u8>,
        v: &Value<'_>,
    ) -> Result<(), &'static str> {
        match (self, v) {
            (Kind::Str(_) | Kind::Enum | Kind::Other, Value::String(s)) => {
                out.push(b'"');
                write_header_escaped(out, s);
                out.push(b'"');
                Ok(())
            }
            (Kind::Decimal { scale, .. }, Value::Number(n) | Value::String(Cow::Borrowed(n))) => {
                let d = Decimal::parse(n).ok_or("not a decimal number")?;
                if d.frac.len() > scale as usize {
                    return Err("more fraction digits than the column scale");
                }
                d.write_java_string(out, scale as usize);
                Ok(())
            }
            _ => self.write_value(out, v),
        }
    }
}

/// `bytes` as `binary.handling.mode` represents them in JSON: base64 (what JsonConverter writes for
/// a `bytes` schema, and the `base64` mode), URL-safe base64 (padded, as Java's URL encoder) or
/// lower-case hex.
pub(crate) fn write_binary(out: &mut Vec<u8>, mode: BinaryMode, bytes: &[u8]) {
    match mode {
        BinaryMode::Bytes | BinaryMode::Base64 => write_base64(out, bytes),
        BinaryMode::Base64UrlSafe => {
            use base64::Engine;
            write_str(
                out,
                &base64::engine::general_purpose::URL_SAFE.encode(bytes),
            );
        }
        BinaryMode::Hex => {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            out.reserve(bytes.len() * 2 + 2);
            out.push(b'"');
            for b in bytes {
                out.push(DIGITS[usize::from(b >> 4)]);
                out.push(DIGITS[usize::from(b & 0x0f)]);
            }
            out.push(b'"');
        }
    }
}

pub(super) fn is_integer(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::test_support::*;

    #[test]
    fn bad_numbers_are_rejected() {
        let mut out = Vec::new();
        assert!(D12_2.write_value(&mut out, &Value::Number("1e5")).is_err());
        assert!(
            D12_2
                .write_value(&mut out, &Value::Number("1.234"))
                .is_err()
        );
        assert!(
            Kind::Int32
                .write_value(&mut out, &Value::Number("1.5"))
                .is_err()
        );
        assert!(Kind::Int32.write_value(&mut out, &s("x")).is_err());
    }

    #[test]
    fn timestamptz_is_utc_iso_with_the_column_precision() {
        let z6 = Kind::ZonedTimestamp { precision: 6 };
        assert_eq!(
            enc(z6, s("2024-03-01 09:15:00.5+00")),
            r#""2024-03-01T09:15:00.500000Z""#
        );
        assert_eq!(
            enc(z6, s("2000-01-01 04:59:59.999999+00")),
            r#""2000-01-01T04:59:59.999999Z""#
        );
        assert_eq!(
            enc(z6, s("1999-12-31 23:59:59.999999-05")),
            r#""2000-01-01T04:59:59.999999Z""#
        );
        assert_eq!(
            enc(z6, s("2024-01-15 16:00:00+05:30")),
            r#""2024-01-15T10:30:00.000000Z""#
        );
        assert_eq!(enc(z6, s("infinity")), r#""infinity""#);
        let z0 = Kind::ZonedTimestamp { precision: 0 };
        assert_eq!(
            enc(z0, s("2024-01-15 10:30:00+00")),
            r#""2024-01-15T10:30:00Z""#
        );
        let z3 = Kind::ZonedTimestamp { precision: 3 };
        assert_eq!(
            enc(z3, s("1969-12-31 23:59:59.5+00")),
            r#""1969-12-31T23:59:59.500Z""#
        );
        assert_eq!(
            enc(z3, s("0001-01-01 00:00:00+00 BC")),
            r#""0000-01-01T00:00:00.000Z""#
        );
        assert_eq!(
            enc(z3, s("10000-01-01 00:00:00+00")),
            r#""+10000-01-01T00:00:00.000Z""#
        );
    }

    #[test]
    fn timestamp_is_ms_up_to_precision_3_and_us_above() {
        let ms = Kind::Timestamp { millis: true };
        let us = Kind::Timestamp { millis: false };
        assert_eq!(enc(ms, s("2000-01-01 00:00:00.001")), "946684800001");
        assert_eq!(enc(us, s("1970-01-01 00:00:00")), "0");
        assert_eq!(enc(us, s("1969-12-31 23:59:59.999999")), "-1");
        // the infinities are pgjdbc's sentinels unscaled, in ms columns too
        assert_eq!(enc(ms, s("infinity")), "9223372036825200000");
        assert_eq!(enc(ms, s("-infinity")), "-9223372036832400000");
        assert_eq!(enc(us, s("-infinity")), "-9223372036832400000");
        assert_eq!(
            enc(Kind::ConnectTimestamp, s("infinity")),
            "9223372036825200000"
        );
    }

    #[test]
    fn dates_are_days_since_the_epoch() {
        assert_eq!(enc(Kind::Date, s("2024-02-29")), "19782");
        assert_eq!(enc(Kind::Date, s("1970-01-01")), "0");
        assert_eq!(enc(Kind::Date, s("1969-12-31")), "-1");
        assert_eq!(enc(Kind::Date, s("0001-01-01 BC")), "-719528");
    }

    #[test]
    fn bytea_hex_becomes_base64() {
        assert_eq!(
            enc(Kind::Bytes(BinaryMode::Bytes), s("00ff10")),
            r#""AP8Q""#
        );
        assert_eq!(enc(Kind::Bytes(BinaryMode::Bytes), s("")), r#""""#);
        let mut out = Vec::new();
        assert!(
            Kind::Bytes(BinaryMode::Bytes)
                .write_value(&mut out, &s("0g"))
                .is_err()
        );
    }

    #[test]
    fn times_timetz_and_intervals() {
        assert_eq!(
            classify(1083, "time(0) without time zone"),
            Kind::Time { millis: true }
        );
        assert_eq!(
            classify(1083, "time without time zone"),
            Kind::Time { millis: false }
        );
        assert_eq!(enc(Kind::Time { millis: true }, s("12:34:57")), "45297000");
        assert_eq!(enc(Kind::Time { millis: true }, s("24:00:00")), "86400000");
        assert_eq!(
            enc(Kind::Time { millis: false }, s("23:59:59.999999")),
            "86399999999"
        );
        assert_eq!(
            enc(Kind::ZonedTime, s("08:00:00.12-07:30")),
            r#""15:30:00.12Z""#
        );
        assert_eq!(enc(Kind::ZonedTime, s("00:00:00+00")), r#""00:00:00Z""#);
        let numeric = Kind::Interval(IntervalMode::Numeric);
        assert_eq!(
            enc(numeric, s("1 year 2 mons -3 days +04:05:06.789")),
            "36572706789000"
        );
        assert_eq!(
            enc(numeric, s("-3 years +2 days 00:00:00.000001")),
            "-94499999999999"
        );
        assert_eq!(enc(numeric, s("178000000 years")), "9223372036854775807");
        assert_eq!(
            enc(numeric, s("-1 mons +1 day -00:00:00.5")),
            "-2543400500000"
        );
        let string = Kind::Interval(IntervalMode::String);
        assert_eq!(
            enc(string, s("1 year 2 mons -3 days +04:05:06.789")),
            r#""P1Y2M-3DT4H5M6.789S""#
        );
        assert_eq!(enc(string, s("-1 days -00:00:01")), r#""P0Y0M-1DT0H0M-1S""#);
        assert_eq!(enc(string, s("00:00:00")), r#""P0Y0M0DT0H0M0S""#);
    }

    #[test]
    fn toast_placeholders_take_the_types_shape() {
        let p = "__debezium_unavailable_value";
        let place = |kind: Kind| {
            let mut out = Vec::new();
            kind.write_placeholder(&mut out, p);
            String::from_utf8(out).unwrap()
        };
        let uuids = classify(2951, "uuid[]");
        // Debezium 3.7.1's UUID.nameUUIDFromBytes of the default placeholder
        assert_eq!(place(uuids), r#"["b68a35a7-17ad-35b3-af2a-ae46edb4545a"]"#);
        assert_eq!(
            place(Kind::Hstore(HstoreMode::Json)),
            r#""{\"__debezium_unavailable_value\":\"__debezium_unavailable_value\"}""#
        );
        assert_eq!(place(Kind::Bytes(BinaryMode::Hex)), format!("\"{p}\""));
        assert_eq!(place(Kind::Bytes(BinaryMode::Base64UrlSafe)), "null");
        assert_eq!(place(Kind::VarDecimal), "null");
        assert!(place(Kind::Array(Elem::Int32)).starts_with("[95,95,100,101,98,"));
    }
}
