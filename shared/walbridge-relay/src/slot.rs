//! The PostgreSQL side: one connection per invocation, the preconditions checked with errors that name
//! the fix, an advisory lock that fences concurrent invocations, and the slot read in windows through a
//! server-side cursor over `pg_logical_slot_peek_changes`, so memory stays bounded however large a
//! transaction is.
//!
//! Every user-supplied value (slot name, table list, schema and table names) is passed as a query
//! parameter, never spliced into SQL.

use secrecy::ExposeSecret;
use tokio::task::JoinHandle;
use tokio_postgres::types::PgLsn;
use tokio_postgres::{Client, Connection, NoTls, SimpleQueryMessage, Socket};
use tracing::{info, warn};
use walbridge_config::{DatabaseConfig, SlotConfig, SslMode, TableFilter, TablePattern};
use walbridge_event::{ColumnSchema, Lsn, ReplicaIdentity, TableSchema};

use crate::error::SlotError;
use crate::snapshot::{CapturedTable, ChunkRead, XidSnapshot, chunk_query, quote_ident};
use crate::source::{ChangeSource, RowBatch, Server, SlotPosition};
use crate::tls::{Verify, client_config};

/// The wal2json options of every peek (format-version 2, one JSON object per row).
const WAL2JSON_OPTIONS: &str = "'format-version', '2', 'include-xids', '1', 'include-timestamp', '1', \
     'include-lsn', '1', 'include-pk', '1', 'include-transaction', '1', 'include-type-oids', '1', \
     'include-not-null', '1'";

/// Session settings that make value texts deterministic (the same as pgjdbc's, hence Debezium's):
/// each setting, and what `current_setting` must then say (`DateStyle` keeps the database's field
/// order, which ISO output does not use). `lc_monetary` decides how `money` is printed.
const SESSION_SETTINGS: [(&str, &str); 7] = [
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "3"),
    ("bytea_output", "hex"),
    ("standard_conforming_strings", "on"),
    ("lc_monetary", "C"),
];

/// First half of the advisory lock key: "WALB". The second half is `hashtext(slot name)`.
const ADVISORY_LOCK_CLASS: i32 = 0x5741_4C42;

const CURSOR: &str = "walbridge_window";

/// About how many bytes of rows one fetch of a window holds (besides `window.fetch.rows`): rows of
/// 100 KB fetched 2 000 at a time would need hundreds of MB, more than a small function has.
const FETCH_BYTES: usize = 8 << 20;

/// Rows the first fetch asks for, before the rows' width is known.
const FIRST_FETCH_ROWS: usize = 256;

/// About how many bytes of rows one snapshot chunk holds (besides its row limit): the chunk stays in
/// memory until the stream has passed it.
const CHUNK_BYTES: usize = 32 << 20;

/// Rows of `row_bytes` each that fit in `budget`: at least 1, at most `max`.
fn rows_within(budget: usize, row_bytes: usize, max: usize) -> usize {
    (budget / row_bytes.max(1)).clamp(1, max.max(1))
}

/// Connects with the session settings walbridge decodes under, over TLS as `database.sslmode`
/// asks (libpq's meanings: `prefer` falls back to plain TCP when the server offers no TLS).
async fn connect(database: &DatabaseConfig) -> Result<(Client, JoinHandle<()>), SlotError> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&database.hostname)
        .port(database.port)
        .user(&database.user)
        .password(database.password.expose_secret())
        .dbname(&database.dbname)
        .application_name("walbridge")
        .options(session_options())
        .connect_timeout(std::time::Duration::from_secs(10));
    let connect_error = |source| SlotError::Connect {
        host: database.hostname.clone(),
        port: database.port,
        user: database.user.clone(),
        ssl_mode: ssl_mode_name(database.ssl_mode),
        source,
    };
    let (verify, mode) = match database.ssl_mode {
        SslMode::Disable => {
            let (client, connection) = config.connect(NoTls).await.map_err(connect_error)?;
            return Ok((client, spawn_connection(connection)));
        }
        SslMode::Prefer => (Verify::Nothing, tokio_postgres::config::SslMode::Prefer),
        SslMode::Require => (Verify::Nothing, tokio_postgres::config::SslMode::Require),
        SslMode::VerifyCa => (Verify::Chain, tokio_postgres::config::SslMode::Require),
        SslMode::VerifyFull => (
            Verify::ChainAndHost,
            tokio_postgres::config::SslMode::Require,
        ),
    };
    let tls = client_config(database.ssl_root_cert.as_deref(), verify)?;
    config.ssl_mode(mode);
    let (client, connection) = config
        .connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
        .await
        .map_err(connect_error)?;
    Ok((client, spawn_connection(connection)))
}

