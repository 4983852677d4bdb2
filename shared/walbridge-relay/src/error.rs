//! The relay's errors: one enum per side-effect seam, and [`RelayError`] over them with
//! [`RelayError::kind`] for the function's error report. Messages never contain row values or secrets.

use walbridge_event::Lsn;

use crate::avro::{ConvertError, RegistryError};

/// `err: cause: cause`, as one line: how errors are reported to a person.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The PostgreSQL side: connecting, preconditions, peeking, advancing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlotError {
    /// The connection (TCP, TLS or authentication) failed: PostgreSQL is unreachable or refused the login.
    #[error(
        "cannot connect to PostgreSQL at {host}:{port} as {user} (database.sslmode={ssl_mode})"
    )]
    Connect {
        /// `database.hostname`.
        host: String,
        /// `database.port`.
        port: u16,
        /// `database.user`.
        user: String,
        /// `database.sslmode`, as configured.
        ssl_mode: &'static str,
        /// The driver's error: refused, timed out, TLS or authentication.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The TLS configuration for PostgreSQL cannot be built (its CA file).
    #[error("cannot set up TLS to PostgreSQL (database.sslrootcert)")]
    Tls(#[from] crate::tls::TlsError),
    /// The server does not run with `wal_level = logical`, so no slot can decode.
    #[error(
        "wal_level is {actual}, logical decoding needs logical: set wal_level = logical (on RDS/Aurora: \
         rds.logical_replication = 1 in the parameter group) and restart the server"
    )]
    WalLevel {
        /// The server's `wal_level`.
        actual: String,
    },
    /// The slot does not exist and `slot.create` is off.
    #[error(
        "replication slot {slot} does not exist in database {database}: create it with \
         SELECT pg_create_logical_replication_slot('{slot}', '{plugin}'); or set slot.create=true"
    )]
    SlotMissing {
        /// `slot.name`.
        slot: String,
        /// `database.dbname`.
        database: String,
        /// The plugin `plugin.name` reads.
        plugin: &'static str,
    },
    /// The slot decodes with another output plugin than `plugin.name`'s, whose rows walbridge
    /// would read wrongly.
    #[error(
        "replication slot {slot} uses plugin {plugin}, plugin.name reads {expected} slots: set \
         plugin.name to the slot's plugin (wal2json or pgoutput), or create a {expected} slot under \
         another slot.name"
    )]
    WrongPlugin {
        /// `slot.name`.
        slot: String,
        /// The slot's output plugin.
        plugin: String,
        /// The plugin `plugin.name` reads.
        expected: &'static str,
    },
    /// The slot exists, but in another database: a slot decodes only the database it was created
    /// in.
    #[error(
        "replication slot {slot} belongs to database {actual}, not {expected}: set database.dbname={actual} \
         or use a slot of {expected}"
    )]
    WrongDatabase {
        /// `slot.name`.
        slot: String,
        /// The database the slot belongs to.
        actual: String,
        /// `database.dbname`.
        expected: String,
    },
    /// Another session is reading the slot; a slot has one reader at a time.
    #[error(
        "replication slot {slot} is in use by process {pid}: another consumer reads it; stop it, or give \
         walbridge its own slot"
    )]
    SlotInUse {
        /// `slot.name`.
        slot: String,
        /// The backend process reading it (`pg_replication_slots.active_pid`).
        pid: i32,
    },
    /// The server restricts output plugins (`output_plugin_libraries`) and the slot's is not allowed.
    #[error(
        "{plugin} is not among this server's output_plugin_libraries ({libraries}): as a superuser run \
         ALTER SYSTEM SET output_plugin_libraries = 'pgoutput', 'test_decoding', 'wal2json'; SELECT pg_reload_conf(); \
         (managed services: add {plugin} to the parameter in the parameter group)"
    )]
    PluginNotAllowed {
        /// The setting's value.
        libraries: String,
        /// The plugin `plugin.name` reads.
        plugin: &'static str,
    },
    /// The publication a pgoutput slot is read through does not exist, and walbridge does not
    /// create it: `publication.autocreate.mode=disabled`, `validate`, or a slot that exists already
    /// (pgoutput looks the publication up as of each change, so the slot's changes from before it
    /// would fail to decode).
    #[error("publication {publication} does not exist in database {database}: {fix}")]
    PublicationMissing {
        /// `publication.name`.
        publication: String,
        /// `database.dbname`.
        database: String,
        /// The statement that creates it for the captured tables.
        sql: String,
        /// Whether an invocation would create it (`validate` asks).
        creatable: bool,
        /// What to do, with `sql`.
        fix: String,
    },
    /// The publication leaves out tables the table filters capture: their changes would never
    /// arrive.
    #[error(
        "publication {publication} does not cover the captured tables {tables}: run {sql} (or set \
         publication.autocreate.mode=filtered to let walbridge keep it to the captured tables)"
    )]
    PublicationIncomplete {
        /// `publication.name`.
        publication: String,
        /// The tables left out, comma-separated.
        tables: String,
        /// The statement that adds them.
        sql: String,
    },
    /// The publication does not publish an operation walbridge relays: those changes would never
    /// arrive.
    #[error(
        "publication {publication} does not publish {operations}: run ALTER PUBLICATION {ident} SET \
         (publish = 'insert, update, delete, truncate'); (or leave the operations out with \
         skipped.operations)"
    )]
    PublicationOperations {
        /// `publication.name`.
        publication: String,
        /// The name as SQL spells it.
        ident: String,
        /// The operations it leaves out, comma-separated.
        operations: String,
    },
    /// The publication names partitions' changes by their partitioned root while
    /// `publish.via.partition.root` is false: the captured partitions would publish nothing.
    #[error(
        "publication {publication} publishes via the partition root (publish_via_partition_root = \
         true) but publish.via.partition.root is false, so the changes of partitions arrive under \
         their partitioned roots' names and the captured partitions would publish nothing: set \
         publish.via.partition.root=true (and capture the partitioned roots), or run ALTER \
         PUBLICATION {ident} SET (publish_via_partition_root = false); while the slot holds no \
         changes of partitions (pgoutput decodes each change with the publication as it was then)"
    )]
    PublicationViaRoot {
        /// `publication.name`.
        publication: String,
        /// The name as SQL spells it.
        ident: String,
    },
    /// The publication names partitions' changes by the partitions while
    /// `publish.via.partition.root` is true: the captured partitioned roots would publish nothing.
    #[error(
        "publication {publication} publishes the changes of partitions under the partitions' own \
         names (publish_via_partition_root = false) but publish.via.partition.root=true captures \
         the partitioned roots, which would then publish nothing: run ALTER PUBLICATION {ident} \
         SET (publish_via_partition_root = true); while the slot holds no changes of partitions \
         (pgoutput decodes each change with the publication as it was then), or set \
         publish.via.partition.root=false"
    )]
    PublicationNotViaRoot {
        /// `publication.name`.
        publication: String,
        /// The name as SQL spells it.
        ident: String,
    },
    /// The publication leaves columns or rows of a captured table out (a column list or a row
    /// filter, PostgreSQL 15+): those values would be missing from the events without an error.
    #[error(
        "publication {publication} has a column list or row filter on {table}, which walbridge does \
         not read: run ALTER PUBLICATION {ident} SET TABLE <the tables, without column lists or \
         WHERE>; (leave columns out with column.exclude.list)"
    )]
    PublicationFilters {
        /// `publication.name`.
        publication: String,
        /// The name as SQL spells it.
        ident: String,
        /// The table, `schema.table`.
        table: String,
    },
    /// pgoutput on a server before PostgreSQL 15, which walbridge does not read.
    #[error(
        "plugin.name=pgoutput needs PostgreSQL 15 or later (this server is {version}): use a wal2json \
         slot (plugin.name=wal2json)"
    )]
    PgoutputTooOld {
        /// `server_version_num`.
        version: i32,
    },
    /// `publication.autocreate.mode=filtered` and the publication is `FOR ALL TABLES`, which
    /// cannot be narrowed to the captured tables.
    #[error(
        "publication {publication} is FOR ALL TABLES and cannot be kept to the captured tables \
         (publication.autocreate.mode=filtered): set publication.autocreate.mode=all_tables, or \
         DROP PUBLICATION {ident}; and let walbridge create it"
    )]
    PublicationForAllTables {
        /// `publication.name`.
        publication: String,
        /// The name as SQL spells it.
        ident: String,
    },
    /// A statement failed: the connection dropped, a timeout, or PostgreSQL refused it.
    #[error("PostgreSQL failed to {action} (slot {slot})")]
    Query {
        /// What the statement was for, as a verb phrase ("peek at the slot").
        action: &'static str,
        /// `slot.name`.
        slot: String,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A statement on the slot ran into the `statement_timeout` walbridge sets below the
    /// invocation's remaining time, so that it cannot outlive the invocation.
    #[error(
        "PostgreSQL did not {action} (slot {slot}) within {timeout_ms} ms, the statement_timeout \
         walbridge sets below the invocation's remaining time: {cause}"
    )]
    StatementTimeout {
        /// What the statement was for, as a verb phrase.
        action: &'static str,
        /// `slot.name`.
        slot: String,
        /// The timeout it ran under, ms.
        timeout_ms: u64,
        /// What makes this statement wait, and what to do about it.
        cause: &'static str,
    },
    /// `slot.failover=true` on a server older than PostgreSQL 17, which has no failover slots.
    #[error(
        "slot.failover=true needs PostgreSQL 17 or newer (failover slots), this server is {version}: \
         set slot.failover=false, or upgrade the server"
    )]
    FailoverUnsupported {
        /// The server's `server_version_num`.
        version: i32,
    },
    /// `slot.failover=true` while `database.hostname` is a standby: a failover slot is created on
    /// the primary and synchronized to the standbys, never created on one.
    #[error(
        "slot.failover=true but database.hostname is a standby (in recovery): PostgreSQL creates \
         failover slots on the primary only; point database.hostname at the primary, or set \
         slot.failover=false to read a slot of the standby's own"
    )]
    FailoverOnStandby,
    /// The slot's `failover` flag is not what `slot.failover` says.
    #[error(
        "replication slot {slot} has failover={actual}, but slot.failover={expected}: set \
         slot.failover={actual}, or change the slot on the primary with psql \
         \"dbname=<database> replication=database\" -c 'ALTER_REPLICATION_SLOT {slot} (FAILOVER {expected})' \
         (PostgreSQL 17+, while no one reads the slot)"
    )]
    FailoverMismatch {
        /// `slot.name`.
        slot: String,
        /// The slot's flag.
        actual: bool,
        /// `slot.failover`.
        expected: bool,
    },
    /// `database.hostname` is a standby of a server older than PostgreSQL 16, which cannot decode
    /// in recovery.
    #[error(
        "database.hostname is a standby (in recovery) of PostgreSQL {version}: logical decoding on \
         a standby needs PostgreSQL 16 or newer; point database.hostname at the primary"
    )]
    StandbyTooOld {
        /// The server's `server_version_num`.
        version: i32,
    },
    /// On a standby, the slot is a failover slot synchronized from the primary: PostgreSQL lets no
    /// one decode from it until the standby is promoted.
    #[error(
        "replication slot {slot} on this standby is synchronized from the primary \
         (sync_replication_slots) and cannot be read until the standby is promoted: read it on the \
         primary (database.hostname), or give walbridge a slot of the standby's own (another \
         slot.name, slot.failover=false)"
    )]
    SyncedOnStandby {
        /// `slot.name`.
        slot: String,
    },
    /// A query answered in a form walbridge does not expect (a missing column, an unparsable LSN).
    #[error("slot {slot} returned something unexpected: {what}")]
    Malformed {
        /// `slot.name`.
        slot: String,
        /// What was unexpected.
        what: String,
    },
    /// PostgreSQL invalidated the slot (WAL it needed was removed): it can never be read again.
    #[error(
        "replication slot {slot} was invalidated ({reason}): PostgreSQL removed WAL the slot still \
         needed, so the changes since its position are gone and it cannot be read again; drop it \
         (SELECT pg_drop_replication_slot('{slot}');), let walbridge create a new one (slot.create=true) \
         and set snapshot.mode=when_needed so the tables are read again; raise max_slot_wal_keep_size \
         or run walbridge more often so it does not happen again"
    )]
    SlotInvalidated {
        /// `slot.name`.
        slot: String,
        /// `pg_replication_slots.invalidation_reason` (`wal_removed`, …).
        reason: String,
    },
    /// A table the slot decoded a change of is no longer in the catalog (dropped or renamed since).
    #[error("table {table} was not found in the catalog")]
    UnknownTable {
        /// `schema.table`.
        table: String,
    },
    /// A session setting walbridge sets at connection start did not take effect, so values would be
    /// decoded wrongly (a date style, a time zone).
    #[error(
        "the PostgreSQL session runs with {name}={found}, walbridge decodes values under {name}={expected}: \
         the connection's startup options did not take effect, as behind a connection pooler that drops \
         them (pgbouncer in transaction mode, ignore_startup_parameters); connect walbridge to PostgreSQL \
         directly or through a session-mode pool that passes startup options"
    )]
    SessionSetting {
        /// The setting (`DateStyle`, `TimeZone`, …).
        name: String,
        /// The value walbridge asked for.
        expected: &'static str,
        /// The value the session runs with.
        found: String,
    },
    /// A table without a primary key has more rows than one snapshot chunk holds, and there is no
    /// key to resume the next chunk from.
    #[error(
        "table {table} has no primary key and more than {limit} rows, so its snapshot cannot be read in \
         chunks: add a primary key, raise snapshot.fetch.size above its row count, or leave it out of \
         snapshot.include.collection.list"
    )]
    SnapshotKeyless {
        /// `schema.table`.
        table: String,
        /// Rows per chunk (`snapshot.fetch.size`, or the signal's chunk size).
        limit: u32,
    },
    /// The table's primary key changed between two chunks of its snapshot: the last key read no
    /// longer says where to go on.
    #[error(
        "the primary key of table {table} changed while its snapshot was being read, so the snapshot \
         cannot go on where it stopped"
    )]
    SnapshotKeyChanged {
        /// `schema.table`.
        table: String,
    },
    /// The filters capture a partitioned table but none of its partitions, under whose names its
    /// rows are decoded: the table would publish nothing.
    #[error(
        "the table filters capture the partitioned table {table} but not its partitions {partitions}: \
         PostgreSQL decodes each row under its partition's name, so those rows would never be \
         published; add the partitions to table.include.list (or a pattern that matches them), \
         or, with plugin.name=pgoutput, set publish.via.partition.root=true"
    )]
    PartitionsLeftOut {
        /// The partitioned table, `schema.table`.
        table: String,
        /// Its partitions, comma-separated.
        partitions: String,
    },
    /// With `publish.via.partition.root=true` the filters capture a partition, whose changes are
    /// published under its partitioned root's name: the partition would publish nothing but its
    /// snapshot, and the root's topic would get its rows as well.
    #[error(
        "the table filters capture {partitions}, but publish.via.partition.root=true publishes a \
         partition's changes as its partitioned root's: capture the root instead (table.include.list \
         naming the root, or table.exclude.list naming the partitions); the root's snapshot reads \
         every partition"
    )]
    PartitionCaptured {
        /// The captured partitions, each with its root: `schema.table (of schema.root)`.
        partitions: String,
    },
    /// The catalog's description of a table cannot be turned into a schema (a type or a column the
    /// encoder refuses).
    #[error("the catalog describes table {table} inconsistently")]
    Schema {
        /// `schema.table`.
        table: String,
        /// What the encoder refused.
        #[source]
        source: walbridge_event::Error,
    },
}

