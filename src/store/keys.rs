//! Byte layouts of sled keys and small values: the by-time index sorts by publication time,
//! then story id; rank keys (points, exact publication time) as stored for the indexes.

use crate::model::{RankKey, StoryId};
use chrono::{DateTime, Utc};

/// 8 bytes of order-preserving seconds (sign bit flipped) followed by the 16-byte id.
pub(crate) fn by_time_key(published: DateTime<Utc>, id: StoryId) -> [u8; 24] {
    let mut key = [0u8; 24];
    key[..8].copy_from_slice(&time_prefix(published));
    key[8..].copy_from_slice(&id.0);
    key
}

pub(crate) fn time_prefix(at: DateTime<Utc>) -> [u8; 8] {
    ordered_i64(at.timestamp())
}

/// The story id at the end of a by-time key.
pub(crate) fn id_of_by_time_key(key: &[u8]) -> Option<StoryId> {
    let tail: [u8; 16] = key.get(8..24)?.try_into().ok()?;
    Some(StoryId(tail))
}

/// Order-preserving bytes of a signed number: sign bit flipped, big-endian.
pub(crate) fn ordered_i64(n: i64) -> [u8; 8] {
    ((n as u64) ^ (1 << 63)).to_be_bytes()
}

pub(crate) fn from_ordered_i64(bytes: [u8; 8]) -> i64 {
    (u64::from_be_bytes(bytes) ^ (1 << 63)) as i64
}

/// Length of `encode_rank` output.
pub(crate) const RANK_LEN: usize = 20;

/// Points, seconds and nanoseconds of a rank key (the id is stored beside it): 20 bytes.
pub(crate) fn encode_rank(rank: &RankKey) -> [u8; RANK_LEN] {
    let mut out = [0u8; RANK_LEN];
    out[..8].copy_from_slice(&ordered_i64(rank.points));
    out[8..16].copy_from_slice(&ordered_i64(rank.published.timestamp()));
    out[16..].copy_from_slice(&rank.published.timestamp_subsec_nanos().to_be_bytes());
    out
}

pub(crate) fn decode_rank(bytes: &[u8], id: StoryId) -> Option<RankKey> {
    let points = from_ordered_i64(bytes.get(..8)?.try_into().ok()?);
    let secs = from_ordered_i64(bytes.get(8..16)?.try_into().ok()?);
    let nanos = u32::from_be_bytes(bytes.get(16..20)?.try_into().ok()?);
    Some(RankKey {
        points,
        published: DateTime::from_timestamp(secs, nanos)?,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn keys_sort_by_time_across_the_epoch() {
        let id = StoryId([7; 16]);
        let before = by_time_key(Utc.with_ymd_and_hms(1969, 1, 1, 0, 0, 0).unwrap(), id);
        let after = by_time_key(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(), id);
        let later = by_time_key(
            Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap(),
            StoryId([0; 16]),
        );
        assert!(before < after && after < later);
        assert_eq!(id_of_by_time_key(&after), Some(id));
    }

    #[test]
    fn rank_keys_round_trip_with_nanoseconds_and_negative_points() {
        let rank = RankKey {
            points: -3,
            published: Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap(),
            id: StoryId([9; 16]),
        };
        assert_eq!(decode_rank(&encode_rank(&rank), rank.id), Some(rank));
        assert!(ordered_i64(-1) < ordered_i64(0) && ordered_i64(0) < ordered_i64(i64::MAX));
    }
}
