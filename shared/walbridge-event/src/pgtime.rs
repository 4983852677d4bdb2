//! PostgreSQL's date and time output (ISO `DateStyle`, as wal2json and the catalog print it) read into
//! epoch counts, and the ISO-8601 text Debezium's `java.time` formatters print written back. Both the
//! wal2json decoder (commit timestamps) and the value converter (date/time columns) use it, so neither
//! depends on the other for time.

use crate::Error;
use crate::json::write_i64;

/// A timestamp as PostgreSQL prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PgTime {
    /// µs since 1970-01-01 00:00:00 UTC (or wall clock taken as UTC for `timestamp`).
    Finite(i64),
    PosInf,
    NegInf,
}

/// Parses the commit `timestamp` wal2json writes (`timestamptz_to_str`, ISO, session time zone).
pub(crate) fn parse_commit_timestamp(s: &str) -> Result<i64, Error> {
    match parse_timestamp(s, true) {
        Some(PgTime::Finite(us)) => Ok(us),
        _ => Err(Error::InvalidField {
            field: "timestamp",
            reason: "not an ISO timestamp with time zone",
        }),
    }
}

/// Parses ISO `DateStyle` output: `YYYY-MM-DD HH:MM:SS[.ffffff][±HH[:MM[:SS]]][ BC]` or `±infinity`.
/// With `with_tz` the offset is required and the result is UTC.
#[inline]
pub(crate) fn parse_timestamp(s: &str, with_tz: bool) -> Option<PgTime> {
    match parse_timestamp_fast(s.as_bytes(), with_tz) {
        Some(us) => Some(PgTime::Finite(us)),
        None => parse_timestamp_general(s, with_tz),
    }
}

/// `10^(6 - n)`: scales an `n`-digit fraction to microseconds.
const FRACTION_SCALE: [i64; 7] = [1_000_000, 100_000, 10_000, 1000, 100, 10, 1];

/// The common form only, `YYYY-MM-DD HH:MM:SS[.f{1,6}]` plus `±HH[:MM]` with `with_tz`, nothing after;
/// `None` for anything else, including values out of range, which [`parse_timestamp_general`] decides.
#[inline]
fn parse_timestamp_fast(b: &[u8], with_tz: bool) -> Option<i64> {
    // "YYYY-MM-" and "DD HH:MM" as words, then ":SS": separators compared, digits checked eight at a time
    // (simdjson's `is_made_of_eight_digits_fast`, with '0' put in the separators' places).
    const SEP1: u64 = u64::from_le_bytes(*b"\0\0\0\0-\0\0-");
    const SEP2: u64 = u64::from_le_bytes(*b"\0\0 \0\0:\0\0");
    const MASK1: u64 = u64::from_le_bytes([0, 0, 0, 0, 0xff, 0, 0, 0xff]);
    const MASK2: u64 = u64::from_le_bytes([0, 0, 0xff, 0, 0, 0xff, 0, 0]);
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    let w1 = u64::from_le_bytes(b.get(..8)?.try_into().ok()?);
    let w2 = u64::from_le_bytes(b.get(8..16)?.try_into().ok()?);
    let tail = b.get(16..19)?;
    if w1 & MASK1 != SEP1 || w2 & MASK2 != SEP2 || tail[0] != b':' {
        return None;
    }
    let x1 = (w1 & !MASK1) | (ZEROS & MASK1);
    let x2 = (w2 & !MASK2) | (ZEROS & MASK2);
    let eight_digits = |x: u64| {
        let hi = 0xF0F0_F0F0_F0F0_F0F0;
        ((x & hi) | ((x.wrapping_add(0x0606_0606_0606_0606) & hi) >> 4)) == 0x3333_3333_3333_3333
    };
    let (s0, s1) = (tail[1].wrapping_sub(b'0'), tail[2].wrapping_sub(b'0'));
    if !eight_digits(x1) || !eight_digits(x2) || s0 > 9 || s1 > 9 {
        return None;
    }
    // every byte is '0'..='9' now: no borrows
    let d1 = (x1 - ZEROS).to_le_bytes();
    let d2 = (x2 - ZEROS).to_le_bytes();
    let two = |a: u8, b: u8| i64::from(a) * 10 + i64::from(b);
    let year = two(d1[0], d1[1]) * 100 + two(d1[2], d1[3]);
    let month = two(d1[5], d1[6]);
    let day = two(d2[0], d2[1]);
    let hour = two(d2[3], d2[4]);
    let min = two(d2[6], d2[7]);
    let sec = two(s0, s1);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 24 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while let Some(&c @ b'0'..=b'9') = b.get(i) {
            frac = frac * 10 + i64::from(c - b'0');
            i += 1;
        }
        let n = i - start;
        if n == 0 || n > 6 {
            return None;
        }
        frac *= FRACTION_SCALE[n];
    }
    let mut offset = 0i64;
    if with_tz {
        let sign = match b.get(i)? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let two = |j: usize| -> Option<i64> {
            match b.get(j..j + 2)? {
                [a @ b'0'..=b'9', c @ b'0'..=b'9'] => Some(i64::from((a - b'0') * 10 + (c - b'0'))),
                _ => None,
            }
        };
        let mut secs = two(i + 1)? * 3600;
        i += 3;
        if b.get(i) == Some(&b':') {
            secs += two(i + 1)? * 60;
            i += 3;
        }
        offset = sign * secs;
    }
    if i != b.len() {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset;
    Some(secs * 1_000_000 + frac)
}

