//! Checkpoint stores: an S3 object written with conditional requests (`If-None-Match: *` for the first
//! write, `If-Match: <ETag read>` after), so a stale or concurrent writer fails instead of
//! overwriting — on a store that honours them, which a probe beside the checkpoint checks; and a
//! local file for runs without S3.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use walbridge_event::Lsn;

use crate::error::CheckpointError;
use crate::snapshot::SnapshotProgress;

mod file;
mod s3;

pub use file::FileCheckpointStore;
pub use s3::S3CheckpointStore;

/// What the checkpoint object records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version of this object.
    pub version: u32,
    /// The slot whose position it records; a checkpoint of another slot is a mismatch.
    pub slot: String,
    /// The database the slot decodes; a checkpoint of another database is a mismatch.
    pub database: String,
    /// Every change before this LSN is in Kafka (acknowledged): the slot may be advanced to it.
    #[serde(with = "lsn_text")]
    pub lsn: Lsn,
    /// Where the slot stood when this checkpoint was written (it is advanced right after).
    #[serde(default, with = "lsn_text::option")]
    pub previous_lsn: Option<Lsn>,
    /// The PostgreSQL server's `system_identifier`.
    #[serde(default)]
    pub server: Option<String>,
    /// The server's WAL timeline when the checkpoint was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<u32>,
    /// End LSN of the last transaction published (`source.sequence`'s first half), if any.
    #[serde(default, with = "lsn_text::option")]
    pub last_commit_lsn: Option<Lsn>,
    /// Commit time of the last transaction published, µs since the epoch, if any.
    #[serde(default)]
    pub last_commit_time_us: Option<i64>,
    /// When it was written, ms since the epoch.
    pub written_at_ms: i64,
    /// The invocation that wrote it, as far as it had come.
    #[serde(default)]
    pub invocation: Option<InvocationProgress>,
    /// The last snapshot, finished or in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotProgress>,
    /// Minted when a disagreement between this checkpoint and the slot was settled: part of the
    /// [`StreamId`](crate::position::StreamId), so records written before cannot be taken for this stream's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
    /// When the last heartbeat was made, ms since the epoch: `heartbeat.interval.ms` counts from
    /// it across invocations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_heartbeat_ms: Option<i64>,
}

/// How far an invocation had come when it wrote a checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvocationProgress {
    /// When the invocation started, ms since the epoch.
    pub started_at_ms: i64,
    /// Row changes (insert, update, delete) read so far.
    pub changes: u64,
    /// Kafka records published so far (events and tombstones, snapshot rows included).
    pub events: u64,
    /// Windows read so far.
    pub windows: u64,
}

/// The format this release writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

impl Checkpoint {
    /// A checkpoint read from `location`.
    ///
    /// # Errors
    /// [`CheckpointError::Corrupt`] when it is not a checkpoint, [`CheckpointError::NewerFormat`]
    /// when a newer release wrote it (what it records may not be read right by this one).
    pub fn from_json(bytes: &[u8], location: &str) -> Result<Self, CheckpointError> {
        let checkpoint: Self = serde_json::from_slice(bytes)
            .map_err(|err| CheckpointError::Corrupt(format!("{location}: {err}")))?;
        if checkpoint.version > FORMAT_VERSION {
            return Err(CheckpointError::NewerFormat {
                location: location.to_owned(),
                version: checkpoint.version,
                supported: FORMAT_VERSION,
            });
        }
        Ok(checkpoint)
    }
}

/// LSNs in the checkpoint as PostgreSQL prints them (`16/B374D848`): the text checkpoints have
/// always held, so a checkpoint written before is read, and written back, the same.
mod lsn_text {
    use serde::{Deserialize, Deserializer, Serializer, de};
    use walbridge_event::Lsn;

    pub(super) fn serialize<S: Serializer>(lsn: &Lsn, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(lsn)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Lsn, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|_| de::Error::custom(format!("{text:?} is not an LSN (X/X, hexadecimal)")))
    }

    /// The same for an LSN that may be `null`.
    pub(super) mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use walbridge_event::Lsn;

        pub(crate) fn serialize<S: Serializer>(
            lsn: &Option<Lsn>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match lsn {
                Some(lsn) => serializer.collect_str(lsn),
                None => serializer.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Lsn>, D::Error> {
            #[derive(Deserialize)]
            struct Text(#[serde(with = "super")] Lsn);
            Ok(Option::<Text>::deserialize(deserializer)?.map(|Text(lsn)| lsn))
        }
    }
}

/// The checkpoint store.
///
/// Contract: [`CheckpointStore::save`] is conditional on the version [`CheckpointStore::load`] (or
/// the previous save) saw, so a stale or concurrent writer fails instead of overwriting.
// Native async fn: the implementations are concrete types of this workspace, whose futures are
// Send; `invocations_are_send` (invocation.rs) fails to compile if one stops being.
#[allow(async_fn_in_trait)]
pub trait CheckpointStore {
    /// Reads the checkpoint, remembering its version; `None` when there is none yet.
    async fn load(&mut self) -> Result<Option<Checkpoint>, CheckpointError>;
    /// Writes the checkpoint if nobody wrote it since this store last read or wrote it.
    async fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), CheckpointError>;
}

