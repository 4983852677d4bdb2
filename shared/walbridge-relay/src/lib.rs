//! One walbridge invocation: read a bounded window of a wal2json logical replication slot, publish
//! the Debezium events to Kafka, checkpoint, and advance the slot.
//!
//! [`pipeline`] holds the data path and its rules, generic over the three side-effect seams
//! ([`source`], [`sink`], [`checkpoint`]); the adapters implement them: [`postgres`] (the slot),
//! [`kafka`] and the checkpoint stores (S3, a local file); [`transform`] and [`avro`] are the
//! transform chain and the AvroConverter every record passes on its way to the sink. [`invocation`] is one invocation end to
//! end as the function runs it.

pub mod avro;
pub mod bootstrap;
pub mod checkpoint;
pub mod error;
pub mod invocation;
pub mod kafka;
pub mod metrics;
pub mod pipeline;
pub mod position;
pub mod postgres;
pub mod secrets;
pub mod sink;
pub mod snapshot;
pub mod source;
pub mod tls;
pub mod transform;
pub mod validate;

#[cfg(test)]
mod test_config;

pub use bootstrap::{Aws, Bootstrap, StartError};
pub use checkpoint::{Checkpoint, CheckpointStore, InvocationProgress};
pub use error::{CheckpointError, ErrorKind, PublishError, RelayError, SlotError, error_chain};
pub use invocation::{Deps, Mode, Request, Response, StatusReport, handle, invoke};
pub use pipeline::{InvocationReport, Relay, RelaySettings};
pub use position::{Position, StreamId};
pub use sink::{EventSink, OutRecord};
pub use source::{ChangeSource, RawRow, RowBatch, Server, SlotPosition, WindowBound};
