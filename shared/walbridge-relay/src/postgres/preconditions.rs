//! What must hold before a window is read: the server, the slot, the table filters' names, the
//! advisory lock that fences concurrent invocations.

use tokio_postgres::Client;
use tracing::info;
use walbridge_config::{Plugin, TableFilter, TablePattern};

use super::{ADVISORY_LOCK_CLASS, FAILOVER_SINCE, PgSlot, STANDBY_DECODING_SINCE};

/// Why creating a slot can outlast its timeout, and what to do.
const CREATE_WAITS: &str = "creating a slot waits until the transactions running at that moment \
     have ended, and on a standby until the primary logs its running transactions (every 15 s \
     while it writes WAL; SELECT pg_log_standby_snapshot() on the primary logs them at once): end \
     long-running transactions, or write on the primary, and invoke again";
use crate::error::SlotError;

/// wal2json's `add-tables` for the literal `table.include.list` entries: wal2json compares names
/// exactly, the table filters (as Debezium's) ignore case, so each entry becomes the catalog's
/// spelling of every schema and table it names (an entry naming nothing yet stays as written).
pub(super) async fn resolve_pushdown(
    client: &Client,
    patterns: &[TablePattern],
) -> Result<Vec<String>, SlotError> {
    let error = |source| SlotError::Query {
        action: "resolve table.include.list in the catalog",
        slot: String::new(),
        source,
    };
    let mut names = Vec::new();
    for pattern in patterns {
        let (schema, table) = (pattern.schema.as_str(), pattern.table.as_str());
        let found: Vec<(String, String)> = client
            .query(
                "SELECT DISTINCT CASE WHEN $1 = '*' THEN '*' ELSE n.nspname::text END, \
                   CASE WHEN $2 = '*' THEN '*' ELSE c.relname::text END \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p') \
                   AND ($1 = '*' OR lower(n.nspname) = lower($1)) \
                   AND ($2 = '*' OR lower(c.relname) = lower($2)) ORDER BY 1, 2",
                &[&schema, &table],
            )
            .await
            .map_err(error)?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        if found.is_empty() || (schema == "*" && table == "*") {
            names.push(pattern.to_string());
        }
        for (schema, table) in found {
            if schema == "*" && table == "*" {
                continue;
            }
            names.push(format!("{schema}.{table}"));
        }
    }
    names.dedup();
    Ok(names)
}

/// Refuses a partitioned table the table filters capture while leaving out some of its partitions:
/// logical decoding names each row by its partition, so those rows would never be published. With
/// `via_root` (a pgoutput publication that publishes via the partition root) the other way round:
/// every change is named by its root, so a captured partition is refused.
pub(super) async fn check_partitioned(
    client: &Client,
    tables: &TableFilter,
    via_root: bool,
) -> Result<(), SlotError> {
    if via_root {
        return check_no_partition_captured(client, tables).await;
    }
    let rows = client
        .query(
            "SELECT pn.nspname::text, p.relname::text, ln.nspname::text, l.relname::text \
             FROM pg_class p JOIN pg_namespace pn ON pn.oid = p.relnamespace \
             CROSS JOIN LATERAL pg_partition_tree(p.oid) t \
             JOIN pg_class l ON l.oid = t.relid JOIN pg_namespace ln ON ln.oid = l.relnamespace \
             WHERE p.relkind = 'p' AND NOT p.relispartition AND t.isleaf \
             ORDER BY 1, 2, 3, 4",
            &[],
        )
        .await
        .map_err(|source| SlotError::Query {
            action: "list partitioned tables",
            slot: String::new(),
            source,
        })?;
    let mut missing: Vec<(String, Vec<String>)> = Vec::new();
    for row in &rows {
        let (schema, parent, leaf_schema, leaf): (&str, &str, &str, &str) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if !tables.captures(schema, parent) || tables.captures(leaf_schema, leaf) {
            continue;
        }
        let parent = format!("{schema}.{parent}");
        match missing.last_mut() {
            Some((p, leaves)) if *p == parent => leaves.push(format!("{leaf_schema}.{leaf}")),
            _ => missing.push((parent, vec![format!("{leaf_schema}.{leaf}")])),
        }
    }
    match missing.into_iter().next() {
        None => Ok(()),
        Some((table, partitions)) => Err(SlotError::PartitionsLeftOut {
            table,
            partitions: partitions.join(", "),
        }),
    }
}

