//! How much WAL one window decodes.
//!
//! Every peek decodes again from the slot's `restart_lsn`, not from its position: the restart
//! point only moves where the WAL holds a running-transactions record (the bgwriter writes one
//! every 15 s, a checkpoint one), so on a backlog written in a burst it stays where the burst began,
//! and every advance reads that stretch again too. A window sized by a fixed number of changes
//! then costs more with each window: a backlog of B changes read W at a time decodes about B²/2W.
//! So a window spans at least a share of what it must decode again ([`PREFIX_SHARE`]: decoding
//! a change again without writing it is many times cheaper than relaying it), and, once its rate is
//! known, as much WAL as the connection relayed in [`WINDOW_TIME`] — but never more than the
//! server decodes in a quarter of the time left, so a window that begins in time is also decoded in
//! time (its rows are cut at the deadline if they cannot all be published). A window decoded ahead
//! spans at most [`AHEAD_GROWTH`] times the window relayed while it is decoded: sized by the rate
//! alone, a backlog's third window spanned four times the second, and the relay sat waiting for
//! most of its decoding.

use std::time::{Duration, Instant};

/// WAL bytes the first window of a connection spans, before its rates are known.
const FIRST_WINDOW_WAL: u64 = 8 << 20;

/// The least WAL bytes a window spans, so that a slow measurement cannot shrink windows to nothing.
const MIN_WINDOW_WAL: u64 = 1 << 20;

/// About how long one window takes, from its peek to its last record acknowledged: long beside a
/// window's fixed cost (a few queries, a checkpoint, an advance), short beside an invocation, and
/// what a polling invocation's changes wait at most behind a backlog.
const WINDOW_TIME: Duration = Duration::from_secs(2);

/// A window spans at least 1/8 of the WAL between the slot's restart point and its position.
const PREFIX_SHARE: u64 = 8;

/// A window decoded ahead spans at most twice the window relayed meanwhile: decoding it then takes
/// about as long as that relaying, and the windows of a backlog still grow to [`WINDOW_TIME`]'s
/// size within a few windows.
const AHEAD_GROWTH: u64 = 2;

/// A window that decodes less WAL than this measures its set-up more than its rates.
const MEASURED_FROM: u64 = 1 << 20;

/// The rates the windows of one connection measured, and the open window's measurement.
#[derive(Debug, Default)]
pub(super) struct WindowSizing {
    /// WAL bytes per second the server decoded (peek to first rows) in the last window measured…
    decode_rate: Option<f64>,
    /// …and relayed (peek to last rows: decoded, read and, fetch by fetch, published).
    relay_rate: Option<f64>,
    /// The open window: when its peek began, how many bytes of WAL it decodes (from the restart
    /// point) and spans (from the slot's position), and whether its first rows arrived.
    open: Option<OpenWindow>,
}

#[derive(Debug)]
struct OpenWindow {
    began: Instant,
    decodes: u64,
    spans: u64,
    decoded: bool,
}

impl WindowSizing {
    /// WAL bytes the next window spans past the slot's position, when `prefix` bytes lie between
    /// the slot's restart point and its position (decoded again by every peek) and `left` is the
    /// time before the deadline (none: no deadline); `ahead_of`: the span of the window relayed
    /// while this one is decoded ahead (none: a window peeked when it is read).
    pub(super) fn span(&self, prefix: u64, left: Option<Duration>, ahead_of: Option<u64>) -> u64 {
        let (Some(decode_rate), Some(relay_rate)) = (self.decode_rate, self.relay_rate) else {
            return FIRST_WINDOW_WAL;
        };
        let bytes = |rate: f64, time: Duration| (rate * time.as_secs_f64()) as u64;
        let growth = ahead_of.map_or(u64::MAX, |span| span.saturating_mul(AHEAD_GROWTH));
        let wanted = bytes(relay_rate, WINDOW_TIME)
            .min(growth)
            .max(prefix / PREFIX_SHARE);
        let fits = left.map_or(u64::MAX, |left| {
            bytes(decode_rate, left / 4).saturating_sub(prefix)
        });
        wanted.min(fits).max(MIN_WINDOW_WAL)
    }

    /// A window that decodes `decodes` bytes of WAL from the restart point, `spans` of them past
    /// the slot's position, is opened.
    pub(super) fn opened(&mut self, decodes: u64, spans: u64) {
        self.open = Some(OpenWindow {
            began: Instant::now(),
            decodes,
            spans,
            decoded: false,
        });
    }

    /// A window that spans `spans` bytes of WAL past the slot's position is opened, decoded ahead
    /// ([`Self::decoded`]): what it measures from now on is the relaying alone.
    pub(super) fn opened_decoded(&mut self, spans: u64) {
        self.open = Some(OpenWindow {
            began: Instant::now(),
            decodes: 0,
            spans,
            decoded: true,
        });
    }

