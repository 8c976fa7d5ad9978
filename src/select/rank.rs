//! Ordering of a topic's stories: by points, by recency, or "hot" (points decayed by age,
//! the Hacker News front-page formula).

use crate::model::Story;
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
pub fn hot_score(points: i64, published: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let age_hours = (now - published).num_seconds().max(0) as f64 / 3600.0;
    (points as f64 - 1.0).max(0.0) / (age_hours + 2.0).powf(HOT_GRAVITY)
}

/// Sorts in place, best first. Ties fall back to recency, then to the id, so the order is
/// total and the same bytes are rendered for the same store.
pub fn rank(stories: &mut [Story], sort: Sort, now: DateTime<Utc>) {
    let tie = |a: &Story, b: &Story| b.published.cmp(&a.published).then(a.id.cmp(&b.id));
    match sort {
        Sort::Points => {
            stories.sort_by(|a, b| b.top_points().cmp(&a.top_points()).then_with(|| tie(a, b)))
        }
        Sort::Recent => stories.sort_by(tie),
        Sort::Hot => stories.sort_by(|a, b| {
            let ha = hot_score(a.top_points(), a.published, now);
            let hb = hot_score(b.top_points(), b.published, now);
            hb.partial_cmp(&ha)
                .unwrap_or(Ordering::Equal)
                .then_with(|| tie(a, b))
        }),
    }
}