/// [`parse_timestamp`] for every form PostgreSQL prints (5+ digit years, BC, seconds in the offset, …).
pub(crate) fn parse_timestamp_general(s: &str, with_tz: bool) -> Option<PgTime> {
    match s {
        "infinity" => return Some(PgTime::PosInf),
        "-infinity" => return Some(PgTime::NegInf),
        _ => {}
    }
    let (s, bc) = match s.strip_suffix(" BC") {
        Some(s) => (s, true),
        None => (s, false),
    };
    let b = s.as_bytes();
    let mut c = Cursor { b, i: 0 };
    let days = c.date(bc)?;
    c.byte(b' ')?;
    let h = c.fixed(2)?;
    c.byte(b':')?;
    let m = c.fixed(2)?;
    c.byte(b':')?;
    let sec = c.fixed(2)?;
    let mut frac = 0i64;
    if c.peek() == Some(b'.') {
        c.i += 1;
        let start = c.i;
        while let Some(d @ b'0'..=b'9') = c.peek() {
            if c.i - start < 6 {
                frac = frac * 10 + i64::from(d - b'0');
            }
            c.i += 1;
        }
        let n = c.i - start;
        if n == 0 {
            return None;
        }
        for _ in n..6 {
            frac *= 10;
        }
    }
    let mut offset = 0i64;
    if with_tz {
        let sign = match c.peek()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        c.i += 1;
        let mut secs = c.fixed(2)? * 3600;
        if c.peek() == Some(b':') {
            c.i += 1;
            secs += c.fixed(2)? * 60;
            if c.peek() == Some(b':') {
                c.i += 1;
                secs += c.fixed(2)?;
            }
        }
        offset = sign * secs;
    }
    if c.i != b.len() || h > 24 || m > 59 || sec > 60 {
        return None;
    }
    let secs = days * 86_400 + h * 3600 + m * 60 + sec - offset;
    Some(PgTime::Finite(secs * 1_000_000 + frac))
}

/// Parses a `date` (`YYYY-MM-DD[ BC]`) into days since 1970-01-01.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let (s, bc) = match s.strip_suffix(" BC") {
        Some(s) => (s, true),
        None => (s, false),
    };
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let days = c.date(bc)?;
    (c.i == s.len()).then_some(days)
}

