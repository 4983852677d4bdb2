//! The relay's errors: one enum per side-effect seam, and [`RelayError`] over them with
//! [`RelayError::kind`] for the function's error report. Messages never contain row values or secrets.

use walbridge_event::Lsn;

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
    #[error(
        "cannot connect to PostgreSQL at {host}:{port} as {user} (database.sslmode={ssl_mode})"
    )]
    Connect {
        host: String,
        port: u16,
        user: String,
        ssl_mode: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("cannot set up TLS to PostgreSQL (database.sslrootcert)")]
    Tls(#[from] crate::tls::TlsError),
    #[error(
        "wal_level is {actual}, logical decoding needs logical: set wal_level = logical (on RDS/Aurora: \
         rds.logical_replication = 1 in the parameter group) and restart the server"
    )]
    WalLevel { actual: String },
    #[error(
        "replication slot {slot} does not exist in database {database}: create it with \
         SELECT pg_create_logical_replication_slot('{slot}', 'wal2json'); or set slot.create=true"
    )]
    SlotMissing { slot: String, database: String },
    #[error(
        "replication slot {slot} uses plugin {plugin}, walbridge reads wal2json slots: create a wal2json \
         slot under another slot.name, or drop this one if nothing else reads it"
    )]
    WrongPlugin { slot: String, plugin: String },
    #[error(
        "replication slot {slot} belongs to database {actual}, not {expected}: set database.dbname={actual} \
         or use a slot of {expected}"
    )]
    WrongDatabase {
        slot: String,
        actual: String,
        expected: String,
    },
    #[error(
        "replication slot {slot} is in use by process {pid}: another consumer reads it; stop it, or give \
         walbridge its own slot"
    )]
    SlotInUse { slot: String, pid: i32 },
    #[error(
        "wal2json is not among this server's output_plugin_libraries ({libraries}): as a superuser run \
         ALTER SYSTEM SET output_plugin_libraries = 'pgoutput', 'test_decoding', 'wal2json'; SELECT pg_reload_conf(); \
         (managed services: add wal2json to the parameter in the parameter group)"
    )]
    PluginNotAllowed { libraries: String },
    #[error("PostgreSQL failed to {action} (slot {slot})")]
    Query {
        action: &'static str,
        slot: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("slot {slot} returned something unexpected: {what}")]
    Malformed { slot: String, what: String },
    #[error(
        "replication slot {slot} was invalidated ({reason}): PostgreSQL removed WAL the slot still \
         needed, so the changes since its position are gone and it cannot be read again; drop it \
         (SELECT pg_drop_replication_slot('{slot}');), let walbridge create a new one (slot.create=true) \
         and set snapshot.mode=when_needed so the tables are read again; raise max_slot_wal_keep_size \
         or run walbridge more often so it does not happen again"
    )]
    SlotInvalidated { slot: String, reason: String },
    #[error("table {table} was not found in the catalog")]
    UnknownTable { table: String },
    #[error(
        "the PostgreSQL session runs with {name}={found}, walbridge decodes values under {name}={expected}: \
         the connection's startup options did not take effect, as behind a connection pooler that drops \
         them (pgbouncer in transaction mode, ignore_startup_parameters); connect walbridge to PostgreSQL \
         directly or through a session-mode pool that passes startup options"
    )]
    SessionSetting {
        name: String,
        expected: &'static str,
        found: String,
    },
    #[error(
        "table {table} has no primary key and more than {limit} rows, so its snapshot cannot be read in \
         chunks: add a primary key, raise snapshot.fetch.size above its row count, or leave it out of \
         snapshot.include.collection.list"
    )]
    SnapshotKeyless { table: String, limit: u32 },
    #[error(
        "the primary key of table {table} changed while its snapshot was being read, so the snapshot \
         cannot go on where it stopped"
    )]
    SnapshotKeyChanged { table: String },
    #[error(
        "the table filters capture the partitioned table {table} but not its partitions {partitions}: \
         PostgreSQL decodes each row under its partition's name, so those rows would never be \
         published; add the partitions to table.include.list (or a pattern that matches them)"
    )]
    PartitionsLeftOut { table: String, partitions: String },
    #[error("the catalog describes table {table} inconsistently")]
    Schema {
        table: String,
        #[source]
        source: walbridge_event::Error,
    },
}

