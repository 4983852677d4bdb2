//! What already landed: the position of each partition's last record, read back after a failure.

use std::collections::HashMap;
use std::sync::Arc;

use rskafka::client::partition::{OffsetAt, PartitionClient};
use tracing::warn;

use crate::error::PublishError;
use crate::position::Position;

/// Per (topic, partition): the position of its last record, `None` when nothing can be skipped.
pub(super) type LandedTails = HashMap<(Arc<str>, i32), Option<Position>>;

/// The position of a partition's last record; `None` for an empty partition, or one whose last
/// record walbridge did not write, or wrote while the topic had another number of partitions than
/// `partitions` (records were then spread otherwise): nothing can be skipped.
pub(super) async fn last_position(
    client: &PartitionClient,
    partitions: usize,
) -> Result<Option<Position>, PublishError> {
    let error = |source| PublishError::ReadTail {
        topic: client.topic().to_owned(),
        partition: client.partition(),
        source,
    };
    let latest = client.get_offset(OffsetAt::Latest).await.map_err(error)?;
    let earliest = client.get_offset(OffsetAt::Earliest).await.map_err(error)?;
    if latest <= earliest {
        return Ok(None);
    }
    let (records, _) = client
        .fetch_records(latest - 1, 1..10_000_000, 100)
        .await
        .map_err(error)?;
    let last = records.into_iter().max_by_key(|r| r.offset);
    let header = last
        .as_ref()
        // The last of that name, should another producer have written it twice.
        .and_then(|r| {
            r.record
                .headers
                .iter()
                .rev()
                .find(|h| h.key == Position::HEADER)
                .map(|h| &h.value)
        });
    let Some((position, written_with)) = header.and_then(|h| position_header(h)) else {
        if last.is_some() {
            warn!(
                topic = client.topic(),
                partition = client.partition(),
                "the partition's last record has no walbridge position; nothing can be skipped"
            );
        }
        return Ok(None);
    };
    if written_with != partitions {
        warn!(
            topic = client.topic(),
            partition = client.partition(),
            written_with,
            partitions,
            "the partition's last record was written when the topic had other partitions; \
             nothing can be skipped"
        );
        return Ok(None);
    }
    Ok(Some(position))
}

/// The position header of a record written to a topic of `partitions` partitions:
/// the [`Position`], then `/` and the partition count.
pub(super) fn with_partitions(mut position: Vec<u8>, partitions: usize) -> Vec<u8> {
    use std::io::Write as _;
    write!(position, "/{partitions}").expect("writing to a Vec cannot fail");
    position
}

/// The position and partition count a header carries.
pub(super) fn position_header(header: &[u8]) -> Option<(Position, usize)> {
    let split = header.iter().rposition(|&b| b == b'/')?;
    let partitions = std::str::from_utf8(&header[split + 1..])
        .ok()?
        .parse()
        .ok()?;
    Some((Position::from_header(&header[..split])?, partitions))
}