    /// A window decoded ahead decoded `decodes` bytes of WAL in `took`.
    pub(super) fn decoded(&mut self, decodes: u64, took: Duration) {
        if decodes >= MEASURED_FROM {
            self.decode_rate = Some(decodes as f64 / took.as_secs_f64().max(1e-3));
        }
    }

    /// A fetch of the open window returned: the first one after the server decoded it all, the
    /// last (`drained`) once its rows before were published.
    pub(super) fn fetched(&mut self, drained: bool) {
        let Some(open) = self.open.as_mut() else {
            return;
        };
        let rate = |bytes: u64| bytes as f64 / open.began.elapsed().as_secs_f64().max(1e-3);
        if !open.decoded {
            open.decoded = true;
            if open.decodes >= MEASURED_FROM {
                self.decode_rate = Some(rate(open.decodes));
            }
        }
        if drained {
            if open.spans >= MEASURED_FROM {
                self.relay_rate = Some(rate(open.spans));
            }
            self.open = None;
        }
    }

    /// The open window was closed before its end: what it measured of relaying is not its rate.
    pub(super) fn closed(&mut self) {
        self.open = None;
    }

    #[cfg(test)]
    fn with_rates(decode_rate: f64, relay_rate: f64) -> Self {
        Self {
            decode_rate: Some(decode_rate),
            relay_rate: Some(relay_rate),
            open: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1 << 20;

    /// Decoded at 100 MB/s, relayed at 10 MB/s.
    fn measured() -> WindowSizing {
        WindowSizing::with_rates(100.0 * MB as f64, 10.0 * MB as f64)
    }

    #[test]
    fn the_first_window_spans_a_fixed_stretch() {
        let sizing = WindowSizing::default();
        assert_eq!(sizing.span(0, None, None), FIRST_WINDOW_WAL);
        assert_eq!(
            sizing.span(1 << 40, Some(Duration::ZERO), None),
            FIRST_WINDOW_WAL
        );
    }

    #[test]
    fn a_window_relays_for_about_the_target_time() {
        assert_eq!(measured().span(0, None, None), 20 * MB);
        assert_eq!(
            measured().span(0, Some(Duration::from_secs(300)), None),
            20 * MB
        );
    }

    #[test]
    fn a_window_spans_a_share_of_what_it_decodes_again() {
        assert_eq!(measured().span(80 * MB, None, None), 20 * MB);
        assert_eq!(measured().span(800 * MB, None, None), 100 * MB);
    }

    #[test]
    fn a_window_decoded_ahead_spans_at_most_twice_the_one_relayed_meanwhile() {
        assert_eq!(measured().span(0, None, Some(4 * MB)), 8 * MB);
        assert_eq!(measured().span(0, None, Some(40 * MB)), 20 * MB);
        // the share of what it decodes again still holds
        assert_eq!(measured().span(800 * MB, None, Some(4 * MB)), 100 * MB);
        // as does the time left
        assert_eq!(
            measured().span(40 * MB, Some(Duration::from_secs(2)), Some(40 * MB)),
            10 * MB
        );
    }

    #[test]
    fn a_window_is_decoded_in_a_quarter_of_the_time_left() {
        // 2 s left: half a second of decoding, 50 MB in all
        assert_eq!(
            measured().span(0, Some(Duration::from_secs(2)), None),
            20 * MB
        );
        assert_eq!(
            measured().span(40 * MB, Some(Duration::from_secs(2)), None),
            10 * MB
        );
        // the prefix alone takes longer: the least window, to move on at all
        assert_eq!(
            measured().span(500 * MB, Some(Duration::from_secs(2)), None),
            MIN_WINDOW_WAL
        );
    }

    #[test]
    fn small_windows_do_not_measure_the_rates() {
        let mut sizing = WindowSizing::default();
        sizing.opened(MEASURED_FROM - 1, MEASURED_FROM - 1);
        sizing.fetched(true);
        assert!(sizing.decode_rate.is_none() && sizing.relay_rate.is_none());
        sizing.opened(64 * MB, 32 * MB);
        sizing.fetched(false);
        assert!(sizing.decode_rate.is_some() && sizing.relay_rate.is_none());
        sizing.fetched(true);
        assert!(sizing.relay_rate.is_some());
        sizing.opened(64 * MB, 32 * MB);
        sizing.closed();
        sizing.fetched(true);
    }

    #[test]
    fn a_window_decoded_ahead_measures_its_decoding_apart_from_its_relaying() {
        let mut sizing = WindowSizing::default();
        sizing.decoded(100 * MB, Duration::from_secs(1));
        assert_eq!(sizing.decode_rate, Some(100.0 * MB as f64));
        sizing.opened_decoded(32 * MB);
        sizing.fetched(false);
        assert_eq!(
            sizing.decode_rate,
            Some(100.0 * MB as f64),
            "its first rows were read when it was decoded"
        );
        sizing.fetched(true);
        assert!(sizing.relay_rate.is_some());
    }
}
