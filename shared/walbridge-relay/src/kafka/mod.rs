//! The Kafka side, with rskafka: records go to the partition Kafka's Java producer would choose
//! (`murmur2(key) % partitions`, so consumers see what Debezium's producer wrote), in order within a
//! partition, in batches, with `acks=all`; partitions are written concurrently.
//!
//! Every record carries its [`Position`] in the header `__walbridge.position`. After a failed
//! invocation the next one reads the last record of each partition it is about to write
//! ([`EventSink::skip_landed`]) and skips what already landed: Kafka holds each change once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::try_join_all;
use rskafka::BackoffConfig;
use rskafka::client::error::ProtocolError;
use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::record::{Record, RecordHeader};
use tracing::{info, warn};
use walbridge_event::partition::partition_for_key;

use crate::error::PublishError;
use crate::position::Position;
use crate::sink::{EventSink, OutRecord};

mod landed;
mod settings;

use landed::{LandedTails, last_position, with_partitions};
pub use settings::{SinkSettings, msk_iam_token};

/// Publishes to Kafka; clients for topics and partitions are kept between invocations.
pub struct KafkaSink {
    client: Client,
    /// The same cluster for produce requests only, without the client library's retries: a
    /// request whose answer was lost may have been appended, so walbridge retries it itself after
    /// reading what landed.
    producer: Client,
    settings: SinkSettings,
    topics: HashMap<Arc<str>, Vec<Partition>>,
    /// Every topic's partition count as the cluster reported it this invocation (read once per
    /// invocation: a topic may have grown, or been recreated, since the last one).
    listed: Option<HashMap<String, i32>>,
    /// While skipping landed records: the position of each partition's last record, read once.
    landed: Option<LandedTails>,
}