/// Where the checkpoint lives, with the client that reaches it: built once per cold start.
#[derive(Debug, Clone)]
pub enum CheckpointTarget {
    /// `s3://bucket/key`.
    S3 {
        /// Built once per cold start, shared by every invocation's store.
        client: aws_sdk_s3::Client,
        /// The store's endpoint when it is not AWS S3's own (`checkpoint.s3.endpoint.url`,
        /// `AWS_ENDPOINT_URL_S3`), for the messages that must name the store.
        endpoint: Option<String>,
        /// The bucket.
        bucket: String,
        /// The checkpoint object's key.
        key: String,
    },
    /// `file:///path`: the checkpoint file.
    File(PathBuf),
}

impl CheckpointTarget {
    /// A store for one invocation (it remembers the version it read, for the conditional write).
    pub fn store(&self) -> AnyCheckpointStore {
        match self {
            Self::S3 {
                client,
                endpoint,
                bucket,
                key,
            } => AnyCheckpointStore::S3(
                S3CheckpointStore::new(client.clone(), bucket.clone(), key.clone())
                    .at_endpoint(endpoint.clone()),
            ),
            Self::File(path) => AnyCheckpointStore::File(FileCheckpointStore::new(path.clone())),
        }
    }
}

impl AnyCheckpointStore {
    /// Checks that this store can write beside the checkpoint and fences writers as `save` needs,
    /// without touching the checkpoint itself (see [`S3CheckpointStore::probe_write`]); for a file,
    /// a scratch file beside it, removed again.
    ///
    /// # Errors
    /// [`CheckpointError::Io`] when writing is refused; [`CheckpointError::ConditionsIgnored`] when
    /// the store accepts a write its condition should have refused.
    pub async fn probe_write(&self) -> Result<(), CheckpointError> {
        match self {
            Self::S3(store) => store.probe_write().await,
            Self::File(store) => store.probe_write().await,
        }
    }
}

/// Either store, chosen by `checkpoint.uri`.
#[derive(Debug)]
pub enum AnyCheckpointStore {
    /// An object in S3 or an S3-compatible store.
    S3(S3CheckpointStore),
    /// A local file.
    File(FileCheckpointStore),
}

impl CheckpointStore for AnyCheckpointStore {
    async fn load(&mut self) -> Result<Option<Checkpoint>, CheckpointError> {
        match self {
            Self::S3(store) => store.load().await,
            Self::File(store) => store.load().await,
        }
    }