/// With `publish.via.partition.root=true`: no partition (nor sub-partitioned table) among the
/// captured tables, since pgoutput publishes its changes as its topmost partitioned root's.
async fn check_no_partition_captured(
    client: &Client,
    tables: &TableFilter,
) -> Result<(), SlotError> {
    let rows = client
        .query(
            "SELECT n.nspname::text, c.relname::text, rn.nspname::text, r.relname::text \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_class r ON r.oid = pg_partition_root(c.oid) \
             JOIN pg_namespace rn ON rn.oid = r.relnamespace \
             WHERE c.relispartition AND c.relkind IN ('r', 'p') \
             ORDER BY 1, 2",
            &[],
        )
        .await
        .map_err(|source| SlotError::Query {
            action: "list partitions",
            slot: String::new(),
            source,
        })?;
    let captured: Vec<String> = rows
        .iter()
        .filter(|row| tables.captures(row.get(0), row.get(1)))
        .map(|row| {
            format!(
                "{}.{} (of {}.{})",
                row.get::<_, &str>(0),
                row.get::<_, &str>(1),
                row.get::<_, &str>(2),
                row.get::<_, &str>(3)
            )
        })
        .collect();
    if captured.is_empty() {
        return Ok(());
    }
    Err(SlotError::PartitionCaptured {
        partitions: crate::validate::shortened(&captured),
    })
}

impl PgSlot {
    /// Checks that logical decoding with the slot's plugin can work on this slot, creating the slot
    /// when `create` is set and it is missing. For pgoutput the publication comes first (made or
    /// kept up to date as `publication.autocreate.mode` says): pgoutput looks it up as of each
    /// change, so a slot must not begin before its publication.
    ///
    /// # Errors
    /// A [`SlotError`] that names the fix: wal_level, output_plugin_libraries, a missing slot, a slot
    /// of another plugin or database, a slot another consumer is reading, a missing or incomplete
    /// publication.
    pub async fn check_preconditions(&self, create: bool) -> Result<(), SlotError> {
        self.check_server().await?;
        let slot = self.check_slot().await;
        if self.plugin == Plugin::Pgoutput
            && matches!(slot, Ok(()) | Err(SlotError::SlotMissing { .. }))
        {
            self.check_publication(true).await?;
        }
        match slot {
            Err(SlotError::SlotMissing { .. }) if create => {
                self.check_creatable()?;
                let plugin = self.plugin.slot_plugin();
                let armed = self.arm_timeout(false).await?;
                let sql = if self.failover {
                    // (name, plugin, temporary, two-phase, failover): PostgreSQL 17+ only
                    "SELECT pg_create_logical_replication_slot($1, $2, false, false, true)"
                } else {
                    "SELECT pg_create_logical_replication_slot($1, $2)"
                };
                self.client
                    .execute(sql, &[&self.slot, &plugin])
                    .await
                    .map_err(self.timed_error(
                        "create the replication slot",
                        armed,
                        CREATE_WAITS,
                    ))?;
                self.disarm_timeout(armed).await?;
                info!(slot = %self.slot, plugin, failover = self.failover,
                    standby = self.in_recovery, "created replication slot");
                Ok(())
            }
            other => other,
        }
    }

    /// Whether the slot `slot.failover` asks for can be created on this server.
    ///
    /// # Errors
    /// [`SlotError::FailoverUnsupported`] below PostgreSQL 17, [`SlotError::FailoverOnStandby`] on
    /// a standby.
    pub fn check_creatable(&self) -> Result<(), SlotError> {
        if !self.failover {
            return Ok(());
        }
        if self.server_version < FAILOVER_SINCE {
            return Err(SlotError::FailoverUnsupported {
                version: self.server_version,
            });
        }
        if self.in_recovery {
            return Err(SlotError::FailoverOnStandby);
        }
        Ok(())
    }

    /// The server side of the preconditions: `wal_level` and, on 15.19+, `output_plugin_libraries`.
    ///
    /// # Errors
    /// [`SlotError::WalLevel`], [`SlotError::StandbyTooOld`], [`SlotError::FailoverUnsupported`],
    /// [`SlotError::PluginNotAllowed`], [`SlotError::Query`].
    pub async fn check_server(&self) -> Result<(), SlotError> {
        let settings = self
            .client
            .query_one(
                "SELECT current_setting('wal_level'), \
                 (SELECT setting FROM pg_settings WHERE name = 'output_plugin_libraries')",
                &[],
            )
            .await
            .map_err(self.query_error("read server settings"))?;
        let wal_level: String = settings.get(0);
        if wal_level != "logical" {
            return Err(SlotError::WalLevel { actual: wal_level });
        }
        if self.in_recovery && self.server_version < STANDBY_DECODING_SINCE {
            return Err(SlotError::StandbyTooOld {
                version: self.server_version,
            });
        }
        // `slot.failover` is refused below 17 whether or not the slot exists yet.
        if self.failover && self.server_version < FAILOVER_SINCE {
            return Err(SlotError::FailoverUnsupported {
                version: self.server_version,
            });
        }
        // PostgreSQL 15.19+ loads only allow-listed output plugins; older servers lack the setting.
        let plugin = self.plugin.slot_plugin();
        if let Some(libraries) = settings.get::<_, Option<String>>(1)
            && !libraries.split(',').any(|l| l.trim() == plugin)
        {
            return Err(SlotError::PluginNotAllowed { libraries, plugin });
        }
        Ok(())
    }