/// The settings only (redacted): the client holds the SASL configuration too.
impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSink")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl KafkaSink {
    /// Connects to the bootstrap servers.
    ///
    /// # Errors
    /// [`PublishError::Connect`] when no bootstrap server answers.
    pub async fn connect(
        bootstrap_servers: &[String],
        settings: SinkSettings,
    ) -> Result<Self, PublishError> {
        let connect = |deadline| {
            let mut builder = ClientBuilder::new(bootstrap_servers.to_vec())
                .client_id("walbridge")
                .backoff_config(BackoffConfig {
                    deadline: Some(deadline),
                    max_backoff: Duration::from_secs(5),
                    ..BackoffConfig::default()
                });
            if let Some(tls) = &settings.tls {
                builder = builder.tls_config(Arc::clone(tls));
            }
            if let Some(sasl) = &settings.sasl {
                builder = builder.sasl_config(sasl.clone());
            }
            async move {
                builder
                    .build()
                    .await
                    .map_err(|source| PublishError::Connect {
                        servers: bootstrap_servers.join(","),
                        source,
                    })
            }
        };
        let client = connect(settings.timeout).await?;
        let producer = connect(Duration::ZERO).await?;
        Ok(Self {
            client,
            producer,
            settings,
            topics: HashMap::new(),
            listed: None,
            landed: None,
        })
    }

    /// The partition clients of `topic`, discovering (or creating) it the first time, and again
    /// when its partition count changed since.
    async fn partitions(&mut self, topic: &Arc<str>) -> Result<&[Partition], PublishError> {
        if self.listed.is_none() {
            self.listed = Some(self.partition_counts().await?);
        }
        let listed = self
            .listed
            .as_ref()
            .and_then(|l| l.get(&**topic))
            .copied()
            .unwrap_or(0);
        let stale = self
            .topics
            .get(topic)
            .is_some_and(|clients| listed > 0 && clients.len() != listed as usize);
        if stale {
            info!(
                topic = &**topic,
                partitions = listed,
                "topic's partition count changed"
            );
        }
        if stale || !self.topics.contains_key(topic) {
            let clients = self.discover(topic, listed).await?;
            self.topics.insert(Arc::clone(topic), clients);
        }
        Ok(&self.topics[topic])
    }

    /// Clients for the `count` partitions of `topic`, creating it first when it has none.
    async fn discover(
        &mut self,
        topic: &str,
        mut count: i32,
    ) -> Result<Vec<Partition>, PublishError> {
        let create_error = |source| PublishError::CreateTopic {
            topic: topic.to_owned(),
            source,
        };
        if count == 0 {
            let Some((partitions, replication)) = self.settings.create_topics else {
                return Err(PublishError::MissingTopic {
                    topic: topic.to_owned(),
                });
            };
            let created = self
                .client
                .controller_client()
                .map_err(create_error)?
                .create_topic(topic, partitions, replication, 10_000)
                .await;
            match created {
                Ok(()) => {
                    info!(topic, partitions, "created topic");
                    count = partitions;
                }
                // Another writer created it first, with a partition count of its own.
                Err(rskafka::client::error::Error::ServerError {
                    protocol_error: rskafka::client::error::ProtocolError::TopicAlreadyExists,
                    ..
                }) => {
                    for _ in 0..50 {
                        count = self
                            .partition_counts()
                            .await?
                            .get(topic)
                            .copied()
                            .unwrap_or(0);
                        if count > 0 {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    if count == 0 {
                        return Err(PublishError::MissingTopic {
                            topic: topic.to_owned(),
                        });
                    }
                }
                Err(source) => return Err(create_error(source)),
            }
            if let Some(listed) = self.listed.as_mut() {
                listed.insert(topic.to_owned(), count);
            }
        }
        let mut clients = Vec::with_capacity(count as usize);
        for partition in 0..count {
            let error = |source| PublishError::PartitionClient {
                topic: topic.to_owned(),
                partition,
                source,
            };
            let reader = self
                .client
                .partition_client(topic, partition, UnknownTopicHandling::Retry)
                .await
                .map_err(error)?;
            // The reader found the partition (with retries): the writer's lookup finds it too.
            let writer = self
                .producer
                .partition_client(topic, partition, UnknownTopicHandling::Error)
                .await
                .map_err(error)?;
            clients.push(Partition {
                reader: Arc::new(reader),
                writer: Arc::new(writer),
            });
        }
        Ok(clients)
    }

    /// Every topic of the cluster with its partition count.
    ///
    /// # Errors
    /// [`PublishError::Connect`] when the brokers cannot be asked.
    pub async fn topics(&self) -> Result<HashMap<String, usize>, PublishError> {
        let topics = self
            .client
            .list_topics()
            .await
            .map_err(|source| PublishError::Connect {
                servers: "the cluster".to_owned(),
                source,
            })?;
        Ok(topics
            .into_iter()
            .map(|t| (t.name, t.partitions.len()))
            .collect())
    }

    async fn partition_counts(&self) -> Result<HashMap<String, i32>, PublishError> {
        Ok(self
            .topics()
            .await?
            .into_iter()
            .map(|(name, count)| (name, count as i32))
            .collect())
    }
}

/// One partition's clients: one for reading its tail, one for produce requests.
#[derive(Debug, Clone)]
struct Partition {
    reader: Arc<PartitionClient>,
    writer: Arc<PartitionClient>,
}

/// The records of one partition, in publish order.
struct PartitionBatch {
    /// The topic's partition count the records were spread over.
    partitions: usize,
    client: Arc<PartitionClient>,
    writer: Arc<PartitionClient>,
    records: Vec<Pending>,
}

struct Pending {
    record: Record,
    lsn: walbridge_event::Lsn,
    position: Position,
}

/// One topic's partition clients and, per partition, the index of its batch in this publish.
struct TopicBatches {
    clients: Vec<Partition>,
    batch_of: Vec<Option<usize>>,
}

impl EventSink for KafkaSink {
    fn begin(&mut self) {
        self.listed = None;
    }

    fn skip_landed(&mut self, on: bool) {
        self.landed = on.then(HashMap::new);
    }

    async fn publish(&mut self, records: &mut Vec<OutRecord>) -> Result<(), PublishError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut batches: Vec<PartitionBatch> = Vec::new();
        // Per topic: its partition clients and, per partition, the index of its batch. Records come
        // in runs of one topic, so the topic is looked up only when it changes.
        let mut by_topic: HashMap<Arc<str>, TopicBatches> = HashMap::new();
        let mut current: Option<Arc<str>> = None;
        let now = chrono::Utc::now();
        for out in records.drain(..) {
            if current.as_ref().is_none_or(|t| !Arc::ptr_eq(t, &out.topic)) {
                if !by_topic.contains_key(&out.topic) {
                    let clients = self.partitions(&out.topic).await?.to_vec();
                    let batch_of = vec![None; clients.len()];
                    by_topic.insert(Arc::clone(&out.topic), TopicBatches { clients, batch_of });
                }
                current = Some(Arc::clone(&out.topic));
            }
            let TopicBatches { clients, batch_of } = by_topic
                .get_mut(current.as_deref().expect("set above"))
                .expect("inserted above");
            let count = clients.len() as u32;
            let position = out.position.to_header();
            // Keyless records spread over the partitions by position: the same partition every
            // time the record is published, so skipping landed records works for them too.
            let partition = match out.partition {
                Some(named) => usize::try_from(named)
                    .ok()
                    .filter(|p| *p < clients.len())
                    .ok_or_else(|| PublishError::NoSuchPartition {
                        topic: out.topic.to_string(),
                        partition: named,
                        partitions: count,
                    })?,
                None => partition_for_key(out.key.as_deref().unwrap_or(&position), count) as usize,
            };
            let batch = *batch_of[partition].get_or_insert_with(|| {
                batches.push(PartitionBatch {
                    partitions: count as usize,
                    client: Arc::clone(&clients[partition].reader),
                    writer: Arc::clone(&clients[partition].writer),
                    records: Vec::new(),
                });
                batches.len() - 1
            });
            let context: &[RecordHeader] = if out.context_headers {
                &self.settings.headers
            } else {
                &[]
            };
            let mut headers = Vec::with_capacity(out.headers.len() + 1 + context.len());
            headers.extend(out.headers.into_iter().map(|(key, value)| RecordHeader {
                key,
                value: value.into(),
            }));
            headers.push(RecordHeader {
                key: Position::HEADER.into(),
                // A boxed slice becomes Bytes without a shared block of its own.
                value: with_partitions(position, count as usize)
                    .into_boxed_slice()
                    .into(),
            });
            // Shared with every record: cloning counts a reference.
            headers.extend_from_slice(context);
            in_name_order(&mut headers);
            batches[batch].records.push(Pending {
                record: Record {
                    key: out.key,
                    value: out.value,
                    headers,
                    timestamp: out
                        .timestamp_ms
                        .and_then(chrono::DateTime::from_timestamp_millis)
                        .unwrap_or(now),
                },
                lsn: out.lsn,
                position: out.position,
            });
        }

        if let Some(landed) = &mut self.landed {
            for batch in &mut batches {
                let key = (Arc::from(batch.client.topic()), batch.client.partition());
                let tail = match landed.get(&key) {
                    Some(tail) => *tail,
                    None => {
                        let tail = last_position(&batch.client, batch.partitions).await?;
                        landed.insert(key, tail);
                        tail
                    }
                };
                if let Some(tail) = tail {
                    let before = batch.records.len();
                    batch
                        .records
                        .retain(|pending| !pending.position.is_at_or_before(&tail));
                    if batch.records.len() < before {
                        info!(
                            topic = batch.client.topic(),
                            partition = batch.client.partition(),
                            skipped = before - batch.records.len(),
                            "skipped records an earlier invocation already wrote"
                        );
                    }
                }
            }
        }

        let max_record = self.settings.max_request_size;
        for batch in &batches {
            if let Some(too_large) = batch
                .records
                .iter()
                .find(|p| p.record.approximate_size() > max_record)
            {
                return Err(PublishError::TooLarge {
                    topic: batch.client.topic().to_owned(),
                    lsn: too_large.lsn,
                    size: too_large.record.approximate_size(),
                    max: max_record,
                });
            }
        }
        let compression = self.settings.compression;
        let max_bytes = self.settings.max_batch_bytes;
        let sends = batches
            .into_iter()
            .map(|batch| produce_in_order(batch, compression, max_bytes));
        tokio::time::timeout(self.settings.timeout, try_join_all(sends))
            .await
            .map_err(|_| PublishError::Timeout {
                seconds: self.settings.timeout.as_secs(),
            })??;
        Ok(())
    }
}

