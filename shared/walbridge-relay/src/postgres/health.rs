//! The slot's WAL, as the watchdog reports it.

use std::time::Duration;

use super::{PgSlot, WAL_WRITTEN};
use crate::error::SlotError;

/// How the slot's WAL stands: what the watchdog reports every invocation before anything else can
/// fail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SlotHealth {
    /// `confirmed_flush_lsn`.
    pub confirmed_flush_lsn: String,
    /// `pg_current_wal_lsn()`; on a hot standby `pg_last_wal_replay_lsn()`.
    pub current_wal_lsn: String,
    /// WAL written but not yet confirmed by the slot.
    pub lag_bytes: u64,
    /// `wal_status`: `reserved`, `extended`, `unreserved` (WAL past `max_slot_wal_keep_size`, about
    /// to be removed) or `lost` (removed: the slot is invalid).
    pub wal_status: Option<String>,
    /// `safe_wal_size`: bytes of WAL that can still be written before the slot is in danger of
    /// losing WAL; `None` when `max_slot_wal_keep_size` is unbounded.
    pub safe_wal_size_bytes: Option<i64>,
    /// Why PostgreSQL invalidated the slot (PostgreSQL 17+, or `conflicting` on 16).
    pub invalidation_reason: Option<String>,
    /// Since when no consumer has used the slot (PostgreSQL 17+).
    pub inactive_since: Option<String>,
    /// WAL between the slot's restart point and its position, which every peek and advance decodes
    /// again: large in the middle of a burst the slot has not passed a running-transactions record
    /// of, and growing for as long as a transaction open since before it runs (the restart point
    /// cannot pass its start) — each window then takes longer.
    pub restart_lag_bytes: Option<u64>,
}

impl SlotHealth {
    /// `WalStatus` as a metric: 0 reserved, 1 extended, 2 unreserved, 3 lost.
    pub fn wal_status_code(&self) -> Option<u8> {
        match self.wal_status.as_deref()? {
            "reserved" => Some(0),
            "extended" => Some(1),
            "unreserved" => Some(2),
            "lost" => Some(3),
            _ => None,
        }
    }

    /// The reason the slot can no longer be read, if it cannot.
    pub fn invalid(&self) -> Option<String> {
        self.invalidation_reason.clone().or_else(|| {
            (self.wal_status.as_deref() == Some("lost"))
                .then(|| "the WAL it needed was removed (wal_status lost)".to_owned())
        })
    }
}

impl PgSlot {
    /// The slot's health (the columns of `pg_replication_slots` this server has).
    ///
    /// # Errors
    /// [`SlotError::SlotMissing`] when there is no such slot, [`SlotError::Query`].
    pub async fn health(&self) -> Result<SlotHealth, SlotError> {
        let row = self
            .client
            .query_opt(
                &format!(
                    "SELECT confirmed_flush_lsn::text, {WAL_WRITTEN}::text, \
                       ({WAL_WRITTEN} - COALESCE(confirmed_flush_lsn, {WAL_WRITTEN}))::int8, \
                       wal_status, safe_wal_size, \
                       COALESCE(to_jsonb(s)->>'invalidation_reason', \
                         CASE WHEN (to_jsonb(s)->>'conflicting')::bool \
                           THEN 'conflict with recovery' END), \
                       to_jsonb(s)->>'inactive_since', \
                       (confirmed_flush_lsn - restart_lsn)::int8 \
                     FROM pg_replication_slots s WHERE slot_name = $1"
                ),
                &[&self.slot],
            )
            .await
            .map_err(self.query_error("read the slot's health"))?
            .ok_or_else(|| self.slot_missing())?;
        Ok(SlotHealth {
            confirmed_flush_lsn: row.get::<_, Option<String>>(0).unwrap_or_default(),
            current_wal_lsn: row.get(1),
            lag_bytes: row.get::<_, i64>(2).max(0) as u64,
            wal_status: row.get(3),
            safe_wal_size_bytes: row.get(4),
            invalidation_reason: row.get(5),
            inactive_since: row.get(6),
            restart_lag_bytes: row
                .get::<_, Option<i64>>(7)
                .map(|bytes| bytes.max(0) as u64),
        })
    }
}