/// The startup `options` that set [`SESSION_SETTINGS`].
fn session_options() -> String {
    SESSION_SETTINGS
        .iter()
        .map(|(name, value)| format!("-c {name}={value}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks that the session runs under [`SESSION_SETTINGS`]: a connection pooler may drop the
/// startup options, and values would then be printed (and decoded) otherwise.
async fn verify_session(client: &Client) -> Result<(), SlotError> {
    let names: Vec<&str> = SESSION_SETTINGS.iter().map(|(name, _)| *name).collect();
    let rows = client
        .query(
            "SELECT name, current_setting(name) FROM unnest($1::text[]) AS name",
            &[&names],
        )
        .await
        .map_err(|source| SlotError::Query {
            action: "read the session settings",
            slot: String::new(),
            source,
        })?;
    for row in rows {
        let (name, found): (String, String) = (row.get(0), row.get(1));
        let expected = SESSION_SETTINGS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| *v);
        let agrees = if name == "DateStyle" {
            found.split(',').next().map(str::trim) == Some(expected)
        } else {
            found == expected
        };
        if !agrees {
            return Err(SlotError::SessionSetting {
                name,
                expected,
                found,
            });
        }
    }
    Ok(())
}

/// wal2json's `add-tables` for the literal `table.include.list` entries: wal2json compares names
/// exactly, the table filters (as Debezium's) ignore case, so each entry becomes the catalog's
/// spelling of every schema and table it names (an entry naming nothing yet stays as written).
async fn resolve_pushdown(
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
/// logical decoding names each row by its partition, so those rows would never be published.
async fn check_partitioned(client: &Client, tables: &TableFilter) -> Result<(), SlotError> {
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

/// Runs a connection's background task.
fn spawn_connection<T>(connection: Connection<Socket, T>) -> JoinHandle<()>
where
    T: tokio_postgres::tls::TlsStream + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            warn!(error = %err, "postgresql connection ended");
        }
    })
}

/// `database.sslmode`'s spelling, for errors.
fn ssl_mode_name(mode: SslMode) -> &'static str {
    match mode {
        SslMode::Disable => "disable",
        SslMode::Prefer => "prefer",
        SslMode::Require => "require",
        SslMode::VerifyCa => "verify-ca",
        SslMode::VerifyFull => "verify-full",
    }
}

/// A table the table filters capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedTable {
    pub table: TablePattern,
    /// Whether updates and deletes can be captured with their key: a primary key under REPLICA
    /// IDENTITY DEFAULT, a replica identity index, or REPLICA IDENTITY FULL.
    pub changes_captured: bool,
}

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

/// A wal2json logical replication slot, read over one PostgreSQL connection.
#[derive(Debug)]
pub struct PgSlot {
    client: Client,
    connection: JoinHandle<()>,
    slot: String,
    database: String,
    /// wal2json `add-tables`, from `table.include.list` when it names tables literally.
    add_tables: Option<String>,
    /// `window.fetch.rows`: the most rows one fetch asks for…
    fetch_rows: usize,
    /// …and how many the next one asks for: fewer when rows are wide, so one fetch holds about
    /// [`FETCH_BYTES`].
    next_fetch_rows: usize,
    window: WindowState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WindowState {
    Closed,
    Open,
    /// The last fetch returned every remaining row; the cursor is closed.
    Drained,
}

impl PgSlot {
    /// Connects with the session settings walbridge decodes under.
    ///
    /// # Errors
    /// [`SlotError::Connect`] when PostgreSQL cannot be reached or refuses the credentials.
    pub async fn connect(
        database: &DatabaseConfig,
        slot: &SlotConfig,
        tables: &TableFilter,
        fetch_rows: u32,
    ) -> Result<Self, SlotError> {
        let (client, connection) = connect(database).await?;
        verify_session(&client).await?;
        check_partitioned(&client, tables).await?;
        let pushdown = tables.pushdown();
        let add_tables = if pushdown.is_empty() {
            None
        } else {
            Some(resolve_pushdown(&client, pushdown).await?.join(","))
        };
        Ok(Self {
            client,
            connection,
            slot: slot.name.clone(),
            database: database.dbname.clone(),
            add_tables,
            fetch_rows: fetch_rows as usize,
            next_fetch_rows: (fetch_rows as usize).min(FIRST_FETCH_ROWS),
            window: WindowState::Closed,
        })
    }

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

