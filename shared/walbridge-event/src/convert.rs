//! PostgreSQL column values (wal2json text) to Debezium's Connect types: type classification, value and
//! schema JSON, and the date/time and decimal arithmetic behind them (`PostgresValueConverter` defaults:
//! `decimal.handling.mode=precise`, `time.precision.mode=adaptive`, `binary.handling.mode=bytes`).

use std::borrow::Cow;

use crate::json::{write_base64, write_header_escaped, write_i64, write_str};
use crate::modes::{
    BinaryMode, DecimalMode, HstoreMode, IntervalMode, TimePrecisionMode, TypeModes,
};
use crate::pgtime::{
    PgTime, parse_date, parse_time, parse_timestamp, parse_timetz_utc, write_fraction_trimmed,
    write_iso_utc, write_iso_utc_with, write_zoned_time,
};
use crate::wal2json::Value;

/// How one column is represented in Debezium's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int16,
    Int32,
    Int64,
    Bool,
    /// `real`: Connect `float`, printed as Java's `Float.toString`.
    Float32,
    /// `double precision` (and numerics under `decimal.handling.mode=double`): Connect `double`,
    /// printed as Java's `Double.toString`.
    Float64,
    /// A string, with its Debezium logical name if any (`io.debezium.data.Uuid`, `…Json`, `…Xml`).
    Str(Option<&'static str>),
    /// An enum: `io.debezium.data.Enum` whose `allowed` labels come from the catalog.
    Enum,
    /// `numeric(p,s)`: `org.apache.kafka.connect.data.Decimal`. A negative PostgreSQL scale is what
    /// Debezium reads from the typmod: its low 11 bits (-2 → 2046).
    Decimal {
        precision: u32,
        scale: u32,
    },
    /// `money`: a Decimal of scale 2 (`money.fraction.digits`) without a precision parameter.
    Money,
    /// Unconstrained `numeric`: `io.debezium.data.VariableScaleDecimal`, trailing zeros stripped.
    VarDecimal,
    /// `numeric`/`money` under `decimal.handling.mode=string`: `BigDecimal.toPlainString()`, at the
    /// column's scale when it has one (as Debezium reads it: 2046 for -2).
    DecimalString {
        money: bool,
        scale: Option<u32>,
    },
    /// `money` under `decimal.handling.mode=double`.
    MoneyDouble,
    /// `timestamptz(p)`: `io.debezium.time.ZonedTimestamp`, fraction printed with exactly `p` digits.
    ZonedTimestamp {
        precision: u32,
    },
    /// `timestamp(p)`: `io.debezium.time.Timestamp` (ms) for p ≤ 3, else `io.debezium.time.MicroTimestamp`.
    Timestamp {
        millis: bool,
    },
    /// `date`: `io.debezium.time.Date` (days since the epoch).
    Date,
    /// `time(p)`: `io.debezium.time.Time` (ms, int32) for p ≤ 3, else `io.debezium.time.MicroTime` (µs).
    Time {
        millis: bool,
    },
    /// `time.precision.mode=connect`: `org.apache.kafka.connect.data.{Date,Time,Timestamp}` (ms).
    ConnectDate,
    ConnectTime,
    ConnectTimestamp,
    /// `timetz`: `io.debezium.time.ZonedTime`, in UTC.
    ZonedTime,
    /// `interval`: `io.debezium.time.MicroDuration` or (string mode) `io.debezium.time.Interval`.
    Interval(IntervalMode),
    /// `bit(n)`/`varbit(n)`, n > 1: `io.debezium.data.Bits`, little-endian bytes of the bit string's value.
    Bits {
        length: u32,
    },
    /// `bytea`, as `binary.handling.mode` says.
    Bytes(BinaryMode),
    /// `hstore`, as `hstore.handling.mode` says.
    Hstore(HstoreMode),
    /// A one-dimensional array of a simple element type.
    Array(Elem),
    /// Arrays Debezium 3.6.3 has no schema for (money, interval, varbit, xml, name, point,
    /// refcursor): it leaves such columns out of the event, and so does the encoder.
    Omitted,
    /// Not mapped: the wal2json text as a plain string (citext, ranges, network types…).
    // TODO(issue 4): geometry, point, multi-dimensional arrays.
    Other,
}

/// Array element types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Elem {
    Int16,
    Int32,
    Int64,
    Str,
    /// Any scalar kind whose elements are written as that kind writes a value.
    Of(ElemKind),
    /// Enum arrays: Debezium 3.6.3 declares `Enum` items (not optional) and writes the value null.
    Enum,
}

/// The scalar kinds arrays can hold (a [`Kind`] without arrays, so that [`Kind`] stays `Copy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ElemKind(ScalarTag, u32, u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScalarTag {
    Float32,
    Float64,
    Bool,
    Uuid,
    Json,
    Decimal,
    VarDecimal,
    DecimalString,
    Date,
    ConnectDate,
    Time,
    ConnectTime,
    ZonedTime,
    Timestamp,
    ConnectTimestamp,
    ZonedTimestamp,
    Bytes,
}