/// `HH:MM:SS[.f{1,6}]` (hours up to 24) as µs since midnight.
fn parse_time_prefix(b: &[u8]) -> Option<(i64, usize)> {
    let mut c = Cursor { b, i: 0 };
    let h = c.fixed(2)?;
    c.byte(b':')?;
    let m = c.fixed(2)?;
    c.byte(b':')?;
    let s = c.fixed(2)?;
    let mut frac = 0i64;
    if c.peek() == Some(b'.') {
        c.i += 1;
        let start = c.i;
        while let Some(d @ b'0'..=b'9') = c.peek() {
            frac = frac * 10 + i64::from(d - b'0');
            c.i += 1;
        }
        let n = c.i - start;
        if n == 0 || n > 6 {
            return None;
        }
        frac *= FRACTION_SCALE[n];
    }
    if h > 24 || m > 59 || s > 60 {
        return None;
    }
    Some(((h * 3600 + m * 60 + s) * 1_000_000 + frac, c.i))
}

/// A `time` text as µs since midnight (`24:00:00` is a whole day, as in `java.time.Duration`).
pub(crate) fn parse_time(s: &str) -> Option<i64> {
    let (us, end) = parse_time_prefix(s.as_bytes())?;
    (end == s.len()).then_some(us)
}

/// A `timetz` text (`08:00:00.12-07:30`) as µs since midnight UTC.
pub(crate) fn parse_timetz_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let (us, end) = parse_time_prefix(b)?;
    let mut c = Cursor { b, i: end };
    let sign = match c.peek()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    c.i += 1;
    let mut secs = c.fixed(2)? * 3600;
    if c.peek() == Some(b':') {
        c.i += 1;
        secs += c.fixed(2)? * 60;
        if c.peek() == Some(b':') {
            c.i += 1;
            secs += c.fixed(2)?;
        }
    }
    if c.i != b.len() {
        return None;
    }
    Some((us - sign * secs * 1_000_000).rem_euclid(86_400_000_000))
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn byte(&mut self, want: u8) -> Option<()> {
        (self.peek()? == want).then(|| self.i += 1)
    }

    fn fixed(&mut self, n: usize) -> Option<i64> {
        let digits = self.b.get(self.i..self.i + n)?;
        let mut v = 0i64;
        for &d in digits {
            if !d.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(d - b'0');
        }
        self.i += n;
        Some(v)
    }

    /// `YYYY-MM-DD` (year of 4 or more digits) as days since the epoch.
    fn date(&mut self, bc: bool) -> Option<i64> {
        let start = self.i;
        let mut year = 0i64;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            year = year.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
            self.i += 1;
        }
        if self.i - start < 4 {
            return None;
        }
        self.byte(b'-')?;
        let month = self.fixed(2)?;
        self.byte(b'-')?;
        let day = self.fixed(2)?;
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        // 1 BC is ISO year 0.
        let year = if bc { 1 - year } else { year };
        Some(days_from_civil(year, month, day))
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `"00"` … `"99"`.
static TWO_DIGITS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// Writes `us` (µs since the epoch) as Debezium's ZonedTimestamp in UTC: `2024-01-15T10:30:00.123456Z`
/// with exactly `precision` fraction digits (none for 0), years as `java.time` prints them.
pub(crate) fn write_iso_utc(out: &mut Vec<u8>, us: i64, precision: u32) {
    write_iso_utc_with(out, us, precision, false)
}