/// The Kafka side.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    #[error("cannot reach partition {partition} of topic {topic}")]
    PartitionClient {
        topic: String,
        partition: i32,
        #[source]
        source: rskafka::client::error::Error,
    },
    #[error("cannot connect to Kafka at {servers}")]
    Connect {
        servers: String,
        #[source]
        source: rskafka::client::error::Error,
    },
    #[error("cannot create topic {topic}")]
    CreateTopic {
        topic: String,
        #[source]
        source: rskafka::client::error::Error,
    },
    // No key in the message: keys are row values (an e-mail address as the primary key).
    #[error(
        "Kafka refused records for topic {topic} partition {partition} (the first from the change at LSN {lsn})"
    )]
    Produce {
        topic: String,
        partition: i32,
        lsn: Lsn,
        #[source]
        source: rskafka::client::error::Error,
    },
    #[error(
        "topic {topic} does not exist: create it, or let walbridge create it (topic.creation.enable=true)"
    )]
    MissingTopic { topic: String },
    #[error("cannot read the last record of topic {topic} partition {partition}")]
    ReadTail {
        topic: String,
        partition: i32,
        #[source]
        source: rskafka::client::error::Error,
    },
    #[error("cannot set up TLS to Kafka (kafka.ssl.truststore.location)")]
    Tls(#[from] crate::tls::TlsError),
    #[error(
        "a record for topic {topic} (change at LSN {lsn}) is {size} bytes, more than \
         kafka.max.request.size ({max}): raise kafka.max.request.size together with the broker's \
         message.max.bytes (or the topic's max.message.bytes)"
    )]
    TooLarge {
        topic: String,
        lsn: Lsn,
        size: usize,
        max: usize,
    },
    #[error(
        "the broker refused a batch for topic {topic} partition {partition} (change at LSN {lsn}) as \
         too large: lower kafka.max.request.size to the broker's message.max.bytes (or the topic's \
         max.message.bytes), or raise those"
    )]
    BrokerRefusedSize {
        topic: String,
        partition: i32,
        lsn: Lsn,
    },
    #[error("publishing to Kafka did not finish within {seconds} s")]
    Timeout { seconds: u64 },
    #[error(
        "a record names partition {partition} of topic {topic}, which has {partitions} \
         partition(s): create the topic with more partitions"
    )]
    NoSuchPartition {
        topic: String,
        partition: i32,
        partitions: u32,
    },
}

/// `heartbeat.action.query` failed. Reported and logged, never fatal. PostgreSQL's message is left
/// out: it may quote the query's literals.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HeartbeatQueryError {
    #[error("heartbeat.action.query: {0}")]
    Connect(#[source] SlotError),
    #[error(
        "heartbeat.action.query failed with SQLSTATE {sqlstate}: run it in psql as database.user \
         to see PostgreSQL's message"
    )]
    Failed { sqlstate: String },
    #[error("heartbeat.action.query could not be run: {reason}")]
    Lost { reason: String },
}

/// The checkpoint store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    #[error(
        "checkpoint {location} was changed by another writer since this invocation read it: another \
         walbridge runs on the same slot and checkpoint (check reserved concurrency and checkpoint.uri)"
    )]
    Conflict { location: String },
    #[error("cannot {action} checkpoint {location}")]
    Io {
        action: &'static str,
        location: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "checkpoint and slot disagree ({found}): the slot was recreated or advanced by someone else, or \
         the checkpoint belongs elsewhere; choose with offset.mismatch.strategy: trust_slot (start from \
         the slot), trust_offset (move the slot to the checkpoint) or trust_greater_lsn"
    )]
    Mismatch { found: String },
    #[error("checkpoint is not a walbridge checkpoint: {0}")]
    Corrupt(String),
    #[error(
        "checkpoint {location} was written by a newer walbridge (checkpoint format {version}; this \
         release reads up to {supported}): deploy that release again, or give this one its own \
         checkpoint.uri"
    )]
    NewerFormat {
        location: String,
        version: u32,
        supported: u32,
    },
    #[error(
        "the object store at {endpoint} ignores conditional writes: it accepted a PUT of {location} \
         with {condition}, which must be refused (412 Precondition Failed). walbridge fences stale and \
         concurrent writers of the checkpoint with these conditions, so on this store they would \
         overwrite it unnoticed (lost or repeated changes); use a store that implements S3 \
         conditional writes (AWS S3 does), or checkpoint.uri=file://... on one machine"
    )]
    ConditionsIgnored {
        endpoint: String,
        /// The probe object written, beside the checkpoint.
        location: String,
        condition: String,
    },
}

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    #[error(transparent)]
    Slot(#[from] SlotError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("cannot decode the wal2json row after LSN {after}")]
    Decode {
        after: Lsn,
        #[source]
        source: walbridge_event::Error,
    },
    #[error("cannot encode the change at LSN {lsn} of table {table}")]
    Encode {
        lsn: Lsn,
        table: String,
        #[source]
        source: walbridge_event::Error,
    },
    #[error(
        "invalid invocation payload ({0}): send {{}} to relay, {{\"mode\":\"catchup\"}}, {{\"mode\":\"status\"}}, {{\"mode\":\"validate\"}} or {{\"mode\":\"signal\",\"type\":…,\"data\":…}}"
    )]
    BadRequest(String),
    #[error("cannot build the event encoder for table {table}")]
    Schema {
        table: String,
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
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Publish(
                PublishError::Tls(_)
                | PublishError::TooLarge { .. }
                | PublishError::BrokerRefusedSize { .. }
                | PublishError::NoSuchPartition { .. },
            ) => ErrorKind::Precondition,
            Self::Slot(SlotError::Connect { .. } | SlotError::Query { .. })
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