impl ElemKind {
    fn of(kind: Kind) -> Option<ElemKind> {
        let binary = |m: BinaryMode| match m {
            BinaryMode::Bytes => 0,
            BinaryMode::Base64 => 1,
            BinaryMode::Base64UrlSafe => 2,
            BinaryMode::Hex => 3,
        };
        Some(match kind {
            Kind::Float32 => ElemKind(ScalarTag::Float32, 0, 0),
            Kind::Float64 => ElemKind(ScalarTag::Float64, 0, 0),
            Kind::Bool => ElemKind(ScalarTag::Bool, 0, 0),
            Kind::Str(Some(UUID)) => ElemKind(ScalarTag::Uuid, 0, 0),
            Kind::Str(Some(JSON)) => ElemKind(ScalarTag::Json, 0, 0),
            Kind::Decimal { precision, scale } => ElemKind(ScalarTag::Decimal, precision, scale),
            Kind::VarDecimal => ElemKind(ScalarTag::VarDecimal, 0, 0),
            Kind::DecimalString {
                money: false,
                scale,
            } => ElemKind(ScalarTag::DecimalString, scale.unwrap_or(u32::MAX), 0),
            Kind::Date => ElemKind(ScalarTag::Date, 0, 0),
            Kind::ConnectDate => ElemKind(ScalarTag::ConnectDate, 0, 0),
            Kind::Time { millis } => ElemKind(ScalarTag::Time, u32::from(millis), 0),
            Kind::ConnectTime => ElemKind(ScalarTag::ConnectTime, 0, 0),
            Kind::ZonedTime => ElemKind(ScalarTag::ZonedTime, 0, 0),
            Kind::Timestamp { millis } => ElemKind(ScalarTag::Timestamp, u32::from(millis), 0),
            Kind::ConnectTimestamp => ElemKind(ScalarTag::ConnectTimestamp, 0, 0),
            Kind::ZonedTimestamp { precision } => ElemKind(ScalarTag::ZonedTimestamp, precision, 0),
            Kind::Bytes(m) => ElemKind(ScalarTag::Bytes, binary(m), 0),
            _ => return None,
        })
    }

    fn kind(self) -> Kind {
        let ElemKind(tag, a, b) = self;
        match tag {
            ScalarTag::Float32 => Kind::Float32,
            ScalarTag::Float64 => Kind::Float64,
            ScalarTag::Bool => Kind::Bool,
            ScalarTag::Uuid => Kind::Str(Some(UUID)),
            ScalarTag::Json => Kind::Str(Some(JSON)),
            ScalarTag::Decimal => Kind::Decimal {
                precision: a,
                scale: b,
            },
            ScalarTag::VarDecimal => Kind::VarDecimal,
            ScalarTag::DecimalString => Kind::DecimalString {
                money: false,
                scale: (a != u32::MAX).then_some(a),
            },
            ScalarTag::Date => Kind::Date,
            ScalarTag::ConnectDate => Kind::ConnectDate,
            ScalarTag::Time => Kind::Time { millis: a == 1 },
            ScalarTag::ConnectTime => Kind::ConnectTime,
            ScalarTag::ZonedTime => Kind::ZonedTime,
            ScalarTag::Timestamp => Kind::Timestamp { millis: a == 1 },
            ScalarTag::ConnectTimestamp => Kind::ConnectTimestamp,
            ScalarTag::ZonedTimestamp => Kind::ZonedTimestamp { precision: a },
            ScalarTag::Bytes => Kind::Bytes(match a {
                1 => BinaryMode::Base64,
                2 => BinaryMode::Base64UrlSafe,
                3 => BinaryMode::Hex,
                _ => BinaryMode::Bytes,
            }),
        }
    }
}

const UUID: &str = "io.debezium.data.Uuid";
const JSON: &str = "io.debezium.data.Json";
const ENUM: &str = "io.debezium.data.Enum";

/// What the catalog says about a column's type beyond its oid and `format_type` text.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TypeInfo {
    /// The type (or, for an array, its element type) is an enum.
    pub(crate) is_enum: bool,
}

impl Kind {
    /// Classifies a column by type oid, reading the typmod (precision/scale) from the `format_type`
    /// text, under the connector's representation `modes`.
    pub(crate) fn classify(
        type_oid: u32,
        type_name: &str,
        info: TypeInfo,
        modes: &TypeModes,
    ) -> Kind {
        let precision = || typmod(type_name).map(|(p, _)| p);
        let kind = match type_oid {
            16 => Kind::Bool,
            21 => Kind::Int16,
            23 => Kind::Int32,
            20 | 26 => Kind::Int64,
            700 => Kind::Float32,
            701 => Kind::Float64,
            25 | 1043 | 1042 | 19 | 18 | 869 | 650 | 829 | 774 => Kind::Str(None),
            3904 | 3906 | 3908 | 3910 | 3912 | 3926 => Kind::Str(None),
            2950 => Kind::Str(Some(UUID)),
            114 | 3802 => Kind::Str(Some(JSON)),
            142 => Kind::Str(Some("io.debezium.data.Xml")),
            1700 => match (modes.decimal, typmod(type_name)) {
                (DecimalMode::Double, _) => Kind::Float64,
                (DecimalMode::String, t) => Kind::DecimalString {
                    money: false,
                    scale: t.map(|(_, s)| s.map_or(0, |s| (s & 0x7ff) as u32)),
                },
                (DecimalMode::Precise, Some((p, s))) => Kind::Decimal {
                    precision: p,
                    // PostgreSQL keeps the scale in 11 bits; Debezium reads them as unsigned
                    scale: s.map_or(0, |s| (s & 0x7ff) as u32),
                },
                (DecimalMode::Precise, None) => Kind::VarDecimal,
            },
            790 => match modes.decimal {
                DecimalMode::Precise => Kind::Money,
                DecimalMode::Double => Kind::MoneyDouble,
                DecimalMode::String => Kind::DecimalString {
                    money: true,
                    scale: Some(2),
                },
            },
            1184 => Kind::ZonedTimestamp {
                precision: precision().unwrap_or(6),
            },
            1114 => match modes.time {
                TimePrecisionMode::Connect => Kind::ConnectTimestamp,
                _ => Kind::Timestamp {
                    millis: precision().is_some_and(|p| p <= 3),
                },
            },
            1082 => match modes.time {
                TimePrecisionMode::Connect => Kind::ConnectDate,
                _ => Kind::Date,
            },
            1083 => match modes.time {
                TimePrecisionMode::Connect => Kind::ConnectTime,
                TimePrecisionMode::AdaptiveTimeMicroseconds => Kind::Time { millis: false },
                TimePrecisionMode::Adaptive => Kind::Time {
                    millis: precision().is_some_and(|p| p <= 3),
                },
            },
            1266 => Kind::ZonedTime,
            1186 => Kind::Interval(modes.interval),
            // bit(1) and varbit(1) are booleans; an unconstrained varbit has Integer.MAX_VALUE bits
            1560 | 1562 => match precision() {
                Some(1) => Kind::Bool,
                p => Kind::Bits {
                    length: p.unwrap_or(i32::MAX as u32),
                },
            },
            17 => Kind::Bytes(modes.binary),
            1005 => Kind::Array(Elem::Int16),
            1007 => Kind::Array(Elem::Int32),
            1016 | 1028 => Kind::Array(Elem::Int64),
            1009 | 1015 | 1014 | 1002 | 1041 | 651 | 1040 | 775 => Kind::Array(Elem::Str),
            3905 | 3907 | 3909 | 3911 | 3913 | 3927 => Kind::Array(Elem::Str),
            791 | 1187 | 1563 | 143 | 1003 | 1017 | 2201 => Kind::Omitted,
            _ => {
                let element = match type_oid {
                    1021 => Some(700),
                    1022 => Some(701),
                    1000 => Some(16),
                    2951 => Some(2950),
                    199 => Some(114),
                    3807 => Some(3802),
                    1231 => Some(1700),
                    1182 => Some(1082),
                    1183 => Some(1083),
                    1270 => Some(1266),
                    1115 => Some(1114),
                    1185 => Some(1184),
                    1001 => Some(17),
                    _ => None,
                };
                match element {
                    Some(oid) => {
                        let elem = Kind::classify(oid, type_name, TypeInfo::default(), modes);
                        ElemKind::of(elem).map_or(Kind::Other, |e| Kind::Array(Elem::Of(e)))
                    }
                    None => Kind::Other,
                }
            }
        };
        if kind != Kind::Other {
            return kind;
        }
        // types without a fixed oid, known by name (`format_type` qualifies them when not visible)
        let base = type_name.rsplit('.').next().unwrap_or(type_name);
        match (info.is_enum, type_name.ends_with("[]")) {
            (true, false) => Kind::Enum,
            (true, true) => Kind::Array(Elem::Enum),
            _ if base == "hstore" => Kind::Hstore(modes.hstore),
            _ => Kind::Other,
        }
    }