/// The Kafka side.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The transform chain could not transform a record (see [`crate::transform`]).
    #[error(
        "the transform chain cannot transform a record of topic {topic} (the change at LSN {lsn})"
    )]
    Transform {
        /// The record's topic before the chain.
        topic: String,
        /// The change the record came from.
        lsn: Lsn,
        /// What the chain could not do.
        #[source]
        source: crate::transform::TransformError,
    },
    /// A converter could not write a record's key or value (see [`crate::avro`]): the schema
    /// registry failed or refused, or the record has no Avro form walbridge writes.
    #[error("the converter cannot write a record of topic {topic} (the change at LSN {lsn})")]
    Convert {
        /// The record's topic.
        topic: String,
        /// The change the record came from.
        lsn: Lsn,
        /// What failed.
        #[source]
        source: crate::avro::ConvertError,
    },
    /// No client for the partition's leader could be made (the leader is unknown or unreachable).
    #[error("cannot reach partition {partition} of topic {topic}")]
    PartitionClient {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The Kafka client's error.
        #[source]
        source: rskafka::client::error::Error,
    },
    /// No bootstrap server answered, or authentication failed.
    #[error("cannot connect to Kafka at {servers}")]
    Connect {
        /// `kafka.bootstrap.servers`, comma-separated.
        servers: String,
        /// The Kafka client's error.
        #[source]
        source: rskafka::client::error::Error,
    },
    /// A missing topic could not be created (`topic.creation.enable`).
    #[error("cannot create topic {topic}")]
    CreateTopic {
        /// The topic.
        topic: String,
        /// The broker's or the client's error.
        #[source]
        source: rskafka::client::error::Error,
    },
    /// A produce request failed: the broker refused it or the connection dropped; any subset of
    /// its records may have been written.
    // No key in the message: keys are row values (an e-mail address as the primary key).
    #[error(
        "Kafka refused records for topic {topic} partition {partition} (the first from the change at LSN {lsn})"
    )]
    Produce {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The change the request's first record came from.
        lsn: Lsn,
        /// The Kafka client's error.
        #[source]
        source: rskafka::client::error::Error,
    },
    /// A topic does not exist and `topic.creation.enable` is off.
    #[error(
        "topic {topic} does not exist: create it, or let walbridge create it (topic.creation.enable=true)"
    )]
    MissingTopic {
        /// The topic.
        topic: String,
    },
    /// Recovery could not read a partition's last record, which says where its records stop.
    #[error("cannot read the last record of topic {topic} partition {partition}")]
    ReadTail {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The Kafka client's error.
        #[source]
        source: rskafka::client::error::Error,
    },
    /// The TLS configuration for the brokers cannot be built (its CA file).
    #[error("cannot set up TLS to Kafka (kafka.ssl.truststore.location)")]
    Tls(#[from] crate::tls::TlsError),
    /// One record is larger than `kafka.max.request.size` allows, so no request can carry it.
    #[error(
        "a record for topic {topic} (change at LSN {lsn}) is {size} bytes, more than \
         kafka.max.request.size ({max}): raise kafka.max.request.size together with the broker's \
         message.max.bytes (or the topic's max.message.bytes)"
    )]
    TooLarge {
        /// The record's topic.
        topic: String,
        /// The change the record came from.
        lsn: Lsn,
        /// The record's size as produced, bytes.
        size: usize,
        /// `kafka.max.request.size`, bytes.
        max: usize,
    },
    /// The broker refused a batch as too large for its `message.max.bytes` (or the topic's
    /// `max.message.bytes`), which is below `kafka.max.request.size`.
    #[error(
        "the broker refused a batch for topic {topic} partition {partition} (change at LSN {lsn}) as \
         too large: lower kafka.max.request.size to the broker's message.max.bytes (or the topic's \
         max.message.bytes), or raise those"
    )]
    BrokerRefusedSize {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The change the batch's first record came from.
        lsn: Lsn,
    },
    /// Publishing one batch, retries included, took longer than `kafka.publish.timeout.ms`.
    #[error("publishing to Kafka did not finish within {seconds} s")]
    Timeout {
        /// `kafka.publish.timeout.ms`, in whole seconds.
        seconds: u64,
    },
    /// A record names a partition its topic does not have (a heartbeat's partition 0 always exists).
    #[error(
        "a record names partition {partition} of topic {topic}, which has {partitions} \
         partition(s): create the topic with more partitions"
    )]
    NoSuchPartition {
        /// The topic.
        topic: String,
        /// The partition the record names.
        partition: i32,
        /// How many partitions the topic has.
        partitions: u32,
    },
}

