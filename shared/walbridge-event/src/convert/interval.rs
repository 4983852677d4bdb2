//! PostgreSQL `interval` text as pgjdbc's `PGInterval` reads it, and Debezium's two renderings of it:
//! `MicroDuration` (µs) and the ISO-8601 `Interval` string.

use crate::json::write_i64;
use crate::pgtime::write_fraction_trimmed;

/// An `interval` as pgjdbc's `PGInterval` splits PostgreSQL's `postgres`-style text
/// (`1 year 2 mons -3 days +04:05:06.789`): each field keeps its own sign.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct PgInterval {
    years: i32,
    months: i32,
    days: i32,
    hours: i32,
    minutes: i32,
    whole_seconds: i32,
    micros: i32,
}

impl PgInterval {
    pub(super) fn parse(s: &str) -> Option<PgInterval> {
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
    pub(super) fn micro_duration(self) -> i64 {
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
    pub(super) fn write_iso(self, out: &mut Vec<u8>) {
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
