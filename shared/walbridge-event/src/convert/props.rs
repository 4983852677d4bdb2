//! Property tests of the numeric and temporal encodings, each checked against an independent
//! formula: Decimal bytes against num-bigint's two's complement (`BigInteger.toByteArray`'s rule),
//! dates and timestamps against a year-by-year day count, durations against exact integer
//! arithmetic (within MicroDuration's double rounding), Java's float printing against its documented shape and round trip.

use std::borrow::Cow;
use std::str::FromStr;

use base64::Engine;
use num_bigint::BigInt;
use proptest::prelude::*;

use super::Kind;
use super::interval::PgInterval;
use super::java::write_java_float;
use crate::modes::{BinaryMode, IntervalMode};
use crate::wal2json::Value;

fn enc(kind: Kind, text: &str) -> String {
    let mut out = Vec::new();
    kind.write_value(&mut out, &Value::String(Cow::Borrowed(text)))
        .unwrap_or_else(|r| panic!("{text}: {r}"));
    String::from_utf8(out).unwrap()
}

/// The bytes of a JSON base64 string.
fn unbase64(json: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(json.trim_matches('"'))
        .unwrap()
}

/// Java's `BigInteger.toByteArray()` of a decimal integer text.
fn java_bytes(digits: &str, negative: bool) -> Vec<u8> {
    let v = BigInt::from_str(digits).unwrap();
    (if negative { -v } else { v }).to_signed_bytes_be()
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days since 1970-01-01, counted year by year and month by month (years 1..=9999).
fn naive_days(y: i64, m: i64, d: i64) -> i64 {
    let mut days = 0i64;
    if y >= 1970 {
        for year in 1970..y {
            days += if is_leap(year) { 366 } else { 365 };
        }
    } else {
        for year in y..1970 {
            days -= if is_leap(year) { 366 } else { 365 };
        }
    }
    let lengths = [
        31,
        if is_leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    days + lengths[..(m - 1) as usize].iter().sum::<i64>() + d - 1
}

fn month_length(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

prop_compose! {
    /// A valid proleptic Gregorian date of years 1..=9999 (leap days included).
    fn date()(y in 1i64..=9999, m in 1i64..=12, d in 1i64..=31) -> (i64, i64, i64) {
        (y, m, d.min(month_length(y, m)))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decimals_are_java_biginteger_bytes_of_the_unscaled_value(
        int in "[0-9]{1,40}",
        frac in "[0-9]{0,30}",
        extra in 0u32..20,
        negative: bool,
    ) {
        let scale = frac.len() as u32 + extra;
        let text = format!("{}{int}{}{frac}", if negative { "-" } else { "" }, if frac.is_empty() { "" } else { "." });
        let unscaled = format!("{int}{frac}{}", "0".repeat(extra as usize));
        let kind = Kind::Decimal { precision: 1000, scale };
        prop_assert_eq!(unbase64(&enc(kind, &text)), java_bytes(&unscaled, negative));
    }

    #[test]
    fn variable_scale_decimals_strip_trailing_zeros(
        int in "[0-9]{1,30}",
        frac in "[0-9]{1,30}",
        negative: bool,
    ) {
        let text = format!("{}{int}.{frac}", if negative { "-" } else { "" });
        let kept = frac.trim_end_matches('0');
        let json: serde_json::Value = serde_json::from_str(&enc(Kind::VarDecimal, &text)).unwrap();
        prop_assert_eq!(json["scale"].as_i64().unwrap(), kept.len() as i64);
        let value = unbase64(json["value"].as_str().unwrap());
        prop_assert_eq!(value, java_bytes(&format!("{int}{kept}"), negative));
    }

    #[test]
    fn dates_are_days_since_the_epoch((y, m, d) in date()) {
        let text = format!("{y:04}-{m:02}-{d:02}");
        prop_assert_eq!(enc(Kind::Date, &text), naive_days(y, m, d).to_string());
    }

    #[test]
    fn timestamps_are_wall_clock_micros_and_floor_millis(
        (y, m, d) in date(),
        secs in 0i64..86_400,
        micros in 0i64..1_000_000,
    ) {
        let text = format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{micros:06}",
            secs / 3600, secs / 60 % 60, secs % 60
        );
        let us = (naive_days(y, m, d) * 86_400 + secs) * 1_000_000 + micros;
        prop_assert_eq!(enc(Kind::Timestamp { millis: false }, &text), us.to_string());
        prop_assert_eq!(enc(Kind::Timestamp { millis: true }, &text), us.div_euclid(1000).to_string());
    }

    #[test]
    fn timestamptz_is_utc_with_the_column_precision(
        (y, m, d) in date(),
        secs in 0i64..86_400,
        micros in 0i64..1_000_000,
        offset_min in -15i64 * 60..=15 * 60,
        precision in 0u32..=6,
    ) {
        let sign = if offset_min < 0 { '-' } else { '+' };
        let text = format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{micros:06}{sign}{:02}:{:02}",
            secs / 3600, secs / 60 % 60, secs % 60, offset_min.abs() / 60, offset_min.abs() % 60
        );
        let utc = naive_days(y, m, d) * 86_400 + secs - offset_min * 60;
        // the UTC date, found by walking from the local one
        let (mut yy, mut mm, mut dd) = (y, m, d);
        let mut day_secs = utc - naive_days(y, m, d) * 86_400;
        while day_secs < 0 {
            day_secs += 86_400;
            dd -= 1;
            if dd == 0 { mm -= 1; if mm == 0 { mm = 12; yy -= 1; } dd = month_length(yy, mm); }
        }
        while day_secs >= 86_400 {
            day_secs -= 86_400;
            dd += 1;
            if dd > month_length(yy, mm) { dd = 1; mm += 1; if mm == 13 { mm = 1; yy += 1; } }
        }
        prop_assume!((1..=9999).contains(&yy));
        let fraction = format!("{micros:06}");
        let expected = format!(
            "\"{yy:04}-{mm:02}-{dd:02}T{:02}:{:02}:{:02}{}{}Z\"",
            day_secs / 3600, day_secs / 60 % 60, day_secs % 60,
            if precision > 0 { "." } else { "" },
            &fraction[..precision as usize],
        );
        prop_assert_eq!(enc(Kind::ZonedTimestamp { precision }, &text), expected);
    }

    #[test]
    fn times_are_micros_or_millis_of_the_day(us in 0i64..86_400_000_000) {
        let secs = us / 1_000_000;
        let text = format!("{:02}:{:02}:{:02}.{:06}", secs / 3600, secs / 60 % 60, secs % 60, us % 1_000_000);
        prop_assert_eq!(enc(Kind::Time { millis: false }, &text), us.to_string());
        prop_assert_eq!(enc(Kind::Time { millis: true }, &text), (us / 1000).to_string());
    }

    #[test]
    fn timetz_is_shifted_to_utc(us in 0i64..86_400_000_000, offset_min in -14i64 * 60..=14 * 60) {
        let secs = us / 1_000_000;
        let sign = if offset_min < 0 { '-' } else { '+' };
        let text = format!(
            "{:02}:{:02}:{:02}.{:06}{sign}{:02}:{:02}",
            secs / 3600, secs / 60 % 60, secs % 60, us % 1_000_000,
            offset_min.abs() / 60, offset_min.abs() % 60
        );
        let utc = (us - offset_min * 60_000_000).rem_euclid(86_400_000_000);
        let s = utc / 1_000_000;
        let frac = format!("{:06}", utc % 1_000_000);
        let frac = frac.trim_end_matches('0');
        let expected = format!(
            "\"{:02}:{:02}:{:02}{}{frac}Z\"",
            s / 3600, s / 60 % 60, s % 60, if frac.is_empty() { "" } else { "." }
        );
        prop_assert_eq!(enc(Kind::ZonedTime, &text), expected);
    }

    #[test]
    fn intervals_without_months_are_micros_in_javas_double_arithmetic(
        days in -100_000i32..100_000,
        us in -86_399_999_999i64..86_399_999_999,
        whole_seconds: bool,
    ) {
        // PostgreSQL prints the time part with one sign: "-1 days -00:00:01"
        let us = if whole_seconds { us / 1_000_000 * 1_000_000 } else { us };
        let a = us.unsigned_abs();
        let secs = a / 1_000_000;
        let text = format!(
            "{days} days {}{:02}:{:02}:{:02}.{:06}",
            if us < 0 { "-" } else { "+" },
            secs / 3600, secs / 60 % 60, secs % 60, a % 1_000_000
        );
        let exact = i64::from(days) * 86_400_000_000 + us;
        let got = PgInterval::parse(&text).unwrap().micro_duration();
        // MicroDuration computes in doubles: exact for whole seconds, else off by at most 1 µs
        if whole_seconds {
            prop_assert_eq!(got, exact);
        } else {
            prop_assert!((got - exact).abs() <= 1, "{} vs {}", got, exact);
        }
        prop_assert_eq!(enc(Kind::Interval(IntervalMode::Numeric), &text), got.to_string());
    }

    #[test]
    fn doubles_print_like_java_and_read_back(bits: u64) {
        let v = f64::from_bits(bits);
        prop_assume!(v.is_finite() && v != 0.0);
        let mut out = Vec::new();
        write_java_float(&mut out, v, None);
        let text = String::from_utf8(out).unwrap();
        // the same value, in Java's shape: scientific outside [1e-3, 1e7), a digit after the point
        prop_assert_eq!(text.parse::<f64>().unwrap(), v);
        let scientific = !(1e-3..1e7).contains(&v.abs());
        prop_assert_eq!(text.contains('E'), scientific);
        let mantissa = text.split('E').next().unwrap();
        let (int, frac) = mantissa.trim_start_matches('-').split_once('.').unwrap();
        prop_assert!(!frac.is_empty());
        if scientific {
            prop_assert!(int.len() == 1 && int != "0");
        }
        // shortest: no more significant digits than Rust's shortest round-trip form
        let shortest = format!("{:e}", v.abs());
        let want = shortest.split('e').next().unwrap().replace('.', "").len();
        let have = format!("{int}{frac}").trim_start_matches('0').trim_end_matches('0').len().max(1);
        prop_assert!(have <= want.max(1));
    }

    #[test]
    fn bytea_modes_encode_the_same_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        prop_assert_eq!(&unbase64(&enc(Kind::Bytes(BinaryMode::Bytes), &hex)), &bytes);
        let url = enc(Kind::Bytes(BinaryMode::Base64UrlSafe), &hex);
        let decoded = base64::engine::general_purpose::URL_SAFE.decode(url.trim_matches('"')).unwrap();
        prop_assert_eq!(decoded, bytes);
        prop_assert_eq!(enc(Kind::Bytes(BinaryMode::Hex), &hex.to_uppercase()), format!("\"{hex}\""));
    }
}

#[test]
fn java_double_and_float_vectors() {
    let double = |v: f64| {
        let mut out = Vec::new();
        write_java_float(&mut out, v, None);
        String::from_utf8(out).unwrap()
    };
    let float = |v: f32| {
        let mut out = Vec::new();
        write_java_float(&mut out, f64::from(v), Some(v));
        String::from_utf8(out).unwrap()
    };
    // Double.toString / Float.toString as the JDK documents and prints them
    assert_eq!(double(1.0), "1.0");
    assert_eq!(double(-2.5e-300), "-2.5E-300");
    assert_eq!(double(1.23456789e7), "1.23456789E7");
    assert_eq!(double(1.0e-4), "1.0E-4");
    assert_eq!(double(0.001), "0.001");
    assert_eq!(double(9_999_999.0), "9999999.0");
    assert_eq!(double(10_000_000.0), "1.0E7");
    assert_eq!(double(123_456_789.125), "1.23456789125E8");
    assert_eq!(double(-0.0), "-0.0");
    assert_eq!(double(f64::NAN), "\"NaN\"");
    assert_eq!(double(f64::NEG_INFINITY), "\"-Infinity\"");
    assert_eq!(float(1.23457), "1.23457");
    assert_eq!(float(1e10), "1.0E10");
    assert_eq!(float(0.1), "0.1");
    assert_eq!(float(-0.25), "-0.25");
}
