//! Byte layouts of sled keys: the by-time index sorts by publication time, then story id.

use crate::model::StoryId;
use chrono::{DateTime, Utc};

/// 8 bytes of order-preserving seconds (sign bit flipped) followed by the 16-byte id.
pub fn by_time_key(published: DateTime<Utc>, id: StoryId) -> [u8; 24] {
    let mut key = [0u8; 24];
    key[..8].copy_from_slice(&time_prefix(published));
    key[8..].copy_from_slice(&id.0);
    key
}

pub fn time_prefix(at: DateTime<Utc>) -> [u8; 8] {
    ((at.timestamp() as u64) ^ (1 << 63)).to_be_bytes()
}

/// The story id at the end of a by-time key.
pub fn id_of_by_time_key(key: &[u8]) -> Option<StoryId> {
    let tail: [u8; 16] = key.get(8..24)?.try_into().ok()?;
    Some(StoryId(tail))
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
}
