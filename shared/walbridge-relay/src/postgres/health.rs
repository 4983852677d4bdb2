//! The slot's WAL, as the watchdog reports it.

use super::PgSlot;
use crate::error::SlotError;

/// How the slot's WAL stands: what the watchdog reports every invocation before anything else can
/// fail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SlotHealth {
    /// `confirmed_flush_lsn`.
    pub confirmed_flush_lsn: String,
    /// `pg_current_wal_lsn()`.
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
                "SELECT confirmed_flush_lsn::text, pg_current_wal_lsn()::text, \
                   (pg_current_wal_lsn() - COALESCE(confirmed_flush_lsn, pg_current_wal_lsn()))::int8, \
                   wal_status, safe_wal_size, \
                   COALESCE(to_jsonb(s)->>'invalidation_reason', \
                     CASE WHEN (to_jsonb(s)->>'conflicting')::bool THEN 'conflict with recovery' END), \
                   to_jsonb(s)->>'inactive_since' \
                 FROM pg_replication_slots s WHERE slot_name = $1",
                &[&self.slot],
            )
            .await
            .map_err(self.query_error("read the slot's health"))?
            .ok_or_else(|| SlotError::SlotMissing {
                slot: self.slot.clone(),
                database: self.database.clone(),
            })?;
        Ok(SlotHealth {
            confirmed_flush_lsn: row.get::<_, Option<String>>(0).unwrap_or_default(),
            current_wal_lsn: row.get(1),
            lag_bytes: row.get::<_, i64>(2).max(0) as u64,
            wal_status: row.get(3),
            safe_wal_size_bytes: row.get(4),
            invalidation_reason: row.get(5),
            inactive_since: row.get(6),
        })
    }
}
