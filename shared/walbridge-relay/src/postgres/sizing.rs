//! How much WAL one window decodes.
//!
//! Every peek decodes again from the slot's `restart_lsn`, not from its position: the restart
//! point only moves where the WAL holds a running-transactions record (the bgwriter writes one
//! every 15 s, a checkpoint one), so on a backlog written in a burst it stays where the burst began,
//! and every advance reads that stretch again too. A window sized by a fixed number of changes
//! then costs more with each window: a backlog of B changes read W at a time decodes about B²/2W.
//! So a window decodes at least as much new WAL as it must read again (the re-reading at most
//! doubles the work, whatever the backlog), and, once the server's decoding rate is known, as much
//! as it decodes in [`WINDOW_DECODE_TIME`] — but never more than it can decode in a quarter of the
//! time left, so a window that begins in time also ends in time.

use std::time::{Duration, Instant};

/// WAL bytes the first window of a connection spans, before its decoding rate is known: a few
/// hundred milliseconds of decoding on a small server.
const FIRST_WINDOW_WAL: u64 = 16 << 20;

/// The least WAL bytes a window spans, so that a slow measurement cannot shrink windows to nothing.
const MIN_WINDOW_WAL: u64 = 1 << 20;

/// About how long the server decodes one window before its first row is sent: long beside a
/// window's fixed cost (a few queries, a checkpoint, an advance), short beside an invocation.
const WINDOW_DECODE_TIME: Duration = Duration::from_secs(2);

/// A window that decodes less WAL than this measures its set-up more than the decoding rate.
const MEASURED_FROM: u64 = 1 << 20;

/// The decoding rate the windows of one connection measured, and the open window's measurement.
#[derive(Debug, Default)]
pub(super) struct WindowSizing {
    /// WAL bytes per second the server decoded in the last window measured.
    rate: Option<f64>,
    /// The open window: when its decoding began and how many bytes of WAL it decodes.
    decoding: Option<(Instant, u64)>,
}

impl WindowSizing {
    /// WAL bytes the next window spans past the slot's position, when `prefix` bytes lie between
    /// the slot's restart point and its position (decoded again by every peek) and `left` is the
    /// time before the deadline (none: no deadline).
    pub(super) fn span(&self, prefix: u64, left: Option<Duration>) -> u64 {
        let Some(rate) = self.rate else {
            return FIRST_WINDOW_WAL;
        };
        let bytes_in = |time: Duration| (rate * time.as_secs_f64()) as u64;
        let quarter = left.map_or(Duration::MAX, |left| left / 4);
        let wanted = bytes_in(WINDOW_DECODE_TIME.min(quarter))
            .saturating_sub(prefix)
            .max(prefix);
        let fits = bytes_in(quarter).saturating_sub(prefix);
        wanted.min(fits).max(MIN_WINDOW_WAL)
    }

    /// A window that decodes `bytes` of WAL (from the restart point to its upper bound) is opened.
    pub(super) fn opened(&mut self, bytes: u64) {
        self.decoding = Some((Instant::now(), bytes));
    }

    /// The open window's first rows arrived: the server has decoded all of it.
    pub(super) fn decoded(&mut self) {
        if let Some((began, bytes)) = self.decoding.take()
            && bytes >= MEASURED_FROM
        {
            let seconds = began.elapsed().as_secs_f64().max(1e-3);
            self.rate = Some(bytes as f64 / seconds);
        }
    }

    #[cfg(test)]
    fn with_rate(rate: f64) -> Self {
        Self {
            rate: Some(rate),
            decoding: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1 << 20;

    #[test]
    fn the_first_window_spans_a_fixed_stretch() {
        let sizing = WindowSizing::default();
        assert_eq!(sizing.span(0, None), FIRST_WINDOW_WAL);
        assert_eq!(sizing.span(1 << 40, Some(Duration::ZERO)), FIRST_WINDOW_WAL);
    }

    #[test]
    fn a_window_decodes_for_about_the_target_time() {
        // 50 MB/s: two seconds are 100 MB
        let sizing = WindowSizing::with_rate(50.0 * MB as f64);
        assert_eq!(sizing.span(0, None), 100 * MB);
        assert_eq!(sizing.span(30 * MB, None), 70 * MB);
        assert_eq!(sizing.span(0, Some(Duration::from_secs(300))), 100 * MB);
    }

    #[test]
    fn a_window_reads_at_least_what_it_decodes_again() {
        let sizing = WindowSizing::with_rate(50.0 * MB as f64);
        assert_eq!(sizing.span(80 * MB, None), 80 * MB);
        assert_eq!(sizing.span(500 * MB, None), 500 * MB);
    }

    #[test]
    fn a_window_fits_in_a_quarter_of_the_time_left() {
        let sizing = WindowSizing::with_rate(50.0 * MB as f64);
        // 2 s left: half a second of decoding, 25 MB in all
        assert_eq!(sizing.span(0, Some(Duration::from_secs(2))), 25 * MB);
        assert_eq!(sizing.span(10 * MB, Some(Duration::from_secs(2))), 15 * MB);
        // the prefix alone takes longer: the least window, to move on at all
        assert_eq!(
            sizing.span(500 * MB, Some(Duration::from_secs(2))),
            MIN_WINDOW_WAL
        );
    }

    #[test]
    fn small_windows_do_not_measure_the_rate() {
        let mut sizing = WindowSizing::default();
        sizing.opened(MEASURED_FROM - 1);
        sizing.decoded();
        assert!(sizing.rate.is_none());
        sizing.opened(64 * MB);
        sizing.decoded();
        assert!(sizing.rate.is_some());
        sizing.decoded();
    }
}