    /// Writes the Connect field schema of a column, as JsonConverter orders its keys. `allowed` is the
    /// comma-separated labels of an enum column.
    pub(crate) fn write_field_schema(
        self,
        out: &mut Vec<u8>,
        optional: bool,
        default: Option<&[u8]>,
        field: &str,
        allowed: Option<&str>,
    ) {
        self.write_schema(out, optional, default, Some(field), allowed);
    }

    fn write_schema(
        self,
        out: &mut Vec<u8>,
        optional: bool,
        default: Option<&[u8]>,
        field: Option<&str>,
        allowed: Option<&str>,
    ) {
        let (ty, name): (&str, Option<&str>) = match self {
            Kind::Int16 => ("int16", None),
            Kind::Int32 => ("int32", None),
            Kind::Int64 => ("int64", None),
            Kind::Bool => ("boolean", None),
            Kind::Float32 => ("float", None),
            Kind::Float64 | Kind::MoneyDouble => ("double", None),
            Kind::Str(name) => ("string", name),
            Kind::Enum => ("string", Some(ENUM)),
            Kind::Decimal { .. } | Kind::Money => {
                ("bytes", Some("org.apache.kafka.connect.data.Decimal"))
            }
            Kind::VarDecimal => ("struct", Some("io.debezium.data.VariableScaleDecimal")),
            Kind::DecimalString { .. } => ("string", None),
            Kind::ZonedTimestamp { .. } => ("string", Some("io.debezium.time.ZonedTimestamp")),
            Kind::Timestamp { millis: true } => ("int64", Some("io.debezium.time.Timestamp")),
            Kind::Timestamp { millis: false } => ("int64", Some("io.debezium.time.MicroTimestamp")),
            Kind::Date => ("int32", Some("io.debezium.time.Date")),
            Kind::Time { millis: true } => ("int32", Some("io.debezium.time.Time")),
            Kind::Time { millis: false } => ("int64", Some("io.debezium.time.MicroTime")),
            Kind::ConnectDate => ("int32", Some("org.apache.kafka.connect.data.Date")),
            Kind::ConnectTime => ("int32", Some("org.apache.kafka.connect.data.Time")),
            Kind::ConnectTimestamp => ("int64", Some("org.apache.kafka.connect.data.Timestamp")),
            Kind::ZonedTime => ("string", Some("io.debezium.time.ZonedTime")),
            Kind::Interval(IntervalMode::Numeric) => {
                ("int64", Some("io.debezium.time.MicroDuration"))
            }
            Kind::Interval(IntervalMode::String) => ("string", Some("io.debezium.time.Interval")),
            Kind::Bits { .. } => ("bytes", Some("io.debezium.data.Bits")),
            Kind::Bytes(BinaryMode::Bytes) => ("bytes", None),
            Kind::Bytes(_) => ("string", None),
            Kind::Hstore(HstoreMode::Json) => ("string", Some(JSON)),
            Kind::Hstore(HstoreMode::Map) => ("map", None),
            Kind::Array(_) => ("array", None),
            Kind::Other | Kind::Omitted => ("string", None),
        };
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(ty.as_bytes());
        out.push(b'"');
        match self {
            Kind::VarDecimal => out.extend_from_slice(
                b",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}]",
            ),
            Kind::Hstore(HstoreMode::Map) => out.extend_from_slice(
                b",\"keys\":{\"type\":\"string\",\"optional\":false},\"values\":{\"type\":\"string\",\"optional\":true}",
            ),
            Kind::Array(elem) => {
                out.extend_from_slice(b",\"items\":");
                match elem {
                    Elem::Int16 => Kind::Int16.write_schema(out, true, None, None, None),
                    Elem::Int32 => Kind::Int32.write_schema(out, true, None, None, None),
                    Elem::Int64 => Kind::Int64.write_schema(out, true, None, None, None),
                    Elem::Str => Kind::Str(None).write_schema(out, true, None, None, None),
                    Elem::Of(e) => e.kind().write_schema(out, true, None, None, None),
                    Elem::Enum => Kind::Enum.write_schema(out, false, None, None, allowed),
                }
            }
            _ => {}
        }
        out.extend_from_slice(if optional {
            b",\"optional\":true"
        } else {
            b",\"optional\":false"
        });
        if let Some(name) = name {
            out.extend_from_slice(b",\"name\":\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\",\"version\":1");
        }
        match self {
            Kind::VarDecimal => out.extend_from_slice(b",\"doc\":\"Variable scaled decimal\""),
            Kind::Decimal { precision, scale } => {
                out.extend_from_slice(b",\"parameters\":{\"scale\":\"");
                write_i64(out, i64::from(scale));
                out.extend_from_slice(b"\",\"connect.decimal.precision\":\"");
                write_i64(out, i64::from(precision));
                out.extend_from_slice(b"\"}");
            }
            Kind::Money => out.extend_from_slice(b",\"parameters\":{\"scale\":\"2\"}"),
            Kind::Bits { length } => {
                out.extend_from_slice(b",\"parameters\":{\"length\":\"");
                write_i64(out, i64::from(length));
                out.extend_from_slice(b"\"}");
            }
            Kind::Enum => {
                out.extend_from_slice(b",\"parameters\":{\"allowed\":");
                write_str(out, allowed.unwrap_or_default());
                out.push(b'}');
            }
            _ => {}
        }
        if let Some(default) = default {
            out.extend_from_slice(b",\"default\":");
            out.extend_from_slice(default);
        }
        if let Some(field) = field {
            out.extend_from_slice(b",\"field\":");
            write_str(out, field);
        }
        out.push(b'}');
    }

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
                // ±infinity are what Debezium 3.6.3 wrote for them (see the readings sample).
                let us = match parse_timestamp(text, false) {
                    Some(PgTime::Finite(us)) => us,
                    Some(PgTime::PosInf) => 9_223_372_036_825_200_000,
                    Some(PgTime::NegInf) => -9_223_372_036_832_400_000,
                    None => return Err("not a timestamp"),
                };
                let micros = self == Kind::Timestamp { millis: false };
                write_i64(out, if micros { us } else { us.div_euclid(1000) });
            }
            Kind::Date | Kind::ConnectDate => {
                let days = match text {
                    // PostgreSQL's infinities (i32::MAX/MIN days after 2000-01-01) shifted to the
                    // epoch with Java's int overflow, as Debezium 3.6.3 writes them
                    "infinity" => i64::from(i32::MAX.wrapping_add(10_957)),
                    "-infinity" => i64::from(i32::MIN.wrapping_add(10_957)),
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
                match mode {
                    BinaryMode::Bytes | BinaryMode::Base64 => write_base64(out, &bytes),
                    BinaryMode::Base64UrlSafe => {
                        use base64::Engine;
                        write_str(
                            out,
                            &base64::engine::general_purpose::URL_SAFE.encode(&bytes),
                        );
                    }
                    BinaryMode::Hex => {
                        out.push(b'"');
                        out.extend_from_slice(hex.to_ascii_lowercase().as_bytes());
                        out.push(b'"');
                    }
                }
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
                    // TODO(issue 4): multi-dimensional arrays and arrays with explicit bounds.
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
            Kind::Omitted => b"null",
        })
    }

    /// Writes what Debezium 3.6.3 puts in a column whose unchanged TOASTed value the plugin left out
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

