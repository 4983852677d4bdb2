//! Debezium's value-representation modes (`decimal.handling.mode`, `time.precision.mode`,
//! `binary.handling.mode`, `interval.handling.mode`, `hstore.handling.mode`): their property names
//! and accepted spellings, which walbridge-config's keys take from here. The default property values
//! are declared with those keys; a test there checks they parse to these types' `Default`.

/// A connector property with a fixed set of values, parsed as Debezium's `EnumeratedValue`s are:
/// trimmed and case-insensitive.
pub trait Mode: Sized + Copy + 'static {
    /// The Debezium property name.
    const KEY: &'static str;
    /// Every accepted spelling, in Debezium's documentation order.
    const VALUES: &'static [(&'static str, Self)];

    /// The mode named `text`, if any.
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::VALUES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text))
            .map(|(_, mode)| *mode)
    }

    /// The accepted values, comma-separated (for error messages).
    fn allowed() -> String {
        Self::VALUES
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `decimal.handling.mode` for `numeric`, `decimal` and `money`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum DecimalMode {
    /// `precise` (default): Connect `Decimal` bytes, or `VariableScaleDecimal` without a typmod.
    #[default]
    Precise,
    /// `double`: a Connect `double` (`BigDecimal.doubleValue()`).
    Double,
    /// `string`: `BigDecimal.toPlainString()`.
    String,
}

impl Mode for DecimalMode {
    const KEY: &'static str = "decimal.handling.mode";
    const VALUES: &'static [(&'static str, Self)] = &[
        ("precise", DecimalMode::Precise),
        ("double", DecimalMode::Double),
        ("string", DecimalMode::String),
    ];
}

/// `time.precision.mode` for `date`, `time` and `timestamp` (PostgreSQL's default is `adaptive`;
/// `timetz`/`timestamptz` are ISO strings in every mode).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TimePrecisionMode {
    /// `adaptive` (default): `io.debezium.time.*` in ms for precision ≤ 3, µs above.
    #[default]
    Adaptive,
    /// `adaptive_time_microseconds`: as `adaptive`, but `time` is always `MicroTime`.
    AdaptiveTimeMicroseconds,
    /// `connect`: Kafka Connect's `Date`, `Time`, `Timestamp` (ms).
    Connect,
}

impl Mode for TimePrecisionMode {
    const KEY: &'static str = "time.precision.mode";
    const VALUES: &'static [(&'static str, Self)] = &[
        ("adaptive", TimePrecisionMode::Adaptive),
        (
            "adaptive_time_microseconds",
            TimePrecisionMode::AdaptiveTimeMicroseconds,
        ),
        ("connect", TimePrecisionMode::Connect),
    ];
}

/// `binary.handling.mode` for `bytea`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum BinaryMode {
    /// `bytes` (default): Connect bytes, which JsonConverter writes as base64.
    #[default]
    Bytes,
    /// `base64`: a string, standard alphabet with padding.
    Base64,
    /// `base64-url-safe`: a string, URL-safe alphabet with padding.
    Base64UrlSafe,
    /// `hex`: a string of lower-case hex digits.
    Hex,
}

impl Mode for BinaryMode {
    const KEY: &'static str = "binary.handling.mode";
    const VALUES: &'static [(&'static str, Self)] = &[
        ("bytes", BinaryMode::Bytes),
        ("base64", BinaryMode::Base64),
        ("base64-url-safe", BinaryMode::Base64UrlSafe),
        ("hex", BinaryMode::Hex),
    ];
}

/// `interval.handling.mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum IntervalMode {
    /// `numeric` (default): `io.debezium.time.MicroDuration`, µs with a month of 365.25/12 days.
    #[default]
    Numeric,
    /// `string`: `io.debezium.time.Interval`, `P1Y2M3DT4H5M6.78S`.
    String,
}

impl Mode for IntervalMode {
    const KEY: &'static str = "interval.handling.mode";
    const VALUES: &'static [(&'static str, Self)] = &[
        ("numeric", IntervalMode::Numeric),
        ("string", IntervalMode::String),
    ];
}

/// `hstore.handling.mode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum HstoreMode {
    /// `json` (default): `io.debezium.data.Json` text of an object.
    #[default]
    Json,
    /// `map`: a Connect map of strings to optional strings.
    Map,
}

impl Mode for HstoreMode {
    const KEY: &'static str = "hstore.handling.mode";
    const VALUES: &'static [(&'static str, Self)] =
        &[("json", HstoreMode::Json), ("map", HstoreMode::Map)];
}

/// All representation modes together, as the encoder needs them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TypeModes {
    /// `decimal.handling.mode`.
    pub decimal: DecimalMode,
    /// `time.precision.mode`.
    pub time: TimePrecisionMode,
    /// `binary.handling.mode`.
    pub binary: BinaryMode,
    /// `interval.handling.mode`.
    pub interval: IntervalMode,
    /// `hstore.handling.mode`.
    pub hstore: HstoreMode,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_like_debezium_enumerated_values() {
        assert_eq!(DecimalMode::parse(" Double "), Some(DecimalMode::Double));
        assert_eq!(
            BinaryMode::parse("BASE64-URL-SAFE"),
            Some(BinaryMode::Base64UrlSafe)
        );
        assert_eq!(TimePrecisionMode::parse("isostring"), None);
        assert_eq!(
            TimePrecisionMode::allowed(),
            "adaptive, adaptive_time_microseconds, connect"
        );
        assert_eq!(HstoreMode::parse("map"), Some(HstoreMode::Map));
        assert_eq!(IntervalMode::parse("string"), Some(IntervalMode::String));
    }
}