    async fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        match self {
            Self::S3(store) => store.save(checkpoint).await,
            Self::File(store) => store.save(checkpoint).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::SnapshotKind;

    const WRITTEN: &str = r#"{"version":1,"slot":"s","database":"d","lsn":"0/16B3748","previous_lsn":"0/16B3700","server":"7","last_commit_lsn":null,"last_commit_time_us":null,"written_at_ms":1}"#;

    #[test]
    fn a_checkpoint_of_this_format_loads_and_one_of_a_newer_release_is_refused() {
        let checkpoint = Checkpoint::from_json(WRITTEN.as_bytes(), "s3://b/k").unwrap();
        assert_eq!(checkpoint.lsn, "0/16B3748".parse().unwrap());
        // written before heartbeats: none made yet, and none written back
        assert_eq!(checkpoint.last_heartbeat_ms, None);
        assert!(
            !serde_json::to_string(&checkpoint)
                .unwrap()
                .contains("heartbeat")
        );
        let beating = Checkpoint {
            last_heartbeat_ms: Some(1_717_171_718_000),
            ..checkpoint
        };
        let json = serde_json::to_vec(&beating).unwrap();
        assert_eq!(Checkpoint::from_json(&json, "s3://b/k").unwrap(), beating);
        let newer = WRITTEN.replace("\"version\":1", "\"version\":2");
        let err = Checkpoint::from_json(newer.as_bytes(), "s3://b/k").unwrap_err();
        assert!(matches!(
            err,
            CheckpointError::NewerFormat {
                version: 2,
                supported: 1,
                ..
            }
        ));
        assert!(err.to_string().contains("s3://b/k"), "{err}");
    }

    /// Checkpoints as walbridge wrote them while their LSNs were strings (every field set, and a
    /// first one with none of the optional ones): they load, and are written back byte for byte.
    #[test]
    fn a_checkpoint_written_while_its_lsns_were_strings_is_written_back_byte_for_byte() {
        const EVERY_FIELD: &str = r#"{"version":1,"slot":"debezium","database":"shop","lsn":"16/B374D848","previous_lsn":"16/B3740000","server":"7412345678901234567","timeline":2,"last_commit_lsn":"16/B374D800","last_commit_time_us":1717171717000123,"written_at_ms":1717171718000,"invocation":{"started_at_ms":1717171700000,"changes":12,"events":14,"windows":1},"snapshot":{"kind":"incremental","paused":false,"started_at_ms":1717171600000,"tables":[{"schema":"public","table":"orders","estimated_rows":1000,"rows":20,"last_key":["20"],"done":false,"filter":"id > 10"}],"rows":20,"rows_before":500,"completed_at_ms":null},"epoch":3}"#;
        const FIRST: &str = r#"{"version":1,"slot":"s","database":"d","lsn":"0/16B3748","previous_lsn":null,"server":null,"last_commit_lsn":null,"last_commit_time_us":null,"written_at_ms":1,"invocation":null}"#;
        for written in [EVERY_FIELD, FIRST] {
            let checkpoint = Checkpoint::from_json(written.as_bytes(), "file:///c").unwrap();
            assert_eq!(
                String::from_utf8(serde_json::to_vec(&checkpoint).unwrap()).unwrap(),
                written
            );
        }
        let checkpoint = Checkpoint::from_json(EVERY_FIELD.as_bytes(), "file:///c").unwrap();
        assert_eq!(checkpoint.lsn, Lsn(0x16_B374_D848));
        assert_eq!(checkpoint.previous_lsn, Some(Lsn(0x16_B374_0000)));
        assert_eq!(checkpoint.last_commit_lsn, Some(Lsn(0x16_B374_D800)));
    }

    #[test]
    fn a_checkpoint_without_the_optional_lsns_loads_and_one_with_a_malformed_lsn_is_refused() {
        let older = r#"{"version":1,"slot":"s","database":"d","lsn":"0/10","written_at_ms":1}"#;
        let checkpoint = Checkpoint::from_json(older.as_bytes(), "file:///c").unwrap();
        assert_eq!(
            (checkpoint.previous_lsn, checkpoint.last_commit_lsn),
            (None, None)
        );
        for field in ["lsn", "previous_lsn", "last_commit_lsn"] {
            let mut json: serde_json::Value = serde_json::from_str(WRITTEN).unwrap();
            json[field] = "0/16B3748G".into();
            let err = Checkpoint::from_json(json.to_string().as_bytes(), "s3://b/k").unwrap_err();
            assert!(matches!(err, CheckpointError::Corrupt(_)), "{field}: {err}");
            assert!(
                err.to_string().contains("\"0/16B3748G\" is not an LSN"),
                "{err}"
            );
        }
    }

    /// A checkpoint as walbridge wrote it while `kind` was a string: it loads, and is written back
    /// the same.
    #[test]
    fn a_checkpoint_written_before_the_snapshot_kind_was_an_enum_still_loads() {
        let old = r#"{
            "version": 1,
            "slot": "debezium",
            "database": "shop",
            "lsn": "0/1A2B3C8",
            "previous_lsn": "0/1A2B000",
            "server": "7412345678901234567",
            "timeline": 1,
            "last_commit_lsn": "0/1A2B3C0",
            "last_commit_time_us": 1717171717000000,
            "written_at_ms": 1717171718000,
            "invocation": {"started_at_ms": 1717171700000, "changes": 12, "events": 14, "windows": 1},
            "snapshot": {
                "kind": "incremental",
                "paused": false,
                "started_at_ms": 1717171600000,
                "tables": [
                    {"schema": "public", "table": "orders", "estimated_rows": 1000, "rows": 1000,
                     "last_key": ["1000"], "done": true},
                    {"schema": "public", "table": "customers", "estimated_rows": -1, "rows": 20,
                     "last_key": ["20"], "done": false, "filter": "id > 10"}
                ],
                "rows": 1020,
                "rows_before": 500,
                "completed_at_ms": null
            }
        }"#;
        let checkpoint: Checkpoint = serde_json::from_str(old).unwrap();
        let snapshot = checkpoint.snapshot.as_ref().unwrap();
        assert_eq!(snapshot.kind, SnapshotKind::Incremental);
        assert!(snapshot.incremental());
        assert_eq!(
            serde_json::to_value(&checkpoint).unwrap(),
            serde_json::from_str::<serde_json::Value>(old).unwrap()
        );

        // each kind by the name the string held, both ways
        for (kind, name) in [
            (SnapshotKind::Initial, "initial"),
            (SnapshotKind::Incremental, "incremental"),
            (SnapshotKind::Blocking, "blocking"),
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
            assert_eq!(
                serde_json::from_value::<SnapshotKind>(name.into()).unwrap(),
                kind
            );
        }
        assert_eq!(
            SnapshotProgress::new(Vec::new(), 0, 0).kind,
            SnapshotKind::Initial
        );
    }
}
