//! Ordering of a topic's stories: by points, by recency, or "hot" (points decayed by age,
//! the Hacker News front-page formula).

use crate::model::{RankKey, Story};
use chrono::{DateTime, Utc};
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Points,
    Recent,
    Hot,
}

impl Sort {
    pub const NAMES: &'static [&'static str] = &["points", "recent", "hot"];

    pub fn parse(name: &str) -> Option<Sort> {
        match name {
            "points" => Some(Sort::Points),
            "recent" => Some(Sort::Recent),
            "hot" => Some(Sort::Hot),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Sort::Points => "points",
            Sort::Recent => "recent",
            Sort::Hot => "hot",
        }
    }
}

/// Gravity of the hot score: higher decays faster (Hacker News uses 1.8).
const HOT_GRAVITY: f64 = 1.8;

/// `(points - 1) / (age_hours + 2) ^ gravity`.
pub(crate) fn hot_score(points: i64, published: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let age_hours = (now - published).num_seconds().max(0) as f64 / 3600.0;
    (points as f64 - 1.0).max(0.0) / (age_hours + 2.0).powf(HOT_GRAVITY)
}

/// Sorts in place, best first. Ties fall back to recency, then to the id, so the order is
/// total and the same bytes are rendered for the same store.
pub(crate) fn rank(stories: &mut [Story], sort: Sort, now: DateTime<Utc>) {
    stories.sort_by_cached_key(|s| Ranked::new(s.rank_key(), sort, now));
}

/// Sorts rank keys in place, best first: the same order `rank` gives the stories.
pub(crate) fn rank_keys(keys: &mut [RankKey], sort: Sort, now: DateTime<Utc>) {
    keys.sort_by_cached_key(|k| Ranked::new(*k, sort, now));
}

/// A rank key with what its sort compares first computed once; ordered best first.
#[derive(Debug, Clone, Copy)]
struct Ranked {
    /// The hot score (0 for other sorts).
    score: f64,
    /// Points, compared as integers (0 unless sorting by points).
    points: i64,
    key: RankKey,
}

impl Ranked {
    fn new(key: RankKey, sort: Sort, now: DateTime<Utc>) -> Ranked {
        let (score, points) = match sort {
            Sort::Points => (0.0, key.points),
            Sort::Recent => (0.0, 0),
            Sort::Hot => (hot_score(key.points, key.published, now), 0),
        };
        Ranked { score, points, key }
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .partial_cmp(&self.score)
            .unwrap_or(Ordering::Equal)
            .then(other.points.cmp(&self.points))
            .then(other.key.published.cmp(&self.key.published))
            .then(self.key.id.cmp(&other.key.id))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StoredSighting;
    use chrono::TimeZone;

    fn story(name: &str, points: i64, hours_ago: i64, now: DateTime<Utc>) -> Story {
        let published = now - chrono::Duration::hours(hours_ago);
        Story {
            sightings: vec![StoredSighting {
                site_name: "Hacker News".into(),
                ..StoredSighting::scored("hackernews", Some(points), None, published)
            }],
            ..Story::bare(name, published)
        }
    }

    fn order(sort: Sort) -> Vec<String> {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let mut stories = vec![
            story("old-big", 900, 96, now),
            story("fresh-small", 60, 2, now),
            story("mid", 300, 20, now),
        ];
        rank(&mut stories, sort, now);
        stories.into_iter().map(|s| s.title).collect()
    }

    #[test]
    fn each_sort_orders_as_documented() {
        assert_eq!(order(Sort::Points), ["old-big", "mid", "fresh-small"]);
        assert_eq!(order(Sort::Recent), ["fresh-small", "mid", "old-big"]);
        // 59/4^1.8 = 4.5 beats 299/22^1.8 = 1.1 beats 899/98^1.8 = 0.24.
        assert_eq!(order(Sort::Hot), ["fresh-small", "mid", "old-big"]);
    }

    #[test]
    fn hot_score_decays_with_age() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let young = hot_score(100, now - chrono::Duration::hours(1), now);
        let old = hot_score(100, now - chrono::Duration::hours(48), now);
        assert!(young > old * 10.0);
        assert_eq!(hot_score(0, now, now), 0.0);
    }
}