/// Writes one partition's records in order, in requests of at most `max_bytes`, each acknowledged
/// before the next is sent (the order Kafka Connect gets with `max.in.flight.requests=1`).
async fn produce_in_order(
    batch: PartitionBatch,
    compression: Compression,
    max_bytes: usize,
) -> Result<(), PublishError> {
    let mut records = batch.records.into_iter().peekable();
    while records.peek().is_some() {
        // The request's records, and each one's position to tell whether it landed.
        let mut chunk = Vec::new();
        let mut positions = Vec::new();
        let mut bytes = 0;
        let mut first: Option<walbridge_event::Lsn> = None;
        while let Some(pending) = records.peek() {
            let size = pending.record.approximate_size();
            if !chunk.is_empty() && bytes + size > max_bytes {
                break;
            }
            first.get_or_insert(pending.lsn);
            bytes += size;
            let pending = records.next().expect("peeked");
            chunk.push(pending.record);
            positions.push(pending.position);
        }
        let lsn = first.expect("a chunk holds at least one record");
        let mut retries = 0;
        loop {
            // A failed request gives its records back: they are not copied for a retry.
            let Err((source, returned)) = batch.writer.produce_or_return(chunk, compression).await
            else {
                break;
            };
            chunk = returned;
            // The client library does not retry (its deadline is zero): a broken connection, a
            // broker restart or a leader change may have come after the broker appended the
            // request. Read what landed, drop it (a prefix: one request at a time per
            // partition), send the rest. The publish timeout bounds the retries.
            if matches!(source, rskafka::client::error::Error::RetryFailed(_)) {
                retries += 1;
                warn!(
                    topic = batch.client.topic(),
                    partition = batch.client.partition(),
                    retries,
                    error = %source,
                    "produce failed; reading what landed before sending again"
                );
                tokio::time::sleep(Duration::from_millis(100 << retries.min(5))).await;
                if let Some(tail) = last_position(&batch.client, batch.partitions).await? {
                    (chunk, positions) = chunk
                        .into_iter()
                        .zip(positions)
                        .filter(|(_, position)| !position.is_at_or_before(&tail))
                        .unzip();
                }
                if chunk.is_empty() {
                    break;
                }
                continue;
            }
            if let rskafka::client::error::Error::ServerError {
                protocol_error: ProtocolError::MessageTooLarge | ProtocolError::RecordListTooLarge,
                ..
            } = source
            {
                return Err(PublishError::BrokerRefusedSize {
                    topic: batch.client.topic().to_owned(),
                    partition: batch.client.partition(),
                    lsn,
                });
            }
            return Err(PublishError::Produce {
                topic: batch.client.topic().to_owned(),
                partition: batch.client.partition(),
                lsn,
                source,
            });
        }
    }
    Ok(())
}

