//! walbridge's data path between the slot and Kafka: wal2json v2 rows in, Debezium 3.7.1 records out.
//!
//! * [`wal2json`] decodes one `data` string of `pg_logical_slot_peek_changes` (format-version 2) into a
//!   borrowed [`wal2json::Row`]; [`Lsn`] is PostgreSQL's `X/X` log position.
//! * [`pgoutput`] decodes the binary messages of `pg_logical_slot_peek_binary_changes` (pgoutput) into
//!   the same rows.
//! * [`TableSchema`] is what the envelope needs from the catalog (columns, key, replica identity).
//! * [`envelope`] turns a decoded change into the records Debezium 3.7.1 would write (topic, key bytes,
//!   value bytes or tombstone, headers), JsonConverter byte for byte.
//! * [`names`] adjusts schema and field names to ones Avro accepts, as Debezium's adjustment modes do.
//! * [`partition`] is Kafka's default partitioner for keyed records (`murmur2`).
//!
//! ```
//! use walbridge_event::envelope::{EncoderConfig, SourceInfo, TableEncoder};
//! use walbridge_event::wal2json::{self, Row};
//! use walbridge_event::TableSchema;
//!
//! let data = r#"{"action":"I","xid":740,"timestamp":"2024-01-15 10:30:00.123456+00","lsn":"0/16B3748","schema":"inventory","table":"customers","columns":[{"name":"id","type":"integer","typeoid":23,"value":1,"optional":false},{"name":"name","type":"text","typeoid":25,"value":"Alice","optional":true}],"pk":[{"name":"id","type":"integer","typeoid":23}]}"#;
//! let Row::Change(change) = wal2json::decode(data)? else { unreachable!() };
//! let schema = TableSchema::from_change(&change);
//! let encoder = TableEncoder::new(&schema, &EncoderConfig::new("dbserver1", "postgres").with_schemas(false, false))?;
//! let source = SourceInfo {
//!     commit_time_us: change.commit_time_us.unwrap_or(0),
//!     tx_id: change.xid,
//!     lsn: change.lsn.unwrap_or_default(),
//!     last_commit_lsn: None,
//!     transaction: None,
//! };
//! let mut buf = Vec::new();
//! let encoded = encoder.encode(&change, &source, 1_705_314_600_234_567, &mut buf)?;
//! let record = encoded.records(&buf).next().unwrap();
//! assert_eq!(encoder.topic(), "dbserver1.inventory.customers");
//! assert_eq!(record.key, Some(&br#"{"id":1}"#[..]));
//! # Ok::<(), walbridge_event::Error>(())
//! ```

mod convert;
pub mod envelope;
mod error;
mod json;
mod lsn;
pub mod modes;
pub mod names;
pub mod partition;
pub mod pgoutput;
mod pgtime;
mod schema;
pub mod wal2json;

pub use convert::write_java_float;
pub use error::Error;
pub use json::write_str as write_json_string;
pub use lsn::Lsn;
pub use schema::{ColumnSchema, ReplicaIdentity, TableSchema};