    fn query_error(&self, action: &'static str) -> impl FnOnce(tokio_postgres::Error) -> SlotError {
        let slot = self.slot.clone();
        move |source| SlotError::Query {
            action,
            slot,
            source,
        }
    }

    /// Checks that logical decoding with wal2json can work on this slot, creating the slot when
    /// `create` is set and it is missing.
    ///
    /// # Errors
    /// A [`SlotError`] that names the fix: wal_level, output_plugin_libraries, a missing slot, a slot
    /// of another plugin or database, or a slot another consumer is reading.
    pub async fn check_preconditions(&self, create: bool) -> Result<(), SlotError> {
        self.check_server().await?;
        match self.check_slot().await {
            Err(SlotError::SlotMissing { .. }) if create => {
                self.client
                    .execute(
                        "SELECT pg_create_logical_replication_slot($1, 'wal2json')",
                        &[&self.slot],
                    )
                    .await
                    .map_err(self.query_error("create the replication slot"))?;
                info!(slot = %self.slot, "created wal2json replication slot");
                Ok(())
            }
            other => other,
        }
    }

    /// The server side of the preconditions: `wal_level` and, on 15.19+, `output_plugin_libraries`.
    ///
    /// # Errors
    /// [`SlotError::WalLevel`], [`SlotError::PluginNotAllowed`], [`SlotError::Query`].
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
        // PostgreSQL 15.19+ loads only allow-listed output plugins; older servers lack the setting.
        if let Some(libraries) = settings.get::<_, Option<String>>(1)
            && !libraries.split(',').any(|l| l.trim() == "wal2json")
        {
            return Err(SlotError::PluginNotAllowed { libraries });
        }
        Ok(())
    }