/// Headers go out in name order, one of each name — the last given wins —, as they did when they
/// were kept in a map (Debezium's own order differs; see "Differences from Debezium").
fn in_name_order(headers: &mut Vec<RecordHeader>) {
    headers.reverse();
    // Stable: of equal names the one given last comes first, and is the one kept.
    headers.sort_by(|a, b| a.key.cmp(&b.key));
    headers.dedup_by(|later, kept| later.key == kept.key);
}

#[cfg(test)]
mod tests {
    use aws_sdk_s3::config::{Credentials, Region, SharedCredentialsProvider};
    use base64::Engine as _;
    use rskafka::client::SaslConfig;

    use super::landed::position_header;
    use super::*;

    #[test]
    fn headers_go_out_in_name_order_one_of_each_name_the_last_given_winning() {
        let header = |key: &'static str, value: &str| RecordHeader {
            key: key.into(),
            value: bytes::Bytes::copy_from_slice(value.as_bytes()),
        };
        let mut headers = vec![
            header("b", "1"),
            header("a", "2"),
            header("c", "3"),
            header("a", "4"),
            header("b", "5"),
        ];
        in_name_order(&mut headers);
        assert_eq!(
            headers,
            [header("a", "4"), header("b", "5"), header("c", "3")]
        );
    }

    #[test]
    fn a_position_header_carries_the_partition_count_it_was_spread_over() {
        let position = Position {
            commit_at: walbridge_event::Lsn(0x7D0),
            stream: crate::position::StreamId(7),
            ..Position::default()
        };
        let header = with_partitions(position.to_header(), 3);
        assert!(header.ends_with(b"@0000000000000007/3"));
        assert_eq!(position_header(&header), Some((position, 3)));
        assert_eq!(position_header(&position.to_header()), None);
        assert_eq!(position_header(b"junk/3"), None);
    }

    #[test]
    fn the_settings_debug_print_shows_the_sasl_user_but_never_the_password() {
        let settings = SinkSettings {
            sasl: Some(SaslConfig::ScramSha512(rskafka::client::Credentials::new(
                "cdc".to_owned(),
                "kafka-pw-4711".to_owned(),
            ))),
            ..SinkSettings::default()
        };
        let printed = format!("{settings:?} {settings:#?}");
        assert!(!printed.contains("kafka-pw-4711"), "{printed}");
        assert!(printed.contains("SCRAM-SHA-512 as cdc"), "{printed}");
        // What the redaction stands in front of.
        assert!(format!("{:?}", settings.sasl).contains("kafka-pw-4711"));
    }

    #[tokio::test]
    async fn the_msk_iam_token_is_a_presigned_connect_request_for_the_region() {
        let aws = aws_config::SdkConfig::builder()
            .region(Region::new("eu-west-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDWALBRIDGETEST",
                "not-a-real-secret-key",
                None,
                None,
                "test",
            )))
            .build();
        let token = msk_iam_token(&aws).await.unwrap();
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&token)
            .expect("URL-safe base64");
        let url = String::from_utf8(url).unwrap();
        assert!(
            url.starts_with(
                "https://kafka.eu-west-1.amazonaws.com/?Action=kafka-cluster%3AConnect"
            ),
            "{url}"
        );
        assert!(
            url.contains("X-Amz-Credential=AKIDWALBRIDGETEST%2F"),
            "{url}"
        );
        assert!(
            url.contains("%2Feu-west-1%2Fkafka-cluster%2Faws4_request"),
            "{url}"
        );
        assert!(url.contains("X-Amz-Signature="), "{url}");
        assert!(!url.contains("not-a-real-secret-key"));

        let none = aws_config::SdkConfig::builder().build();
        let err = msk_iam_token(&none).await.unwrap_err();
        assert!(err.to_string().contains("AWS_REGION"), "{err}");
    }
}