/// `(p, s)` from the first parenthesis of a `format_type` text: `numeric(12,2)`, `timestamp(3) with …`.
fn typmod(type_name: &str) -> Option<(u32, Option<i32>)> {
    let open = type_name.find('(')?;
    let close = open + type_name[open..].find(')')?;
    let inner = &type_name[open + 1..close];
    let (p, s) = match inner.split_once(',') {
        Some((p, s)) => (p, Some(s.trim().parse().ok()?)),
        None => (inner, None),
    };
    Some((p.trim().parse().ok()?, s))
}

fn is_integer(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A decimal literal split into sign, integer digits and fraction digits (all ASCII digits).
struct Decimal<'a> {
    negative: bool,
    int: Cow<'a, str>,
    frac: Cow<'a, str>,
}

impl<'a> Decimal<'a> {
    /// `[-+]digits[.digits]`, as PostgreSQL's `numeric_out` prints (never an exponent).
    fn parse(s: &'a str) -> Option<Self> {
        let (negative, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
            return None;
        }
        Some(Decimal {
            negative,
            int: Cow::Borrowed(int),
            frac: Cow::Borrowed(frac),
        })
    }

    /// `money` output such as `$1,234.56` or `-$0.99`: the digits, the point and the sign.
    fn parse_money(s: &str) -> Option<Decimal<'static>> {
        let negative = s.contains('-') || s.contains('(');
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let keep = |t: &str| t.chars().filter(char::is_ascii_digit).collect::<String>();
        let (int, frac) = (keep(int), keep(frac));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        Some(Decimal {
            negative,
            int: Cow::Owned(int),
            frac: Cow::Owned(frac),
        })
    }

    /// `BigDecimal.stripTrailingZeros()`, then scale 0 instead of a negative one (VariableScaleDecimal).
    fn stripped(self) -> Self {
        let frac = match self.frac {
            Cow::Borrowed(f) => Cow::Borrowed(f.trim_end_matches('0')),
            Cow::Owned(f) => Cow::Owned(f.trim_end_matches('0').to_owned()),
        };
        Decimal { frac, ..self }
    }

    /// `BigDecimal.toPlainString()`: no leading zeros, no sign for zero.
    fn plain(&self) -> String {
        let int = self.int.trim_start_matches('0');
        let zero = int.is_empty() && self.frac.bytes().all(|b| b == b'0');
        let mut s = String::with_capacity(self.int.len() + self.frac.len() + 3);
        if self.negative && !zero {
            s.push('-');
        }
        s.push_str(if int.is_empty() { "0" } else { int });
        if !self.frac.is_empty() {
            s.push('.');
            s.push_str(&self.frac);
        }
        s
    }

    fn digits(&self, pad: usize) -> impl Iterator<Item = u8> + '_ {
        self.int
            .bytes()
            .chain(self.frac.bytes())
            .chain(std::iter::repeat_n(b'0', pad))
            .map(|b| b - b'0')
    }

    /// Writes the unscaled value (digits with `pad` zeros appended) as base64 of Java's
    /// `BigInteger.toByteArray()`: minimal big-endian two's complement.
    fn write_unscaled_base64(&self, out: &mut Vec<u8>, pad: usize) {
        let n = self.int.len() + self.frac.len() + pad;
        if n <= 38 {
            let mut mag: i128 = 0;
            for d in self.digits(pad) {
                mag = mag * 10 + i128::from(d);
            }
            let bytes = (if self.negative { -mag } else { mag }).to_be_bytes();
            write_base64(out, minimal_twos_complement(&bytes));
            return;
        }
        // Arbitrary precision: base-2^32 limbs, least significant first.
        let mut limbs: Vec<u32> = vec![0];
        for d in self.digits(pad) {
            let mut carry = u64::from(d);
            for limb in &mut limbs {
                let v = u64::from(*limb) * 10 + carry;
                *limb = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                limbs.push(carry as u32);
            }
        }
        let mut bytes = vec![0u8]; // room for the sign bit
        for limb in limbs.iter().rev() {
            bytes.extend_from_slice(&limb.to_be_bytes());
        }
        if self.negative {
            for b in &mut bytes {
                *b = !*b;
            }
            for b in bytes.iter_mut().rev() {
                let (v, overflow) = b.overflowing_add(1);
                *b = v;
                if !overflow {
                    break;
                }
            }
        }
        write_base64(out, minimal_twos_complement(&bytes));
    }

    /// Java's `BigDecimal.toString()` of this value at `scale`.
    fn write_java_string(&self, out: &mut Vec<u8>, scale: usize) {
        let pad = scale - self.frac.len();
        let all: String = self
            .int
            .chars()
            .chain(self.frac.chars())
            .chain(std::iter::repeat_n('0', pad))
            .collect();
        let coeff = all.trim_start_matches('0');
        let coeff = if coeff.is_empty() { "0" } else { coeff };
        if self.negative && coeff != "0" {
            out.push(b'-');
        }
        let adjusted = coeff.len() as i64 - 1 - scale as i64;
        if adjusted >= -6 {
            if scale == 0 {
                out.extend_from_slice(coeff.as_bytes());
            } else if coeff.len() > scale {
                let (i, f) = coeff.split_at(coeff.len() - scale);
                out.extend_from_slice(i.as_bytes());
                out.push(b'.');
                out.extend_from_slice(f.as_bytes());
            } else {
                out.extend_from_slice(b"0.");
                out.extend(std::iter::repeat_n(b'0', scale - coeff.len()));
                out.extend_from_slice(coeff.as_bytes());
            }
        } else {
            let (first, rest) = coeff.split_at(1);
            out.extend_from_slice(first.as_bytes());
            if !rest.is_empty() {
                out.push(b'.');
                out.extend_from_slice(rest.as_bytes());
            }
            out.push(b'E');
            write_i64(out, adjusted);
        }
    }
}

