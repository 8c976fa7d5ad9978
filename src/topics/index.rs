//! A topic's index: the stories its rules admit, keyed so that key order is the order its
//! ranking reads (best points first for `points`; newest first for `recent` and `hot`), with
//! every rank input in the key. Pure: the store files and returns the keys.

use crate::model::{RankKey, Story, StoryId};
use crate::select::{Sort, Topic};
use crate::store::keys::{from_ordered_i64, ordered_i64};
use crate::store::StoryIndex;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// How an index's keys sort after the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrder {
    /// Points descending, then publication time descending, then id.
    Points,
    /// Publication time descending, then id (points follow, for the hot score).
    Time,
}

/// Bump when the key layout changes: every stored index is then rebuilt.
/// (2: rules read the article excerpt and the domain.)
const LAYOUT: &str = "topic-index 2";
const PREFIX_LEN: usize = 8;
const KEY_LEN: usize = PREFIX_LEN + 8 + 8 + 4 + 16;

#[derive(Debug, Clone)]
pub struct TopicIndex {
    topic: Topic,
    prefix: [u8; 8],
    fingerprint: [u8; 16],
    order: KeyOrder,
}

impl TopicIndex {
    /// The index of a topic as configured (not narrowed: a narrowed view reads its topic's
    /// index and filters further).
    pub fn new(topic: &Topic) -> TopicIndex {
        use sha2::{Digest, Sha256};
        let order = match topic.sort {
            Sort::Points => KeyOrder::Points,
            Sort::Recent | Sort::Hot => KeyOrder::Time,
        };
        let prefix_digest = Sha256::digest(format!("{LAYOUT}\n{}", topic.slug));
        // Everything that decides membership, coverage or key order.
        let described = format!(
            "{LAYOUT}\n{}\n{:?}\n{:?}\n{}\n{order:?}",
            topic.slug,
            topic.sources,
            topic.rules,
            topic.window.as_secs()
        );
        let digest = Sha256::digest(described);
        let mut prefix = [0u8; 8];
        prefix.copy_from_slice(&prefix_digest[..8]);
        let mut fingerprint = [0u8; 16];
        fingerprint.copy_from_slice(&digest[..16]);
        TopicIndex {
            topic: topic.clone(),
            prefix,
            fingerprint,
            order,
        }
    }

    pub fn order(&self) -> KeyOrder {
        self.order
    }

    /// The rank key a key of this index was made from.
    pub fn decode(&self, key: &[u8]) -> Option<RankKey> {
        if key.len() != KEY_LEN || key[..PREFIX_LEN] != self.prefix {
            return None;
        }
        let rest = &key[PREFIX_LEN..];
        let field = |at: usize| -> Option<[u8; 8]> { rest.get(at..at + 8)?.try_into().ok() };
        let (points, secs, nanos, id) = match self.order {
            KeyOrder::Points => (inverted(field(0)?), inverted(field(8)?), 16, 20),
            KeyOrder::Time => (field(28)?, inverted(field(0)?), 8, 12),
        };
        let nanos: [u8; 4] = rest.get(nanos..nanos + 4)?.try_into().ok()?;
        let id: [u8; 16] = rest.get(id..id + 16)?.try_into().ok()?;
        Some(RankKey {
            points: from_ordered_i64(points),
            published: DateTime::from_timestamp(
                from_ordered_i64(secs),
                !u32::from_be_bytes(nanos),
            )?,
            id: StoryId(id),
        })
    }
}

impl StoryIndex for TopicIndex {
    fn prefix(&self) -> [u8; 8] {
        self.prefix
    }

    fn fingerprint(&self) -> [u8; 16] {
        self.fingerprint
    }

    fn admits(&self, story: &Story) -> bool {
        self.topic.admits(story)
    }

    fn key(&self, rank: &RankKey) -> Vec<u8> {
        let points = ordered_i64(rank.points);
        let secs = inverted(ordered_i64(rank.published.timestamp()));
        let nanos = (!rank.published.timestamp_subsec_nanos()).to_be_bytes();
        let mut key = Vec::with_capacity(KEY_LEN);
        key.extend_from_slice(&self.prefix);
        match self.order {
            KeyOrder::Points => {
                key.extend_from_slice(&inverted(points));
                key.extend_from_slice(&secs);
                key.extend_from_slice(&nanos);
                key.extend_from_slice(&rank.id.0);
            }
            KeyOrder::Time => {
                key.extend_from_slice(&secs);
                key.extend_from_slice(&nanos);
                key.extend_from_slice(&rank.id.0);
                key.extend_from_slice(&points);
            }
        }
        key
    }

    fn oldest(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.topic.window_start(now)
    }
}

/// Descending order from ascending bytes.
fn inverted(bytes: [u8; 8]) -> [u8; 8] {
    (!u64::from_be_bytes(bytes)).to_be_bytes()
}

/// One index per configured topic.
pub fn for_topics(topics: &[Topic]) -> Vec<Arc<dyn StoryIndex>> {
    topics
        .iter()
        .map(|t| Arc::new(TopicIndex::new(t)) as Arc<dyn StoryIndex>)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn topic(sort: Sort) -> Topic {
        Topic {
            slug: "t".into(),
            title: "T".into(),
            description: String::new(),
            sources: None,
            window: std::time::Duration::from_secs(86_400),
            limit: 10,
            sort,
            rules: Default::default(),
            summaries: Default::default(),
            full_content: false,
        }
    }

    fn rank(points: i64, secs: i64, nanos: u32, id: u8) -> RankKey {
        RankKey {
            points,
            published: Utc.timestamp_opt(secs, nanos).unwrap(),
            id: StoryId([id; 16]),
        }
    }

    #[test]
    fn key_order_is_the_ranking_order_and_keys_decode() {
        let ranks = [
            rank(500, 1_700_000_000, 0, 1),
            rank(500, 1_700_000_000, 5, 2),
            rank(500, 1_600_000_000, 0, 3),
            rank(-2, 1_800_000_000, 0, 4),
            rank(90, -5, 7, 5),
        ];
        let now = Utc.timestamp_opt(1_900_000_000, 0).unwrap();
        for sort in [Sort::Points, Sort::Recent] {
            let index = TopicIndex::new(&topic(sort));
            let mut by_key: Vec<Vec<u8>> = ranks.iter().map(|r| index.key(r)).collect();
            by_key.sort();
            let decoded: Vec<RankKey> = by_key.iter().filter_map(|k| index.decode(k)).collect();
            let mut ranked = ranks.to_vec();
            crate::select::rank::rank_keys(&mut ranked, sort, now);
            assert_eq!(decoded, ranked, "{sort:?}");
        }
    }

    #[test]
    fn fingerprint_follows_the_rules_and_prefix_the_slug() {
        let a = TopicIndex::new(&topic(Sort::Points));
        let mut changed = topic(Sort::Points);
        changed.rules.min_relevance = 2.0;
        let b = TopicIndex::new(&changed);
        assert_eq!(a.prefix(), b.prefix());
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_ne!(
            a.fingerprint(),
            TopicIndex::new(&topic(Sort::Hot)).fingerprint()
        );
        let mut other = topic(Sort::Points);
        other.slug = "u".into();
        assert_ne!(a.prefix(), TopicIndex::new(&other).prefix());
        // Title, limit and description do not change what the index holds.
        let mut cosmetic = topic(Sort::Points);
        cosmetic.title = "Other".into();
        cosmetic.limit = 3;
        assert_eq!(a.fingerprint(), TopicIndex::new(&cosmetic).fingerprint());
    }
}