/// [`write_iso_utc`], as a JSON string when `quoted`.
#[inline]
pub(crate) fn write_iso_utc_with(out: &mut Vec<u8>, us: i64, precision: u32, quoted: bool) {
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    if !(0..=9999).contains(&y) {
        let quote: &[u8] = if quoted { b"\"" } else { b"" };
        out.extend_from_slice(quote);
        write_iso_utc_general(out, (y, mo, d), sod, frac, precision);
        out.extend_from_slice(quote);
        return;
    }
    let two = |v: i64| TWO_DIGITS[v as usize];
    // "YYYY-MM-DDTHH:MM:SS.ffffffZ" between optional quotes
    let mut buf = [0u8; 29];
    let q = usize::from(quoted);
    buf[0] = b'"';
    let [a, b] = two(y / 100);
    let [c, e] = two(y % 100);
    let [mo0, mo1] = two(mo);
    let [d0, d1] = two(d);
    let [h0, h1] = two(sod / 3600);
    let [m0, m1] = two(sod / 60 % 60);
    let [s0, s1] = two(sod % 60);
    buf[q..q + 19].copy_from_slice(&[
        a, b, c, e, b'-', mo0, mo1, b'-', d0, d1, b'T', h0, h1, b':', m0, m1, b':', s0, s1,
    ]);
    let mut len = q + 19;
    if precision > 0 {
        let [f0, f1] = two(frac / 10_000);
        let [f2, f3] = two(frac / 100 % 100);
        let [f4, f5] = two(frac % 100);
        buf[len..len + 7].copy_from_slice(&[b'.', f0, f1, f2, f3, f4, f5]);
        len += 1 + precision.min(6) as usize;
    }
    buf[len] = b'Z';
    buf[len + 1] = b'"';
    out.extend_from_slice(&buf[..len + 1 + q]);
}

/// Years outside 0000–9999.
#[cold]
fn write_iso_utc_general(
    out: &mut Vec<u8>,
    (y, mo, d): (i64, i64, i64),
    sod: i64,
    frac: i64,
    precision: u32,
) {
    let two = |out: &mut Vec<u8>, v: i64| {
        out.push(b'0' + (v / 10) as u8);
        out.push(b'0' + (v % 10) as u8);
    };
    if y > 9999 {
        out.push(b'+');
        write_i64(out, y);
    } else {
        if y < 0 {
            out.push(b'-');
        }
        let a = y.abs();
        if a > 9999 {
            write_i64(out, a);
        } else {
            two(out, a / 100);
            two(out, a % 100);
        }
    }
    out.push(b'-');
    two(out, mo);
    out.push(b'-');
    two(out, d);
    out.push(b'T');
    two(out, sod / 3600);
    out.push(b':');
    two(out, sod / 60 % 60);
    out.push(b':');
    two(out, sod % 60);
    if precision > 0 {
        out.push(b'.');
        let digits = [
            frac / 100_000,
            frac / 10_000 % 10,
            frac / 1000 % 10,
            frac / 100 % 10,
            frac / 10 % 10,
            frac % 10,
        ];
        for d in &digits[..precision.min(6) as usize] {
            out.push(b'0' + *d as u8);
        }
    }
    out.push(b'Z');
}

/// µs since midnight as `DateTimeFormatter.ISO_OFFSET_TIME` prints a UTC `OffsetTime`: seconds always,
/// the fraction only as long as needed, then `Z`.
pub(crate) fn write_zoned_time(out: &mut Vec<u8>, us: i64) {
    let secs = us / 1_000_000;
    let frac = us % 1_000_000;
    for (i, v) in [secs / 3600, secs / 60 % 60, secs % 60]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            out.push(b':');
        }
        out.extend_from_slice(&TWO_DIGITS[v as usize]);
    }
    write_fraction_trimmed(out, frac);
    out.push(b'Z');
}