/// `heartbeat.action.query` failed. Reported and logged, never fatal. PostgreSQL's message is left
/// out: it may quote the query's literals.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HeartbeatQueryError {
    /// No connection for the query.
    #[error("heartbeat.action.query: {0}")]
    Connect(#[source] SlotError),
    /// PostgreSQL refused the query.
    #[error(
        "heartbeat.action.query failed with SQLSTATE {sqlstate}: run it in psql as database.user \
         to see PostgreSQL's message"
    )]
    Failed {
        /// PostgreSQL's error code.
        sqlstate: String,
    },
    /// The server refused to write: a hot standby, or a read-only transaction by default.
    #[error(
        "heartbeat.action.query was refused by a read-only server (SQLSTATE 25006): \
         database.hostname is a standby (or default_transaction_read_only is on), where the query \
         cannot write; use a query that only reads, or remove heartbeat.action.query"
    )]
    ReadOnly,
    /// The connection broke while the query ran.
    #[error("heartbeat.action.query could not be run: {reason}")]
    Lost {
        /// What broke.
        reason: String,
    },
}

/// The checkpoint store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Somebody wrote the checkpoint after this invocation read it: the conditional write was
    /// refused.
    #[error(
        "checkpoint {location} was changed by another writer since this invocation read it: another \
         walbridge runs on the same slot and checkpoint (check reserved concurrency and checkpoint.uri)"
    )]
    Conflict {
        /// `checkpoint.uri`.
        location: String,
    },
    /// The store failed to read or write: permissions, the network, a full disk.
    #[error("cannot {action} checkpoint {location}")]
    Io {
        /// What was attempted ("read", "write", …).
        action: &'static str,
        /// `checkpoint.uri`, or the probe object beside it.
        location: String,
        /// The store's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The checkpoint and the slot disagree on the position (or belong to different slots,
    /// databases or servers), and `offset.mismatch.strategy` says not to guess.
    #[error(
        "checkpoint and slot disagree ({found}): the slot was recreated or advanced by someone else, or \
         the checkpoint belongs elsewhere; choose with offset.mismatch.strategy: trust_slot (start from \
         the slot), trust_offset (move the slot to the checkpoint) or trust_greater_lsn"
    )]
    Mismatch {
        /// Both sides' positions and identities, as found.
        found: String,
    },
    /// The object is not a checkpoint this release can read (not JSON, a field missing, a bad LSN).
    #[error("checkpoint is not a walbridge checkpoint: {0}")]
    Corrupt(String),
    /// A newer release wrote the checkpoint in a format this one does not know.
    #[error(
        "checkpoint {location} was written by a newer walbridge (checkpoint format {version}; this \
         release reads up to {supported}): deploy that release again, or give this one its own \
         checkpoint.uri"
    )]
    NewerFormat {
        /// `checkpoint.uri`.
        location: String,
        /// The checkpoint's format version.
        version: u32,
        /// The newest version this release reads.
        supported: u32,
    },
    /// The store accepted a write its condition should have refused: it cannot fence concurrent
    /// writers.
    #[error(
        "the object store at {endpoint} ignores conditional writes: it accepted a PUT of {location} \
         with {condition}, which must be refused (412 Precondition Failed). walbridge fences stale and \
         concurrent writers of the checkpoint with these conditions, so on this store they would \
         overwrite it unnoticed (lost or repeated changes); use a store that implements S3 \
         conditional writes (AWS S3 does), or checkpoint.uri=file://... on one machine"
    )]
    ConditionsIgnored {
        /// The store's endpoint.
        endpoint: String,
        /// The probe object written, beside the checkpoint.
        location: String,
        /// The condition it ignored (`If-None-Match: *`, `If-Match: …`).
        condition: String,
    },
}

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// PostgreSQL or the slot.
    #[error(transparent)]
    Slot(#[from] SlotError),
    /// Kafka.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The checkpoint store.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A wal2json row is not what format-version 2 writes.
    #[error("cannot decode the wal2json row after LSN {after}")]
    Decode {
        /// The last position read before it.
        after: Lsn,
        /// What the decoder refused.
        #[source]
        source: walbridge_event::Error,
    },
    /// A change cannot be turned into Debezium's event (a value its column's type does not allow).
    #[error("cannot encode the change at LSN {lsn} of table {table}")]
    Encode {
        /// The change's LSN.
        lsn: Lsn,
        /// `schema.table`.
        table: String,
        /// What the encoder refused.
        #[source]
        source: walbridge_event::Error,
    },
    /// The invocation's payload is not a request walbridge knows, or asks for something turned off.
    #[error(
        "invalid invocation payload ({0}): send {{}} to relay, {{\"mode\":\"catchup\"}}, {{\"mode\":\"status\"}}, {{\"mode\":\"validate\"}} or {{\"mode\":\"signal\",\"type\":…,\"data\":…}}"
    )]
    BadRequest(String),
    /// A table's events cannot be encoded at all (a column type or setting the encoder refuses).
    #[error("cannot build the event encoder for table {table}")]
    Schema {
        /// `schema.table`.
        table: String,
        /// What the encoder refused.
        #[source]
        source: walbridge_event::Error,
    },
}