/// The common case of a `Decimal` value: `[-+]digits[.digits]` with at most `scale` fraction digits and
/// at most 18 digits once scaled, written as [`Decimal::write_unscaled_base64`] would. False (nothing
/// written) for anything else, which the general path handles (or rejects).
#[inline]
fn write_small_decimal(out: &mut Vec<u8>, text: &[u8], scale: u32) -> bool {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut v = 0u64;
    let mut n = 0u32;
    let mut frac: Option<u32> = None;
    for &c in digits {
        if c == b'.' && frac.is_none() {
            frac = Some(n);
            continue;
        }
        let d = c.wrapping_sub(b'0');
        if d > 9 || n == 18 {
            return false;
        }
        v = v * 10 + u64::from(d);
        n += 1;
    }
    let frac = frac.map_or(0, |int| n - int);
    if n == 0 || frac > scale || n + (scale - frac) > 18 {
        return false;
    }
    let v = v * 10u64.pow(scale - frac);
    let v = if negative { -(v as i64) } else { v as i64 };
    write_base64_small(out, minimal_twos_complement(&v.to_be_bytes()));
    true
}

/// [`write_base64`] for at most 9 bytes, in one write.
#[inline]
fn write_base64_small(out: &mut Vec<u8>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut buf = [0u8; 14];
    buf[0] = b'"';
    let mut len = 1;
    for chunk in bytes.chunks(3).take(3) {
        let b = |i: usize| chunk.get(i).copied().map_or(0, u32::from);
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        let sextet = |shift: u32| ALPHABET[((n >> shift) & 63) as usize];
        buf[len] = sextet(18);
        buf[len + 1] = sextet(12);
        buf[len + 2] = if chunk.len() > 1 { sextet(6) } else { b'=' };
        buf[len + 3] = if chunk.len() > 2 { sextet(0) } else { b'=' };
        len += 4;
    }
    buf[len] = b'"';
    out.extend_from_slice(&buf[..len + 1]);
}