/// How long the server lets a slot sit unused before it invalidates it
/// (`idle_replication_slot_timeout`, PostgreSQL 18+; checked at checkpoints). A function's slot is
/// unused between two invocations, so the schedule must wake it well within this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleSlotTimeout(pub Duration);

impl IdleSlotTimeout {
    /// What to warn about when a schedule of `period` (if known) leaves the slot unused too long:
    /// `None` when the schedule is at most half the timeout, so that one missed wake-up is survived.
    pub fn warning(self, period: Option<Duration>) -> Option<String> {
        let timeout = self.0.as_secs();
        match period {
            None => Some(format!(
                "the server invalidates a replication slot left unused for {timeout} s \
                 (idle_replication_slot_timeout), and walbridge does not know its schedule \
                 (schedule.expression is not a rate): keep the schedule's period below {} s, or \
                 raise the timeout, or the slot is lost between invocations",
                timeout / 2
            )),
            Some(period) if period.as_secs().saturating_mul(2) > timeout => Some(format!(
                "the schedule wakes walbridge every {} s but the server invalidates a replication \
                 slot left unused for {timeout} s (idle_replication_slot_timeout){}: schedule it at \
                 least every {} s, or raise the timeout to at least {} s (or 0, off)",
                period.as_secs(),
                if period.as_secs() >= timeout {
                    ", so the slot is lost between two invocations"
                } else {
                    ", so one missed or failed invocation loses the slot"
                },
                timeout / 2,
                period.as_secs().saturating_mul(2)
            )),
            Some(_) => None,
        }
    }
}

impl PgSlot {
    /// The server's `idle_replication_slot_timeout`, when it has one and it is on.
    ///
    /// # Errors
    /// [`SlotError::Query`].
    pub async fn idle_slot_timeout(&self) -> Result<Option<IdleSlotTimeout>, SlotError> {
        // absent before PostgreSQL 18; the unit is the server's to say (seconds in 18)
        let row = self
            .client
            .query_opt(
                "SELECT setting::int8, unit FROM pg_settings \
                 WHERE name = 'idle_replication_slot_timeout'",
                &[],
            )
            .await
            .map_err(self.query_error("read idle_replication_slot_timeout"))?;
        Ok(row.and_then(|row| {
            let (value, unit): (i64, Option<String>) = (row.get(0), row.get(1));
            let secs = match unit.as_deref() {
                Some("ms") => value / 1000,
                Some("min") => value.saturating_mul(60),
                Some("h") => value.saturating_mul(3_600),
                Some("d") => value.saturating_mul(86_400),
                _ => value,
            };
            (secs > 0).then(|| IdleSlotTimeout(Duration::from_secs(secs as u64)))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idle_timeout_warns_only_when_the_schedule_is_not_well_within_it() {
        let timeout = IdleSlotTimeout(Duration::from_secs(600));
        assert_eq!(timeout.warning(Some(Duration::from_secs(60))), None);
        assert_eq!(timeout.warning(Some(Duration::from_secs(300))), None);
        let missed = timeout.warning(Some(Duration::from_secs(360))).unwrap();
        assert!(
            missed.contains("one missed or failed invocation") && missed.contains("every 300 s"),
            "{missed}"
        );
        let lost = timeout.warning(Some(Duration::from_secs(3_600))).unwrap();
        assert!(lost.contains("lost between two invocations"), "{lost}");
        let unknown = timeout.warning(None).unwrap();
        assert!(
            unknown.contains("schedule.expression") && unknown.contains("below 300 s"),
            "{unknown}"
        );
    }
}