    /// The slot side of the preconditions: it exists, uses `plugin.name`'s plugin, belongs to this database and is
    /// idle. Changes nothing.
    ///
    /// # Errors
    /// [`SlotError::SlotMissing`], [`SlotError::WrongPlugin`], [`SlotError::WrongDatabase`],
    /// [`SlotError::SyncedOnStandby`], [`SlotError::FailoverMismatch`], [`SlotError::SlotInUse`],
    /// [`SlotError::Query`].
    pub async fn check_slot(&self) -> Result<(), SlotError> {
        let found = self
            .client
            .query_opt(
                "SELECT plugin::text, database::text, active, active_pid, \
                   COALESCE((to_jsonb(s)->>'failover')::bool, false), \
                   COALESCE((to_jsonb(s)->>'synced')::bool, false) \
                 FROM pg_replication_slots s WHERE slot_name = $1",
                &[&self.slot],
            )
            .await
            .map_err(self.query_error("look up the replication slot"))?;
        let Some(found) = found else {
            return Err(self.slot_missing());
        };
        let plugin: Option<String> = found.get(0);
        let database: Option<String> = found.get(1);
        let active: bool = found.get(2);
        let active_pid: Option<i32> = found.get(3);
        let expected = self.plugin.slot_plugin();
        if plugin.as_deref() != Some(expected) {
            return Err(SlotError::WrongPlugin {
                slot: self.slot.clone(),
                plugin: plugin.unwrap_or_else(|| "none (a physical slot)".to_owned()),
                expected,
            });
        }
        if database.as_deref() != Some(self.database.as_str()) {
            return Err(SlotError::WrongDatabase {
                slot: self.slot.clone(),
                actual: database.unwrap_or_default(),
                expected: self.database.clone(),
            });
        }
        let (failover, synced): (bool, bool) = (found.get(4), found.get(5));
        // A synchronized slot stays `synced` after a promotion; only a standby refuses to decode it.
        if synced && self.in_recovery {
            return Err(SlotError::SyncedOnStandby {
                slot: self.slot.clone(),
            });
        }
        if failover != self.failover {
            return Err(SlotError::FailoverMismatch {
                slot: self.slot.clone(),
                actual: failover,
                expected: self.failover,
            });
        }
        if active {
            return Err(SlotError::SlotInUse {
                slot: self.slot.clone(),
                pid: active_pid.unwrap_or(0),
            });
        }
        Ok(())
    }

    /// Whether this connection is encrypted (`pg_stat_ssl`).
    ///
    /// # Errors
    /// [`SlotError::Query`] when the query fails.
    pub async fn uses_tls(&self) -> Result<bool, SlotError> {
        self.client
            .query_one(
                "SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
                &[],
            )
            .await
            .map(|row| row.get(0))
            .map_err(self.query_error("read the connection's TLS state"))
    }

    /// Takes the session-level advisory lock of this slot without waiting; `false` when another
    /// session holds it. The lock ends with the connection.
    ///
    /// # Errors
    /// [`SlotError::Query`] when the query fails.
    pub async fn try_lock(&self) -> Result<bool, SlotError> {
        self.client
            .query_one(
                "SELECT pg_try_advisory_lock($1, hashtext($2))",
                &[&ADVISORY_LOCK_CLASS, &self.slot],
            )
            .await
            .map(|row| row.get(0))
            .map_err(self.query_error("take the advisory lock"))
    }

    /// Whether a consumer reads the slot right now.
    ///
    /// # Errors
    /// [`SlotError::SlotMissing`] when there is no such slot; [`SlotError::Query`].
    pub async fn is_active(&self) -> Result<bool, SlotError> {
        self.client
            .query_opt(
                "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
                &[&self.slot],
            )
            .await
            .map_err(self.query_error("read the slot"))?
            .map(|row| row.get(0))
            .ok_or_else(|| self.slot_missing())
    }
}