/// `.ffffff` without trailing zeros; nothing for zero.
pub(crate) fn write_fraction_trimmed(out: &mut Vec<u8>, micros: i64) {
    if micros == 0 {
        return;
    }
    let mut digits = [0u8; 6];
    let mut v = micros;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let len = 6 - digits.iter().rev().take_while(|&&d| d == b'0').count();
    out.push(b'.');
    out.extend_from_slice(&digits[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_timestamps_parse_to_utc_micros() {
        assert_eq!(
            parse_commit_timestamp("2026-11-26 15:55:18.631132+00").unwrap(),
            1_795_708_518_631_132
        );
        assert_eq!(
            parse_commit_timestamp("2026-11-26 15:55:18.66268+00").unwrap(),
            1_795_708_518_662_680
        );
        assert!(parse_commit_timestamp("2026-11-26 15:55:18").is_err());
    }

    /// Timestamps in every form the fast path reads or must hand over, against the general parser.
    #[test]
    fn the_timestamp_fast_path_agrees_with_the_general_parser() {
        let mut n = 0;
        for date in [
            "2024-01-15",
            "1970-01-01",
            "1969-12-31",
            "0001-01-01",
            "9999-12-31",
            "2024-02-29",
            "2023-02-31",
            "2024-00-10",
            "2024-13-10",
            "2024-01-00",
            "2024-01-32",
            "12345-01-01",
            "024-01-15",
            "2024-1-15",
            "2024/01/15",
            "2a24-01-15",
            "2024-01-1x",
        ] {
            for time in [
                "10:30:00", "00:00:00", "23:59:59", "24:00:00", "23:59:60", "25:00:00", "10:60:00",
                "10:30:61", "10:30", "1:30:00", "10:3a:00", "10-30:00",
            ] {
                for frac in [
                    "", ".5", ".123456", ".000001", ".1234567", ".", ".x", ".12a",
                ] {
                    for tz in [
                        "",
                        "+00",
                        "-05",
                        "+05:30",
                        "-09:30",
                        "+05:30:15",
                        "+5",
                        "+05:",
                        "+05:3",
                        "Z",
                        "+14",
                        "-12",
                        " BC",
                        "+00 BC",
                        "+0a",
                    ] {
                        let text = format!("{date} {time}{frac}{tz}");
                        for with_tz in [true, false] {
                            assert_eq!(
                                parse_timestamp(&text, with_tz),
                                parse_timestamp_general(&text, with_tz),
                                "{text:?} with_tz={with_tz}"
                            );
                            n += 1;
                        }
                    }
                }
            }
        }
        for text in ["infinity", "-infinity", "", "2024-01-15 10:30:00+00\0"] {
            assert_eq!(
                parse_timestamp(text, true),
                parse_timestamp_general(text, true)
            );
        }
        assert!(n > 30_000);
        assert_eq!(
            parse_timestamp("2024-01-15 10:30:00+00", true),
            Some(PgTime::Finite(1_705_314_600_000_000))
        );
    }

    #[test]
    fn iso_timestamps_match_the_general_writer_for_every_year() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut values = vec![
            0,
            -1,
            1,
            i64::MIN / 2,
            i64::MAX / 2,
            -62_167_219_200_000_000,
        ];
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // years about -300000 to 300000, and near the 0000/9999 edges
            values.push((x as i64) % 10_000_000_000_000_000);
            values.push(253_402_300_799_000_000 + (x % 4_000_000_000) as i64 - 2_000_000_000);
            values.push(-62_167_219_200_000_000 + (x % 4_000_000_000) as i64 - 2_000_000_000);
        }
        for us in values {
            for precision in [0, 1, 3, 6, 7] {
                let secs = us.div_euclid(1_000_000);
                let mut general = Vec::new();
                write_iso_utc_general(
                    &mut general,
                    civil_from_days(secs.div_euclid(86_400)),
                    secs.rem_euclid(86_400),
                    us.rem_euclid(1_000_000),
                    precision,
                );
                let mut fast = Vec::new();
                write_iso_utc(&mut fast, us, precision);
                assert_eq!(fast, general, "{us} {precision}");
                let mut quoted = Vec::new();
                write_iso_utc_with(&mut quoted, us, precision, true);
                assert_eq!(quoted, [&b"\""[..], &general, b"\""].concat());
            }
        }
    }
}