/// A coarse class of failure, reported as the Lambda error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Fix the database, the slot or the configuration.
    Precondition,
    /// A service failed or was unreachable; the next invocation retries.
    Unavailable,
    /// A change could not be turned into an event.
    Data,
    /// Another writer: an invocation running concurrently or a stale checkpoint.
    Conflict,
}

impl RelayError {
    /// The class of failure: what kind of fix it needs, if any.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Publish(
                PublishError::Tls(_)
                | PublishError::TooLarge { .. }
                | PublishError::BrokerRefusedSize { .. }
                | PublishError::NoSuchPartition { .. },
            ) => ErrorKind::Precondition,
            Self::Publish(PublishError::Transform { .. }) => ErrorKind::Data,
            Self::Publish(PublishError::Convert { source, .. }) => match source {
                ConvertError::Registry(RegistryError::Unreachable { .. }) => ErrorKind::Unavailable,
                ConvertError::Registry(_) => ErrorKind::Precondition,
                ConvertError::Schema(_) | ConvertError::Encode(_) => ErrorKind::Data,
            },
            Self::Slot(
                SlotError::Connect { .. }
                | SlotError::Query { .. }
                | SlotError::StatementTimeout { .. },
            )
            | Self::Publish(_)
            | Self::Checkpoint(CheckpointError::Io { .. }) => ErrorKind::Unavailable,
            Self::Slot(SlotError::SlotInUse { .. })
            | Self::Checkpoint(CheckpointError::Conflict { .. }) => ErrorKind::Conflict,
            Self::Decode { .. } | Self::Encode { .. } | Self::Schema { .. } => ErrorKind::Data,
            Self::BadRequest(_) => ErrorKind::Precondition,
            Self::Slot(_) | Self::Checkpoint(_) => ErrorKind::Precondition,
        }
    }

    /// Whether the next invocation can be expected to succeed without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind(), ErrorKind::Unavailable | ErrorKind::Conflict)
    }
}

impl ErrorKind {
    /// The Lambda `errorType`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Precondition => "walbridge.Precondition",
            Self::Unavailable => "walbridge.Unavailable",
            Self::Data => "walbridge.Data",
            Self::Conflict => "walbridge.Conflict",
        }
    }
}