/// Drops leading bytes that only repeat the sign, keeping at least one byte.
fn minimal_twos_complement(bytes: &[u8]) -> &[u8] {
    let mut i = 0;
    while i + 1 < bytes.len()
        && ((bytes[i] == 0 && bytes[i + 1] & 0x80 == 0)
            || (bytes[i] == 0xff && bytes[i + 1] & 0x80 != 0))
    {
        i += 1;
    }
    &bytes[i..]
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
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

/// Writes PostgreSQL's one-dimensional array text (`{a,"b c",NULL}`) as a JSON array. Returns false (with
/// `out` partly written) for forms it does not handle.
fn write_array(out: &mut Vec<u8>, text: &str, elem: Elem) -> bool {
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
                // pgjdbc reads time array elements as java.sql.Time: whole milliseconds
                Elem::Of(ElemKind(ScalarTag::Time, 0, _)) => {
                    let Some(us) = parse_time(&buf) else {
                        return false;
                    };
                    write_i64(out, us / 1000 * 1000);
                }
                // …and timetz elements as whole seconds
                Elem::Of(ElemKind(ScalarTag::ZonedTime, _, _)) => {
                    let Some(us) = parse_timetz_utc(&buf) else {
                        return false;
                    };
                    out.push(b'"');
                    write_zoned_time(out, us / 1_000_000 * 1_000_000);
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

/// Writes `v` as Java's `Double.toString` (or, with `single`, `Float.toString` of that float) prints
/// it: the shortest digits that read back to the same value, in plain notation for magnitudes in
/// [10⁻³, 10⁷) and as `d.dddE±n` otherwise, always with a fraction digit (`3.0`, `1.0E10`).
pub(crate) fn write_java_float(out: &mut Vec<u8>, v: f64, single: Option<f32>) {
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

/// An `interval` as pgjdbc's `PGInterval` splits PostgreSQL's `postgres`-style text
/// (`1 year 2 mons -3 days +04:05:06.789`): each field keeps its own sign.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PgInterval {
    years: i32,
    months: i32,
    days: i32,
    hours: i32,
    minutes: i32,
    whole_seconds: i32,
    micros: i32,
}

impl PgInterval {
    pub(crate) fn parse(s: &str) -> Option<PgInterval> {
        let mut iv = PgInterval::default();
        let mut tokens = s.split_ascii_whitespace();
        while let Some(token) = tokens.next() {
            if token.contains(':') {
                let (negative, t) = match token.as_bytes()[0] {
                    b'-' => (true, &token[1..]),
                    b'+' => (false, &token[1..]),
                    _ => (false, token),
                };
                let mut parts = t.splitn(3, ':');
                let h: i32 = parts.next()?.parse().ok()?;
                let m: i32 = parts.next()?.parse().ok()?;
                let sec = parts.next()?;
                let (w, f) = sec.split_once('.').unwrap_or((sec, ""));
                if f.len() > 6 || !f.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let w: i32 = w.parse().ok()?;
                let mut micros: i32 = if f.is_empty() { 0 } else { f.parse().ok()? };
                for _ in f.len()..6 {
                    micros *= 10;
                }
                let sign = if negative { -1 } else { 1 };
                iv.hours = sign * h;
                iv.minutes = sign * m;
                iv.whole_seconds = sign * w;
                iv.micros = sign * micros;
                continue;
            }
            let n: i32 = token.parse().ok()?;
            match tokens.next()? {
                "year" | "years" => iv.years = n,
                "mon" | "mons" => iv.months = n,
                "day" | "days" => iv.days = n,
                _ => return None,
            }
        }
        Some(iv)
    }

    /// `PGInterval.getSeconds()`.
    fn seconds(self) -> f64 {
        f64::from(self.whole_seconds) + f64::from(self.micros) / 1e6
    }

    /// `MicroDuration.durationMicros` with a month of 365.25/12 days, in Java's double arithmetic
    /// (and its saturating cast to long).
    pub(crate) fn micro_duration(self) -> i64 {
        const DAYS_PER_MONTH_AVG: f64 = 365.25 / 12.0;
        let months = self.years.wrapping_mul(12).wrapping_add(self.months);
        let days = f64::from(months) * DAYS_PER_MONTH_AVG + f64::from(self.days);
        let seconds = ((days * 24.0 + f64::from(self.hours)) * 60.0 + f64::from(self.minutes))
            * 60.0
            + self.seconds();
        (seconds * 1e6) as i64
    }

    /// `io.debezium.time.Interval.toIsoString`: `P<y>Y<m>M<d>DT<h>H<m>M<s>S`, seconds as a plain
    /// decimal without trailing zeros.
    pub(crate) fn write_iso(self, out: &mut Vec<u8>) {
        for (v, unit) in [(self.years, b'Y'), (self.months, b'M'), (self.days, b'D')] {
            if unit == b'Y' {
                out.push(b'P');
            }
            write_i64(out, i64::from(v));
            out.push(unit);
        }
        out.push(b'T');
        write_i64(out, i64::from(self.hours));
        out.push(b'H');
        write_i64(out, i64::from(self.minutes));
        out.push(b'M');
        if self.whole_seconds < 0 || self.micros < 0 {
            out.push(b'-');
        }
        write_i64(out, i64::from(self.whole_seconds.unsigned_abs()));
        write_fraction_trimmed(out, i64::from(self.micros.unsigned_abs()));
        out.push(b'S');
    }
}

/// A bit string (`1010`) as `io.debezium.data.Bits` bytes: its value, little-endian, without
/// trailing zero bytes (`BitSet.toByteArray`).
fn bits_little_endian(text: &str) -> Option<Vec<u8>> {
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
fn parse_hstore(text: &str) -> Option<Vec<(String, Option<String>)>> {
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

/// Java's `UUID.nameUUIDFromBytes`: the MD5 of the bytes as a version-3 UUID, lower-case text.
fn write_name_uuid(out: &mut Vec<u8>, bytes: &[u8]) {
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
fn write_java_hashmap(out: &mut Vec<u8>, pairs: &[(String, Option<String>)]) {
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

/// The literal of a column DEFAULT as `pg_get_expr(adbin, adrelid)` prints it, when it is a constant
/// (`0`, `'abc'::text`, `(-1)`, `true`); `None` for expressions such as `nextval(…)` or `now()`.
pub(crate) fn default_literal(expr: &str) -> Option<Cow<'_, str>> {
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
        // TODO(issue 4): defaults of the types that are still plain strings.
        Kind::Other => return None,
        _ => Value::String(Cow::Borrowed(lit.as_ref())),
    };
    let mut out = Vec::new();
    kind.write_value(&mut out, &value).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(oid: u32, name: &str) -> Kind {
        Kind::classify(oid, name, TypeInfo::default(), &TypeModes::default())
    }

    fn enc(kind: Kind, v: Value<'_>) -> String {
        let mut out = Vec::new();
        kind.write_value(&mut out, &v).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn dec(kind: Kind, n: &str) -> String {
        enc(kind, Value::Number(n))
    }

    fn s(v: &str) -> Value<'_> {
        Value::String(Cow::Borrowed(v))
    }

    const D12_2: Kind = Kind::Decimal {
        precision: 12,
        scale: 2,
    };

    #[test]
    fn types_are_classified_by_oid_and_typmod() {
        assert_eq!(classify(1700, "numeric(12,2)"), D12_2);
        assert_eq!(classify(1700, "numeric"), Kind::VarDecimal);
        assert_eq!(
            classify(1700, "numeric(5)"),
            Kind::Decimal {
                precision: 5,
                scale: 0
            }
        );
        assert_eq!(
            classify(1184, "timestamp with time zone"),
            Kind::ZonedTimestamp { precision: 6 }
        );
        assert_eq!(
            classify(1184, "timestamp(2) with time zone"),
            Kind::ZonedTimestamp { precision: 2 }
        );
        assert_eq!(
            classify(1114, "timestamp(3) without time zone"),
            Kind::Timestamp { millis: true }
        );
        assert_eq!(
            classify(1114, "timestamp without time zone"),
            Kind::Timestamp { millis: false }
        );
        assert_eq!(classify(1043, "character varying(40)"), Kind::Str(None));
        assert_eq!(classify(700, "real"), Kind::Float32);
    }

    #[test]
    fn decimals_are_big_endian_twos_complement_of_the_unscaled_value() {
        assert_eq!(dec(D12_2, "1234.50"), r#""AeI6""#);
        assert_eq!(dec(D12_2, "1000.00"), r#""AYag""#);
        assert_eq!(dec(D12_2, "0.01"), r#""AQ==""#);
        assert_eq!(dec(D12_2, "-1.00"), r#""nA==""#);
        assert_eq!(dec(D12_2, "0.00"), r#""AA==""#);
        assert_eq!(dec(D12_2, "1500.75"), r#""Ako7""#);
        assert_eq!(dec(D12_2, "-20.00"), r#""+DA=""#);
        // a value printed with fewer fraction digits than the scale is rescaled
        assert_eq!(dec(D12_2, "1234.5"), r#""AeI6""#);
        // 128 needs a leading zero byte so the sign bit stays clear; -128 does not
        let d0 = Kind::Decimal {
            precision: 5,
            scale: 0,
        };
        assert_eq!(dec(d0, "128"), r#""AIA=""#);
        assert_eq!(dec(d0, "-128"), r#""gA==""#);
        assert_eq!(dec(d0, "-129"), r#""/38=""#);
    }

    #[test]
    fn decimals_beyond_128_bits_match_the_small_path_rules() {
        let d10 = Kind::Decimal {
            precision: 30,
            scale: 10,
        };
        assert_eq!(dec(d10, "-0.0000000001"), r#""/w==""#);
        // 2^130 = 1361129467683753853853498429727072845824
        let d0 = Kind::Decimal {
            precision: 50,
            scale: 0,
        };
        assert_eq!(
            dec(d0, "1361129467683753853853498429727072845824"),
            r#""BAAAAAAAAAAAAAAAAAAAAAA=""#
        );
        assert_eq!(
            dec(d0, "-1361129467683753853853498429727072845824"),
            r#""/AAAAAAAAAAAAAAAAAAAAAA=""#
        );
        assert_eq!(dec(d0, "1"), r#""AQ==""#);
    }

    #[test]
    fn unconstrained_numeric_is_a_variable_scale_decimal() {
        assert_eq!(
            dec(Kind::VarDecimal, "123456789012345678901234567890.5"),
            r#"{"scale":1,"value":"D5Uan6OihslPDnZsOQ=="}"#
        );
        assert_eq!(
            dec(Kind::VarDecimal, "0.00000000000000000001"),
            r#"{"scale":20,"value":"AQ=="}"#
        );
        assert_eq!(dec(Kind::VarDecimal, "7"), r#"{"scale":0,"value":"Bw=="}"#);
    }

    #[test]
    fn money_is_a_scale_2_decimal() {
        assert_eq!(enc(Kind::Money, s("$99.99")), r#""Jw8=""#);
        assert_eq!(enc(Kind::Money, s("$12.34")), r#""BNI=""#);
        assert_eq!(
            enc(Kind::Money, s("-$1,000.00")),
            enc(Kind::Money, s("-$1000.00"))
        );
    }

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
        assert_eq!(enc(ms, s("infinity")), "9223372036825200");
        assert_eq!(enc(us, s("-infinity")), "-9223372036832400000");
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
    fn key_decimals_print_like_java_bigdecimal_in_headers() {
        let mut out = Vec::new();
        for n in ["1500.75", "0.01", "-20.00", "0.00"] {
            D12_2
                .write_header_value(&mut out, &Value::Number(n))
                .unwrap();
            out.push(b' ');
        }
        let d10 = Kind::Decimal {
            precision: 30,
            scale: 10,
        };
        d10.write_header_value(&mut out, &Value::Number("0.0000000001"))
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1500.75 0.01 -20.00 0.00 1E-10"
        );
    }

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

    /// What the general decimal path writes (or that it rejects the text).
    fn general_decimal(text: &str, scale: u32) -> Option<Vec<u8>> {
        let d = Decimal::parse(text)?;
        if d.frac.len() > scale as usize {
            return None;
        }
        let mut out = Vec::new();
        d.write_unscaled_base64(&mut out, scale as usize - d.frac.len());
        Some(out)
    }

    #[test]
    fn the_small_decimal_fast_path_agrees_with_the_general_path() {
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "+0",
            "0.00",
            "-0.00",
            "1.25",
            "-1.25",
            "1.2",
            "1.",
            ".5",
            "-.5",
            ".",
            "-",
            "",
            "+",
            "1.2.3",
            "1e5",
            "12a",
            "--1",
            "127",
            "128",
            "-128",
            "-129",
            "255",
            "256",
            "32767",
            "32768",
            "-32768",
            "-32769",
            "999999999999999999",
            "1000000000000000000",
            "-999999999999999999",
            "9223372036854775807",
            "-9223372036854775808",
            "123456789012345678.9",
            "0.000000000000000001",
            "00001.10",
            "1500.75",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 20) as usize + 1;
            let mut t: String = x.to_string().chars().cycle().take(digits).collect();
            if x & 1 == 1 {
                t.insert((x >> 8) as usize % (t.len() + 1), '.');
            }
            if x & 2 == 2 {
                t.insert(0, '-');
            }
            texts.push(t);
        }
        for text in &texts {
            for scale in [0, 1, 2, 3, 5, 10, 17, 18, 19, 30] {
                let mut out = Vec::new();
                let fast = write_small_decimal(&mut out, text.as_bytes(), scale).then_some(out);
                if let Some(fast) = &fast {
                    assert_eq!(
                        Some(fast),
                        general_decimal(text, scale).as_ref(),
                        "{text} {scale}"
                    );
                }
                let mut out = Vec::new();
                let kind = Kind::Decimal {
                    precision: 38,
                    scale,
                };
                let via_kind = kind
                    .write_value(&mut out, &Value::Number(text))
                    .ok()
                    .map(|()| out);
                assert_eq!(via_kind, general_decimal(text, scale), "{text} {scale}");
            }
        }
    }

    #[test]
    fn small_base64_matches_the_engine() {
        let data: Vec<u8> = (0..=255u8).rev().collect();
        for len in 0..=9 {
            for start in 0..64 {
                let bytes = &data[start..start + len];
                let (mut fast, mut engine) = (Vec::new(), Vec::new());
                write_base64_small(&mut fast, bytes);
                write_base64(&mut engine, bytes);
                assert_eq!(fast, engine, "{bytes:?}");
            }
        }
    }

    #[test]
    fn field_schemas_follow_jsonconverter_key_order() {
        let mut out = Vec::new();
        Kind::Decimal {
            precision: 12,
            scale: 2,
        }
        .write_field_schema(&mut out, false, Some(b"\"AA==\""), "balance", None);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"12"},"default":"AA==","field":"balance"}"#
        );
    }

    // Expected values below are what Debezium 3.6.3 wrote for the same texts (differential workload).
    #[test]
    fn floats_print_like_java() {
        assert_eq!(enc(Kind::Float32, Value::Number("1e+10")), "1.0E10");
        assert_eq!(enc(Kind::Float32, Value::Number("3.14159")), "3.14159");
        assert_eq!(enc(Kind::Float64, Value::Number("-2.5e-300")), "-2.5E-300");
        assert_eq!(enc(Kind::Float64, Value::Number("1e-05")), "1.0E-5");
        assert_eq!(enc(Kind::Float64, s("123456789.125")), "1.23456789125E8");
        assert_eq!(enc(Kind::Float64, s("NaN")), r#""NaN""#);
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
        assert_eq!(enc(Kind::Date, s("infinity")), "-2147472692");
        assert_eq!(enc(Kind::Date, s("-infinity")), "-2147472691");
    }

    #[test]
    fn numerics_in_every_decimal_mode() {
        // numeric(5,-2): Debezium reads the scale's 11 bits as 2046
        assert_eq!(
            classify(1700, "numeric(5,-2)"),
            Kind::Decimal {
                precision: 5,
                scale: 2046
            }
        );
        assert_eq!(
            enc(Kind::VarDecimal, s("1.50")),
            r#"{"scale":1,"value":"Dw=="}"#
        );
        assert_eq!(
            enc(Kind::VarDecimal, s("0.000")),
            r#"{"scale":0,"value":"AA=="}"#
        );
        assert_eq!(
            enc(Kind::VarDecimal, s("-100")),
            r#"{"scale":0,"value":"nA=="}"#
        );
        let string = |name| {
            let modes = TypeModes {
                decimal: DecimalMode::String,
                ..TypeModes::default()
            };
            Kind::classify(1700, name, TypeInfo::default(), &modes)
        };
        assert_eq!(enc(string("numeric(10,2)"), s("0")), r#""0.00""#);
        assert_eq!(enc(string("numeric"), s("-0.0100")), r#""-0.0100""#);
        assert_eq!(
            Kind::DecimalString {
                money: true,
                scale: Some(2)
            }
            .fallback()
            .as_ref(),
            br#""0.00""#
        );
        assert_eq!(
            enc(
                Kind::DecimalString {
                    money: true,
                    scale: Some(2)
                },
                s("-$1,234.50")
            ),
            r#""-1234.50""#
        );
        assert_eq!(enc(Kind::MoneyDouble, s("$12.34")), "12.34");
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
        // pgjdbc's java.sql.Time: time elements in whole ms, timetz elements in whole seconds
        assert_eq!(
            enc(of(1183, "time without time zone[]"), s("{23:59:59.999999}")),
            "[86399999000]"
        );
        assert_eq!(
            enc(of(1270, "time with time zone[]"), s("{08:00:00.123456-07}")),
            r#"["15:00:00Z"]"#
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

    #[test]
    fn toast_placeholders_take_the_types_shape() {
        let p = "__debezium_unavailable_value";
        let place = |kind: Kind| {
            let mut out = Vec::new();
            kind.write_placeholder(&mut out, p);
            String::from_utf8(out).unwrap()
        };
        let uuids = classify(2951, "uuid[]");
        // Debezium 3.6.3's UUID.nameUUIDFromBytes of the default placeholder
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
