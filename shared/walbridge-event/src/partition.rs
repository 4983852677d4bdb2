//! Kafka's default partitioner for keyed records: `toPositive(murmur2(key)) % partitions`, exactly as the
//! Java producer (`BuiltInPartitioner.partitionForKey`) computes it, so walbridge's records land on the
//! partitions Debezium's would.

/// Kafka's `Utils.murmur2` (seed `0x9747b28c`), returning the same signed 32-bit value as Java.
pub fn murmur2(data: &[u8]) -> i32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = 0x9747_b28c ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    // Java's switch falls through from case 3 to case 1.
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Kafka's `Utils.toPositive`: clears the sign bit (not `abs`).
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// The partition the Java producer picks for a record with this serialized key.
///
/// # Panics
/// If `partitions` is 0.
pub fn partition_for_key(key: &[u8], partitions: u32) -> u32 {
    assert!(partitions > 0, "a topic has at least one partition");
    // Any hash lands on a topic's only partition; a key with its schema is a few hundred bytes to
    // hash.
    if partitions == 1 {
        return 0;
    }
    to_positive(murmur2(key)) as u32 % partitions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_kafkas_own_test_vectors() {
        assert_eq!(murmur2(b"21"), -973_932_308);
        assert_eq!(murmur2(b"foobar"), -790_332_482);
        assert_eq!(murmur2(b"a-little-bit-long-string"), -985_981_536);
        assert_eq!(murmur2(b"a-little-bit-longer-string"), -1_486_304_829);
        assert_eq!(
            murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"),
            -58_897_971
        );
        assert_eq!(murmur2(b"abc"), 479_470_107);
    }

    #[test]
    fn a_topic_of_one_partition_takes_every_key() {
        for key in [&b""[..], b"21", br#"{"id":1}"#] {
            assert_eq!(partition_for_key(key, 1), 0);
        }
    }

    #[test]
    fn debezium_keys_land_on_the_documented_partitions() {
        let key1 = br#"{"id":1}"#;
        assert_eq!(murmur2(key1), -56_768_732);
        assert_eq!(
            [3, 7, 10, 16].map(|n| partition_for_key(key1, n)),
            [0, 3, 6, 4]
        );
        let key2 = br#"{"id":2}"#;
        assert_eq!(murmur2(key2), -1_705_675_864);
        assert_eq!([3, 7].map(|n| partition_for_key(key2, n)), [1, 5]);
        let on = br#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"dbserver1.inventory.customers.Key"},"payload":{"id":1}}"#;
        assert_eq!(murmur2(on), 1_762_350_696);
        assert_eq!([7, 16].map(|n| partition_for_key(on, n)), [1, 8]);
    }

    #[test]
    fn to_positive_clears_the_sign_bit_instead_of_negating() {
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(5), 5);
    }

    #[test]
    fn empty_key_hashes_like_java() {
        // h = seed ^ 0, no tail, then the final mix
        assert_eq!(murmur2(b""), 275_646_681);
    }
}
