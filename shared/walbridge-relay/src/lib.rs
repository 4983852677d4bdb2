//! One walbridge invocation: read a bounded window of a wal2json logical replication slot, publish
//! the Debezium events to Kafka, checkpoint, and advance the slot.
//!
//! [`pipeline`] holds the data path and its rules, generic over the three side-effect seams;
//! [`slot`] (PostgreSQL), [`publish`] (Kafka) and [`checkpoint`] (S3, local file) implement them.

pub mod checkpoint;
pub mod error;
pub mod invocation;
pub mod metrics;
pub mod pipeline;
pub mod publish;
pub mod secrets;
pub mod slot;
pub mod snapshot;
pub mod tls;
pub mod validate;

pub use error::{CheckpointError, ErrorKind, PublishError, RelayError, SlotError, error_chain};
pub use invocation::{Deps, Mode, Request, Response, StatusReport, handle, invoke};
pub use pipeline::{
    ChangeSource, Checkpoint, CheckpointStore, EventSink, InvocationProgress, InvocationReport,
    OutRecord, Position, Relay, RelaySettings, RowBatch, Server, SlotPosition,
};