    /// The slot side of the preconditions: it exists, uses wal2json, belongs to this database and is
    /// idle. Changes nothing.
    ///
    /// # Errors
    /// [`SlotError::SlotMissing`], [`SlotError::WrongPlugin`], [`SlotError::WrongDatabase`],
    /// [`SlotError::SlotInUse`], [`SlotError::Query`].
    pub async fn check_slot(&self) -> Result<(), SlotError> {
        let found = self
            .client
            .query_opt(
                "SELECT plugin::text, database::text, active, active_pid \
                 FROM pg_replication_slots WHERE slot_name = $1",
                &[&self.slot],
            )
            .await
            .map_err(self.query_error("look up the replication slot"))?;
        let Some(found) = found else {
            return Err(SlotError::SlotMissing {
                slot: self.slot.clone(),
                database: self.database.clone(),
            });
        };
        let plugin: Option<String> = found.get(0);
        let database: Option<String> = found.get(1);
        let active: bool = found.get(2);
        let active_pid: Option<i32> = found.get(3);
        if plugin.as_deref() != Some("wal2json") {
            return Err(SlotError::WrongPlugin {
                slot: self.slot.clone(),
                plugin: plugin.unwrap_or_else(|| "none (a physical slot)".to_owned()),
            });
        }
        if database.as_deref() != Some(self.database.as_str()) {
            return Err(SlotError::WrongDatabase {
                slot: self.slot.clone(),
                actual: database.unwrap_or_default(),
                expected: self.database.clone(),
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

    /// The tables `filter` captures, each with whether updates and deletes can be captured: a
    /// primary key (or a replica identity index) or REPLICA IDENTITY FULL.
    ///
    /// # Errors
    /// [`SlotError::Query`] when the catalog cannot be read.
    pub async fn matched_tables(
        &self,
        filter: &TableFilter,
    ) -> Result<Vec<MatchedTable>, SlotError> {
        let rows = self
            .client
            .query(
                "SELECT n.nspname::text, c.relname::text, c.relreplident::text, \
                 EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition \
                   AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
                   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' \
                 ORDER BY 1, 2",
                &[],
            )
            .await
            .map_err(self.query_error("list the captured tables"))?;
        Ok(rows
            .iter()
            .map(|row| {
                let identity: String = row.get(2);
                let primary_key: bool = row.get(3);
                MatchedTable {
                    table: TablePattern {
                        schema: row.get(0),
                        table: row.get(1),
                    },
                    changes_captured: identity == "f"
                        || identity == "i"
                        || (identity == "d" && primary_key),
                }
            })
            .filter(|t| filter.captures(&t.table.schema, &t.table.table))
            .collect())
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
            .ok_or_else(|| SlotError::SlotMissing {
                slot: self.slot.clone(),
                database: self.database.clone(),
            })
    }

    /// Ends the connection (and with it the advisory lock).
    pub async fn close(self) {
        drop(self.client);
        if let Err(err) = self.connection.await {
            warn!(error = %err, "postgresql connection task failed");
        }
    }

    async fn end_transaction(&mut self) -> Result<(), SlotError> {
        self.window = WindowState::Closed;
        self.client
            .batch_execute("ROLLBACK")
            .await
            .map_err(self.query_error("end the window's transaction"))
    }
}

impl ChangeSource for PgSlot {
    async fn position(&mut self) -> Result<SlotPosition, SlotError> {
        let row = self
            .client
            .query_opt(
                "SELECT confirmed_flush_lsn, pg_current_wal_lsn() FROM pg_replication_slots \
                 WHERE slot_name = $1",
                &[&self.slot],
            )
            .await
            .map_err(self.query_error("read the slot position"))?
            .ok_or_else(|| SlotError::SlotMissing {
                slot: self.slot.clone(),
                database: self.database.clone(),
            })?;
        let confirmed: Option<PgLsn> = row.get(0);
        let current: PgLsn = row.get(1);
        Ok(SlotPosition {
            confirmed: Lsn(confirmed.map_or(0, u64::from)),
            current: Lsn(u64::from(current)),
        })
    }

    async fn server(&mut self) -> Result<Server, SlotError> {
        // The timeline is the first part of a WAL file name (8 hex digits).
        let row = self
            .client
            .query_one(
                "SELECT system_identifier::text, pg_walfile_name(pg_current_wal_lsn()) \
                 FROM pg_control_system()",
                &[],
            )
            .await
            .map_err(self.query_error("read the server's system identifier and timeline"))?;
        let wal_file: String = row.get(1);
        let timeline = wal_file
            .get(..8)
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .ok_or_else(|| SlotError::Malformed {
                slot: self.slot.clone(),
                what: format!("WAL file name {wal_file:?} (expected a timeline first)"),
            })?;
        Ok(Server {
            id: row.get(0),
            timeline,
        })
    }

    async fn open_window(&mut self, max_changes: u32) -> Result<Lsn, SlotError> {
        if self.window != WindowState::Closed {
            self.end_transaction().await?;
        }
        // The flushed position: decoding reads no further, and the slot can be advanced exactly to it.
        let upto: PgLsn = self
            .client
            .query_one("SELECT pg_current_wal_flush_lsn()", &[])
            .await
            .map_err(self.query_error("read the current WAL position"))?
            .get(0);
        self.client
            .batch_execute("BEGIN")
            .await
            .map_err(self.query_error("begin the window's transaction"))?;
        let max_changes = i32::try_from(max_changes).unwrap_or(i32::MAX);
        let declared = match &self.add_tables {
            Some(add_tables) => {
                let sql = format!(
                    "DECLARE {CURSOR} NO SCROLL CURSOR FOR SELECT data FROM \
                     pg_logical_slot_peek_changes($1, $2, $3, {WAL2JSON_OPTIONS}, 'add-tables', $4)"
                );
                self.client
                    .execute(&sql, &[&self.slot, &upto, &max_changes, add_tables])
                    .await
            }
            None => {
                let sql = format!(
                    "DECLARE {CURSOR} NO SCROLL CURSOR FOR SELECT data FROM \
                     pg_logical_slot_peek_changes($1, $2, $3, {WAL2JSON_OPTIONS})"
                );
                self.client
                    .execute(&sql, &[&self.slot, &upto, &max_changes])
                    .await
            }
        };
        declared.map_err(self.query_error("open a window on the slot"))?;
        self.window = WindowState::Open;
        Ok(Lsn(u64::from(upto)))
    }

    async fn fetch(&mut self, rows: &mut RowBatch) -> Result<bool, SlotError> {
        match self.window {
            WindowState::Closed => return Ok(false),
            WindowState::Drained => {
                self.end_transaction().await?;
                return Ok(false);
            }
            WindowState::Open => {}
        }
        // The peek runs (and decodes the whole window into a server-side tuplestore) on the first
        // FETCH; rows then stream in fetches of at most `fetch_rows` rows and about FETCH_BYTES.
        let asked = self.next_fetch_rows;
        let messages = self
            .client
            .simple_query(&format!("FETCH FORWARD {asked} FROM {CURSOR}"))
            .await
            .map_err(self.query_error("read the window"))?;
        let before = rows.len();
        let mut bytes = 0;
        for message in &messages {
            if let SimpleQueryMessage::Row(row) = message {
                // wal2json's rows carry their LSNs (`include-lsn`); the SQL column is not read.
                let data = row.get(0).ok_or_else(|| SlotError::Malformed {
                    slot: self.slot.clone(),
                    what: "a window row without data".to_owned(),
                })?;
                bytes += data.len();
                rows.push(data);
            }
        }
        drop(messages);
        let fetched = rows.len() - before;
        if let Some(row_bytes) = bytes.checked_div(fetched) {
            self.next_fetch_rows = rows_within(FETCH_BYTES, row_bytes, self.fetch_rows);
        }
        if fetched < asked {
            self.window = WindowState::Drained;
        }
        if fetched == 0 {
            self.end_transaction().await?;
            return Ok(false);
        }
        Ok(true)
    }

    async fn table_schema(&mut self, schema: &str, table: &str) -> Result<TableSchema, SlotError> {
        let qualified = || format!("{schema}.{table}");
        let relation = self
            .client
            .query_opt(
                "SELECT c.oid, c.relreplident::text FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relname = $2",
                &[&schema, &table],
            )
            .await
            .map_err(self.query_error("read a table from the catalog"))?
            .ok_or_else(|| SlotError::UnknownTable { table: qualified() })?;
        let oid: u32 = relation.get(0);
        let identity: String = relation.get(1);
        let columns = self
            .client
            .query(
                "SELECT a.attname::text, \
                 CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) \
                   ELSE format_type(a.atttypid, a.atttypmod) END, \
                 CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END, \
                 a.attnotnull, pg_get_expr(d.adbin, d.adrelid), \
                 (SELECT string_agg(e.enumlabel::text, ',' ORDER BY e.enumsortorder) FROM pg_enum e \
                   WHERE e.enumtypid = COALESCE(NULLIF(t.typelem, 0), t.oid)) \
                 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY a.attnum",
                &[&oid],
            )
            .await
            .map_err(self.query_error("read a table's columns"))?
            .iter()
            .map(|row| {
                // a domain is encoded as its base type, as Debezium does
                let column = ColumnSchema::new(
                    row.get::<_, String>(0),
                    row.get::<_, String>(1),
                    row.get::<_, u32>(2),
                    row.get::<_, bool>(3),
                );
                // an enum's labels are its Connect schema's `allowed` parameter
                let column = match row.get::<_, Option<String>>(5) {
                    Some(labels) => column.with_enum_values(labels),
                    None => column,
                };
                match row.get::<_, Option<String>>(4) {
                    Some(default) => column.with_default(default),
                    None => column,
                }
            })
            .collect();
        let key: Vec<String> = self
            .client
            .query(
                "SELECT a.attname::text FROM pg_index i \
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
                 WHERE i.indrelid = $1 AND i.indisprimary \
                 ORDER BY array_position(i.indkey::int2[], a.attnum)",
                &[&oid],
            )
            .await
            .map_err(self.query_error("read a table's primary key"))?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let key: Vec<&str> = key.iter().map(String::as_str).collect();
        let identity = identity
            .chars()
            .next()
            .and_then(ReplicaIdentity::from_relreplident)
            .unwrap_or_default();
        TableSchema::new(schema, table, columns, &key, identity).map_err(|source| {
            SlotError::Schema {
                table: qualified(),
                source,
            }
        })
    }

    async fn captured_tables(&mut self) -> Result<Vec<CapturedTable>, SlotError> {
        // What wal2json decodes: permanent ordinary tables (partitions under their own names).
        let rows = self
            .client
            .query(
                "SELECT n.nspname::text, c.relname::text, c.reltuples::int8 FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind = 'r' AND c.relpersistence = 'p' \
                   AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' \
                 ORDER BY 1, 2",
                &[],
            )
            .await
            .map_err(self.query_error("list the captured tables"))?;
        Ok(rows
            .iter()
            .map(|row| CapturedTable {
                schema: row.get(0),
                table: row.get(1),
                estimated_rows: row.get(2),
            })
            .collect())
    }

    async fn read_chunk(
        &mut self,
        table: &TableSchema,
        after: Option<&[String]>,
        filter: Option<&str>,
        limit: u32,
        later: &[(String, String)],
    ) -> Result<ChunkRead, SlotError> {
        if self.window != WindowState::Closed {
            self.end_transaction().await?;
        }
        let chunk_sql = chunk_query(table, after.is_some(), filter, limit);
        let key_values: Vec<&str> = after
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .collect();
        if key_values.len() != table.key().len() && after.is_some() {
            // The key changed since the last chunk (other columns, or another count of them).
            return Err(SlotError::SnapshotKeyChanged {
                table: format!("{}.{}", table.schema(), table.table()),
            });
        }
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = key_values
            .iter()
            .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        // One short read-only transaction: what it saw, how far the WAL had come after that, the
        // rows, and whether later tables have rows (for the `last` marker), all under the same
        // snapshot. Each statement is prepared on its own (the extended protocol), so the filter a
        // signal brought can neither end the transaction nor add a statement.
        let read = async {
            let transaction = self
                .client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let meta = transaction
                .query_one(
                    "SELECT pg_current_snapshot()::text, pg_current_wal_insert_lsn()::text, \
                     (extract(epoch FROM transaction_timestamp()) * 1000000)::int8",
                    &[],
                )
                .await?;
            // Through a cursor, so a chunk of wide rows stops at about CHUNK_BYTES.
            transaction
                .execute(
                    &format!("DECLARE walbridge_chunk NO SCROLL CURSOR FOR {chunk_sql}"),
                    &params,
                )
                .await?;
            let wanted = limit as usize + 1;
            let mut rows: Vec<Vec<Option<String>>> = Vec::new();
            let (mut bytes, mut step, mut cut) = (0, FIRST_FETCH_ROWS.min(wanted), false);
            loop {
                let fetched = transaction
                    .query(&format!("FETCH FORWARD {step} FROM walbridge_chunk"), &[])
                    .await?;
                let count = fetched.len();
                for row in &fetched {
                    let values: Vec<Option<String>> = (0..row.len()).map(|i| row.get(i)).collect();
                    bytes += values.iter().flatten().map(String::len).sum::<usize>();
                    rows.push(values);
                }
                if count < step || rows.len() >= wanted {
                    break;
                }
                // A keyless table cannot be read on from where a chunk stopped: read it whole.
                if bytes >= CHUNK_BYTES && !table.key().is_empty() {
                    cut = true;
                    break;
                }
                step = rows_within(
                    CHUNK_BYTES - bytes.min(CHUNK_BYTES),
                    bytes / rows.len(),
                    wanted - rows.len(),
                )
                .max(1);
            }
            // Only the later tables that still exist and may be read are probed: one dropped since
            // the snapshot started must not fail this table's chunk.
            let (schemas, tables): (Vec<&str>, Vec<&str>) = later
                .iter()
                .map(|(schema, table)| (schema.as_str(), table.as_str()))
                .unzip();
            let readable = transaction
                .query(
                    "SELECT l.s, l.t FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS l(s, t, i) \
                     WHERE EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                       WHERE n.nspname = l.s AND c.relname = l.t AND has_table_privilege(c.oid, 'SELECT')) \
                     ORDER BY l.i",
                    &[&schemas, &tables],
                )
                .await?;
            let exists: Vec<String> = readable
                .iter()
                .map(|row| {
                    format!(
                        "EXISTS (SELECT 1 FROM {}.{})",
                        quote_ident(row.get(0)),
                        quote_ident(row.get(1))
                    )
                })
                .collect();
            let later_rows = if exists.is_empty() {
                false
            } else {
                let probe = format!("SELECT {}", exists.join(" OR "));
                transaction.query_one(&probe, &[]).await?.get(0)
            };
            transaction.commit().await?;
            Ok::<_, tokio_postgres::Error>((meta, rows, later_rows, cut))
        };
        let read = read.await;
        let (meta, mut rows, later_rows, cut) =
            read.map_err(self.query_error("read a snapshot chunk"))?;
        let malformed = |what: &str| SlotError::Malformed {
            slot: self.slot.clone(),
            what: format!(
                "snapshot chunk of {}.{}: {what}",
                table.schema(),
                table.table()
            ),
        };
        let visible = meta.get::<_, String>(0);
        let (Some(visible), Ok(lsn)) = (
            XidSnapshot::parse(&visible),
            meta.get::<_, String>(1).parse::<Lsn>(),
        ) else {
            return Err(malformed("no snapshot position"));
        };
        let read_time_us: i64 = meta.get(2);
        // Cut short by bytes: the next chunk reads on from the last row (and is empty if none is left).
        let more = cut || rows.len() > limit as usize;
        if more {
            if table.key().is_empty() {
                return Err(SlotError::SnapshotKeyless {
                    table: format!("{}.{}", table.schema(), table.table()),
                    limit,
                });
            }
            rows.truncate(limit as usize);
        }
        Ok(ChunkRead {
            rows,
            visible,
            lsn,
            read_time_us,
            more,
            later_rows,
        })
    }

    async fn close_window(&mut self) -> Result<(), SlotError> {
        if self.window != WindowState::Closed {
            self.end_transaction().await?;
        }
        Ok(())
    }

    async fn check_filter(
        &mut self,
        schema: &str,
        table: &str,
        filter: &str,
    ) -> Result<(), SlotError> {
        // Prepared (parsed and planned against the catalog), never executed: a second statement,
        // an unknown column or a condition that is not boolean is refused here.
        let sql = format!(
            "SELECT 1 FROM {}.{} WHERE ({filter})",
            quote_ident(schema),
            quote_ident(table)
        );
        self.client
            .prepare(&sql)
            .await
            .map_err(self.query_error("check a signal's additional condition"))?;
        Ok(())
    }

    async fn advance(&mut self, to: Lsn) -> Result<(), SlotError> {
        self.client
            .execute(
                "SELECT pg_replication_slot_advance($1, $2)",
                &[&self.slot, &PgLsn::from(to.0)],
            )
            .await
            .map_err(self.query_error("advance the slot"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_rows_are_fetched_fewer_at_a_time() {
        // 100 KB rows: 8 MB hold 83 of them
        assert_eq!(rows_within(FETCH_BYTES, 100_000, 2_000), 83);
        // small rows: the row limit
        assert_eq!(rows_within(FETCH_BYTES, 300, 2_000), 2_000);
        // a row over the budget still moves on, one at a time
        assert_eq!(rows_within(FETCH_BYTES, 64 << 20, 2_000), 1);
        assert_eq!(rows_within(FETCH_BYTES, 0, 2_000), 2_000);
    }

    #[test]
    fn the_session_options_set_every_setting_that_is_verified() {
        let options = session_options();
        for (name, value) in SESSION_SETTINGS {
            assert!(options.contains(&format!("-c {name}={value}")), "{options}");
        }
        assert!(options.contains("-c lc_monetary=C"));
    }
}
