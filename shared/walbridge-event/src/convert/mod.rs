//! PostgreSQL column values (wal2json text) to Debezium's Connect types, as `PostgresValueConverter`
//! converts them (defaults: `decimal.handling.mode=precise`, `time.precision.mode=adaptive`,
//! `binary.handling.mode=bytes`). This file classifies a column into a [`Kind`]; [`Kind`]'s writers are
//! in `value` (payload JSON) and `connect_schema` (schema JSON), and each type family's arithmetic and
//! printing in a module of its own.

mod array;
mod connect_schema;
mod decimal;
mod default;
mod geometry;
mod interval;
mod java;

pub use java::write_java_float;
#[cfg(test)]
mod props;
mod text;
mod value;

pub(crate) use default::default_json;
pub(crate) use geometry::Geo;
pub(crate) use value::write_binary;

use crate::modes::{
    BinaryMode, DecimalMode, HstoreMode, IntervalMode, TimePrecisionMode, TypeModes,
};

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
    /// Arrays Debezium 3.7.1 has no schema for (money, interval, varbit, xml, name, point,
    /// refcursor): it leaves such columns out of the event, and so does the encoder.
    Omitted,
    /// `point`, `box`, `lseg`, `path`, `polygon`, `circle`, `line`: Debezium 3.7's geometry structs.
    Geo(Geo),
    /// Not mapped: the wal2json text as a plain string (citext, ranges, network types…).
    /// Multi-dimensional arrays and arrays of geometric types end here too, although Debezium gives
    /// them shapes of their own: those are not reproduced yet.
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
    /// Enum arrays: Debezium 3.7.1 declares `Enum` items (not optional) and writes the value null.
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
            600..=604 | 628 | 718 => Geo::of_oid(type_oid).map_or(Kind::Other, Kind::Geo),
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

/// What the type-family tests share: a column classified under the default modes, and a value written
/// as its kind writes it.
#[cfg(test)]
mod test_support {
    use std::borrow::Cow;

    use super::{Kind, TypeInfo};
    use crate::modes::TypeModes;
    use crate::wal2json::Value;

    pub(super) fn classify(oid: u32, name: &str) -> Kind {
        Kind::classify(oid, name, TypeInfo::default(), &TypeModes::default())
    }

    pub(super) fn enc(kind: Kind, v: Value<'_>) -> String {
        let mut out = Vec::new();
        kind.write_value(&mut out, &v).unwrap();
        String::from_utf8(out).unwrap()
    }

    pub(super) fn dec(kind: Kind, n: &str) -> String {
        enc(kind, Value::Number(n))
    }

    pub(super) fn s(v: &str) -> Value<'_> {
        Value::String(Cow::Borrowed(v))
    }

    pub(super) const D12_2: Kind = Kind::Decimal {
        precision: 12,
        scale: 2,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::test_support::*;

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
}
